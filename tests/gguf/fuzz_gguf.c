/* fuzz_gguf.c - libFuzzer target for the GGUF reader: any bytes must give
 * either a validated file or an error message, never a crash, and every
 * accessor of a validated file must stay inside the image. A validated file
 * then goes through what gptoss-run makes of a GGUF: the model translation
 * and binding (model_gguf.c) and the tokenizer from its arrays. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gguf.h"
#include "model_impl.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    gguf_file *f = gguf_open_memory(data, size, err, sizeof err);
    if (!f) return 0;
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        uint64_t u;
        float x;
        double d;
        const char *s;
        size_t len;
        if (gguf_get_uint(kv, &u) == 0) sink += u;
        if (gguf_get_f32(kv, &x) == 0) sink += (uint64_t)(x == x);
        if (gguf_get_str(kv, &s, &len) == 0 && len) sink += (uint8_t)s[len - 1];
        for (uint64_t j = 0; j < kv->arr_n && j < 64; j++) {
            if (gguf_arr_str(f, kv, j, &s, &len) == 0 && len) sink += (uint8_t)s[len - 1];
            if (gguf_arr_num(kv, j, &d) == 0) sink += (uint64_t)(d == d);
        }
    }
    for (size_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        if (t->size) sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->size - 1];
        sink += (uint64_t)(gguf_find_tensor(f, t->name) == t);
    }
    (void)sink;
    tok_free(tok_load_gguf(f, "fuzz", err, sizeof err));
    gm_close(gm_from_gguf(f, "fuzz", err, sizeof err)); /* owns f */
    return 0;
}
