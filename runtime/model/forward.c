/* forward.c - the gpt-oss forward pass (/work/shared/reference/gpt-oss-model.md):
 *   x = embed(ids)
 *   per layer: x += o_proj(attn(rope(q), rope(k), v, sinks, window)) of rmsnorm(x)
 *              x += moe(rmsnorm(x))
 *   logits = head(rmsnorm(x))
 * expressed only through backend.h operations. */
#include "forward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define LOGIT_ROWS 16

struct gq_session {
    const gm_model *m;
    gb_backend *be;
    gq_kv kv;
    int pos, max_batch;
    gb_moe *moe;              /* per layer */
    float *x, *xn, *q, *k, *v, *att, *y, *logits;   /* backend buffers */
    float *host_logits;       /* one row, for the callback */
    int trace_row;            /* GQ_TRACE_ROW, or -1 */
};

/* GQ_TRACE_ROW=r prints, for token row r of every batch, each intermediate
 * under llama.cpp's tensor name (first values and L2 norm) on stderr, so a
 * run can be laid beside llama.cpp's eval-callback dump
 * (tests/gguf/llama_dump.c) to find the first op where two engines part. */
static void trace(gq_session *s, const char *name, int layer, const float *buf, int n, int dim)
{
    if (s->trace_row < 0 || s->trace_row >= n || dim > s->m->hp.vocab)
        return;
    float *h = s->host_logits;
    s->be->read(s->be, buf, (size_t)s->trace_row * (size_t)dim, (size_t)dim, h);
    double ss = 0;
    for (int i = 0; i < dim; i++)
        ss += (double)h[i] * h[i];
    char full[64];
    snprintf(full, sizeof full, layer >= 0 ? "%s-%d" : "%s", name, layer);
    fprintf(stderr, "%-24s [%d] %.7g %.7g %.7g %.7g | norm %.9g\n", full, dim, h[0], dim > 1 ? h[1] : 0.0,
            dim > 2 ? h[2] : 0.0, dim > 3 ? h[3] : 0.0, sqrt(ss));
}

gq_session *gq_session_create(const gm_model *m, gb_backend *be, int ctx, int max_batch, char *err, size_t errlen)
{
    const gf_hparams *hp = &m->hp;
    gq_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->m = m;
    s->be = be;
    const char *tr = getenv("GQ_TRACE_ROW");
    s->trace_row = tr && *tr ? atoi(tr) : -1;
    /* 128: each prefill batch decodes every selected expert's rows to fp32
     * once, so bigger batches amortize that over more tokens */
    s->max_batch = max_batch > 0 ? max_batch : 128;
    if (gq_kv_init(&s->kv, m, be, ctx, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    size_t B = (size_t)s->max_batch, D = (size_t)hp->hidden, Hq = (size_t)hp->n_heads * (size_t)hp->head_dim,
           Hkv = (size_t)hp->n_kv_heads * (size_t)hp->head_dim;
    s->x = be->alloc(be, B * D);
    s->xn = be->alloc(be, B * D);
    s->y = be->alloc(be, B * D);
    s->q = be->alloc(be, B * Hq);
    s->att = be->alloc(be, B * Hq);
    s->k = be->alloc(be, B * Hkv);
    s->v = be->alloc(be, B * Hkv);
    /* logits are produced LOGIT_ROWS tokens at a time: a 201088-entry row
     * per token of a 128-token batch would be 100 MB */
    s->logits = be->alloc(be, (size_t)(B < LOGIT_ROWS ? B : LOGIT_ROWS) * (size_t)hp->vocab);
    s->host_logits = malloc((size_t)hp->vocab * sizeof(float));
    s->moe = calloc((size_t)hp->n_layers, sizeof *s->moe);
    if (!s->x || !s->xn || !s->y || !s->q || !s->att || !s->k || !s->v || !s->logits || !s->host_logits ||
        !s->moe) {
        snprintf(err, errlen, "out of memory for activations (batch %d)", s->max_batch);
        gq_session_free(s);
        return NULL;
    }
    for (int l = 0; l < hp->n_layers; l++) {
        const gm_layer *L = &m->layers[l];
        gb_moe *mo = &s->moe[l];
        mo->router = &L->router;
        mo->router_bias = L->router_bias;
        mo->gate_up = &L->gate_up;
        mo->gate_up_bias = L->gate_up_bias;
        mo->down = &L->down;
        mo->down_bias = L->down_bias;
        mo->n_experts = hp->n_experts;
        mo->top_k = hp->n_experts_per_tok;
        mo->hidden = hp->hidden;
        mo->inter = hp->intermediate;
        mo->swiglu_limit = (float)hp->swiglu_limit;
        mo->swiglu_alpha = 1.702f;
    }
    return s;
}

void gq_session_free(gq_session *s)
{
    if (!s)
        return;
    gb_backend *be = s->be;
    float *bufs[] = {s->x, s->xn, s->y, s->q, s->att, s->k, s->v, s->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i])
            be->release(be, bufs[i]);
    gq_kv_free(&s->kv);
    free(s->host_logits);
    free(s->moe);
    free(s);
}

void gq_session_reset(gq_session *s) { s->pos = 0; }
int gq_session_pos(const gq_session *s) { return s->pos; }
int gq_session_ctx(const gq_session *s) { return s->kv.ctx; }

/* One micro-batch of n <= max_batch tokens at s->pos. */
static void batch(gq_session *s, const int32_t *ids, int n, int logits_from, int index0, gq_logits_fn cb, void *user)
{
    const gm_model *m = s->m;
    const gf_hparams *hp = &m->hp;
    gb_backend *be = s->be;
    int D = hp->hidden;
    float eps = (float)hp->rms_eps;
    be->embed(be, &m->embed, ids, n, s->x);
    trace(s, "embd", -1, s->x, n, D);
    int Hq = hp->n_heads * hp->head_dim, Hkv = hp->n_kv_heads * hp->head_dim;
    for (int l = 0; l < hp->n_layers; l++) {
        const gm_layer *L = &m->layers[l];
        const gb_attn *a = &s->kv.layers[l];
        be->rmsnorm(be, s->x, L->attn_norm, n, D, eps, s->xn);
        trace(s, "attn_norm", l, s->xn, n, D);
        be->matmul(be, &L->q, L->q_bias, s->xn, n, s->q);
        be->matmul(be, &L->k, L->k_bias, s->xn, n, s->k);
        be->matmul(be, &L->v, L->v_bias, s->xn, n, s->v);
        trace(s, "Vcur", l, s->v, n, Hkv);
        be->rope(be, s->q, n, hp->n_heads, hp->head_dim, s->pos, m->inv_freq, m->rope_mscale);
        be->rope(be, s->k, n, hp->n_kv_heads, hp->head_dim, s->pos, m->inv_freq, m->rope_mscale);
        trace(s, "Qcur (roped)", l, s->q, n, Hq);
        trace(s, "Kcur (roped)", l, s->k, n, Hkv);
        be->attention(be, a, s->q, s->k, s->v, n, s->pos, s->att);
        trace(s, "kqv_out", l, s->att, n, Hq);
        be->kv_store(be, a, s->k, s->v, n, s->pos);
        be->matmul(be, &L->o, L->o_bias, s->att, n, s->y);
        trace(s, "attn_out", l, s->y, n, D);
        be->add(be, s->x, s->y, (size_t)n * (size_t)D);
        trace(s, "ffn_inp", l, s->x, n, D);
        be->rmsnorm(be, s->x, L->ffn_norm, n, D, eps, s->xn);
        trace(s, "attn_post_norm", l, s->xn, n, D);
        be->moe(be, &s->moe[l], s->xn, n, s->y);
        trace(s, "ffn_moe_out", l, s->y, n, D);
        be->add(be, s->x, s->y, (size_t)n * (size_t)D);
        trace(s, "l_out", l, s->x, n, D);
    }
    s->pos += n;
    int from = logits_from > index0 ? logits_from - index0 : 0;
    if (from >= n || !cb)
        return;
    int nl = n - from;
    be->rmsnorm(be, s->x + (size_t)from * (size_t)D, m->norm, nl, D, eps, s->xn);
    for (int c = 0; c < nl; c += LOGIT_ROWS) {
        int nc = nl - c < LOGIT_ROWS ? nl - c : LOGIT_ROWS;
        be->matmul(be, &m->head, NULL, s->xn + (size_t)c * (size_t)D, nc, s->logits);
        for (int t = 0; t < nc; t++) {
            be->read(be, s->logits, (size_t)t * (size_t)hp->vocab, (size_t)hp->vocab, s->host_logits);
            cb(user, index0 + from + c + t, s->host_logits);
        }
    }
}

int gq_forward(gq_session *s, const int32_t *ids, int n, int logits_from, gq_logits_fn cb, void *user, char *err,
               size_t errlen)
{
    const gf_hparams *hp = &s->m->hp;
    if (n < 0 || s->pos + n > s->kv.ctx) {
        snprintf(err, errlen, "context full: %d tokens at position %d exceed the %d-token context (raise --ctx)", n,
                 s->pos, s->kv.ctx);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= hp->vocab) {
            snprintf(err, errlen, "token id %d (index %d) is outside the vocabulary 0..%d", ids[i], i, hp->vocab - 1);
            return -1;
        }
    for (int i = 0; i < n; i += s->max_batch) {
        int nb = n - i < s->max_batch ? n - i : s->max_batch;
        batch(s, ids + i, nb, logits_from, i, cb, user);
    }
    return 0;
}
