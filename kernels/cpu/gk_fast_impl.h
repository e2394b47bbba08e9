/* gk_fast_impl.h - private to kernels/cpu: what the fast-numerics files
 * share (gk_fast.c, gk_fast_x86.c, gk_fast_neon.c, gk_amx_q8.c).
 *
 * A token row is rounded once per product (gk_fast.h's rule) and packed for
 * the weight type it meets, so the integer loops need no shuffles on the
 * activation side:
 *   - q: the rounded values. Nibble formats (MXFP4, Q4_32) keep a block's
 *     values j and j+16 in one byte's two nibbles; unpacking two blocks'
 *     16 bytes gives [lo(b), lo(b+1)] and [hi(b), hi(b+1)], so q is stored
 *     per pair of blocks in "pair order": b[0..15], b+1[0..15], b[16..31],
 *     b+1[16..31]. Q8_32 and a trailing odd block: natural order.
 *   - corr: one int32 per 4 values: -c * (their sum of q), where c is the
 *     offset that makes the weight codes unsigned for u8 x s8 products
 *     (vpdpbusd): MXFP4 codes + 12, Q4_32 nibbles (codes + 8), Q8_32 codes
 *     + 128. An accumulator started at corr ends at sum (w - c + c) q - c
 *     sum q = sum w q.
 *   - dxv: per pair of blocks 16 floats, block scale d by lane of the
 *     16 int32 lanes the pair's 64 products land in (lanes of 4 values:
 *     pair order b,b+1,b,b+1 by 4 lanes; natural order b x8, b+1 x8).
 *   - d: per block (scalar loops, odd trailing block).
 * The decoded weight row of prefill uses the same layout: u8 codes in q's
 * order, and dwv by lane like dxv.
 *
 * Quad order (MXFP4 rows for a path whose `quads` is set: AVX512-VBMI's
 * decode dot, which gathers 4 blocks' nibbles with one byte permute): each
 * run of 4 whole blocks b..b+3 keeps their values 0..15 then their values
 * 16..31, b[0..15], b+1[0..15], b+2[0..15], b+3[0..15], b[16..31], ...; the
 * two unpacked halves are then [lo(b..b+3)] and [hi(b..b+3)] and land in the
 * same 16 lanes (block b + lane / 4), so one integer sum serves 128 values.
 * For quad j: corr[32j + l] is lane l's correction for both halves (the
 * sum of the two per-4 corrections; corr[32j + 16 ..] is the plain one of
 * the hi half, unused), dxv[32j + l] = d[4j + l / 4] (32j + 16 .. unused).
 * Blocks after the last whole quad: pair order, then natural order, as
 * above (same offsets: every block takes 32 bytes of q, 8 of corr). */
#ifndef GK_FAST_IMPL_H
#define GK_FAST_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "gk_fast.h"

typedef struct {
    int64_t cols;
    int nb;              /* blocks */
    gq_type wt;          /* the weight type it is packed for */
    int quads;           /* MXFP4 in quad order (above) */
    int8_t *q;           /* cols */
    int32_t *corr;       /* cols / 4 */
    float *dxv;          /* (nb / 2) * 16 */
    float *d;            /* nb */
} gk_xpack;

/* bytes of one packed token row (64-byte multiple) */
size_t gk_xpack_bytes(int64_t cols);
/* Lay a packed row over mem (gk_xpack_bytes(cols), 64-aligned) and fill it
 * from x (cols fp32) for weights of type wt; quads: quad order where wt is
 * MXFP4 (ignored for other types). */
void gk_xpack_fill(gk_xpack *p, void *mem, const float *x, int64_t cols, gq_type wt, int quads);

/* u8 offset of a weight type's codes (see corr above) */
int gk_fast_offset(gq_type wt);
/* 1 if the type's blocks are stored as nibble pairs (pair order) */
int gk_fast_nibbles(gq_type wt);

/* One integer path: the raw-row dot of decode; for prefill without AMX,
 * a row decoded once (u8 codes in q's order, dwv by lane) then dotted with
 * every token. decode/dot_dec: wu holds cols bytes, dwv (nb / 2) * 16 floats
 * + 1 (a trailing odd block's scale at the end). */
typedef struct {
    const char *name;
    float (*dot)(const uint8_t *row, const gk_xpack *x);
    void (*decode)(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv);
    float (*dot_dec)(const uint8_t *wu, const float *dwv, const gk_xpack *x);
    int quads; /* dot wants MXFP4 rows packed in quad order (decode, dot_dec: never) */
    /* prefill's tile, or NULL (rows and tokens one by one): two decoded rows
     * times two tokens, out = {r0 t0, r0 t1, r1 t0, r1 t1}, each the same
     * bits dot_dec gives (the integer block sums are exact whatever pairs
     * them; the float steps are gk_fast_pair_acc's, in dot_dec's order) */
    void (*dot_dec22)(const uint8_t *wu0, const float *dwv0, const uint8_t *wu1, const float *dwv1,
                      const gk_xpack *x0, const gk_xpack *x1, float out[4]);
} gk_fast_kernels;

/* One pair of blocks into a decoded-row dot's running sum s: the two exact
 * integer block sums times dw * dx each. The one expression of the NEON
 * dot_dec and the i8mm tile, so that both round alike. */
static inline float gk_fast_pair_acc(float s, int32_t i0, int32_t i1, float dw0, float dw1, float dx0, float dx1)
{
    return s + ((float)i0 * (dw0 * dx0) + (float)i1 * (dw1 * dx1));
}

extern const gk_fast_kernels gk_fast_scalar;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
extern const gk_fast_kernels gk_fast_avx2;
extern const gk_fast_kernels gk_fast_avxvnni;
extern const gk_fast_kernels gk_fast_avx512vnni;
/* AVX512-VNNI with VBMI's byte permutes for MXFP4 decode (Ice Lake on) */
extern const gk_fast_kernels gk_fast_avx512vbmi;
/* gk_fast_round with AVX-512F (the same fp32 operations: bit for bit) */
void gk_fast_round_avx512(const float *x, int64_t cols, int8_t *q, float *d);
#endif
#if defined(__aarch64__)
extern const gk_fast_kernels gk_fast_neon_dotprod;
/* + the 8-bit matrix multiply (FEAT_I8MM: smmla; Apple M2 on, Graviton 3
 * on) for prefill's 2 x 2 tiles; decode as neon-dotprod (gk_fast_neon_i8mm.c) */
extern const gk_fast_kernels gk_fast_neon_i8mm;
int gk_fast_neon_has_i8mm(void);
/* neon-dotprod's loops, which neon-i8mm shares */
float gk_fast_neon_dot(const uint8_t *row, const gk_xpack *x);
void gk_fast_neon_decode(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv);
float gk_fast_neon_dot_dec(const uint8_t *wu, const float *dwv, const gk_xpack *x);
/* 1 if this CPU has the dot-product extension (FEAT_DotProd) */
int gk_fast_neon_has_dotprod(void);
/* 1 if the CPU says it has a feature: Linux bit `bit` of AT_HWCAP (hwcap2 0)
 * or AT_HWCAP2, macOS sysctl apple_name; 0 elsewhere */
int gk_neon_cpu_has(int hwcap2, int bit, const char *apple_name);
#endif

/* The scalar block product of block b (any order the pack uses): the exact
 * integer sum of the decoded codes times the packed values. For the scalar
 * loops and the odd trailing block of the SIMD ones. */
int32_t gk_fast_block_isum(const uint8_t *wu, const gk_xpack *x, int b);
/* dw of block b of a raw row */
float gk_fast_block_scale(gq_type wt, const uint8_t *row, int b);

/* The odd trailing block (natural order) for the SIMD loops, which do
 * pairs: its contribution to a raw-row dot; its codes and scale into a
 * decoded row; its contribution to a decoded-row dot. 0 / nothing when nb
 * is even. */
float gk_fast_tail(const uint8_t *row, const gk_xpack *x);
void gk_fast_decode_tail(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv);
float gk_fast_dec_tail(const uint8_t *wu, const float *dwv, const gk_xpack *x);

/* AMX-INT8 prefill (gk_amx_q8.c): 0, or -1 (no AMX, out of memory) */
int gk_amx_gemm_fast(gk_pool *pool, const gk_mat *w, const float *bias, const float *x, int n, float *out,
                     int64_t out_stride);

#endif
