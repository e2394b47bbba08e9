/* kv.c - allocation of the per-layer caches (see kv.h). */
#include "kv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int gq_kv_init(gq_kv *kv, const gm_model *m, gb_backend *be, int ctx, char *err, size_t errlen)
{
    const gf_hparams *hp = &m->hp;
    kv->layers = NULL;
    kv->be = be;
    kv->bytes = 0;
    kv->n_layers = hp->n_layers;
    kv->ctx = ctx;
    if (ctx < 1 || ctx > hp->max_ctx) {
        snprintf(err, errlen, "context %d is outside 1..%d (the model's max_position_embeddings)", ctx, hp->max_ctx);
        return -1;
    }
    kv->layers = calloc((size_t)hp->n_layers, sizeof *kv->layers);
    if (!kv->layers)
        goto oom;
    size_t row = (size_t)hp->n_kv_heads * (size_t)hp->head_dim;
    for (int l = 0; l < hp->n_layers; l++) {
        gb_attn *a = &kv->layers[l];
        const gm_layer *L = &m->layers[l];
        a->n_heads = hp->n_heads;
        a->n_kv_heads = hp->n_kv_heads;
        a->head_dim = hp->head_dim;
        a->window = L->sliding ? hp->sliding_window : 0;
        a->sinks = L->sinks;
        a->scale = 1.0f / sqrtf((float)hp->head_dim);
        a->cap = L->sliding && hp->sliding_window < ctx ? hp->sliding_window : ctx;
        a->k_cache = be->alloc(be, (size_t)a->cap * row);
        a->v_cache = be->alloc(be, (size_t)a->cap * row);
        if (!a->k_cache || !a->v_cache)
            goto oom;
        kv->bytes += 2 * (size_t)a->cap * row * sizeof(float);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory for a %d-token KV cache (use a smaller --ctx)", ctx);
    gq_kv_free(kv);
    return -1;
}

void gq_kv_free(gq_kv *kv)
{
    if (!kv->layers)
        return;
    for (int l = 0; l < kv->n_layers; l++) {
        if (kv->layers[l].k_cache)
            kv->be->release(kv->be, kv->layers[l].k_cache);
        if (kv->layers[l].v_cache)
            kv->be->release(kv->be, kv->layers[l].v_cache);
    }
    free(kv->layers);
    kv->layers = NULL;
}
