/* backend_cpu.c - the CPU implementation of backend.h, composed from the
 * kernels/cpu building blocks on one persistent thread pool.
 *
 * A gb_buffer is host memory: calloc'ed by alloc (BUF_HEAP), a view of the
 * model's host bytes made by prepare (BUF_VIEW: the weights stay in the file
 * mapping, zero copy), or, for the big weights when GQ_CPU_WEIGHTS=huge asks
 * (Linux with transparent huge pages, memory allowing), a read-only copy of
 * them on 2 MiB pages (BUF_HUGE, gk_hugepages.h: decode reads every weight
 * byte per token, and 4 KiB pages cost a TLB miss each). Every live buffer is on one list so that
 * destroy frees what the caller did not release.
 *
 * Attention runs one task per (token, head); the MoE block routes every
 * token, then runs each selected expert once over all the tokens routed to
 * it (prefill reads each expert's weights once per batch), or, for a single
 * token, all its experts' matrix-vector products in one parallel run.
 *
 * Failures: every allocation failure is GB_ERR_NOMEM naming the bytes, a
 * reference outside its buffer is GB_ERR_INVALID; both go through gb_fail,
 * so they are sticky and no op runs after one (backend.h).
 *
 * score, read_bandwidth and weights_huge_fraction live in backend_cpu_eval.c. */
#include "backend_cpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "backend_cpu_impl.h"
#include "gk_amx.h"
#include "gk_attn.h"
#include "gk_dot.h"
#include "gk_fast.h"
#include "gk_hugepages.h"
#include "gk_ops.h"
#include "gk_pool.h"

static cpu_ctx *ctx_of(gb_backend *b) { return (cpu_ctx *)b->ctx; }
static gk_pool *pool_of(gb_backend *b) { return ctx_of(b)->pool; }
static int ggml_numerics(gb_backend *b) { return ctx_of(b)->numerics == GB_GGML; }

/* GB_FAST and a weight the integer products take (gk_fast.h) */
static int fast_for(gb_backend *b, const gk_mat *m)
{
    return ctx_of(b)->numerics == GB_FAST && gk_fast_ok(m->type, m->cols);
}

static int read_only(gb_backend *b) { return ctx_of(b)->numerics == GB_READ; }

/* out = m . x (+ bias) in the backend's numerics: 0, or -1 (gk_matmul's) */
static int product(gb_backend *b, const gk_mat *m, const float *bias, const float *x, int n, float *out,
                   int64_t out_stride)
{
    if (read_only(b)) {
        cpu_product_read(b, m, bias, n, out, out_stride);
        return 0;
    }
    if (fast_for(b, m))
        return gk_matmul_fast(pool_of(b), m, bias, x, n, out, out_stride);
    if (ggml_numerics(b)) /* llama.cpp's sums are FMA lanes, not AMX tiles (gk_ops.h) */
        return gk_matmul_fma(pool_of(b), m, bias, x, n, out, out_stride);
    return gk_matmul(pool_of(b), m, bias, x, n, out, out_stride);
}

/* ---- memory ---- */

static struct gb_buffer *buffer_new(gb_backend *b, uint8_t *data, uint64_t bytes, int owned)
{
    struct gb_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return NULL;
    cpu_ctx *c = ctx_of(b);
    buf->data = data;
    buf->bytes = bytes;
    buf->owned = owned;
    buf->next = c->live;
    if (c->live)
        c->live->prev = buf;
    c->live = buf;
    return buf;
}

static void buffer_free(gb_backend *b, struct gb_buffer *buf)
{
    cpu_ctx *c = ctx_of(b);
    if (buf->prev)
        buf->prev->next = buf->next;
    else
        c->live = buf->next;
    if (buf->next)
        buf->next->prev = buf->prev;
    if (buf->owned == BUF_HEAP)
        free(buf->data);
    else if (buf->owned == BUF_HUGE)
        gk_huge_free(buf->data, (size_t)buf->bytes);
    free(buf);
}

/* The host address of `bytes` bytes at r, or GB_ERR_INVALID when they do
 * not lie inside r's buffer (a caller bug; cheap enough to check always). */
gb_status cpu_at(gb_backend *b, gb_ref r, uint64_t bytes, const char *what, void **p)
{
    *p = NULL;
    if (!r.buf)
        return gb_fail(b, GB_ERR_INVALID, "%s: no buffer", what);
    if (r.off > r.buf->bytes || bytes > r.buf->bytes - r.off)
        return gb_fail(b, GB_ERR_INVALID, "%s: %llu bytes at offset %llu lie outside a %llu-byte buffer", what,
                       (unsigned long long)bytes, (unsigned long long)r.off, (unsigned long long)r.buf->bytes);
    *p = r.buf->data + r.off;
    return GB_OK;
}

/* The prepared bytes of w (all of them), or GB_ERR_INVALID. */
static gb_status weight_at(gb_backend *b, const gb_weight *w, const void **p)
{
    *p = NULL;
    if (!w)
        return gb_fail(b, GB_ERR_INVALID, "a weight is missing (NULL)");
    if (!w->dev.buf)
        return gb_fail(b, GB_ERR_INVALID, "weight '%s' was not prepared", w->name ? w->name : "?");
    void *q = NULL;
    gb_status s = cpu_at(b, w->dev, gb_weight_bytes(w), w->name ? w->name : "weight", &q);
    *p = q;
    return s;
}

#define WEIGHT(w, ptr)                                                                                               \
    do {                                                                                                             \
        const void *p_;                                                                                              \
        gb_status s_ = weight_at(b, (w), &p_);                                                                       \
        if (s_ != GB_OK)                                                                                             \
            return s_;                                                                                               \
        (ptr) = p_;                                                                                                  \
    } while (0)

/* an f32 vector weight of at least n values */
static gb_status vec_at(gb_backend *b, const gb_weight *w, uint64_t n, const float **p)
{
    const void *q = NULL;
    gb_status s = weight_at(b, w, &q);
    if (s != GB_OK)
        return s;
    if (w->type != GQ_F32 || (uint64_t)w->n_mat * (uint64_t)w->rows * (uint64_t)w->cols < n)
        return gb_fail(b, GB_ERR_INVALID, "weight '%s' is not an f32 vector of %llu values", w->name ? w->name : "?",
                       (unsigned long long)n);
    *p = q;
    return GB_OK;
}

#define VEC(w, n, ptr)                                                                                               \
    do {                                                                                                             \
        gb_status s_ = vec_at(b, (w), (n), &(ptr));                                                                  \
        if (s_ != GB_OK)                                                                                             \
            return s_;                                                                                               \
    } while (0)

gb_status cpu_nomem(gb_backend *b, const char *what, uint64_t bytes)
{
    return gb_fail(b, GB_ERR_NOMEM, "out of memory: %s needs %llu bytes", what, (unsigned long long)bytes);
}

/* Bytes of physical memory (0 if unknown): a request beyond it fails at
 * once instead of being overcommitted and killed later. */
static uint64_t phys_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static gb_status cpu_alloc(gb_backend *b, uint64_t bytes, gb_buffer **out)
{
    *out = NULL;
    LIVE_OR_RETURN(b);
    uint64_t phys = phys_bytes();
    if (phys && bytes > phys)
        return gb_fail(b, GB_ERR_NOMEM, "out of memory: a buffer needs %llu bytes, more than this machine's %llu",
                       (unsigned long long)bytes, (unsigned long long)phys);
    uint8_t *d = bytes <= SIZE_MAX ? calloc((size_t)(bytes ? bytes : 1), 1) : NULL;
    struct gb_buffer *buf = d ? buffer_new(b, d, bytes, BUF_HEAP) : NULL;
    if (!buf) {
        free(d);
        return cpu_nomem(b, "a buffer", bytes);
    }
    *out = buf;
    return GB_OK;
}

static void cpu_release(gb_backend *b, gb_buffer *buf)
{
    if (buf)
        buffer_free(b, buf);
}

static gb_status cpu_write(gb_backend *b, gb_ref dst, const void *host, uint64_t bytes)
{
    LIVE_OR_RETURN(b);
    void *p;
    AT(dst, bytes, "write", p);
    if (dst.buf->owned != BUF_HEAP)
        return gb_fail(b, GB_ERR_INVALID, "write: prepared weights are read-only");
    if (bytes)
        memcpy(p, host, (size_t)bytes);
    return GB_OK;
}

static gb_status cpu_read(gb_backend *b, gb_ref src, void *host, uint64_t bytes)
{
    LIVE_OR_RETURN(b);
    const void *p;
    AT(src, bytes, "read", p);
    if (bytes)
        memcpy(host, p, (size_t)bytes);
    return GB_OK;
}

static gb_status cpu_finish(gb_backend *b)
{
    LIVE_OR_RETURN(b);
    return GB_OK; /* every op has finished when it returns */
}

/* Each weight's dev is a view of its host bytes (zero copy), or of a copy of
 * them on huge pages (the header above). */
static gb_status cpu_prepare(gb_backend *b, gb_weight *const *w, int n, const void *map, uint64_t map_bytes)
{
    LIVE_OR_RETURN(b);
    uint64_t big = 0;
    for (int i = 0; i < n; i++) {
        if (!w[i] || !w[i]->host)
            return gb_fail(b, GB_ERR_INVALID, "prepare: weight %d (%s) has no host bytes", i,
                           w[i] && w[i]->name ? w[i]->name : "?");
        if (gb_weight_bytes(w[i]) >= GK_HUGE_MIN_BYTES && !w[i]->gathered)
            big += gb_weight_bytes(w[i]);
    }
    int copy = gk_huge_wanted(big);
    const uint8_t *m0 = map, *m1 = m0 ? m0 + map_bytes : NULL;
    for (int i = 0; i < n; i++) {
        uint8_t *src = (uint8_t *)(uintptr_t)w[i]->host, *data = src;
        uint64_t bytes = gb_weight_bytes(w[i]);
        int kind = BUF_VIEW;
        if (copy && bytes >= GK_HUGE_MIN_BYTES && !w[i]->gathered) { /* the embedding: a row per token */
            /* only bytes inside the file mapping are dropped from it after the copy */
            int in_map = m0 && src >= m0 && src < m1 && bytes <= (uint64_t)(m1 - src);
            uint8_t *h = gk_huge_copy(pool_of(b), src, (size_t)bytes, in_map);
            if (h) {
                data = h;
                kind = BUF_HUGE;
            }
        }
        struct gb_buffer *buf = buffer_new(b, data, bytes, kind);
        if (!buf) {
            if (kind == BUF_HUGE)
                gk_huge_free(data, (size_t)bytes);
            return cpu_nomem(b, "a weight view", sizeof *buf);
        }
        buf->streamed = !w[i]->gathered;
        w[i]->dev.buf = buf;
        w[i]->dev.off = 0;
    }
    return GB_OK;
}

/* ---- ops ---- */

/* The input of a product with weights of type t: x itself, or (GB_GGML) a
 * rounded copy in *tmp (malloc'ed, freed by the caller). */
static gb_status product_input(gb_backend *b, gq_type t, const float *x, size_t n, const float **in, float **tmp)
{
    *tmp = NULL;
    *in = x;
    if (!ggml_numerics(b) || t == GQ_F32)
        return GB_OK;
    if (!(*tmp = malloc(n * sizeof **tmp)))
        return cpu_nomem(b, "the GB_GGML rounded input of a product", (uint64_t)n * sizeof(float));
    gk_round_like_ggml(t, x, *tmp, n);
    *in = *tmp;
    return GB_OK;
}

static gk_mat mat_of(const gb_weight *w, const void *data, int64_t index)
{
    gk_mat m = {w->type, (const uint8_t *)data + (size_t)index * (size_t)w->rows * w->row_bytes, w->rows, w->cols,
                w->row_bytes};
    return m;
}

/* gk_matmul failed: no kernel for the type, or no memory for its prefill
 * scratch (per thread 8 * cols + 16 + 4n floats, gk_ops.c). */
static gb_status matmul_failed(gb_backend *b, const gb_weight *w, int n)
{
    if (!gk_dot_for(w->type) || !gk_decode_for(w->type)) {
        const gq_traits *tr = gq_traits_of(w->type);
        return gb_fail(b, GB_ERR_UNSUPPORTED, "no CPU kernel for weight '%s' of type %s", w->name ? w->name : "?",
                       tr ? tr->name : "?");
    }
    uint64_t per = 8 * (uint64_t)w->cols + 16 + 4 * (uint64_t)n;
    return cpu_nomem(b, "the prefill scratch of a matrix product",
                 (uint64_t)gk_pool_size(pool_of(b)) * per * sizeof(float));
}

static gb_status cpu_embed(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, gb_ref out)
{
    LIVE_OR_RETURN(b);
    const uint8_t *wd;
    float *o;
    WEIGHT(w, wd);
    AT(out, (uint64_t)n * (uint64_t)w->cols * 4, "embed output", o);
    gk_decode_fn dec = gk_decode_for(w->type);
    if (!dec)
        return matmul_failed(b, w, 1);
    for (int t = 0; t < n; t++) {
        if (ids[t] < 0 || ids[t] >= w->rows)
            return gb_fail(b, GB_ERR_INVALID, "embed: id %d is outside 0..%lld", ids[t], (long long)w->rows - 1);
        dec(wd + (size_t)ids[t] * w->row_bytes, o + (size_t)t * (size_t)w->cols, w->cols);
    }
    return GB_OK;
}

static gb_status cpu_rmsnorm(gb_backend *b, gb_ref x, const gb_weight *w, int n, int dim, float eps, gb_ref out)
{
    LIVE_OR_RETURN(b);
    uint64_t bytes = (uint64_t)n * (uint64_t)dim * 4;
    const float *xp, *wp;
    float *op;
    AT(x, bytes, "rmsnorm input", xp);
    AT(out, bytes, "rmsnorm output", op);
    VEC(w, (uint64_t)dim, wp);
    for (int t = 0; t < n; t++)
        gk_rmsnorm(xp + (size_t)t * (size_t)dim, wp, dim, eps, op + (size_t)t * (size_t)dim);
    return GB_OK;
}

static gb_status cpu_matmul(gb_backend *b, const gb_weight *w, const gb_weight *bias, gb_ref x, int n, gb_ref out)
{
    LIVE_OR_RETURN(b);
    const void *wd;
    const float *xp, *bp = NULL, *in;
    float *op, *tmp;
    WEIGHT(w, wd);
    if (bias)
        VEC(bias, (uint64_t)w->rows, bp);
    AT(x, (uint64_t)n * (uint64_t)w->cols * 4, "matmul input", xp);
    AT(out, (uint64_t)n * (uint64_t)w->rows * 4, "matmul output", op);
    gb_status s = product_input(b, w->type, xp, (size_t)n * (size_t)w->cols, &in, &tmp);
    if (s != GB_OK)
        return s;
    gk_mat m = mat_of(w, wd, 0);
    int rc = product(b, &m, bp, in, n, op, w->rows);
    free(tmp);
    return rc ? matmul_failed(b, w, n) : GB_OK;
}

static gb_status cpu_rope(gb_backend *b, gb_ref x, int n, int n_heads, int head_dim, int pos0,
                          const gb_weight *inv_freq, float mscale)
{
    LIVE_OR_RETURN(b);
    float *xp;
    const float *f;
    size_t row = (size_t)n_heads * (size_t)head_dim;
    AT(x, (uint64_t)n * row * 4, "rope input", xp);
    VEC(inv_freq, (uint64_t)head_dim / 2, f);
    for (int t = 0; t < n; t++)
        gk_rope(xp + (size_t)t * row, n_heads, head_dim, pos0 + t, f, mscale);
    return GB_OK;
}

typedef struct {
    const gb_attn *a;
    const float *q, *k, *v, *kc, *vc, *sinks;
    float *out;
    int pos0;
    float *scores;              /* per thread: pos0 + n floats */
    size_t scores_len;
} attn_ctx;

/* one (token, head): gk_attn_one over the keys its window sees */
static void attn_task(void *p, int task, int thread)
{
    attn_ctx *c = p;
    const gb_attn *a = c->a;
    int t = task / a->n_heads, h = task % a->n_heads;
    int hd = a->head_dim, kvh = h / (a->n_heads / a->n_kv_heads);
    size_t kv_stride = (size_t)a->n_kv_heads * (size_t)hd, off = (size_t)kvh * (size_t)hd;
    int pos = c->pos0 + t;
    int lo = a->window > 0 && pos - a->window + 1 > 0 ? pos - a->window + 1 : 0;
    gk_attn_kv kv = {c->kc + off, c->vc + off, c->k + off, c->v + off, (int64_t)kv_stride, a->cap, c->pos0, hd,
                     a->scale, c->sinks[h]};
    size_t qo = ((size_t)t * (size_t)a->n_heads + (size_t)h) * (size_t)hd;
    gk_attn_one(&kv, c->q + qo, lo, pos, c->scores + (size_t)thread * c->scores_len, c->out + qo);
}

static gb_status attn_check(gb_backend *b, const gb_attn *a)
{
    if (a->n_heads < 1 || a->n_kv_heads < 1 || a->n_heads % a->n_kv_heads || a->head_dim < 1 || a->cap < 1)
        return gb_fail(b, GB_ERR_INVALID, "attention: heads %d/%d, head_dim %d, cap %d outside the contract",
                       a->n_heads, a->n_kv_heads, a->head_dim, a->cap);
    return GB_OK;
}

static gb_status cpu_attention(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                               gb_ref out)
{
    LIVE_OR_RETURN(b);
    gb_status st = attn_check(b, a);
    if (st != GB_OK)
        return st;
    uint64_t hq = (uint64_t)a->n_heads * (uint64_t)a->head_dim * 4, hkv = (uint64_t)a->n_kv_heads * (uint64_t)a->head_dim * 4;
    attn_ctx c = {a, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pos0, NULL, 0};
    AT(q, (uint64_t)n * hq, "attention q", c.q);
    AT(k, (uint64_t)n * hkv, "attention k", c.k);
    AT(v, (uint64_t)n * hkv, "attention v", c.v);
    AT(out, (uint64_t)n * hq, "attention output", c.out);
    AT(a->k_cache, (uint64_t)a->cap * hkv, "k cache", c.kc);
    AT(a->v_cache, (uint64_t)a->cap * hkv, "v cache", c.vc);
    VEC(a->sinks, (uint64_t)a->n_heads, c.sinks);
    gk_pool *pool = pool_of(b);
    c.scores_len = (size_t)pos0 + (size_t)n;
    uint64_t bytes = (uint64_t)gk_pool_size(pool) * c.scores_len * sizeof(float);
    if (!(c.scores = malloc((size_t)bytes)))
        return cpu_nomem(b, "attention scores", bytes);
    gk_pool_run(pool, attn_task, &c, n * a->n_heads);
    free(c.scores);
    return GB_OK;
}

static gb_status cpu_kv_store(gb_backend *b, const gb_attn *a, gb_ref k, gb_ref v, int n, int pos0)
{
    LIVE_OR_RETURN(b);
    gb_status st = attn_check(b, a);
    if (st != GB_OK)
        return st;
    size_t stride = (size_t)a->n_kv_heads * (size_t)a->head_dim;
    const float *kp, *vp;
    float *kc, *vc;
    AT(k, (uint64_t)n * stride * 4, "kv_store k", kp);
    AT(v, (uint64_t)n * stride * 4, "kv_store v", vp);
    AT(a->k_cache, (uint64_t)a->cap * stride * 4, "k cache", kc);
    AT(a->v_cache, (uint64_t)a->cap * stride * 4, "v cache", vc);
    for (int t = n > a->cap ? n - a->cap : 0; t < n; t++) {
        size_t slot = (size_t)((pos0 + t) % a->cap);
        memcpy(kc + slot * stride, kp + (size_t)t * stride, stride * sizeof(float));
        memcpy(vc + slot * stride, vp + (size_t)t * stride, stride * sizeof(float));
    }
    return GB_OK;
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
#define MAX_EXPERTS 512

/* The host pointers of one MoE block's weights. */
typedef struct {
    const void *router, *gate_up, *down;
    const float *router_bias, *gate_up_bias, *down_bias;
} moe_ptrs;

/* The experts of one token in one parallel run, in the backend's numerics
 * (the fast one falls back to the exact one only without memory for its
 * packed activations: a few KB). */
static void matvec_many(gb_backend *b, const gk_matvec_job *jobs, int n)
{
    if (read_only(b)) {
        cpu_matvec_many_read(b, jobs, n);
        return;
    }
    if (n > 0 && fast_for(b, &jobs[0].w) && gk_matvec_many_fast(pool_of(b), jobs, n) == 0)
        return;
    gk_matvec_many(pool_of(b), jobs, n);
}

static void moe_one(gb_backend *b, const gb_moe *m, const moe_ptrs *p, const float *x, const float *xe, float *out,
                    float *scratch)
{
    int k = m->top_k, D = m->hidden, I = m->inter;
    float logits[MAX_EXPERTS];
    int idx[MAX_TOPK];
    float w[MAX_TOPK];
    gk_mat r = mat_of(m->router, p->router, 0);
    if (read_only(b)) {
        cpu_product_read(b, &r, p->router_bias, 1, logits, m->n_experts);
        cpu_route_read(b, m->n_experts, k, idx, w);
    } else {
        gk_matmul(NULL, &r, p->router_bias, x, 1, logits, m->n_experts); /* n = 1: no scratch, f32 has a kernel */
        route(logits, m->n_experts, k, idx, w);
    }
    float *h = scratch, *act = h + (size_t)k * 2 * (size_t)I, *y = act + (size_t)k * (size_t)I;
    gk_matvec_job jobs[MAX_TOPK];
    for (int i = 0; i < k; i++) {
        jobs[i].w = mat_of(m->gate_up, p->gate_up, idx[i]);
        jobs[i].bias = p->gate_up_bias + (size_t)idx[i] * 2 * (size_t)I;
        jobs[i].x = xe;
        jobs[i].out = h + (size_t)i * 2 * (size_t)I;
    }
    matvec_many(b, jobs, k);
    for (int i = 0; i < k; i++) {
        gk_swiglu_interleaved(h + (size_t)i * 2 * (size_t)I, I, m->swiglu_limit, m->swiglu_alpha,
                              act + (size_t)i * (size_t)I);
        if (ggml_numerics(b))
            gk_round_like_ggml(m->down->type, act + (size_t)i * (size_t)I, act + (size_t)i * (size_t)I, (size_t)I);
        jobs[i].w = mat_of(m->down, p->down, idx[i]);
        jobs[i].bias = p->down_bias + (size_t)idx[i] * (size_t)D;
        jobs[i].x = act + (size_t)i * (size_t)I;
        jobs[i].out = y + (size_t)i * (size_t)D;
    }
    matvec_many(b, jobs, k);
    for (int d = 0; d < D; d++) {
        float s = 0;
        for (int i = 0; i < k; i++)
            s += w[i] * y[(size_t)i * (size_t)D + (size_t)d];
        out[d] = s;
    }
}

/* Prefill: route all tokens, then each expert once over its tokens. */
static gb_status moe_many(gb_backend *b, const gb_moe *m, const moe_ptrs *p, const float *x, const float *xe, int n,
                          float *out)
{
    gk_pool *pool = pool_of(b);
    int k = m->top_k, E = m->n_experts, D = m->hidden, I = m->inter;
    size_t N = (size_t)n;
    /* one allocation: logits [n, E], wsel [n, k], wt [n], xg [n, D], h [n, 2I], act [n, I], y [n, D] floats;
     * sel [n, k], tok [n] ints */
    size_t floats = N * (size_t)E + N * (size_t)k + N + N * (size_t)D + N * 2 * (size_t)I + N * (size_t)I + N * (size_t)D;
    size_t ints = N * (size_t)k + N;
    uint64_t bytes = (uint64_t)floats * sizeof(float) + (uint64_t)ints * sizeof(int);
    float *mem = malloc((size_t)bytes);
    if (!mem)
        return cpu_nomem(b, "the MoE prefill scratch", bytes);
    float *logits = mem, *wsel = logits + N * (size_t)E, *wt = wsel + N * (size_t)k, *xg = wt + N,
          *h = xg + N * (size_t)D, *act = h + N * 2 * (size_t)I, *y = act + N * (size_t)I;
    int *sel = (int *)(y + N * (size_t)D), *tok = sel + N * (size_t)k;
    gb_status st = GB_OK;
    gk_mat r = mat_of(m->router, p->router, 0);
    if (gk_matmul(pool, &r, p->router_bias, x, n, logits, E) != 0)
        st = matmul_failed(b, m->router, n);
    for (int t = 0; st == GB_OK && t < n; t++)
        route(logits + (size_t)t * (size_t)E, E, k, sel + (size_t)t * (size_t)k, wsel + (size_t)t * (size_t)k);
    if (st == GB_OK)
        memset(out, 0, N * (size_t)D * sizeof(float));
    for (int e = 0; st == GB_OK && e < E; e++) {
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
        gk_mat gu = mat_of(m->gate_up, p->gate_up, e), dn = mat_of(m->down, p->down, e);
        if (product(b, &gu, p->gate_up_bias + (size_t)e * 2 * (size_t)I, xg, c, h, 2 * (int64_t)I) != 0) {
            st = matmul_failed(b, m->gate_up, c);
            break;
        }
        for (int j = 0; j < c; j++)
            gk_swiglu_interleaved(h + (size_t)j * 2 * (size_t)I, I, m->swiglu_limit, m->swiglu_alpha,
                                  act + (size_t)j * (size_t)I);
        if (ggml_numerics(b))
            gk_round_like_ggml(m->down->type, act, act, (size_t)c * (size_t)I);
        if (product(b, &dn, p->down_bias + (size_t)e * (size_t)D, act, c, y, D) != 0) {
            st = matmul_failed(b, m->down, c);
            break;
        }
        for (int j = 0; j < c; j++) {
            float *o = out + (size_t)tok[j] * (size_t)D;
            const float *yy = y + (size_t)j * (size_t)D;
            for (int d = 0; d < D; d++)
                o[d] += wt[j] * yy[d];
        }
    }
    free(mem);
    return st;
}

static gb_status cpu_moe(gb_backend *b, const gb_moe *m, gb_ref x, int n, gb_ref out)
{
    LIVE_OR_RETURN(b);
    int k = m->top_k, E = m->n_experts, D = m->hidden, I = m->inter;
    if (k < 1 || k > MAX_TOPK || E < k || E > MAX_EXPERTS || D < 1 || I < 1)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "moe: %d experts, top-%d: the CPU backend supports up to %d experts, "
                       "top-%d", E, k, MAX_EXPERTS, MAX_TOPK);
    moe_ptrs p;
    const float *xp;
    float *op;
    WEIGHT(m->router, p.router);
    WEIGHT(m->gate_up, p.gate_up);
    WEIGHT(m->down, p.down);
    VEC(m->router_bias, (uint64_t)E, p.router_bias);
    VEC(m->gate_up_bias, (uint64_t)E * 2 * (uint64_t)I, p.gate_up_bias);
    VEC(m->down_bias, (uint64_t)E * (uint64_t)D, p.down_bias);
    if (m->router->type != GQ_F32 || m->router->rows != E || m->router->cols != D || m->gate_up->n_mat < E ||
        m->gate_up->rows != 2 * (int64_t)I || m->gate_up->cols != D || m->down->n_mat < E || m->down->rows != D ||
        m->down->cols != I)
        return gb_fail(b, GB_ERR_INVALID, "moe: weight shapes do not match %d experts, hidden %d, inter %d", E, D, I);
    AT(x, (uint64_t)n * (uint64_t)D * 4, "moe input", xp);
    AT(out, (uint64_t)n * (uint64_t)D * 4, "moe output", op);
    /* the router reads x; the experts read xe (x, or its GB_GGML rounding) */
    const float *xe;
    float *xe_tmp;
    gb_status st = product_input(b, m->gate_up->type, xp, (size_t)n * (size_t)D, &xe, &xe_tmp);
    if (st != GB_OK)
        return st;
    if (n == 1) {
        uint64_t bytes = ((uint64_t)k * (3 * (uint64_t)I + (uint64_t)D)) * sizeof(float);
        float *scratch = malloc((size_t)bytes);
        if (scratch)
            moe_one(b, m, &p, xp, xe, op, scratch);
        else
            st = cpu_nomem(b, "the MoE decode scratch", bytes);
        free(scratch);
    } else if (n > 1) {
        st = moe_many(b, m, &p, xp, xe, n, op);
    }
    free(xe_tmp);
    return st;
}

static gb_status cpu_add(gb_backend *b, gb_ref x, gb_ref y, uint64_t len)
{
    LIVE_OR_RETURN(b);
    float *xp;
    const float *yp;
    AT(x, len * 4, "add x", xp);
    AT(y, len * 4, "add y", yp);
    for (uint64_t i = 0; i < len; i++)
        xp[i] += yp[i];
    return GB_OK;
}

/* ---- lifetime ---- */

static void cpu_destroy(gb_backend *b)
{
    if (!b)
        return;
    cpu_ctx *c = ctx_of(b);
    if (c) {
        while (c->live)
            buffer_free(b, c->live);
        gk_pool_destroy(c->pool);
        free(c->lp);
        free(c);
    }
    free(b);
}

/* The CPU's model name ("AMD EPYC 9B14"), or "cpu". */
static void cpu_model_name(char *out, size_t len)
{
    snprintf(out, len, "cpu");
#if defined(__APPLE__)
    size_t l = len;
    if (sysctlbyname("machdep.cpu.brand_string", out, &l, NULL, 0) != 0 || !out[0])
        snprintf(out, len, "cpu");
#else
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !colon)
            continue;
        colon++;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        size_t n = strcspn(colon, "\r\n");
        if (n)
            snprintf(out, len, "%.*s", (int)n, colon);
        break;
    }
    fclose(f);
#endif
}

gb_backend *gb_cpu_create(int n_threads, gb_numerics numerics, char *err, size_t errlen)
{
    gb_backend *b = calloc(1, sizeof *b);
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!b || !c) {
        free(b);
        free(c);
        snprintf(err, errlen, "cpu backend: out of memory");
        return NULL;
    }
    if (!(c->pool = gk_pool_create(n_threads))) {
        free(b);
        free(c);
        snprintf(err, errlen, "cpu backend: cannot start %d worker threads", n_threads);
        return NULL;
    }
    c->numerics = numerics;
    c->read_seq = 0x9E3779B97F4A7C15u;
    b->name = "cpu";
    b->ctx = c;
    char model[96];
    cpu_model_name(model, sizeof model);
    int nt = gk_pool_size(c->pool);
    snprintf(b->device, sizeof b->device, "%s (%d thread%s)", model, nt, nt == 1 ? "" : "s");
    /* the path that runs: exact, the dot-product ISA (+ AMX-BF16 prefill);
     * fast, the integer loops (+ AMX-INT8 prefill); ggml, the ISA alone */
    if (numerics == GB_FAST)
        snprintf(b->isa, sizeof b->isa, "%s%s", gk_fast_path(), gk_amx_ok() ? "+amx-int8" : "");
    else if (numerics == GB_READ)
        snprintf(b->isa, sizeof b->isa, "read-only");
    else
        snprintf(b->isa, sizeof b->isa, "%s%s", gk_isa_name(gk_isa_active()),
                 numerics == GB_EXACT && gk_amx_ok() ? "+amx" : "");
    b->is_software = 0;
    b->status = GB_OK;
    b->prepare = cpu_prepare;
    b->alloc = cpu_alloc;
    b->release = cpu_release;
    b->write = cpu_write;
    b->read = cpu_read;
    b->finish = cpu_finish;
    b->embed = cpu_embed;
    b->rmsnorm = cpu_rmsnorm;
    b->matmul = cpu_matmul;
    b->rope = cpu_rope;
    b->attention = cpu_attention;
    b->kv_store = cpu_kv_store;
    b->moe = cpu_moe;
    b->add = cpu_add;
    b->score = cpu_score;
    b->read_bandwidth = cpu_read_bandwidth;
    b->weights_huge_fraction = cpu_weights_huge_fraction;
    b->destroy = cpu_destroy;
    return b;
}

static int cpu_probe(const gb_config *c, int *software, char *why, size_t whylen)
{
    (void)c;
    (void)why;
    (void)whylen;
    if (software)
        *software = 0;
    return 1;
}

static gb_backend *cpu_entry_create(const gb_config *c, char *err, size_t errlen)
{
    return gb_cpu_create(c ? c->n_threads : 0, GB_EXACT, err, errlen);
}

const gb_backend_entry gb_cpu_entry = {"cpu", cpu_probe, cpu_entry_create};
