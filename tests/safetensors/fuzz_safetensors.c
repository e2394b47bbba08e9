/* fuzz_safetensors.c - st_open_memory on arbitrary bytes. Whatever it
 * accepts, every tensor's bytes must be readable (ASan checks the bounds)
 * and findable by name, and its header holds no string with a NUL (which
 * cJSON would cut short into another name). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/json_nul.h"
#include "../../formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    st_checkpoint *ck = st_open_memory(data, size, "fuzz.safetensors", err, sizeof err);
    if (!ck) {
        if (!memchr(err, 0, sizeof err) || !err[0])
            abort();                  /* a failure must leave a message */
        return 0;
    }
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | data[i]; /* accepted: at least 8 bytes and a header that fits */
    if (gq_json_nul_string((const char *)data + 8, (size_t)hl) >= 0)
        abort();
    volatile unsigned sum = 0;
    for (size_t i = 0; i < st_count(ck); i++) {
        const st_tensor *t = st_at(ck, i);
        if (st_find(ck, t->name) != t || t->shard != 0)
            abort();
        if (i && strcmp(st_at(ck, i - 1)->name, t->name) >= 0)
            abort();                  /* sorted, unique */
        const uint8_t *p = t->data;
        if (t->nbytes) {
            if (p < data || p + t->nbytes > data + size)
                abort();
            sum += p[0] + p[t->nbytes - 1];
        }
        uint64_t n = st_dtype_size(t->dtype);
        for (int d = 0; d < t->ndim; d++)
            n *= t->shape[d];
        if (n != t->nbytes)
            abort();
    }
    (void)sum;
    st_close(ck);
    return 0;
}
