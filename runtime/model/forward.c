/* forward.c - the gpt-oss forward pass (/work/shared/reference/gpt-oss-model.md):
 *   x = embed(ids)
 *   per layer: x += o_proj(attn(rope(q), rope(k), v, sinks, window)) of rmsnorm(x)
 *              x += moe(rmsnorm(x))
 *   logits = head(rmsnorm(x))
 * expressed only through backend.h operations on gb_refs: no host pointer
 * into an activation, every status checked. */
#include "forward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Logits are produced a quarter of a micro-batch at a time, 16 to 128 rows:
 * a 201088-entry row per token of a 512-token batch would be 400 MB, and
 * each pass streams the whole lm_head (0.6 GB at q8) from memory, so 16 rows
 * per pass made `ppl` (which wants the logits of half of every chunk)
 * lm_head-bound on the CPU. */
static int logit_rows(int max_batch)
{
    int r = max_batch / 4;
    return r < 16 ? (max_batch < 16 ? max_batch : 16) : r > 128 ? 128 : r;
}

enum { B_X, B_XN, B_Y, B_Q, B_ATT, B_K, B_V, B_LOGITS, N_BUFS };

struct gq_session {
    const gm_model *m;
    gb_backend *be;
    gq_kv kv;
    int pos, max_batch, logit_rows;
    gb_moe *moe;              /* per layer */
    gb_buffer *buf[N_BUFS];   /* activations, on the backend */
    int trace_row;            /* GQ_TRACE_ROW, or -1 */
    float *trace_host;        /* trace_cap floats, for GQ_TRACE_ROW */
    int trace_cap;
};

#define TRY(expr)                                                                                                    \
    do {                                                                                                             \
        gb_status st_ = (expr);                                                                                      \
        if (st_ != GB_OK)                                                                                            \
            return st_;                                                                                              \
    } while (0)

static gb_ref ref(const gq_session *s, int i) { return (gb_ref){s->buf[i], 0}; }

/* GQ_TRACE_ROW=r prints, for token row r of every batch, each intermediate
 * under llama.cpp's tensor name (first values and L2 norm) on stderr, so a
 * run can be laid beside llama.cpp's eval-callback dump
 * (tests/gguf/llama_dump.c) to find the first op where two engines part. */
static gb_status trace(gq_session *s, const char *name, int layer, gb_ref buf, int n, int dim)
{
    if (s->trace_row < 0 || s->trace_row >= n || dim > s->trace_cap)
        return GB_OK;
    float *h = s->trace_host;
    TRY(s->be->read(s->be, gb_ref_f32(buf, (uint64_t)s->trace_row * (uint64_t)dim), h, (uint64_t)dim * sizeof(float)));
    double ss = 0;
    for (int i = 0; i < dim; i++)
        ss += (double)h[i] * h[i];
    char full[64];
    snprintf(full, sizeof full, layer >= 0 ? "%s-%d" : "%s", name, layer);
    fprintf(stderr, "%-24s [%d] %.7g %.7g %.7g %.7g | norm %.9g\n", full, dim, h[0], dim > 1 ? h[1] : 0.0,
            dim > 2 ? h[2] : 0.0, dim > 3 ? h[3] : 0.0, sqrt(ss));
    return GB_OK;
}

gq_session *gq_session_create(const gm_model *m, gb_backend *be, int ctx, int max_batch, char *err, size_t errlen)
{
    const gf_hparams *hp = &m->hp;
    if (m->prepared != be) {
        snprintf(err, errlen, "%s: the weights are not prepared for the %s backend (gm_prepare first)", m->path,
                 be->name);
        return NULL;
    }
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
     * once, so bigger batches amortize that over more tokens; a GPU reads
     * each expert's weights once per tile of its tokens (64 on Vulkan), and
     * 128 tokens give an expert 16 on average: 2048 there (an expert then
     * gets ~256 tokens, 4 full tiles; on the H200 pp2048 ran 21% faster
     * with batches of 2048 than of 512, docs/PERFORMANCE.md). The CLI asks
     * 512 of the CPU (model_cli.c). */
    s->max_batch = max_batch > 0 ? max_batch : strcmp(be->name, "cpu") ? 2048 : 128;
    /* GQ_MAX_BATCH: another default, for measuring the choice (bench) */
    const char *mb = getenv("GQ_MAX_BATCH");
    if (max_batch <= 0 && mb && atoi(mb) > 0)
        s->max_batch = atoi(mb);
    s->logit_rows = logit_rows(s->max_batch);
    if (gq_kv_init(&s->kv, m, be, ctx, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    uint64_t B = (uint64_t)s->max_batch, D = (uint64_t)hp->hidden,
             Hq = (uint64_t)hp->n_heads * (uint64_t)hp->head_dim,
             Hkv = (uint64_t)hp->n_kv_heads * (uint64_t)hp->head_dim;
    /* logits: logit_rows tokens at a time (logit_rows() above) */
    uint64_t floats[N_BUFS] = {B * D, B * D, B * D, B * Hq, B * Hq, B * Hkv, B * Hkv,
                               (uint64_t)s->logit_rows * (uint64_t)hp->vocab};
    for (int i = 0; i < N_BUFS; i++)
        if (be->alloc(be, floats[i] * sizeof(float), &s->buf[i]) != GB_OK) {
            snprintf(err, errlen, "activations (batch %d): %s backend: %s", s->max_batch, be->name, be->error);
            gq_session_free(s);
            return NULL;
        }
    if (s->trace_row >= 0) {
        s->trace_cap = (int)(D > Hq ? D : Hq);
        s->trace_host = malloc((size_t)s->trace_cap * sizeof(float));
    }
    s->moe = calloc((size_t)hp->n_layers, sizeof *s->moe);
    if (!s->moe || (s->trace_row >= 0 && !s->trace_host)) {
        snprintf(err, errlen, "out of memory for activations (batch %d)", s->max_batch);
        gq_session_free(s);
        return NULL;
    }
    for (int l = 0; l < hp->n_layers; l++) {
        const gm_layer *L = &m->layers[l];
        gb_moe *mo = &s->moe[l];
        mo->router = &L->router;
        mo->router_bias = &L->router_bias;
        mo->gate_up = &L->gate_up;
        mo->gate_up_bias = &L->gate_up_bias;
        mo->down = &L->down;
        mo->down_bias = &L->down_bias;
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
    for (int i = 0; i < N_BUFS; i++)
        if (s->buf[i])
            be->release(be, s->buf[i]);
    gq_kv_free(&s->kv);
    free(s->trace_host);
    free(s->moe);
    free(s);
}

void gq_session_reset(gq_session *s) { s->pos = 0; }
int gq_session_pos(const gq_session *s) { return s->pos; }
int gq_session_ctx(const gq_session *s) { return s->kv.ctx; }
gb_backend *gq_session_backend(const gq_session *s) { return s->be; }

/* One micro-batch of n <= max_batch tokens at s->pos. */
static gb_status batch(gq_session *s, const int32_t *ids, int n, int logits_from, int index0, gq_logits_fn cb,
                       void *user)
{
    const gm_model *m = s->m;
    const gf_hparams *hp = &m->hp;
    gb_backend *be = s->be;
    int D = hp->hidden;
    float eps = (float)hp->rms_eps;
    gb_ref x = ref(s, B_X), xn = ref(s, B_XN), y = ref(s, B_Y), q = ref(s, B_Q), att = ref(s, B_ATT),
           k = ref(s, B_K), v = ref(s, B_V);
    uint64_t nD = (uint64_t)n * (uint64_t)D;
    TRY(be->embed(be, &m->embed, ids, n, x));
    TRY(trace(s, "embd", -1, x, n, D));
    int Hq = hp->n_heads * hp->head_dim, Hkv = hp->n_kv_heads * hp->head_dim;
    int from = logits_from > index0 ? logits_from - index0 : 0;
    int want_logits = cb && from < n;
    /* The optional fused ops (backend.h) where the backend has them: the
     * residual add with the norm after it (the layer's next one, or the
     * output norm), rope + kv_store in one. Same results, fewer dependent
     * dispatches on a GPU. */
    int fuse_add = be->add_rmsnorm != NULL;
    for (int l = 0; l < hp->n_layers; l++) {
        const gm_layer *L = &m->layers[l];
        const gb_attn *a = &s->kv.layers[l];
        if (l == 0 || !fuse_add) /* else the previous layer's last add_rmsnorm made xn */
            TRY(be->rmsnorm(be, x, &L->attn_norm, n, D, eps, xn));
        TRY(trace(s, "attn_norm", l, xn, n, D));
        TRY(be->matmul(be, &L->q, &L->q_bias, xn, n, q));
        TRY(be->matmul(be, &L->k, &L->k_bias, xn, n, k));
        TRY(be->matmul(be, &L->v, &L->v_bias, xn, n, v));
        TRY(trace(s, "Vcur", l, v, n, Hkv));
        /* storing before attention is the same only when the store
         * overwrites no cache slot this batch's attention reads */
        int fuse_kv = be->rope_kv_store &&
                      (a->window == 0 || n + a->window - 1 <= a->cap || s->pos + n <= a->cap);
        if (fuse_kv)
            TRY(be->rope_kv_store(be, a, q, k, v, n, s->pos, &m->inv_freq, m->rope_mscale));
        else {
            TRY(be->rope(be, q, n, hp->n_heads, hp->head_dim, s->pos, &m->inv_freq, m->rope_mscale));
            TRY(be->rope(be, k, n, hp->n_kv_heads, hp->head_dim, s->pos, &m->inv_freq, m->rope_mscale));
        }
        TRY(trace(s, "Qcur (roped)", l, q, n, Hq));
        TRY(trace(s, "Kcur (roped)", l, k, n, Hkv));
        TRY(be->attention(be, a, q, k, v, n, s->pos, att));
        TRY(trace(s, "kqv_out", l, att, n, Hq));
        if (!fuse_kv)
            TRY(be->kv_store(be, a, k, v, n, s->pos));
        TRY(be->matmul(be, &L->o, &L->o_bias, att, n, y));
        TRY(trace(s, "attn_out", l, y, n, D));
        if (fuse_add)
            TRY(be->add_rmsnorm(be, x, y, &L->ffn_norm, n, D, eps, xn));
        else
            TRY(be->add(be, x, y, nD));
        TRY(trace(s, "ffn_inp", l, x, n, D));
        if (!fuse_add)
            TRY(be->rmsnorm(be, x, &L->ffn_norm, n, D, eps, xn));
        TRY(trace(s, "attn_post_norm", l, xn, n, D));
        TRY(be->moe(be, &s->moe[l], xn, n, y));
        TRY(trace(s, "ffn_moe_out", l, y, n, D));
        if (fuse_add && l + 1 < hp->n_layers)
            TRY(be->add_rmsnorm(be, x, y, &m->layers[l + 1].attn_norm, n, D, eps, xn));
        else if (fuse_add && want_logits) /* the output norm of every row: the head reads rows from `from` */
            TRY(be->add_rmsnorm(be, x, y, &m->norm, n, D, eps, xn));
        else
            TRY(be->add(be, x, y, nD));
        TRY(trace(s, "l_out", l, x, n, D));
    }
    s->pos += n;
    if (!want_logits)
        return GB_OK;
    int nl = n - from;
    /* the output norm's rows: at xn + from (fused above) or at xn + 0 */
    uint64_t xn0 = fuse_add ? (uint64_t)from * (uint64_t)D : 0;
    gb_ref lg = ref(s, B_LOGITS);
    if (!fuse_add)
        TRY(be->rmsnorm(be, gb_ref_f32(x, (uint64_t)from * (uint64_t)D), &m->norm, nl, D, eps, xn));
    for (int c = 0; c < nl; c += s->logit_rows) {
        int nc = nl - c < s->logit_rows ? nl - c : s->logit_rows;
        TRY(be->matmul(be, &m->head, NULL, gb_ref_f32(xn, xn0 + (uint64_t)c * (uint64_t)D), nc, lg));
        TRY(cb(user, index0 + from + c, nc, lg, hp->vocab));
    }
    return GB_OK;
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
        gb_status st = batch(s, ids + i, nb, logits_from, i, cb, user);
        if (st != GB_OK) {
            gb_backend *be = s->be;
            if (be->status != GB_OK)
                snprintf(err, errlen, "%s backend: %s", be->name, be->error);
            else
                snprintf(err, errlen, "the logits callback failed: %s", gb_status_name(st));
            return GQ_ERR_BACKEND;
        }
    }
    return 0;
}
