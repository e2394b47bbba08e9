/* kv.c - allocation of the per-layer caches (see kv.h). */
#include "kv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int gq_kv_init(gq_kv *kv, const gm_model *m, gb_backend *be, int ctx, char *err, size_t errlen)
{
    const gf_hparams *hp = &m->hp;
    kv->layers = NULL;
    kv->bufs = NULL;
    kv->be = be;
    kv->bytes = 0;
    kv->n_layers = hp->n_layers;
    kv->ctx = ctx;
    if (ctx < 1 || ctx > hp->max_ctx) {
        snprintf(err, errlen, "context %d is outside 1..%d (the model's max_position_embeddings)", ctx, hp->max_ctx);
        return -1;
    }
    kv->layers = calloc((size_t)hp->n_layers, sizeof *kv->layers);
    kv->bufs = calloc(2 * (size_t)hp->n_layers, sizeof *kv->bufs);
    if (!kv->layers || !kv->bufs) {
        snprintf(err, errlen, "out of memory for a %d-token KV cache (use a smaller --ctx)", ctx);
        gq_kv_free(kv);
        return -1;
    }
    uint64_t row = (uint64_t)hp->n_kv_heads * (uint64_t)hp->head_dim * sizeof(float);
    for (int l = 0; l < hp->n_layers; l++) {
        gb_attn *a = &kv->layers[l];
        const gm_layer *L = &m->layers[l];
        a->n_heads = hp->n_heads;
        a->n_kv_heads = hp->n_kv_heads;
        a->head_dim = hp->head_dim;
        a->window = L->sliding ? hp->sliding_window : 0;
        a->sinks = &L->sinks;
        a->scale = 1.0f / sqrtf((float)hp->head_dim);
        a->cap = L->sliding && hp->sliding_window < ctx ? hp->sliding_window : ctx;
        uint64_t bytes = (uint64_t)a->cap * row;
        if (be->alloc(be, bytes, &kv->bufs[2 * l]) != GB_OK || be->alloc(be, bytes, &kv->bufs[2 * l + 1]) != GB_OK) {
            snprintf(err, errlen, "a %d-token KV cache: %s backend: %s (use a smaller --ctx)", ctx, be->name,
                     be->error);
            gq_kv_free(kv);
            return GQ_ERR_BACKEND;
        }
        a->k_cache = (gb_ref){kv->bufs[2 * l], 0};
        a->v_cache = (gb_ref){kv->bufs[2 * l + 1], 0};
        kv->bytes += 2 * (size_t)bytes;
    }
    return 0;
}

void gq_kv_free(gq_kv *kv)
{
    if (kv->bufs)
        for (int i = 0; i < 2 * kv->n_layers; i++)
            if (kv->bufs[i])
                kv->be->release(kv->be, kv->bufs[i]);
    free(kv->bufs);
    free(kv->layers);
    kv->bufs = NULL;
    kv->layers = NULL;
}
