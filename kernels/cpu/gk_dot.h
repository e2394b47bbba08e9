/* gk_dot.h - dot products of one quantized weight row with fp32 activations.
 *
 * The innermost operation of every matmul in the runtime. A row of `cols`
 * values (cols a multiple of the type's block size) is read block by block,
 * each block decoded to fp32 in registers and multiplied with the matching
 * activations; accumulation is fp32. Nothing is dequantized to memory.
 *
 * Instruction sets: the scalar path is the portable reference; AVX2 (x86-64,
 * gcc/clang target attributes) and NEON (__aarch64__) paths are chosen at run
 * time by gk_isa_best(), or forced with gk_set_isa() / env GQ_ISA=scalar|avx2|
 * avx512|neon (tests use this to compare paths). Every path returns the same
 * value up to fp32 summation order.
 */
#ifndef GK_DOT_H
#define GK_DOT_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

typedef enum { GK_ISA_SCALAR = 0, GK_ISA_AVX2 = 1, GK_ISA_AVX512 = 2, GK_ISA_NEON = 3 } gk_isa;

/* dot(row, x) over cols values; row is in the type's block layout. */
typedef float (*gk_dot_fn)(const void *row, const float *x, int64_t cols);
/* Decode cols values of one row to fp32 (prefill decodes a row once and
 * reuses it for every token of the batch). */
typedef void (*gk_decode_fn)(const void *row, float *out, int64_t cols);
/* Plain fp32 dot product. */
typedef float (*gk_dotf_fn)(const float *a, const float *b, int64_t n);

/* Prefill tile: out[t * out_stride + r] (+)= dot(w + r * ws, x + t * xs)
 * over n values for r < 4, t < 4 (four decoded weight rows times four
 * tokens, each loaded once per step: the register-blocked inner kernel of
 * batched matmul). accumulate: add to out instead of storing. */
typedef void (*gk_tile_fn)(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out,
                           int64_t out_stride, int accumulate);

/* The best path this CPU supports (honours GQ_ISA if set and supported). */
gk_isa gk_isa_best(void);
/* The active path (gk_isa_best() unless gk_set_isa was called). */
gk_isa gk_isa_active(void);
/* Force a path; returns 0, or -1 if the CPU lacks it (nothing changes). */
int gk_set_isa(gk_isa isa);
const char *gk_isa_name(gk_isa isa);
int gk_isa_supported(gk_isa isa);

/* Kernels of the active path; NULL for a type without a dot kernel (F16 has
 * one; every type of quant.h is covered). */
gk_dot_fn gk_dot_for(gq_type t);
gk_decode_fn gk_decode_for(gq_type t);
gk_dotf_fn gk_dotf(void);
gk_tile_fn gk_tile(void);
gk_tile_fn gk_tile_for_isa(gk_isa isa);

/* Kernels of one specific path (tests); falls back to scalar when the path
 * has no special kernel for t. */
gk_dot_fn gk_dot_for_isa(gq_type t, gk_isa isa);
gk_decode_fn gk_decode_for_isa(gq_type t, gk_isa isa);
gk_dotf_fn gk_dotf_for_isa(gk_isa isa);

/* 2^(e-128) as fp32, exact (denormal for e < 2): the MXFP4 block scale with
 * the doubled E2M1 table of quant.h. */
static inline float gk_e8m0_half(uint8_t e)
{
    union { uint32_t u; float f; } v;
    v.u = e >= 2 ? (uint32_t)(e - 1) << 23 : 0x00400000u >> (1 - e);
    return v.f;
}

#endif
