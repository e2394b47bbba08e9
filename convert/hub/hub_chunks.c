/* hub_chunks.c - chunk plans and their progress file (see hub_chunks.h). */
#include "hub_chunks.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gio_read.h"

hub_chunk *hub_chunks_plan(uint64_t size, uint64_t chunk_size, int split, size_t *n_out)
{
    uint64_t cs = chunk_size ? chunk_size : 1;
    size_t n = split ? (size_t)((size + cs - 1) / cs) : 1;
    if (n > 4096) { /* a progress file of bounded size */
        cs = (size + 4095) / 4096;
        n = (size_t)((size + cs - 1) / cs);
    }
    if (n == 0) n = 1;
    hub_chunk *ch = calloc(n, sizeof *ch);
    if (!ch) return NULL;
    for (size_t i = 0; i < n; i++) {
        ch[i].start = split ? i * cs : 0;
        ch[i].end = split && i + 1 < n ? (i + 1) * cs : size;
    }
    hub_chunks_reset_states(ch, n);
    *n_out = n;
    return ch;
}

void hub_chunks_reset_states(hub_chunk *ch, size_t n)
{
    for (size_t i = 0; i < n; i++) ch[i].state = ch[i].done == ch[i].end - ch[i].start ? HUB_CH_DONE : HUB_CH_PENDING;
}

int hub_chunks_save(const char *path, uint64_t size, const hub_chunk *ch, size_t n)
{
    size_t cap = 64 + n * 64, o = 0;
    char *buf = malloc(cap);
    if (!buf) return -1;
    o += (size_t)snprintf(buf, cap, "gq-chunks 1 %" PRIu64 " %zu\n", size, n);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", ch[i].start, ch[i].end,
                              ch[i].done);
    char tmp[8300];
    int rc = -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) < (int)sizeof tmp) {
        unlink(tmp); /* a stale one, or a planted link: create our own, never write through */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            rc = write(fd, buf, o) == (ssize_t)o ? 0 : -1;
            if (close(fd) || rc || rename(tmp, path)) rc = -1;
        }
    }
    free(buf);
    return rc;
}

/* Our own file, but a crash or a hand edit may have mangled it: every
 * number is checked, and anything odd means "start over". */
hub_chunk *hub_chunks_load(const char *path, uint64_t want_size, size_t *n_out)
{
    FILE *fp = gio_fopen_read(path, NULL, 0); /* our file, but never hang on a FIFO put there */
    if (!fp) return NULL;
    uint64_t size, n;
    hub_chunk *ch = NULL;
    if (fscanf(fp, "gq-chunks 1 %" SCNu64 " %" SCNu64 "\n", &size, &n) == 2 && size == want_size && n > 0 &&
        n <= 100000) {
        ch = calloc((size_t)n, sizeof *ch);
        uint64_t expect = 0;
        size_t i = 0;
        for (; ch && i < n; i++) {
            if (fscanf(fp, "%" SCNu64 " %" SCNu64 " %" SCNu64 "\n", &ch[i].start, &ch[i].end, &ch[i].done) != 3 ||
                ch[i].start != expect || ch[i].end < ch[i].start || ch[i].end > size ||
                ch[i].done > ch[i].end - ch[i].start)
                break;
            expect = ch[i].end;
        }
        if (!ch || i != n || expect != size) {
            free(ch);
            ch = NULL;
        } else {
            hub_chunks_reset_states(ch, (size_t)n);
            *n_out = (size_t)n;
        }
    }
    fclose(fp);
    return ch;
}
