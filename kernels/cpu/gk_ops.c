/* gk_ops.c - matmul on the pool and the small fp32 helpers (see gk_ops.h). */
#include "gk_ops.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gk_amx.h"
#include "gk_dot.h"
#include "gk_prefetch.h"

/* columns per pass of the prefill tiles: 4 rows of 512 floats = 8 KiB stay in L1 */
#define GK_KC 512

/* the fewest tokens a product sends to AMX (gk_amx.h) */
#define GK_AMX_MIN_TOKENS 4

/* Rows per task: enough tasks for load balance (several per thread), each
 * big enough that the dispatch cost vanishes. */
int64_t gk_rows_per_task(int64_t rows, int threads)
{
    int64_t want = (int64_t)threads * 8;
    int64_t per = (rows + want - 1) / want;
    /* a multiple of 4: prefill tiles then start at the same rows whatever
     * the thread count, so results do not depend on it */
    return (per + 3) & ~(int64_t)3;
}

int64_t gk_matvec_rows_per_task(int64_t rows, size_t row_bytes, int threads)
{
    int64_t per = gk_rows_per_task(rows, threads);
    int64_t cap = row_bytes ? (int64_t)(GK_MATVEC_TASK_BYTES / row_bytes) : per;
    if (cap < 1)
        cap = 1;
    return per < cap ? per : cap;
}

void *gk_alloc64(size_t bytes)
{
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

typedef struct {
    const gk_mat *w;
    const float *bias, *x;
    float *out;
    int64_t out_stride, per;
    int n;
    gk_dot_fn dot;
    gk_decode_fn decode;
    gk_dotf_fn dotf;
    gk_tile_fn tile;
    float *scratch;            /* prefill only: per_thread floats per thread */
    size_t per_thread;
} mm_ctx;

static void mm_task(void *p, int task, int thread)
{
    mm_ctx *c = p;
    const gk_mat *w = c->w;
    int64_t r0 = (int64_t)task * c->per, r1 = r0 + c->per;
    if (r1 > w->rows)
        r1 = w->rows;
    const uint8_t *base = w->data;
    if (c->n == 1) {
        for (int64_t r = r0; r < r1; r++) {
            float s = c->dot(base + (size_t)r * w->row_bytes, c->x, w->cols);
            c->out[r] = c->bias ? s + c->bias[r] : s;
        }
        return;
    }
    /* Prefill: decode 4 rows to fp32 once, then 4x4 register tiles over the
     * tokens, the columns in chunks of KC so the 4 rows stay in L1 while every
     * token passes. Token counts that are not a multiple of 4 are padded with
     * zero tokens (copied once per task), partial row groups with zero rows:
     * every output comes from the same tile code, in an order fixed by the
     * row and token indices alone. */
    int64_t cols = w->cols;
    float *rows4 = c->scratch + (size_t)thread * c->per_thread, *xpad = rows4 + 4 * (size_t)cols;
    float *tmp = xpad + 4 * (size_t)cols; /* 16 outputs of a padded tile */
    size_t os = (size_t)c->out_stride;
    int nfull = c->n & ~3, nleft = c->n - nfull;
    if (nleft) {
        memset(xpad, 0, 4 * (size_t)cols * sizeof(float));
        memcpy(xpad, c->x + (size_t)nfull * (size_t)cols, (size_t)nleft * (size_t)cols * sizeof(float));
    }
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = r1 - r < 4 ? (int)(r1 - r) : 4;
        for (int k = 0; k < nr; k++)
            c->decode(base + (size_t)(r + k) * w->row_bytes, rows4 + (size_t)k * (size_t)cols, cols);
        if (nr < 4)
            memset(rows4 + (size_t)nr * (size_t)cols, 0, (size_t)(4 - nr) * (size_t)cols * sizeof(float));
        float *o = nr == 4 ? c->out + (size_t)r : tmp;
        for (int64_t k0 = 0; k0 < cols; k0 += GK_KC) {
            int64_t kn = cols - k0 < GK_KC ? cols - k0 : GK_KC;
            for (int t = 0; t < nfull; t += 4)
                c->tile(rows4 + k0, cols, c->x + (size_t)t * (size_t)cols + (size_t)k0, cols, kn,
                        nr == 4 ? o + (size_t)t * os : tmp + 16 + (size_t)t * 4, nr == 4 ? (int64_t)os : 4, k0 > 0);
            if (nleft)
                c->tile(rows4 + k0, cols, xpad + k0, cols, kn, tmp, 4, k0 > 0);
        }
        /* scatter what went to scratch: the padded tokens, and whole partial groups */
        for (int t = 0; t < c->n; t++) {
            int in_pad = t >= nfull;
            if (nr == 4 && !in_pad)
                continue;
            const float *src = in_pad ? tmp + (size_t)(t - nfull) * 4 : tmp + 16 + (size_t)t * 4;
            for (int k = 0; k < nr; k++)
                c->out[(size_t)t * os + (size_t)(r + k)] = src[k];
        }
        if (c->bias)
            for (int t = 0; t < c->n; t++)
                for (int k = 0; k < nr; k++)
                    c->out[(size_t)t * os + (size_t)(r + k)] += c->bias[r + k];
    }
}

int gk_matmul(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
              int64_t out_stride)
{
    if (n <= 0 || w->rows <= 0)
        return 0;
    /* AMX where granted: from GK_AMX_MIN_TOKENS tokens its fixed cost per
     * weight row (one bf16 decode, 16-token tiles) beats the FMA tiles */
    if (n >= GK_AMX_MIN_TOKENS && gk_amx_exact_type(w->type) && gk_amx_ok())
        return gk_amx_gemm_exact(pool, w, bias, x, n, out, out_stride);
    return gk_matmul_fma(pool, w, bias, x, n, out, out_stride);
}

int gk_matmul_fma(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                  int64_t out_stride)
{
    if (n <= 0 || w->rows <= 0)
        return 0;
    mm_ctx c = {w, bias, x, out, out_stride, 0, n, gk_dot_for(w->type), gk_decode_for(w->type), gk_dotf(), gk_tile(),
                NULL, 0};
    if (!c.dot || !c.decode)
        return -1;
    int threads = gk_pool_size(pool);
    if (n > 1) {
        /* per thread: 4 decoded rows, 4 padded tokens, and the 16 + 4n
         * outputs of tiles that cannot be written in place */
        c.per_thread = 8 * (size_t)w->cols + 16 + 4 * (size_t)n;
        c.scratch = malloc((size_t)threads * c.per_thread * sizeof(float));
        if (!c.scratch)
            return -1;
    }
    c.per = n == 1 ? gk_matvec_rows_per_task(w->rows, w->row_bytes, threads) : gk_rows_per_task(w->rows, threads);
    gk_pool_run(pool, mm_task, &c, (int)((w->rows + c.per - 1) / c.per));
    free(c.scratch);
    return 0;
}

void gk_jobsplit_init(gk_jobsplit *s, const gk_matvec_job *jobs, int n_jobs, int threads)
{
    s->per = gk_matvec_rows_per_task(jobs[0].w.rows * n_jobs, jobs[0].w.row_bytes, threads);
    s->n_jobs = n_jobs;
    s->starts[0] = 0;
    for (int j = 0; j < n_jobs; j++)
        s->starts[j + 1] = s->starts[j] + (jobs[j].w.rows + s->per - 1) / s->per;
}

int gk_jobsplit_task(const gk_jobsplit *s, const gk_matvec_job *jobs, int task, int64_t *r0, int64_t *r1)
{
    int j = 0;
    while (j + 1 < s->n_jobs && task >= s->starts[j + 1])
        j++;
    *r0 = (task - s->starts[j]) * s->per;
    *r1 = *r0 + s->per < jobs[j].w.rows ? *r0 + s->per : jobs[j].w.rows;
    return j;
}

typedef struct {
    const gk_matvec_job *jobs;
    gk_jobsplit split;
    _Atomic uint64_t sum; /* gk_matvec_many_read's */
} mv_ctx;

static void mv_task(void *p, int task, int thread)
{
    (void)thread;
    mv_ctx *c = p;
    int64_t r0, r1;
    const gk_matvec_job *job = &c->jobs[gk_jobsplit_task(&c->split, c->jobs, task, &r0, &r1)];
    gk_dot_fn dot = gk_dot_for(job->w.type);
    const uint8_t *base = job->w.data;
    for (int64_t r = r0; r < r1; r++) {
        float s = dot(base + (size_t)r * job->w.row_bytes, job->x, job->w.cols);
        job->out[r] = job->bias ? s + job->bias[r] : s;
    }
}

/* n bytes at p, read as decode's dots read them (gk_prefetch.h), summed */
static uint64_t read_bytes(const uint8_t *p, size_t n)
{
    uint64_t s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t w[8];
        GK_PREFETCH_AHEAD(p + i);
        memcpy(w, p + i, 64);
        s0 += (w[0] ^ w[1]) + (w[2] ^ w[3]);
        s1 += (w[4] ^ w[5]) + (w[6] ^ w[7]);
    }
    for (; i < n; i++)
        s0 += p[i];
    return s0 + s1;
}

/* a task's rows are consecutive: one read of their bytes */
static void mv_read_task(void *p, int task, int thread)
{
    (void)thread;
    mv_ctx *c = p;
    int64_t r0, r1;
    const gk_matvec_job *job = &c->jobs[gk_jobsplit_task(&c->split, c->jobs, task, &r0, &r1)];
    const uint8_t *base = job->w.data;
    uint64_t s = read_bytes(base + (size_t)r0 * job->w.row_bytes, (size_t)(r1 - r0) * job->w.row_bytes);
    for (int64_t r = r0; r < r1; r++)
        job->out[r] = job->bias ? job->bias[r] : 0.0f;
    atomic_fetch_add_explicit(&c->sum, s, memory_order_relaxed);
}

static uint64_t matvec_many_with(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs, gk_task_fn fn)
{
    if (n_jobs <= 0)
        return 0;
    if (n_jobs > GK_JOBS_MAX) { /* never in gpt-oss (top-4); keep it correct anyway */
        uint64_t s = 0;
        for (int i = 0; i < n_jobs; i += GK_JOBS_MAX)
            s += matvec_many_with(pool, jobs + i, n_jobs - i < GK_JOBS_MAX ? n_jobs - i : GK_JOBS_MAX, fn);
        return s;
    }
    mv_ctx c;
    c.jobs = jobs;
    atomic_init(&c.sum, 0);
    gk_jobsplit_init(&c.split, jobs, n_jobs, gk_pool_size(pool));
    gk_pool_run(pool, fn, &c, (int)c.split.starts[n_jobs]);
    return atomic_load(&c.sum);
}

void gk_matvec_many(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs)
{
    matvec_many_with(pool, jobs, n_jobs, mv_task);
}

uint64_t gk_matvec_many_read(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs)
{
    return matvec_many_with(pool, jobs, n_jobs, mv_read_task);
}

void gk_rmsnorm(const float *x, const float *w, int dim, float eps, float *out)
{
    /* squares summed in double: the mean is then the fp32 nearest the true
     * one, whatever dim, so two engines that do this (ggml does) get the
     * same scale to the last bit; with an fp32 sum a 2880-wide mean is off
     * by a few ulps, and inputs that sit exactly on a Q8_0 rounding tie
     * (quantized embeddings do) then round the other way */
    double ss = 0;
    for (int i = 0; i < dim; i++)
        ss += (double)(x[i] * x[i]);
    float mean = (float)(ss / dim);
    float r = 1.0f / sqrtf(mean + eps);
    for (int i = 0; i < dim; i++)
        out[i] = x[i] * r * w[i];
}

void gk_rope(float *x, int n_heads, int head_dim, int pos, const float *inv_freq, float mscale)
{
    int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        /* fp32 angle like the reference (positions times fp32 inverse
         * frequencies), cos/sin evaluated accurately then rounded */
        float ang = (float)pos * inv_freq[i];
        float c = (float)cos((double)ang) * mscale, s = (float)sin((double)ang) * mscale;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (size_t)h * (size_t)head_dim;
            float a = v[i], b = v[i + half];
            v[i] = a * c - b * s;
            v[i + half] = b * c + a * s;
        }
    }
}

void gk_softmax(float *x, int n)
{
    float m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > m)
            m = x[i];
    float s = 0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        s += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= s;
}

void gk_swiglu_interleaved(const float *h, int inter, float limit, float alpha, float *a)
{
    for (int i = 0; i < inter; i++) {
        float g = h[2 * i], u = h[2 * i + 1];
        if (g > limit)
            g = limit;
        if (u > limit)
            u = limit;
        if (u < -limit)
            u = -limit;
        a[i] = g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
    }
}

void gk_round_like_ggml(gq_type w_type, const float *x, float *y, size_t n)
{
    const gq_traits *w = gq_traits_of(w_type);
    const gq_traits *a = w ? gq_traits_of(w->ggml_act_type) : NULL;
    if (!a || (a->block_values > 1 && a->type != GQ_Q8_32) || a->type == GQ_F32) {
        if (y != x)
            memcpy(y, x, n * sizeof *y);
        return;
    }
    if (a->block_values == 1) {
        /* a scalar format (bf16, f16): each value rounded as its encoder
         * does (nearest even), through a small buffer so y may equal x */
        unsigned char buf[256 * sizeof(float)];
        const size_t step = sizeof buf / (size_t)a->block_bytes;
        for (size_t i = 0; i < n; i += step) {
            size_t m = n - i < step ? n - i : step;
            a->encode(x + i, buf, m, NULL);
            a->decode(buf, y + i, m);
        }
        return;
    }
    /* ggml's Q8_0 activations (a is GQ_Q8_32): llama.cpp's own rule,
     * not our encoder's, so it is spelled out here */
    const size_t bv = GQ_BLOCK_VALUES;
    size_t full = n - n % bv;
    for (size_t b = 0; b < full; b += bv) {
        float amax = 0.0f;
        for (size_t j = 0; j < bv; j++)
            amax = fmaxf(amax, fabsf(x[b + j]));
        /* the quantizer multiplies by 127 / amax, while the dot product
         * scales by the f16 of amax / 127: two different roundings, both kept */
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        float d = gq_f16_to_f32(gq_f32_to_f16(amax / 127.0f));
        for (size_t j = 0; j < bv; j++)
            y[b + j] = rintf(x[b + j] * id) * d;
    }
    if (y != x)
        memcpy(y + full, x + full, (n - full) * sizeof *y);
}
