/* fuzz_gptoss.c - libFuzzer target for the .gptoss reader (gf_open_memory).
 *
 * Each input is tried twice: as is, and with the preamble's header hash
 * recomputed, because almost every mutation of the header would otherwise
 * stop at the checksum and never reach the JSON and directory checks. An
 * accepted file is walked completely so that any out-of-bounds pointer the
 * reader let through is touched (ASan then reports it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "gptoss_format.h"

static void walk(const uint8_t *data, size_t size)
{
    char err[512];
    gf_file *f = gf_open_memory(data, size, err, sizeof err);
    if (!f) return;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < gf_tensor_count(f); i++) {
        const gf_tensor *t = gf_tensor_at(f, i);
        const uint8_t *p = t->data;
        sink ^= p[0] ^ p[t->size - 1];   /* tensors are never empty */
        if (gf_find_tensor(f, t->name) != t) abort();
    }
    for (size_t i = 0; i < gf_blob_count(f); i++) {
        const gf_blob *b = gf_blob_at(f, i);
        if (b->size) sink ^= ((const uint8_t *)b->data)[b->size - 1];
        if (gf_find_blob(f, b->name) != b) abort();
    }
    const gf_hparams *hp = gf_get_hparams(f);
    if (hp->n_layers < 1 || hp->n_layers > GF_MAX_LAYERS) abort();
    sink ^= (uint8_t)strlen(gf_header_json(f));
    gf_verify(f, NULL, NULL);
    (void)sink;
    gf_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk(data, size);
    if (size < GF_PREAMBLE_BYTES) return 0;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | data[16 + i];
    if (hl > size - GF_PREAMBLE_BYTES) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint64_t h = XXH3_64bits(copy + GF_PREAMBLE_BYTES, (size_t)hl);
    for (int i = 0; i < 8; i++) copy[24 + i] = (uint8_t)(h >> (8 * i));
    walk(copy, size);
    free(copy);
    return 0;
}
