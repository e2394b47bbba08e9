/* gk_dot_impl.h - private to kernels/cpu: the per-instruction-set kernel
 * tables that gk_dot.c chooses from, and two loads the loops share. Not part
 * of the kernels API.
 *
 * Block geometry, the FP4 values, the E8M0 scale and the f16 / bf16
 * conversions all come from quant/ (quant_blocks.h, quant.h); a file here
 * holds only the inner loops of one instruction set. */
#ifndef GK_DOT_IMPL_H
#define GK_DOT_IMPL_H

#include <string.h>

#include "gk_dot.h"

/* little-endian f16 / bf16 at p, through quant's exact conversions */
static inline float gk_f16p(const uint8_t *p) { return gq_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }
static inline float gk_bf16p(const uint8_t *p) { return gq_bf16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* The loops of one instruction set, indexed by gq_type. NULL where the set
 * has none of its own: gk_dot.c then asks the next set down (AVX-512 ->
 * AVX2 -> scalar, NEON -> scalar) and, for a format no set has a loop for,
 * uses the reference built from quant's decoder (gk_dot_ref_for). */
typedef struct {
    gk_dot_fn dot[GQ_TYPE_COUNT];
    gk_decode_fn decode[GQ_TYPE_COUNT];
    gk_dotf_fn dotf;
    gk_tile_fn tile;
} gk_isa_kernels;

extern const gk_isa_kernels gk_kernels_scalar;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GK_HAVE_X86 1
extern const gk_isa_kernels gk_kernels_avx2;
extern const gk_isa_kernels gk_kernels_avx512;
#endif

#if defined(__aarch64__)
extern const gk_isa_kernels gk_kernels_neon;
#endif

#endif
