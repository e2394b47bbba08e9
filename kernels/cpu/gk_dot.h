/* gk_dot.h - dot products of one quantized weight row with fp32 activations.
 *
 * The innermost operation of every matmul in the runtime. A row of `cols`
 * values (cols a multiple of the type's block size) is read block by block,
 * each block decoded to fp32 in registers and multiplied with the matching
 * activations; accumulation is fp32. Nothing is dequantized to memory.
 *
 * Block geometry and the reference decoders come from quant/ (quant.h's
 * traits table); kernels/cpu holds only the inner loops, per instruction set.
 *
 * Instruction sets: the scalar path is the portable one; AVX2 (x86-64,
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

/* Kernels of the active path; NULL only for a value that is not a gq_type
 * (every format of quant.h has at least the reference). */
gk_dot_fn gk_dot_for(gq_type t);
gk_decode_fn gk_decode_for(gq_type t);
gk_dotf_fn gk_dotf(void);
gk_tile_fn gk_tile(void);
gk_tile_fn gk_tile_for_isa(gk_isa isa);

/* Kernels of one specific path (tests); a path with no loop of its own for
 * t falls back to the next one down (AVX-512 -> AVX2 -> scalar, NEON ->
 * scalar) and finally to the reference below. */
gk_dot_fn gk_dot_for_isa(gq_type t, gk_isa isa);
gk_decode_fn gk_decode_for_isa(gq_type t, gk_isa isa);
gk_dotf_fn gk_dotf_for_isa(gk_isa isa);

/* The reference every path is tested against, built from quant's traits
 * alone: the row decoded by the format's own decoder (gq_traits.decode),
 * then an fp32 dot in index order. It is also what a format added to quant/
 * runs on before any instruction set has a loop for it. */
gk_dot_fn gk_dot_ref_for(gq_type t);
gk_decode_fn gk_decode_ref_for(gq_type t);

#endif
