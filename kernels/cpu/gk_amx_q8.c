/* gk_amx_q8.c - the fast numerics' prefill product on AMX-INT8 (gk_fast.h's
 * rounding and formula; availability as gk_amx.h's, gk_amx_ok()).
 *
 * Tiles: A = 16 weight rows x one block (32 signed codes, K = 32), B = one
 * block of 16 tokens' rounded values (8 rows of 16 x 4 bytes, "VNNI"
 * order), C = 16 rows x 16 tokens of exact int32 block sums (tdpbssd). A
 * block's scales differ by row and by token, so every block's C tile is
 * stored and added into 16 fp32 accumulator registers (one per row, tokens
 * in lanes) as C * (dw[row] * d[token]); four C tiles in a ring, so the
 * tile unit runs blocks k+1..k+3 while the vector units add block k.
 *
 * Work: the tokens are rounded and packed once per product (a pool task per
 * 16-token tile); each task takes 16 weight rows, decodes them to codes
 * once (MXFP4 by nibble lookup, Q4_32 nibble - 8, Q8_32 as stored) with their
 * scales, and runs them against every token tile of an L2-sized chunk.
 * Each output is summed by one thread, blocks in order: the result depends
 * on neither the thread count nor the batch around a token. */
#include "gk_amx.h"
#include "gk_fast_impl.h"

#include <stdlib.h>
#include <string.h>

#include "quant.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define GK_AMXQ                                                                                                      \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c,amx-tile,amx-bf16,amx-int8")))

enum {
    BV = GQ_BLOCK_VALUES,
    BSTEP = 16 * BV,          /* packed values of one token tile and block: 512 bytes */
    CHUNK = 3 << 19           /* packed activations per chunk (of a 2 MB L2) */
};

typedef struct {
    const gk_mat *w;
    const float *bias, *x;
    float *out;
    int64_t os;
    int n, nb, nt, chunk_tiles, row_tasks;
    int64_t per;               /* rows per task, a multiple of 16 */
    int8_t *bq;                /* [nt][nb][8][16][4] */
    float *bd;                 /* [nt][nb][16] */
    uint8_t *scratch;          /* per thread: A codes [16][nb][32], scales [16][nb] */
    size_t scratch_per;
} q8_ctx;

/* Round 16 tokens (tile tt) and lay them out as B tiles; missing tokens 0. */
GK_AMXQ static void q8_pack(void *p, int tt, int thread)
{
    (void)thread;
    q8_ctx *g = p;
    int nb = g->nb;
    int8_t *bq = g->bq + (size_t)tt * (size_t)nb * BSTEP;
    float *bd = g->bd + (size_t)tt * (size_t)nb * 16;
    int j0 = tt * 16, jn = g->n - j0 < 16 ? g->n - j0 : 16;
    if (jn < 16) {
        memset(bq, 0, (size_t)nb * BSTEP);
        memset(bd, 0, (size_t)nb * 16 * sizeof *bd);
    }
    int8_t q[BV];
    float d;
    const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    for (int j = 0; j < jn; j++) {
        const float *xr = g->x + (size_t)(j0 + j) * (size_t)g->w->cols;
        for (int b = 0; b < nb; b++) {
            gk_fast_round(xr + (size_t)b * BV, BV, q, &d);
            /* dword kk (values 4kk..4kk+3) to row kk, token j */
            _mm256_i32scatter_epi32((int *)(bq + (size_t)b * BSTEP) + j, idx, _mm256_loadu_si256((const __m256i *)q), 4);
            bd[(size_t)b * 16 + (size_t)j] = d;
        }
    }
}

/* 16 rows from r0 (nr of them real) to signed codes A[row][block][32] and
 * scales S[row][block]. Two blocks at a time: their 16-byte nibble runs in
 * one ymm, looked up, then each block's low and high halves joined. */
GK_AMXQ static void q8_decode(const gk_mat *w, int64_t r0, int nr, int nb, int8_t *A, float *S)
{
    const __m256i m4 = _mm256_set1_epi8(15), k8 = _mm256_set1_epi8(GQ_Q4_32_ZERO);
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_setr_epi8(GQ_MXFP4_KVALUES));
    int mx = w->type == GQ_MXFP4;
    size_t bb = w->type == GQ_Q8_32 ? GQ_Q8_32_BLOCK_BYTES : mx ? GQ_MXFP4_BLOCK_BYTES : GQ_Q4_32_BLOCK_BYTES;
    size_t qo = w->type == GQ_Q8_32 ? GQ_Q8_32_QS_OFFSET : mx ? GQ_MXFP4_QS_OFFSET : GQ_Q4_32_QS_OFFSET;
    for (int r = 0; r < 16; r++) {
        int8_t *a = A + (size_t)r * (size_t)nb * BV;
        float *s = S + (size_t)r * (size_t)nb;
        if (r >= nr) {
            memset(a, 0, (size_t)nb * BV);
            memset(s, 0, (size_t)nb * sizeof *s);
            continue;
        }
        const uint8_t *row = (const uint8_t *)w->data + (size_t)(r0 + r) * w->row_bytes;
        if (w->type == GQ_Q8_32) {
            for (int b = 0; b < nb; b++) {
                const uint8_t *blk = row + (size_t)b * bb;
                _mm256_storeu_si256((__m256i *)(a + (size_t)b * BV), _mm256_loadu_si256((const __m256i *)(blk + qo)));
                s[b] = _cvtsh_ss((unsigned short)(blk[0] | blk[1] << 8));
            }
            continue;
        }
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            const uint8_t *blk = row + (size_t)b * bb;
            __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(blk + qo))),
                                                _mm_loadu_si128((const __m128i *)(blk + bb + qo)), 1);
            __m256i lo = _mm256_and_si256(y, m4), hi = _mm256_and_si256(_mm256_srli_epi16(y, 4), m4);
            if (mx) {
                lo = _mm256_shuffle_epi8(lut, lo);
                hi = _mm256_shuffle_epi8(lut, hi);
                s[b] = gq_e8m0_half_table[blk[GQ_MXFP4_SCALE_OFFSET]];
                s[b + 1] = gq_e8m0_half_table[blk[bb + GQ_MXFP4_SCALE_OFFSET]];
            } else {
                lo = _mm256_sub_epi8(lo, k8);
                hi = _mm256_sub_epi8(hi, k8);
                s[b] = _cvtsh_ss((unsigned short)(blk[0] | blk[1] << 8));
                s[b + 1] = _cvtsh_ss((unsigned short)(blk[bb] | blk[bb + 1] << 8));
            }
            _mm256_storeu_si256((__m256i *)(a + (size_t)b * BV), _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256((__m256i *)(a + (size_t)(b + 1) * BV), _mm256_permute2x128_si256(lo, hi, 0x31));
        }
        for (; b < nb; b++) { /* an odd last block */
            const uint8_t *blk = row + (size_t)b * bb;
            __m128i q = _mm_loadu_si128((const __m128i *)(blk + qo));
            __m128i lo = _mm_and_si128(q, _mm256_castsi256_si128(m4));
            __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), _mm256_castsi256_si128(m4));
            if (mx) {
                lo = _mm_shuffle_epi8(_mm256_castsi256_si128(lut), lo);
                hi = _mm_shuffle_epi8(_mm256_castsi256_si128(lut), hi);
                s[b] = gq_e8m0_half_table[blk[GQ_MXFP4_SCALE_OFFSET]];
            } else {
                lo = _mm_sub_epi8(lo, _mm256_castsi256_si128(k8));
                hi = _mm_sub_epi8(hi, _mm256_castsi256_si128(k8));
                s[b] = _cvtsh_ss((unsigned short)(blk[0] | blk[1] << 8));
            }
            _mm_storeu_si128((__m128i *)(a + (size_t)b * BV), lo);
            _mm_storeu_si128((__m128i *)(a + (size_t)b * BV + 16), hi);
        }
    }
}

/* acc[r] += C[r] * (S[r] * d) for the 16 rows of C tile `c` (stored to cb
 * first), block b */
#define Q8_POST(c, b)                                                                                                \
    do {                                                                                                             \
        _tile_stored(c, cb, 64);                                                                                     \
        __m512 dxv_ = _mm512_loadu_ps(D + (size_t)(b) * 16);                                                         \
        _Pragma("GCC unroll 16") for (int r_ = 0; r_ < 16; r_++) acc[r_] = _mm512_fmadd_ps(                         \
            _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(cb + r_ * 16))),                                    \
            _mm512_mul_ps(dxv_, _mm512_set1_ps(S[(size_t)r_ * (size_t)nb + (size_t)(b)])), acc[r_]);                 \
    } while (0)

/* C tile c = codes (A tile a) x values (B tile bt) of block b, if b < nb */
#define Q8_ISSUE(c, a, bt, b)                                                                                        \
    do {                                                                                                             \
        if ((b) < nb) {                                                                                              \
            _tile_zero(c);                                                                                           \
            _tile_loadd(a, A + (size_t)(b) * BV, astr);                                                              \
            _tile_loadd(bt, B + (size_t)(b) * BSTEP, 64);                                                            \
            _tile_dpbssd(c, a, bt);                                                                                  \
        }                                                                                                            \
    } while (0)

/* 16 rows (codes A, scales S) x token tiles [ta, tb). Four C tiles in a
 * ring (0..3; A tiles 4/5 and B tiles 6/7 by parity): block b+3 is issued
 * before block b is added, so the tile unit's latency is covered. */
GK_AMXQ static void q8_rows(const q8_ctx *g, const int8_t *A, const float *S, int64_t r0, int ta, int tb, int32_t *cb)
{
    int nb = g->nb;
    size_t astr = (size_t)nb * BV;
    int64_t nr = g->w->rows - r0 < 16 ? g->w->rows - r0 : 16;
    for (int tt = ta; tt < tb; tt++) {
        const int8_t *B = g->bq + (size_t)tt * (size_t)nb * BSTEP;
        const float *D = g->bd + (size_t)tt * (size_t)nb * 16;
        __m512 acc[16]; /* registers: every index below is a constant after unrolling */
        _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
        Q8_ISSUE(0, 4, 6, 0);
        Q8_ISSUE(1, 5, 7, 1);
        Q8_ISSUE(2, 4, 6, 2);
        for (int b = 0; b < nb; b += 4) {
            Q8_ISSUE(3, 5, 7, b + 3);
            Q8_POST(0, b);
            Q8_ISSUE(0, 4, 6, b + 4);
            if (b + 1 < nb)
                Q8_POST(1, b + 1);
            Q8_ISSUE(1, 5, 7, b + 5);
            if (b + 2 < nb)
                Q8_POST(2, b + 2);
            Q8_ISSUE(2, 4, 6, b + 6);
            if (b + 3 < nb)
                Q8_POST(3, b + 3);
        }
        /* rows x tokens to out[token][row] */
        float *t = (float *)cb;
        int nt = g->n - tt * 16 < 16 ? g->n - tt * 16 : 16;
        _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++) _mm512_storeu_ps(t + r * 16, acc[r]);
        for (int r = 0; r < nr; r++) {
            float bias = g->bias ? g->bias[r0 + r] : 0.0f;
            for (int j = 0; j < nt; j++)
                g->out[(size_t)(tt * 16 + j) * (size_t)g->os + (size_t)(r0 + r)] = t[r * 16 + j] + bias;
        }
    }
}

GK_AMXQ static void q8_task(void *p, int task, int thread)
{
    const q8_ctx *g = p;
    int chunk = task / g->row_tasks;
    int64_t r0 = (int64_t)(task % g->row_tasks) * g->per, r1 = r0 + g->per < g->w->rows ? r0 + g->per : g->w->rows;
    int ta = chunk * g->chunk_tiles, tb = ta + g->chunk_tiles < g->nt ? ta + g->chunk_tiles : g->nt;
    uint8_t *base = g->scratch + (size_t)thread * g->scratch_per;
    int8_t *A = (int8_t *)base;
    float *S = (float *)(base + (size_t)16 * (size_t)g->nb * BV);
    int32_t *cb = (int32_t *)(S + (size_t)16 * (size_t)g->nb);
    /* tiles 0..3: C (16 x 64); 4, 5: A (16 x 32); 6, 7: B (8 x 64) */
    static const uint8_t rows[8] = {16, 16, 16, 16, 16, 16, 8, 8};
    static const uint16_t colsb[8] = {64, 64, 64, 64, 32, 32, 64, 64};
    gk_amx_load_config(8, rows, colsb);
    for (int64_t r = r0; r < r1; r += 16) {
        q8_decode(g->w, r, r1 - r < 16 ? (int)(r1 - r) : 16, g->nb, A, S);
        q8_rows(g, A, S, r, ta, tb, cb);
    }
    _tile_release();
}

int gk_amx_gemm_fast(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                     int64_t out_stride)
{
    if (!gk_fast_ok(w->type, w->cols) || !gk_amx_ok())
        return -1;
    if (n <= 0 || w->rows <= 0)
        return 0;
    int threads = gk_pool_size(pool);
    q8_ctx g = {w, bias, x, out, out_stride, n, (int)(w->cols / BV), (n + 15) / 16, 0, 0, 0, NULL, NULL, NULL, 0};
    size_t tile_bytes = (size_t)g.nb * (BSTEP + 16 * sizeof(float));
    g.bq = gk_alloc64((size_t)g.nt * (size_t)g.nb * BSTEP);
    g.bd = gk_alloc64((size_t)g.nt * (size_t)g.nb * 16 * sizeof(float));
    /* codes, scales, one C tile (and the 16 x 16 transpose) */
    g.scratch_per = ((size_t)16 * (size_t)g.nb * (BV + sizeof(float)) + 1024 + 63) & ~(size_t)63;
    g.scratch = gk_alloc64((size_t)threads * g.scratch_per);
    if (!g.bq || !g.bd || !g.scratch) {
        free(g.bq);
        free(g.bd);
        free(g.scratch);
        return -1;
    }
    gk_pool_run(pool, q8_pack, &g, g.nt);
    int ct = (int)(CHUNK / tile_bytes);
    g.chunk_tiles = ct < 1 ? 1 : ct;
    int chunks = (g.nt + g.chunk_tiles - 1) / g.chunk_tiles;
    int64_t tiles = (w->rows + 15) / 16, want = (int64_t)threads * 4;
    g.per = (tiles + want - 1) / want * 16;
    g.row_tasks = (int)((w->rows + g.per - 1) / g.per);
    gk_pool_run(pool, q8_task, &g, chunks * g.row_tasks);
    free(g.bq);
    free(g.bd);
    free(g.scratch);
    return 0;
}

#else /* not x86-64 */

int gk_amx_gemm_fast(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                     int64_t out_stride)
{
    (void)pool, (void)w, (void)bias, (void)x, (void)n, (void)out, (void)out_stride;
    return -1;
}

#endif
