/* gk_amx.c - the AMX-BF16 exact prefill product (see gk_amx.h).
 *
 * Shapes. C += A . B on tiles of 16 x 64 bytes: A = 16 weight rows x 32
 * columns (bf16, the rows as they lie: no transpose of the weights), B = 32
 * columns x 16 tokens of one activation piece (bf16 pairs of columns per
 * token, "VNNI" order), C = 16 rows x 16 tokens fp32. One block of the
 * 32-value formats is exactly one A tile row, so a block's scale applies to
 * one tile product.
 *
 * Work. The activations are split and packed once per product (one pool
 * run, a task per 16-token tile); then each task takes 32 weight rows at a
 * time, decodes them once to bf16 (all columns, per-thread scratch), and
 * runs them against every token tile of a chunk, two token tiles at a time:
 * 4 C tiles (2 row tiles x 2 token tiles), 2 A tiles, 2 B tiles. A chunk's
 * packed activations (about 1 MB) stay in the core's L2 while its rows pass.
 *
 * Per-block scales (Q8_32, Q4_32): the C tiles restart at zero for every
 * block, are stored after its three pieces and added, times the block
 * scale of their row, to fp32 accumulators; MXFP4 and BF16 have no such
 * scale (MXFP4's power of two is folded into the bf16 weight exactly), so
 * their C tiles accumulate all columns in place. */
#include "gk_amx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk_dot.h"
#include "quant.h"

static int g_allow = 1;

void gk_amx_allow(int allow) { g_allow = allow != 0; }

int gk_amx_exact_type(gq_type t) { return t == GQ_MXFP4 || t == GQ_BF16 || t == GQ_Q8_32 || t == GQ_Q4_32; }

void gk_amx_split3(float x, uint16_t piece[3])
{
    uint32_t u;
    memcpy(&u, &x, 4);
    for (int p = 0; p < 3; p++) {
        uint32_t h = u & 0xFFFF0000u;
        float hf, r;
        memcpy(&hf, &h, 4);
        piece[p] = (uint16_t)(h >> 16);
        r = x - hf;
        x = r;
        memcpy(&u, &x, 4);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GK_AMX_BUILT 1
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* ---- may AMX run here? ---- */

static int g_amx_state;          /* 1 usable, 0 not */
static char g_why[96];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static uint64_t xcr0(void)
{
    uint32_t a, d;
    __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
    return ((uint64_t)d << 32) | a;
}

static void amx_probe(void)
{
    unsigned a, b, c, d;
    const char *env = getenv("GQ_AMX");
    if (env && !strcmp(env, "0")) {
        snprintf(g_why, sizeof g_why, "GQ_AMX=0");
        return;
    }
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 22)) || !(d & (1u << 25))) {
        snprintf(g_why, sizeof g_why, "no AMX-TILE/BF16/INT8 on this CPU");
        return;
    }
    unsigned a1 = 0, b1, c1, d1;
    if (!__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) || !(a1 & (1u << 5))) {
        snprintf(g_why, sizeof g_why, "no AVX512-BF16 on this CPU");
        return;
    }
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || (xcr0() & (3u << 17)) != (3u << 17)) {
        snprintf(g_why, sizeof g_why, "the OS has not enabled the tile state (XCR0)");
        return;
    }
#ifdef __linux__
    /* ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18): without it
     * the first tile instruction is a SIGILL (Linux 5.16+) */
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) {
        snprintf(g_why, sizeof g_why, "the kernel refused the AMX tile state (arch_prctl)");
        return;
    }
    g_amx_state = 1;
#else
    snprintf(g_why, sizeof g_why, "AMX is used on Linux only");
#endif
}

int gk_amx_ok(void)
{
    pthread_once(&g_once, amx_probe);
    return g_amx_state && g_allow && gk_isa_active() == GK_ISA_AVX512;
}

const char *gk_amx_why_not(void)
{
    pthread_once(&g_once, amx_probe);
    if (!g_amx_state)
        return g_why;
    if (!g_allow)
        return "disabled";
    return gk_isa_active() == GK_ISA_AVX512 ? "" : "the active path is not AVX-512";
}

#define GK_AMX                                                                                                       \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c,amx-tile,amx-bf16,amx-int8")))

enum {
    TILE = 1024,            /* bytes of one 16 x 64-byte tile */
    KSTEP_A = 2 * TILE,     /* one 32-column step of a 32-row block: 2 A tiles */
    KSTEP_B = 3 * TILE,     /* one 32-column step of a token tile: 3 pieces */
    ROWS = 32,              /* weight rows per block */
    CHUNK_BYTES = 3 << 19   /* packed activations a chunk may hold (of a 2 MB L2) */
};

/* the 64-byte operand of ldtilecfg */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;

GK_AMX void gk_amx_load_config(int n, const uint8_t *rows, const uint16_t *colsb)
{
    amx_cfg c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < n && i < 8; i++) {
        c.colsb[i] = colsb[i];
        c.rows[i] = rows[i];
    }
    /* GCC 12 at -O3 does not see the ldtilecfg builtin read c and dropped
     * the stores above (Release builds: a zero config, then SIGSEGV at the
     * first tile load); this barrier makes them happen first */
    __asm__ volatile("" : : "r"(&c) : "memory");
    _tile_loadconfig(&c);
}

/* ---- the activations: split in three and packed ---- */

/* 16 tokens (tile tt) x all k-steps: [ks][piece][kk 0..15][token 0..15] of
 * bf16 pairs (columns 2kk, 2kk+1); missing tokens and columns are zero. */
GK_AMX static void pack_tile(const float *x, int n, int64_t K, int ks, int tt, uint8_t *dst)
{
    const __m512i m16 = _mm512_set1_epi32((int)0xFFFF0000u);
    const __m512i idx = _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
    int j0 = tt * 16, jn = n - j0 < 16 ? n - j0 : 16;
    if (jn < 16 || K % 32)
        memset(dst, 0, (size_t)ks * KSTEP_B);
    for (int j = 0; j < jn; j++) {
        const float *xr = x + (size_t)(j0 + j) * (size_t)K;
        for (int k = 0; k < ks; k++) {
            int64_t c0 = (int64_t)k * 32, left = K - c0;
            __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 m1 = left >= 32 ? 0xFFFF : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            __m512 v[2] = {_mm512_maskz_loadu_ps(m0, xr + c0), _mm512_maskz_loadu_ps(m1, xr + c0 + 16)};
            __m512 pc[3][2];
            for (int h = 0; h < 2; h++) {
                __m512 hi = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v[h]), m16));
                __m512 r = _mm512_sub_ps(v[h], hi);
                __m512 mid = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(r), m16));
                pc[0][h] = hi;
                pc[1][h] = mid;
                pc[2][h] = _mm512_sub_ps(r, mid);
            }
            for (int p = 0; p < 3; p++) {
                __m512i bf = (__m512i)_mm512_cvtne2ps_pbh(pc[p][1], pc[p][0]);
                _mm512_i32scatter_epi32(dst + (size_t)k * KSTEP_B + (size_t)p * TILE + (size_t)j * 4, idx, bf, 4);
            }
        }
    }
}

/* ---- the weights: 32 rows decoded to bf16 A tiles ---- */

/* bf16 bit patterns of the 16 MXFP4 codes' doubled values, twice (vpermw
 * reads 5 index bits; the low nibble's byte brings bit 4 along) */
static const uint16_t mx_bf16[32] = {
    0x0000, 0x3F80, 0x4000, 0x4040, 0x4080, 0x40C0, 0x4100, 0x4140,
    0x8000, 0xBF80, 0xC000, 0xC040, 0xC080, 0xC0C0, 0xC100, 0xC140,
    0x0000, 0x3F80, 0x4000, 0x4040, 0x4080, 0x40C0, 0x4100, 0x4140,
    0x8000, 0xBF80, 0xC000, 0xC040, 0xC080, 0xC0C0, 0xC100, 0xC140};

/* n consecutive MXFP4 blocks to bf16 A rows. The doubled values are bf16
 * integers 1..12 (exponent 127..130) and the scale 2^(e-128) a power of
 * two, so a nonzero value's bf16 is its code's pattern plus (e-128) << 7
 * in the exponent field, exact while the result stays normal: e in 2..252.
 * Other scales (subnormal or huge values) take the fp32 route, which the
 * tile unit then flushes or keeps exactly as well. */
GK_AMX static void dec_mxfp4(const uint8_t *b, uint8_t *dst, int n)
{
    const __m512i lut = _mm512_loadu_si512(mx_bf16);
    const __m512i shift = _mm512_set_epi64(0x0004000400040004LL, 0x0004000400040004LL, 0x0004000400040004LL,
                                           0x0004000400040004LL, 0, 0, 0, 0);
    const __m512i mag = _mm512_set1_epi16(0x7FFF);
    const __m512 lutf = _mm512_loadu_ps(gq_mxfp4_kvalues);
    for (int i = 0; i < n; i++, b += GQ_MXFP4_BLOCK_BYTES, dst += 64) {
        int e = b[GQ_MXFP4_SCALE_OFFSET];
        __m128i q = _mm_loadu_si128((const __m128i *)(b + GQ_MXFP4_QS_OFFSET));
        if (e >= 2 && e <= 252) {
            /* words 0..15: the bytes (low nibble = value j), 16..31: the bytes >> 4 (value j + 16) */
            __m512i v = _mm512_srlv_epi16(_mm512_cvtepu8_epi16(_mm256_broadcastsi128_si256(q)), shift);
            __m512i r = _mm512_permutexvar_epi16(v, lut);
            __mmask32 nz = _mm512_test_epi16_mask(r, mag);
            r = _mm512_mask_add_epi16(r, nz, r, _mm512_set1_epi16((short)((e - 128) * 128)));
            _mm512_storeu_si512((void *)dst, r);
        } else {
            __m512i v = _mm512_cvtepu8_epi32(q);
            __m512 d = _mm512_set1_ps(gq_e8m0_half_table[e]);
            __m512 lo = _mm512_mul_ps(_mm512_permutexvar_ps(v, lutf), d);
            __m512 hi = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), lutf), d);
            _mm512_storeu_si512((void *)dst, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    }
}

/* n consecutive Q8_32 blocks: codes to bf16 (integers, exact), scales to sc */
GK_AMX static void dec_q8(const uint8_t *b, uint8_t *dst, float *sc, int n)
{
    for (int i = 0; i < n; i++, b += GQ_Q8_32_BLOCK_BYTES, dst += 64) {
        const int8_t *q = (const int8_t *)(b + GQ_Q8_32_QS_OFFSET);
        __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
        __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16))));
        _mm512_storeu_si512((void *)dst, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        sc[i] = _cvtsh_ss((unsigned short)(b[GQ_Q8_32_D_OFFSET] | b[GQ_Q8_32_D_OFFSET + 1] << 8));
    }
}

GK_AMX static void dec_q4(const uint8_t *b, uint8_t *dst, float *sc, int n)
{
    const __m128i m4 = _mm_set1_epi8(15), k8 = _mm_set1_epi8(GQ_Q4_32_ZERO);
    for (int i = 0; i < n; i++, b += GQ_Q4_32_BLOCK_BYTES, dst += 64) {
        __m128i q = _mm_loadu_si128((const __m128i *)(b + GQ_Q4_32_QS_OFFSET));
        __m128i l = _mm_sub_epi8(_mm_and_si128(q, m4), k8);
        __m128i h = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), k8);
        __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(l)), hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(h));
        _mm512_storeu_si512((void *)dst, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        sc[i] = _cvtsh_ss((unsigned short)(b[GQ_Q4_32_D_OFFSET] | b[GQ_Q4_32_D_OFFSET + 1] << 8));
    }
}

/* BF16 steps k0 .. k0+n-1 of one row: the bytes as they are, the last step
 * zero-padded when cols is not a multiple of 32 */
GK_AMX static void dec_bf16(const uint8_t *row, int64_t cols, int k0, uint8_t *dst, int n)
{
    for (int i = 0; i < n; i++, dst += 64) {
        int64_t c0 = (int64_t)(k0 + i) * 32, m = cols - c0 < 32 ? cols - c0 : 32;
        __mmask32 mk = m >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << m) - 1);
        _mm512_storeu_si512((void *)dst, _mm512_maskz_loadu_epi16(mk, row + c0 * 2));
    }
}

/* Blocks f0 .. f1-1 of a 32-row block in row-major order (f = row * ks +
 * k-step) to A[f] (64 bytes each: [row][k-step], so a tile load reads 16
 * rows at a stride of ks * 64 bytes) and, for the scaled types, their
 * scales to sc[f]. Rows from nr on are zero. Both streams are sequential,
 * and a span can be any slice: the pipelined loops below decode the next
 * block's rows 32 blocks at a time between the current block's tile
 * products. */
GK_AMX static void decode_span(const gk_mat *w, const uint8_t *rows, int nr, int ks, int f0, int f1, uint8_t *A,
                               float *sc)
{
    while (f0 < f1) {
        int r = f0 / ks, k = f0 % ks, n = ks - k < f1 - f0 ? ks - k : f1 - f0;
        uint8_t *dst = A + (size_t)f0 * 64;
        if (r >= nr) {
            memset(dst, 0, (size_t)n * 64);
            if (sc)
                memset(sc + f0, 0, (size_t)n * sizeof *sc);
        } else {
            const uint8_t *row = rows + (size_t)r * w->row_bytes;
            switch (w->type) {
            case GQ_MXFP4: dec_mxfp4(row + (size_t)k * GQ_MXFP4_BLOCK_BYTES, dst, n); break;
            case GQ_Q8_32: dec_q8(row + (size_t)k * GQ_Q8_32_BLOCK_BYTES, dst, sc + f0, n); break;
            case GQ_Q4_32: dec_q4(row + (size_t)k * GQ_Q4_32_BLOCK_BYTES, dst, sc + f0, n); break;
            default: dec_bf16(row, w->cols, k, dst, n); break;
            }
        }
        f0 += n;
    }
}

/* ---- one 32-row block against token tiles [ta, tb) ---- */

typedef struct {
    const gk_mat *w;
    const float *bias;
    float *out;
    int64_t os;
    int n, ks, nt;
    const float *x;
    uint8_t *packed;                /* nt * ks * KSTEP_B */
    uint8_t *scratch;               /* per thread: scratch_per bytes */
    size_t scratch_per;
    int64_t per;                    /* rows per task, a multiple of ROWS */
    int row_tasks, chunk_tiles;
} gemm_ctx;

/* The next block to decode while this one's tiles run (rows NULL: none). */
typedef struct {
    const uint8_t *rows;
    int nr;
    uint8_t *A;
    float *sc;
} next_block;

/* The 16 x 16 fp32 tile c (rows x tokens) to out, plus bias. */
static void put_tile(const gemm_ctx *g, const float *c, int64_t r0, int t0)
{
    int64_t nr = g->w->rows - r0 < 16 ? g->w->rows - r0 : 16;
    int nt = g->n - t0 < 16 ? g->n - t0 : 16;
    for (int j = 0; j < nt; j++) {
        float *o = g->out + (size_t)(t0 + j) * (size_t)g->os + (size_t)r0;
        for (int64_t r = 0; r < nr; r++)
            o[r] = c[r * 16 + j] + (g->bias ? g->bias[r0 + r] : 0.0f);
    }
}

/* C tiles 0 / 2 (row tiles 0 / 1, token tile tt) and 1 / 3 (tt + 1 when
 * two) += A (tiles 4, 5) x the three pieces of B (tiles 6, 7) of step k. */
#define TDP_STEP(two)                                                                                                \
    do {                                                                                                             \
        const uint8_t *a_ = A + (size_t)k * 64, *b0_ = B0 + (size_t)k * KSTEP_B, *b1_ = b0_ + tstride;               \
        _tile_loadd(4, a_, astride);                                                                                 \
        _tile_loadd(5, a_ + 16 * astride, astride);                                                                  \
        for (int p_ = 0; p_ < 3; p_++) {                                                                             \
            _tile_loadd(6, b0_ + p_ * TILE, 64);                                                                     \
            _tile_dpbf16ps(0, 4, 6);                                                                                 \
            _tile_dpbf16ps(2, 5, 6);                                                                                 \
            if (two) {                                                                                               \
                _tile_loadd(7, b1_ + p_ * TILE, 64);                                                                 \
                _tile_dpbf16ps(1, 4, 7);                                                                             \
                _tile_dpbf16ps(3, 5, 7);                                                                             \
            }                                                                                                        \
        }                                                                                                            \
    } while (0)

/* decode the next block's share of step k (32 blocks), if any */
#define NEXT_STEP_AT(kk)                                                                                             \
    do {                                                                                                             \
        if (nx && nx->rows)                                                                                          \
            decode_span(g->w, nx->rows, nx->nr, g->ks, (kk) * ROWS, (kk) * ROWS + ROWS, nx->A, nx->sc);               \
    } while (0)
#define NEXT_STEP() NEXT_STEP_AT(k)

/* MXFP4 / BF16: C accumulates every step in place. */
GK_AMX static void block_plain(const gemm_ctx *g, const uint8_t *A, int64_t r0, int ta, int tb, float *cb,
                               const next_block *nx)
{
    size_t tstride = (size_t)g->ks * KSTEP_B, astride = (size_t)g->ks * 64;
    for (int tt = ta; tt < tb; tt += 2, nx = NULL) {
        int two = tt + 1 < tb;
        const uint8_t *B0 = g->packed + (size_t)tt * tstride;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        if (two) {
            for (int k = 0; k < g->ks; k++) {
                TDP_STEP(1);
                NEXT_STEP();
            }
        } else {
            for (int k = 0; k < g->ks; k++) {
                TDP_STEP(0);
                NEXT_STEP();
            }
        }
        _tile_stored(0, cb, 64);
        _tile_stored(2, cb + 256, 64);
        put_tile(g, cb, r0, tt * 16);
        if (r0 + 16 < g->w->rows)
            put_tile(g, cb + 256, r0 + 16, tt * 16);
        if (two) {
            _tile_stored(1, cb, 64);
            _tile_stored(3, cb + 256, 64);
            put_tile(g, cb, r0, tt * 16 + 16);
            if (r0 + 16 < g->w->rows)
                put_tile(g, cb + 256, r0 + 16, tt * 16 + 16);
        }
    }
}

/* Q8_32 / Q4_32: a block's scale differs by row, so each step's three tile
 * products go to a fresh C tile, which is stored and added times the
 * rows' scales into 16 fp32 registers (rows; tokens in lanes). Two C
 * tiles alternate (0 and 1, with A tiles 3 and 4; B tiles 6/7), so the tile
 * unit runs step k+1 while the vector units add step k (a ring of three
 * measured slower here: 41 vs 58 GMAC/s median, Q8 4096x2880, 128 tokens).
 * One row tile x one token tile at a time: the accumulators stay in
 * registers over all steps. */
#define SCALED_TDP(c, a, k)                                                                                          \
    do {                                                                                                             \
        if ((k) < ks) {                                                                                              \
            const uint8_t *b_ = B + (size_t)(k) * KSTEP_B;                                                           \
            _tile_zero(c);                                                                                           \
            _tile_loadd(a, Ar + (size_t)(k) * 64, astride);                                                          \
            _tile_loadd(6, b_, 64);                                                                                  \
            _tile_dpbf16ps(c, a, 6);                                                                                 \
            _tile_loadd(7, b_ + TILE, 64);                                                                           \
            _tile_dpbf16ps(c, a, 7);                                                                                 \
            _tile_loadd(6, b_ + 2 * TILE, 64);                                                                       \
            _tile_dpbf16ps(c, a, 6);                                                                                 \
        }                                                                                                            \
    } while (0)

#define SCALED_ADD(c, k)                                                                                             \
    do {                                                                                                             \
        if ((k) < ks) {                                                                                              \
            _tile_stored(c, cb, 64);                                                                                 \
            _Pragma("GCC unroll 16") for (int r_ = 0; r_ < 16; r_++) acc[r_] = _mm512_fmadd_ps(                     \
                _mm512_set1_ps(S[(size_t)r_ * (size_t)ks + (size_t)(k)]), _mm512_loadu_ps(cb + r_ * 16), acc[r_]);   \
            NEXT_STEP_AT(k);                                                                                         \
        }                                                                                                            \
    } while (0)

GK_AMX static void block_scaled(const gemm_ctx *g, const uint8_t *A, const float *sc, int64_t r0, int ta, int tb,
                                float *cb, const next_block *nx)
{
    size_t tstride = (size_t)g->ks * KSTEP_B, astride = (size_t)g->ks * 64;
    int ks = g->ks;
    for (int rt = 0; rt < 2 && r0 + rt * 16 < g->w->rows; rt++) {
        const uint8_t *Ar = A + (size_t)rt * 16 * astride;
        const float *S = sc + (size_t)rt * 16 * (size_t)ks;
        for (int tt = ta; tt < tb; tt++, nx = NULL) {
            const uint8_t *B = g->packed + (size_t)tt * tstride;
            __m512 acc[16]; /* registers: constant indices only after unrolling */
            _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
            SCALED_TDP(0, 3, 0);
            for (int k = 0; k < ks; k += 2) {
                SCALED_TDP(1, 4, k + 1);
                SCALED_ADD(0, k);
                SCALED_TDP(0, 3, k + 2);
                SCALED_ADD(1, k + 1);
            }
            _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++) _mm512_storeu_ps(cb + r * 16, acc[r]);
            put_tile(g, cb, r0 + rt * 16, tt * 16);
        }
    }
}

GK_AMX static void pack_task(void *p, int task, int thread)
{
    (void)thread;
    const gemm_ctx *g = p;
    pack_tile(g->x, g->n, g->w->cols, g->ks, task, g->packed + (size_t)task * (size_t)g->ks * KSTEP_B);
}

/* Task = (chunk of token tiles, range of rows): chunk-major, so a thread's
 * consecutive tasks reuse the chunk's packed activations from its L2. Two
 * A buffers: block i+1 is decoded between block i's tile products. */
GK_AMX static void gemm_task(void *p, int task, int thread)
{
    const gemm_ctx *g = p;
    const gk_mat *w = g->w;
    int chunk = task / g->row_tasks;
    int64_t r0 = (int64_t)(task % g->row_tasks) * g->per, r1 = r0 + g->per < w->rows ? r0 + g->per : w->rows;
    int ta = chunk * g->chunk_tiles, tb = ta + g->chunk_tiles < g->nt ? ta + g->chunk_tiles : g->nt;
    size_t abytes = (size_t)g->ks * KSTEP_A, sbytes = (size_t)g->ks * ROWS * sizeof(float);
    uint8_t *base = g->scratch + (size_t)thread * g->scratch_per;
    uint8_t *A[2] = {base, base + abytes};
    float *sc[2] = {(float *)(base + 2 * abytes), (float *)(base + 2 * abytes + sbytes)};
    float *cb = (float *)(base + 2 * abytes + 2 * sbytes);
    int scaled = w->type == GQ_Q8_32 || w->type == GQ_Q4_32;
    const uint8_t *data = w->data;
    static const uint8_t rows[8] = {16, 16, 16, 16, 16, 16, 16, 16};
    static const uint16_t colsb[8] = {64, 64, 64, 64, 64, 64, 64, 64};
    gk_amx_load_config(8, rows, colsb);
    int nb = (int)((r1 - r0 + ROWS - 1) / ROWS);
    decode_span(w, data + (size_t)r0 * w->row_bytes, r1 - r0 < ROWS ? (int)(r1 - r0) : ROWS, g->ks, 0,
                g->ks * ROWS, A[0], sc[0]);
    for (int bi = 0; bi < nb; bi++) {
        int64_t r = r0 + (int64_t)bi * ROWS, rn = r + ROWS;
        next_block nx = {NULL, 0, A[(bi + 1) & 1], sc[(bi + 1) & 1]};
        if (rn < r1) {
            nx.rows = data + (size_t)rn * w->row_bytes;
            nx.nr = r1 - rn < ROWS ? (int)(r1 - rn) : ROWS;
        }
        if (scaled)
            block_scaled(g, A[bi & 1], sc[bi & 1], r, ta, tb, cb, &nx);
        else
            block_plain(g, A[bi & 1], r, ta, tb, cb, &nx);
    }
    _tile_release();
}

int gk_amx_gemm_exact(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                      int64_t out_stride)
{
    if (!gk_amx_exact_type(w->type))
        return -1;
    if (n <= 0 || w->rows <= 0)
        return 0;
    int threads = gk_pool_size(pool);
    gemm_ctx g = {w, bias, out, out_stride, n, (int)((w->cols + 31) / 32), (n + 15) / 16, x, NULL, NULL, 0, 0, 0, 0};
    size_t tile_bytes = (size_t)g.ks * KSTEP_B;
    /* two A buffers and their scales, 4 C tiles, 4 accumulator tiles */
    g.scratch_per = (2 * (size_t)g.ks * KSTEP_A + 2 * (size_t)g.ks * ROWS * 4 + 8 * 256 * 4 + 63) & ~(size_t)63;
    g.packed = gk_alloc64((size_t)g.nt * tile_bytes);
    g.scratch = gk_alloc64((size_t)threads * g.scratch_per);
    if (!g.packed || !g.scratch) {
        free(g.packed);
        free(g.scratch);
        return -1;
    }
    gk_pool_run(pool, pack_task, &g, g.nt);
    /* token tiles per chunk: an even number whose packed activations fit
     * CHUNK_BYTES (at least 2) */
    int ct = (int)(CHUNK_BYTES / tile_bytes) & ~1;
    g.chunk_tiles = ct < 2 ? 2 : ct;
    int chunks = (g.nt + g.chunk_tiles - 1) / g.chunk_tiles;
    /* rows per task: whole 32-row blocks, about 4 tasks per thread per chunk */
    int64_t blocks = (w->rows + ROWS - 1) / ROWS, want = (int64_t)threads * 4;
    g.per = (blocks + want - 1) / want * ROWS;
    g.row_tasks = (int)((w->rows + g.per - 1) / g.per);
    gk_pool_run(pool, gemm_task, &g, chunks * g.row_tasks);
    free(g.packed);
    free(g.scratch);
    return 0;
}

#else /* not x86-64: no AMX */

void gk_amx_load_config(int n, const uint8_t *rows, const uint16_t *colsb) { (void)n, (void)rows, (void)colsb; }

int gk_amx_ok(void) { return 0; }
const char *gk_amx_why_not(void) { return "not an x86-64 build"; }
int gk_amx_gemm_exact(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                      int64_t out_stride)
{
    (void)pool, (void)w, (void)bias, (void)x, (void)n, (void)out, (void)out_stride;
    return -1;
}

#endif
