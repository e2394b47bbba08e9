/* backend_cpu.c - the CPU implementation of backend.h, composed from the
 * kernels/cpu building blocks on one persistent thread pool.
 *
 * Attention runs one task per (token, head); the MoE block routes every
 * token, then runs each selected expert once over all the tokens routed to
 * it (prefill reads each expert's weights once per batch), or, for a single
 * token, all its experts' matrix-vector products in one parallel run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gk_dot.h"
#include "gk_ops.h"
#include "gk_pool.h"

typedef struct {
    gk_pool *pool;
    gb_numerics numerics;
} cpu_ctx;

static gk_pool *pool_of(gb_backend *b) { return ((cpu_ctx *)b->ctx)->pool; }
static int ggml_numerics(gb_backend *b) { return ((cpu_ctx *)b->ctx)->numerics == GB_GGML; }

/* The input of a product with weights of type t: x itself, or (GB_GGML) a
 * rounded copy in *tmp (malloc'ed; NULL if out of memory, then x as is). */
static const float *product_input(gb_backend *b, gq_type t, const float *x, size_t n, float **tmp)
{
    *tmp = NULL;
    if (!ggml_numerics(b) || t == GQ_F32 || !(*tmp = malloc(n * sizeof **tmp)))
        return x;
    gk_round_like_ggml(t, x, *tmp, n);
    return *tmp;
}

static gk_mat mat_of(const gb_weight *w, int64_t index)
{
    gk_mat m = {w->type, (const uint8_t *)w->data + (size_t)index * (size_t)w->rows * w->row_bytes, w->rows,
                w->cols, w->row_bytes};
    return m;
}

static float *cpu_alloc(gb_backend *b, size_t n) { (void)b; return calloc(n ? n : 1, sizeof(float)); }
static void cpu_release(gb_backend *b, float *p) { (void)b; free(p); }
static void cpu_read(gb_backend *b, const float *buf, size_t off, size_t n, float *host)
{
    (void)b;
    memcpy(host, buf + off, n * sizeof(float));
}

static void cpu_embed(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, float *out)
{
    (void)b;
    gk_decode_fn dec = gk_decode_for(w->type);
    for (int t = 0; t < n; t++)
        dec((const uint8_t *)w->data + (size_t)ids[t] * w->row_bytes, out + (size_t)t * (size_t)w->cols, w->cols);
}

static void cpu_rmsnorm(gb_backend *b, const float *x, const float *w, int n, int dim, float eps, float *out)
{
    (void)b;
    for (int t = 0; t < n; t++)
        gk_rmsnorm(x + (size_t)t * (size_t)dim, w, dim, eps, out + (size_t)t * (size_t)dim);
}

static void cpu_matmul(gb_backend *b, const gb_weight *w, const float *bias, const float *x, int n, float *out)
{
    gk_mat m = mat_of(w, 0);
    float *tmp;
    x = product_input(b, w->type, x, (size_t)n * (size_t)w->cols, &tmp);
    gk_matmul(pool_of(b), &m, bias, x, n, out, w->rows);
    free(tmp);
}

static void cpu_rope(gb_backend *b, float *x, int n, int n_heads, int head_dim, int pos0, const float *inv_freq,
                     float mscale)
{
    (void)b;
    for (int t = 0; t < n; t++)
        gk_rope(x + (size_t)t * (size_t)n_heads * (size_t)head_dim, n_heads, head_dim, pos0 + t, inv_freq, mscale);
}

typedef struct {
    const gb_attn *a;
    const float *q, *k, *v;
    float *out;
    int pos0;
    float *scores;              /* per thread: pos0 + n floats */
    size_t scores_len;
    gk_dotf_fn dotf;
} attn_ctx;

static void attn_task(void *p, int task, int thread)
{
    attn_ctx *c = p;
    const gb_attn *a = c->a;
    int t = task / a->n_heads, h = task % a->n_heads;
    int hd = a->head_dim, kvh = h / (a->n_heads / a->n_kv_heads);
    size_t kv_stride = (size_t)a->n_kv_heads * (size_t)hd;
    int pos = c->pos0 + t;
    int lo = a->window > 0 && pos - a->window + 1 > 0 ? pos - a->window + 1 : 0;
    const float *q = c->q + ((size_t)t * (size_t)a->n_heads + (size_t)h) * (size_t)hd;
    float *s = c->scores + (size_t)thread * c->scores_len;
    float m = a->sinks[h];
    for (int j = lo; j <= pos; j++) {
        const float *k = j < c->pos0 ? a->k_cache + (size_t)(j % a->cap) * kv_stride
                                     : c->k + (size_t)(j - c->pos0) * kv_stride;
        float x = c->dotf(q, k + (size_t)kvh * (size_t)hd, hd) * a->scale;
        s[j - lo] = x;
        if (x > m)
            m = x;
    }
    float denom = expf(a->sinks[h] - m);
    for (int j = lo; j <= pos; j++) {
        s[j - lo] = expf(s[j - lo] - m);
        denom += s[j - lo];
    }
    float *o = c->out + ((size_t)t * (size_t)a->n_heads + (size_t)h) * (size_t)hd;
    memset(o, 0, (size_t)hd * sizeof(float));
    for (int j = lo; j <= pos; j++) {
        const float *v = j < c->pos0 ? a->v_cache + (size_t)(j % a->cap) * kv_stride
                                     : c->v + (size_t)(j - c->pos0) * kv_stride;
        v += (size_t)kvh * (size_t)hd;
        float w = s[j - lo];
        for (int d = 0; d < hd; d++)
            o[d] += w * v[d];
    }
    float inv = 1.0f / denom;
    for (int d = 0; d < hd; d++)
        o[d] *= inv;
}

static void cpu_attention(gb_backend *b, const gb_attn *a, const float *q, const float *k, const float *v, int n,
                          int pos0, float *out)
{
    gk_pool *pool = pool_of(b);
    size_t len = (size_t)pos0 + (size_t)n;
    attn_ctx c = {a, q, k, v, out, pos0, malloc((size_t)gk_pool_size(pool) * len * sizeof(float)), len, gk_dotf()};
    if (!c.scores)
        return; /* out of memory: leaves out unchanged (the caller's buffers are zeroed) */
    gk_pool_run(pool, attn_task, &c, n * a->n_heads);
    free(c.scores);
}

static void cpu_kv_store(gb_backend *b, const gb_attn *a, const float *k, const float *v, int n, int pos0)
{
    (void)b;
    size_t stride = (size_t)a->n_kv_heads * (size_t)a->head_dim;
    for (int t = n > a->cap ? n - a->cap : 0; t < n; t++) {
        size_t slot = (size_t)((pos0 + t) % a->cap);
        memcpy(a->k_cache + slot * stride, k + (size_t)t * stride, stride * sizeof(float));
        memcpy(a->v_cache + slot * stride, v + (size_t)t * stride, stride * sizeof(float));
    }
}

/* Top-k of n logits (descending, lower index first on ties), then softmax
 * over the k chosen: the gpt-oss router. */
static void route(const float *logits, int n, int k, int *idx, float *w)
{
    for (int i = 0; i < k; i++) {
        int best = -1;
        for (int e = 0; e < n; e++) {
            int taken = 0;
            for (int j = 0; j < i; j++)
                taken |= idx[j] == e;
            if (!taken && (best < 0 || logits[e] > logits[best]))
                best = e;
        }
        idx[i] = best;
        w[i] = logits[best];
    }
    gk_softmax(w, k);
}

#define MAX_TOPK 16

static void moe_one(gb_backend *b, const gb_moe *m, const float *x, const float *xe, float *out, float *scratch)
{
    gk_pool *pool = pool_of(b);
    int k = m->top_k, D = m->hidden, I = m->inter;
    float logits[512];
    int idx[MAX_TOPK];
    float w[MAX_TOPK];
    gk_mat r = mat_of(m->router, 0);
    gk_matmul(NULL, &r, m->router_bias, x, 1, logits, m->n_experts);
    route(logits, m->n_experts, k, idx, w);
    float *h = scratch, *act = h + (size_t)k * 2 * (size_t)I, *y = act + (size_t)k * (size_t)I;
    gk_matvec_job jobs[MAX_TOPK];
    for (int i = 0; i < k; i++) {
        jobs[i].w = mat_of(m->gate_up, idx[i]);
        jobs[i].bias = m->gate_up_bias + (size_t)idx[i] * 2 * (size_t)I;
        jobs[i].x = xe;
        jobs[i].out = h + (size_t)i * 2 * (size_t)I;
    }
    gk_matvec_many(pool, jobs, k);
    for (int i = 0; i < k; i++) {
        gk_swiglu_interleaved(h + (size_t)i * 2 * (size_t)I, I, m->swiglu_limit, m->swiglu_alpha,
                              act + (size_t)i * (size_t)I);
        if (ggml_numerics(b))
            gk_round_like_ggml(m->down->type, act + (size_t)i * (size_t)I, act + (size_t)i * (size_t)I, (size_t)I);
        jobs[i].w = mat_of(m->down, idx[i]);
        jobs[i].bias = m->down_bias + (size_t)idx[i] * (size_t)D;
        jobs[i].x = act + (size_t)i * (size_t)I;
        jobs[i].out = y + (size_t)i * (size_t)D;
    }
    gk_matvec_many(pool, jobs, k);
    for (int d = 0; d < D; d++) {
        float s = 0;
        for (int i = 0; i < k; i++)
            s += w[i] * y[(size_t)i * (size_t)D + (size_t)d];
        out[d] = s;
    }
}

static void cpu_moe(gb_backend *b, const gb_moe *m, const float *x, int n, float *out)
{
    gk_pool *pool = pool_of(b);
    int k = m->top_k, E = m->n_experts, D = m->hidden, I = m->inter;
    if (k > MAX_TOPK || E > 512)
        return;
    /* the router reads x; the experts read xe (x, or its GB_GGML rounding) */
    float *xe_tmp;
    const float *xe = product_input(b, m->gate_up->type, x, (size_t)n * (size_t)D, &xe_tmp);
    if (n == 1) {
        float *scratch = malloc(((size_t)k * (3 * (size_t)I + (size_t)D)) * sizeof(float));
        if (scratch)
            moe_one(b, m, x, xe, out, scratch);
        free(scratch);
        free(xe_tmp);
        return;
    }
    /* Prefill: route all tokens, then each expert once over its tokens. */
    float *logits = malloc((size_t)n * (size_t)E * sizeof(float));
    int *sel = malloc((size_t)n * (size_t)k * sizeof(int));
    float *wsel = malloc((size_t)n * (size_t)k * sizeof(float));
    int *tok = malloc((size_t)n * sizeof(int));
    float *wt = malloc((size_t)n * sizeof(float));
    float *xg = malloc((size_t)n * (size_t)D * sizeof(float));
    float *h = malloc((size_t)n * 2 * (size_t)I * sizeof(float));
    float *act = malloc((size_t)n * (size_t)I * sizeof(float));
    float *y = malloc((size_t)n * (size_t)D * sizeof(float));
    if (logits && sel && wsel && tok && wt && xg && h && act && y) {
        gk_mat r = mat_of(m->router, 0);
        gk_matmul(pool, &r, m->router_bias, x, n, logits, E);
        for (int t = 0; t < n; t++)
            route(logits + (size_t)t * (size_t)E, E, k, sel + (size_t)t * (size_t)k, wsel + (size_t)t * (size_t)k);
        memset(out, 0, (size_t)n * (size_t)D * sizeof(float));
        for (int e = 0; e < E; e++) {
            int c = 0;
            for (int t = 0; t < n; t++)
                for (int i = 0; i < k; i++)
                    if (sel[(size_t)t * (size_t)k + (size_t)i] == e) {
                        tok[c] = t;
                        wt[c] = wsel[(size_t)t * (size_t)k + (size_t)i];
                        memcpy(xg + (size_t)c * (size_t)D, xe + (size_t)t * (size_t)D, (size_t)D * sizeof(float));
                        c++;
                    }
            if (!c)
                continue;
            gk_mat gu = mat_of(m->gate_up, e), dn = mat_of(m->down, e);
            gk_matmul(pool, &gu, m->gate_up_bias + (size_t)e * 2 * (size_t)I, xg, c, h, 2 * (int64_t)I);
            for (int j = 0; j < c; j++)
                gk_swiglu_interleaved(h + (size_t)j * 2 * (size_t)I, I, m->swiglu_limit, m->swiglu_alpha,
                                      act + (size_t)j * (size_t)I);
            if (ggml_numerics(b))
                gk_round_like_ggml(m->down->type, act, act, (size_t)c * (size_t)I);
            gk_matmul(pool, &dn, m->down_bias + (size_t)e * (size_t)D, act, c, y, D);
            for (int j = 0; j < c; j++) {
                float *o = out + (size_t)tok[j] * (size_t)D;
                const float *yy = y + (size_t)j * (size_t)D;
                for (int d = 0; d < D; d++)
                    o[d] += wt[j] * yy[d];
            }
        }
    }
    free(logits);
    free(sel);
    free(wsel);
    free(tok);
    free(wt);
    free(xg);
    free(h);
    free(act);
    free(y);
    free(xe_tmp);
}

static void cpu_add(gb_backend *b, float *x, const float *y, size_t len)
{
    (void)b;
    for (size_t i = 0; i < len; i++)
        x[i] += y[i];
}

static void cpu_destroy(gb_backend *b)
{
    if (!b)
        return;
    gk_pool_destroy(pool_of(b));
    free(b->ctx);
    free(b);
}

gb_backend *gb_cpu_create(int n_threads) { return gb_cpu_create_numerics(n_threads, GB_EXACT); }

gb_backend *gb_cpu_create_numerics(int n_threads, gb_numerics numerics)
{
    gb_backend *b = calloc(1, sizeof *b);
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!b || !c || !(c->pool = gk_pool_create(n_threads))) {
        free(b);
        free(c);
        return NULL;
    }
    c->numerics = numerics;
    b->name = numerics == GB_GGML ? "cpu-ggml" : "cpu";
    b->ctx = c;
    b->alloc = cpu_alloc;
    b->release = cpu_release;
    b->read = cpu_read;
    b->embed = cpu_embed;
    b->rmsnorm = cpu_rmsnorm;
    b->matmul = cpu_matmul;
    b->rope = cpu_rope;
    b->attention = cpu_attention;
    b->kv_store = cpu_kv_store;
    b->moe = cpu_moe;
    b->add = cpu_add;
    b->destroy = cpu_destroy;
    return b;
}
