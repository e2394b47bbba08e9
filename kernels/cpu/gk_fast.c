/* gk_fast.c - the fast numerics (gk_fast.h): the rounding, the packed token
 * rows (gk_fast_impl.h), the portable integer loops, the choice of path and
 * the row-parallel drivers. The SIMD loops live in gk_fast_x86.c and
 * gk_fast_neon.c, the AMX-INT8 prefill in gk_amx_q8.c. */
#include "gk_fast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gk_amx.h"
#include "gk_dot.h"
#include "gk_fast_impl.h"
#include "quant.h"

enum { BV = GQ_BLOCK_VALUES, HALF = GQ_NIBBLE_BYTES };

int gk_fast_ok(gq_type t, int64_t cols)
{
    return (t == GQ_MXFP4 || t == GQ_Q8_32 || t == GQ_Q4_32) && cols > 0 && cols % BV == 0;
}

int gk_fast_offset(gq_type wt) { return wt == GQ_MXFP4 ? 12 : wt == GQ_Q4_32 ? GQ_Q4_32_ZERO : 128; }
int gk_fast_nibbles(gq_type wt) { return wt == GQ_MXFP4 || wt == GQ_Q4_32; }

/* The rule of gk_fast.h; NaN inputs are not the rule's concern (the
 * vector path's max and this one may differ on them, nothing else). */
static void round_scalar(const float *x, int64_t cols, int8_t *q, float *d)
{
    for (int64_t b = 0; b < cols / BV; b++, x += BV, q += BV) {
        float amax = 0.0f;
        for (int j = 0; j < BV; j++) {
            float a = fabsf(x[j]);
            amax = a > amax ? a : amax;
        }
        float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        for (int j = 0; j < BV; j++)
            q[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

void gk_fast_round(const float *x, int64_t cols, int8_t *q, float *d)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (gk_isa_active() == GK_ISA_AVX512) {
        gk_fast_round_avx512(x, cols, q, d);
        return;
    }
#endif
    round_scalar(x, cols, q, d);
}

/* ---- packed token rows ---- */

size_t gk_xpack_bytes(int64_t cols)
{
    int64_t nb = cols / BV;
    size_t b = (size_t)cols + (size_t)cols + (size_t)(nb / 2) * 16 * sizeof(float) + (size_t)nb * sizeof(float);
    return (b + 63) & ~(size_t)63;
}

/* 1 if block b of p is in a whole quad of quad order */
static int in_quad(const gk_xpack *p, int b) { return p->quads && p->wt == GQ_MXFP4 && b / 4 * 4 + 3 < p->nb; }

/* Where value j of block b sits in q (quad, pair or natural order). */
static size_t pos_of(const gk_xpack *p, int b, int j)
{
    if (in_quad(p, b))
        return (size_t)(b / 4) * 128 + (size_t)(j >= HALF ? 64 : 0) + (size_t)(b & 3) * HALF + (size_t)(j % HALF);
    if (!gk_fast_nibbles(p->wt) || b / 2 * 2 + 1 >= p->nb)
        return (size_t)b * BV + (size_t)j;
    return (size_t)(b / 2) * 64 + (size_t)(j >= HALF ? 32 : 0) + (size_t)(b & 1) * HALF + (size_t)(j % HALF);
}

/* The lane of the 16 int32 lanes of pair k that value position p (0..63 of
 * the pair) lands in is p / 4; its block: */
static int lane_block(gq_type wt, int lane) { return gk_fast_nibbles(wt) ? (lane / 4) & 1 : lane / 8; }

void gk_xpack_fill(gk_xpack *p, void *mem, const float *x, int64_t cols, gq_type wt, int quads)
{
    int nb = (int)(cols / BV);
    p->cols = cols;
    p->nb = nb;
    p->wt = wt;
    p->quads = quads && wt == GQ_MXFP4;
    p->q = mem;
    p->corr = (int32_t *)((uint8_t *)mem + cols);
    p->dxv = (float *)((uint8_t *)mem + 2 * cols);
    p->d = p->dxv + (size_t)(nb / 2) * 16;
    int8_t nat[BV];
    for (int b = 0; b < nb; b++) { /* each half of a block is contiguous in every order */
        gk_fast_round(x + (size_t)b * BV, BV, nat, &p->d[b]);
        memcpy(p->q + pos_of(p, b, 0), nat, HALF);
        memcpy(p->q + pos_of(p, b, HALF), nat + HALF, HALF);
    }
    int c = gk_fast_offset(wt);
    for (int64_t i = 0; i < cols / 4; i++)
        p->corr[i] = -c * (p->q[4 * i] + p->q[4 * i + 1] + p->q[4 * i + 2] + p->q[4 * i + 3]);
    for (int k = 0; k < nb / 2; k++)
        for (int l = 0; l < 16; l++)
            p->dxv[k * 16 + l] = p->d[2 * k + lane_block(wt, l)];
    for (int j = 0; j < (p->quads ? nb / 4 : 0); j++) /* quad order: both halves' lanes in one */
        for (int l = 0; l < 16; l++) {
            p->corr[32 * j + l] += p->corr[32 * j + 16 + l];
            p->dxv[32 * j + l] = p->d[4 * j + l / 4];
        }
}

/* ---- the portable loops ---- */

float gk_fast_block_scale(gq_type wt, const uint8_t *row, int b)
{
    if (wt == GQ_MXFP4)
        return gq_e8m0_half_table[row[(size_t)b * GQ_MXFP4_BLOCK_BYTES + GQ_MXFP4_SCALE_OFFSET]];
    const uint8_t *s = row + (size_t)b * (wt == GQ_Q8_32 ? GQ_Q8_32_BLOCK_BYTES : GQ_Q4_32_BLOCK_BYTES);
    return gq_f16_to_f32((uint16_t)(s[0] | s[1] << 8));
}

/* Block b's u8 codes (code + offset) in natural order. */
static void block_codes(gq_type wt, const uint8_t *row, int b, uint8_t *u)
{
    if (wt == GQ_MXFP4) {
        const uint8_t *q = row + (size_t)b * GQ_MXFP4_BLOCK_BYTES + GQ_MXFP4_QS_OFFSET;
        for (int j = 0; j < HALF; j++) {
            u[j] = (uint8_t)((int)gq_mxfp4_kvalues[q[j] & 15] + 12);
            u[j + HALF] = (uint8_t)((int)gq_mxfp4_kvalues[q[j] >> 4] + 12);
        }
    } else if (wt == GQ_Q4_32) {
        const uint8_t *q = row + (size_t)b * GQ_Q4_32_BLOCK_BYTES + GQ_Q4_32_QS_OFFSET;
        for (int j = 0; j < HALF; j++) {
            u[j] = q[j] & 15;
            u[j + HALF] = q[j] >> 4;
        }
    } else {
        const uint8_t *q = row + (size_t)b * GQ_Q8_32_BLOCK_BYTES + GQ_Q8_32_QS_OFFSET;
        for (int j = 0; j < BV; j++)
            u[j] = (uint8_t)(q[j] ^ 0x80);
    }
}

int32_t gk_fast_block_isum(const uint8_t *wu, const gk_xpack *x, int b)
{
    int c = gk_fast_offset(x->wt);
    int32_t s = 0;
    for (int j = 0; j < BV; j++) {
        size_t p = pos_of(x, b, j);
        s += ((int32_t)wu[p] - c) * x->q[p];
    }
    return s;
}

float gk_fast_tail(const uint8_t *row, const gk_xpack *x)
{
    if (x->nb % 2 == 0)
        return 0.0f;
    int b = x->nb - 1;
    uint8_t u[BV];
    block_codes(x->wt, row, b, u);
    int c = gk_fast_offset(x->wt);
    int32_t s = 0;
    for (int j = 0; j < BV; j++)
        s += ((int32_t)u[j] - c) * x->q[(size_t)b * BV + (size_t)j];
    return (float)s * (gk_fast_block_scale(x->wt, row, b) * x->d[b]);
}

void gk_fast_decode_tail(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)
{
    if (nb % 2 == 0)
        return;
    block_codes(wt, row, nb - 1, wu + (size_t)(nb - 1) * BV);
    dwv[(nb / 2) * 16] = gk_fast_block_scale(wt, row, nb - 1);
}

float gk_fast_dec_tail(const uint8_t *wu, const float *dwv, const gk_xpack *x)
{
    if (x->nb % 2 == 0)
        return 0.0f;
    return (float)gk_fast_block_isum(wu, x, x->nb - 1) * (dwv[(x->nb / 2) * 16] * x->d[x->nb - 1]);
}

static void scalar_decode(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)
{
    gk_xpack layout = {(int64_t)nb * BV, nb, wt, 0, NULL, NULL, NULL, NULL};
    uint8_t u[BV];
    for (int b = 0; b < nb; b++) {
        block_codes(wt, row, b, u);
        for (int j = 0; j < BV; j++)
            wu[pos_of(&layout, b, j)] = u[j];
    }
    for (int k = 0; k < nb / 2; k++)
        for (int l = 0; l < 16; l++)
            dwv[k * 16 + l] = gk_fast_block_scale(wt, row, 2 * k + lane_block(wt, l));
    if (nb % 2)
        dwv[(nb / 2) * 16] = gk_fast_block_scale(wt, row, nb - 1);
}

/* dw of block b from a decoded row's dwv */
static float dw_of(gq_type wt, const float *dwv, int nb, int b)
{
    if (b / 2 * 2 + 1 >= nb)
        return dwv[(nb / 2) * 16];
    return dwv[(b / 2) * 16 + ((b & 1) ? (gk_fast_nibbles(wt) ? 4 : 8) : 0)];
}

static float scalar_dot_dec(const uint8_t *wu, const float *dwv, const gk_xpack *x)
{
    float s = 0.0f;
    for (int b = 0; b < x->nb; b++)
        s += (float)gk_fast_block_isum(wu, x, b) * (dw_of(x->wt, dwv, x->nb, b) * x->d[b]);
    return s;
}

static float scalar_dot(const uint8_t *row, const gk_xpack *x)
{
    /* decode a few blocks at a time into the stack, in the pack's order */
    enum { CH = 16 }; /* blocks per step: even, so pairs stay whole */
    uint8_t wu[CH * BV];
    float dwv[(CH / 2) * 16 + 1];
    float s = 0.0f;
    gq_type wt = x->wt;
    size_t bb = wt == GQ_MXFP4 ? GQ_MXFP4_BLOCK_BYTES : wt == GQ_Q8_32 ? GQ_Q8_32_BLOCK_BYTES : GQ_Q4_32_BLOCK_BYTES;
    for (int b0 = 0; b0 < x->nb; b0 += CH) {
        int m = x->nb - b0 < CH ? x->nb - b0 : CH;
        gk_xpack part = {(int64_t)m * BV, m, wt, 0, x->q + (size_t)b0 * BV, x->corr + (size_t)b0 * BV / 4,
                         x->dxv + (size_t)(b0 / 2) * 16, x->d + b0};
        scalar_decode(wt, row + (size_t)b0 * bb, m, wu, dwv);
        s += scalar_dot_dec(wu, dwv, &part);
    }
    return s;
}

const gk_fast_kernels gk_fast_scalar = {"scalar", scalar_dot, scalar_decode, scalar_dot_dec, 0, NULL};

/* "scalar-tile" (gk_fast_use only): the scalar loops driven through the
 * prefill's 2 x 2 tile, so that its row and token pairing (used for real by
 * neon-i8mm) is tested on every machine */
static void scalar_dot_dec22(const uint8_t *wu0, const float *dwv0, const uint8_t *wu1, const float *dwv1,
                             const gk_xpack *x0, const gk_xpack *x1, float out[4])
{
    out[0] = scalar_dot_dec(wu0, dwv0, x0);
    out[1] = scalar_dot_dec(wu0, dwv0, x1);
    out[2] = scalar_dot_dec(wu1, dwv1, x0);
    out[3] = scalar_dot_dec(wu1, dwv1, x1);
}

static const gk_fast_kernels gk_fast_scalar_tile = {"scalar-tile", scalar_dot, scalar_decode, scalar_dot_dec, 0,
                                                    scalar_dot_dec22};

/* ---- which path ---- */

static const gk_fast_kernels *g_forced;
static int g_no_amx;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
static int x86_has(const char *feature);
#endif

/* the table of path NAME if this build and CPU run it */
static const gk_fast_kernels *by_name(const char *name)
{
    if (!strcmp(name, "scalar"))
        return &gk_fast_scalar;
    if (!strcmp(name, "scalar-tile"))
        return &gk_fast_scalar_tile;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!strcmp(name, "avx2") && x86_has("avx2"))
        return &gk_fast_avx2;
    if (!strcmp(name, "avx-vnni") && x86_has("avxvnni"))
        return &gk_fast_avxvnni;
    if ((!strcmp(name, "avx512-vbmi") || !strcmp(name, "amx")) && x86_has("avx512vbmi"))
        return &gk_fast_avx512vbmi;
    if ((!strcmp(name, "avx512-vnni") || !strcmp(name, "amx")) && x86_has("avx512vnni"))
        return &gk_fast_avx512vnni;
#endif
#if defined(__aarch64__)
    if (!strcmp(name, "neon-dotprod") && gk_fast_neon_has_dotprod())
        return &gk_fast_neon_dotprod;
    if (!strcmp(name, "neon-i8mm") && gk_fast_neon_has_i8mm())
        return &gk_fast_neon_i8mm;
#endif
    return NULL;
}

int gk_fast_use(const char *name)
{
    if (!name) {
        g_forced = NULL;
        g_no_amx = 0;
        return 0;
    }
    const gk_fast_kernels *k = by_name(name);
    if (!k || (!strcmp(name, "amx") && !gk_amx_ok()))
        return -1;
    g_forced = k;
    g_no_amx = strcmp(name, "amx") != 0;
    return 0;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

/* cpuid leaf/subleaf register bit (some compilers' __builtin_cpu_supports
 * lack f16c and avxvnni; the OS state checks come from avx2 / avx512f) */
static int cpuid_bit(unsigned leaf, unsigned sub, int reg, int bit)
{
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]))
        return 0;
    return (r[reg] >> bit) & 1;
}

static int x86_has(const char *feature)
{
    __builtin_cpu_init();
    if (!strcmp(feature, "avx2")) /* + FMA, F16C (cpuid 1: ecx 12, 29) */
        return __builtin_cpu_supports("avx2") && cpuid_bit(1, 0, 2, 12) && cpuid_bit(1, 0, 2, 29);
    if (!strcmp(feature, "avxvnni")) /* cpuid (7, 1): eax bit 4 */
        return x86_has("avx2") && cpuid_bit(7, 1, 0, 4);
    if (!strcmp(feature, "avx512vnni"))
        return x86_has("avx2") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    if (!strcmp(feature, "avx512vbmi"))
        return x86_has("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
    return 0;
}
#endif

static const gk_fast_kernels *kern(void)
{
    if (g_forced)
        return g_forced;
    gk_isa isa = gk_isa_active();
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (isa == GK_ISA_AVX512 && x86_has("avx512vbmi"))
        return &gk_fast_avx512vbmi;
    if (isa == GK_ISA_AVX512 && x86_has("avx512vnni"))
        return &gk_fast_avx512vnni;
    if (isa == GK_ISA_AVX512 || isa == GK_ISA_AVX2)
        return x86_has("avxvnni") ? &gk_fast_avxvnni : &gk_fast_avx2;
#endif
#if defined(__aarch64__)
    if (isa == GK_ISA_NEON && gk_fast_neon_has_dotprod())
        return gk_fast_neon_has_i8mm() ? &gk_fast_neon_i8mm : &gk_fast_neon_dotprod;
#endif
    (void)isa;
    return &gk_fast_scalar;
}

const char *gk_fast_path(void) { return kern()->name; }

/* ---- drivers ---- */

typedef struct {
    const gk_mat *w;
    const float *bias;
    float *out;
    int64_t os, per;
    int n;
    const gk_xpack *xs;         /* n packed tokens */
    const gk_fast_kernels *k;
    uint8_t *scratch;           /* prefill: per thread, wu then dwv (twice with a tile) */
    size_t scratch_per, row_scratch;
} fm_ctx;

static void fm_task(void *p, int task, int thread)
{
    fm_ctx *c = p;
    const gk_mat *w = c->w;
    int64_t r0 = (int64_t)task * c->per, r1 = r0 + c->per < w->rows ? r0 + c->per : w->rows;
    const uint8_t *base = w->data;
    size_t os = (size_t)c->os;
    if (c->n == 1) {
        for (int64_t r = r0; r < r1; r++) {
            float s = c->k->dot(base + (size_t)r * w->row_bytes, &c->xs[0]);
            c->out[r] = c->bias ? s + c->bias[r] : s;
        }
        return;
    }
    uint8_t *wu = c->scratch + (size_t)thread * c->scratch_per;
    float *dwv = (float *)(wu + ((w->cols + 63) & ~(int64_t)63));
    int nb = (int)(w->cols / BV);
    if (c->k->dot_dec22) { /* two rows x two tokens a step; the odd ones as below */
        uint8_t *wu1 = wu + c->row_scratch;
        float *dwv1 = (float *)(wu1 + ((w->cols + 63) & ~(int64_t)63));
        for (; r0 + 1 < r1; r0 += 2) {
            c->k->decode(w->type, base + (size_t)r0 * w->row_bytes, nb, wu, dwv);
            c->k->decode(w->type, base + (size_t)(r0 + 1) * w->row_bytes, nb, wu1, dwv1);
            float b0 = c->bias ? c->bias[r0] : 0.0f, b1 = c->bias ? c->bias[r0 + 1] : 0.0f, o[4];
            int t = 0;
            for (; t + 1 < c->n; t += 2) {
                c->k->dot_dec22(wu, dwv, wu1, dwv1, &c->xs[t], &c->xs[t + 1], o);
                c->out[(size_t)t * os + (size_t)r0] = o[0] + b0;
                c->out[(size_t)(t + 1) * os + (size_t)r0] = o[1] + b0;
                c->out[(size_t)t * os + (size_t)r0 + 1] = o[2] + b1;
                c->out[(size_t)(t + 1) * os + (size_t)r0 + 1] = o[3] + b1;
            }
            if (t < c->n) {
                c->out[(size_t)t * os + (size_t)r0] = c->k->dot_dec(wu, dwv, &c->xs[t]) + b0;
                c->out[(size_t)t * os + (size_t)r0 + 1] = c->k->dot_dec(wu1, dwv1, &c->xs[t]) + b1;
            }
        }
    }
    for (int64_t r = r0; r < r1; r++) {
        c->k->decode(w->type, base + (size_t)r * w->row_bytes, nb, wu, dwv);
        float b = c->bias ? c->bias[r] : 0.0f;
        for (int t = 0; t < c->n; t++)
            c->out[(size_t)t * os + (size_t)r] = c->k->dot_dec(wu, dwv, &c->xs[t]) + b;
    }
}

typedef struct {
    const float *x;
    int64_t cols;
    gq_type wt;
    gk_xpack *xs;
    uint8_t *mem;
    size_t xb;
    int quads;
} pack_ctx;

static void pack_task(void *p, int task, int thread)
{
    (void)thread;
    pack_ctx *c = p;
    gk_xpack_fill(&c->xs[task], c->mem + (size_t)task * c->xb, c->x + (size_t)task * (size_t)c->cols, c->cols, c->wt,
                  c->quads);
}

/* the fewest tokens a fast product sends to AMX-INT8 */
#define GK_FAST_AMX_MIN 4

int gk_matmul_fast(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                   int64_t out_stride)
{
    if (!gk_fast_ok(w->type, w->cols))
        return -1;
    if (n <= 0 || w->rows <= 0)
        return 0;
    if (n >= GK_FAST_AMX_MIN && !g_no_amx && gk_amx_ok())
        return gk_amx_gemm_fast(pool, w, bias, x, n, out, out_stride);
    int threads = gk_pool_size(pool);
    size_t xb = gk_xpack_bytes(w->cols);
    gk_xpack *xs = malloc((size_t)n * sizeof *xs);
    uint8_t *mem = gk_alloc64((size_t)n * xb);
    fm_ctx c = {w, bias, out, out_stride, n == 1 ? gk_matvec_rows_per_task(w->rows, w->row_bytes, threads) : gk_rows_per_task(w->rows, threads),
                n, xs, kern(), NULL, 0, 0};
    if (n > 1) {
        c.row_scratch = (((size_t)w->cols + 63) & ~(size_t)63) + (((size_t)(w->cols / BV / 2) * 16 + 1) * 4 + 63) / 64 * 64;
        c.scratch_per = c.k->dot_dec22 ? 2 * c.row_scratch : c.row_scratch;
        c.scratch = gk_alloc64((size_t)threads * c.scratch_per);
    }
    if (!xs || !mem || (n > 1 && !c.scratch)) {
        free(xs);
        free(mem);
        free(c.scratch);
        return -1;
    }
    pack_ctx pc = {x, w->cols, w->type, xs, mem, xb, n == 1 && c.k->quads}; /* quads: for dot only */
    gk_pool_run(pool, pack_task, &pc, n);
    gk_pool_run(pool, fm_task, &c, (int)((w->rows + c.per - 1) / c.per));
    free(xs);
    free(mem);
    free(c.scratch);
    return 0;
}

typedef struct {
    const gk_matvec_job *jobs;
    const gk_xpack *xs;
    const gk_fast_kernels *k;
    gk_jobsplit split;
} fmv_ctx;

static void fmv_task(void *p, int task, int thread)
{
    (void)thread;
    fmv_ctx *c = p;
    int64_t r0, r1;
    int j = gk_jobsplit_task(&c->split, c->jobs, task, &r0, &r1);
    const gk_matvec_job *job = &c->jobs[j];
    const uint8_t *base = job->w.data;
    for (int64_t r = r0; r < r1; r++) {
        float s = c->k->dot(base + (size_t)r * job->w.row_bytes, &c->xs[j]);
        job->out[r] = job->bias ? s + job->bias[r] : s;
    }
}

int gk_matvec_many_fast(gk_pool *pool, const gk_matvec_job *jobs, int n_jobs)
{
    if (n_jobs <= 0)
        return 0;
    if (n_jobs > GK_JOBS_MAX) {
        for (int i = 0; i < n_jobs; i += GK_JOBS_MAX)
            if (gk_matvec_many_fast(pool, jobs + i, n_jobs - i < GK_JOBS_MAX ? n_jobs - i : GK_JOBS_MAX))
                return -1;
        return 0;
    }
    gk_xpack xs[GK_JOBS_MAX];
    size_t off[GK_JOBS_MAX + 1];
    off[0] = 0;
    for (int j = 0; j < n_jobs; j++) {
        if (!gk_fast_ok(jobs[j].w.type, jobs[j].w.cols))
            return -1;
        off[j + 1] = off[j] + gk_xpack_bytes(jobs[j].w.cols);
    }
    uint8_t *mem = gk_alloc64(off[n_jobs]);
    if (!mem)
        return -1;
    const gk_fast_kernels *k = kern();
    for (int j = 0; j < n_jobs; j++)
        gk_xpack_fill(&xs[j], mem + off[j], jobs[j].x, jobs[j].w.cols, jobs[j].w.type, k->quads);
    fmv_ctx c = {.jobs = jobs, .xs = xs, .k = k};
    gk_jobsplit_init(&c.split, jobs, n_jobs, gk_pool_size(pool));
    gk_pool_run(pool, fmv_task, &c, (int)c.split.starts[n_jobs]);
    free(mem);
    return 0;
}
