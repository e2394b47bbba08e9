/* llama_dump.c - print llama.cpp's intermediate tensors for one token row,
 * the counterpart of our runtime's GQ_TRACE_ROW (runtime/model/forward.c), to find
 * the first operation where the two engines part (docs/GGUF.md).
 *
 * Not part of the build: it links node-llama-cpp's prebuilt libllama with the
 * headers of the same llama.cpp release; llama_dump.sh builds and runs it.
 *
 *   llama_dump MODEL.gguf BACKEND_DIR ROW ID [ID...]
 * evaluates the ids in one batch (F32 KV cache, no flash attention, as
 * gguf_proof.mjs's aligned pass) and prints, for every F32 tensor the graph
 * computes, its name, shape, the first values of row ROW and that row's L2
 * norm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"

static int g_row;

static bool on_tensor(struct ggml_tensor *t, bool ask, void *user)
{
    (void)user;
    if (ask)
        return true; /* yes, show us every tensor */
    if (t->type != GGML_TYPE_F32 || !t->data || t->ne[2] != 1 || t->ne[1] <= g_row)
        return true;
    const float *d = (const float *)t->data + (size_t)g_row * (size_t)t->ne[0];
    long n = (long)t->ne[0];
    double ss = 0;
    for (long i = 0; i < n; i++)
        ss += (double)d[i] * d[i];
    printf("%-32s [%ld] %.7g %.7g %.7g %.7g | norm %.9g\n", t->name, n, d[0], n > 1 ? d[1] : 0.0,
           n > 2 ? d[2] : 0.0, n > 3 ? d[3] : 0.0, sqrt(ss));
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: llama_dump MODEL.gguf BACKEND_DIR ROW ID [ID...]\n");
        return 2;
    }
    ggml_backend_load_all_from_path(argv[2]);
    llama_backend_init();
    g_row = atoi(argv[3]);
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "llama_dump: llama.cpp cannot load %s\n", argv[1]);
        return 1;
    }
    int n = argc - 4;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t)(n < 256 ? 256 : n);
    cp.n_threads = cp.n_threads_batch = 2;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.cb_eval = on_tensor;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    llama_token *ids = malloc(sizeof *ids * (size_t)n);
    if (!ctx || !ids) {
        fprintf(stderr, "llama_dump: cannot create a context\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        ids[i] = atoi(argv[4 + i]);
    int rc = llama_decode(ctx, llama_batch_get_one(ids, n));
    free(ids);
    llama_free(ctx);
    llama_model_free(model);
    return rc ? 1 : 0;
}
