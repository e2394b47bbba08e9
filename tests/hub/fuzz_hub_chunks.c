/* fuzz_hub_chunks.c - the chunk progress file (ours, but a crash, a full
 * disk or a hand edit can leave anything): the first 8 bytes are the file
 * size the caller expects, the rest the file. A loaded plan must cover
 * [0, size) contiguously with done within each range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_chunks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0;
    uint64_t want;
    memcpy(&want, data, 8);
    want %= 1ull << 40;
    char path[] = "/tmp/gq-fuzz-chunks-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data + 8, size - 8) != (ssize_t)(size - 8)) { close(fd); unlink(path); return 0; }
    close(fd);
    size_t n = 0;
    hub_chunk *ch = hub_chunks_load(path, want, &n);
    unlink(path);
    if (ch) {
        uint64_t expect = 0;
        for (size_t i = 0; i < n; i++) {
            if (ch[i].start != expect || ch[i].end < ch[i].start || ch[i].done > ch[i].end - ch[i].start) abort();
            expect = ch[i].end;
        }
        if (expect != want) abort();
        free(ch);
    }
    return 0;
}
