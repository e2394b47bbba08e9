/* quant_internal.h - what the codec files of quant/ share with the traits
 * table in quant.c. Not part of the public contract: include quant.h. */
#ifndef GQ_QUANT_INTERNAL_H
#define GQ_QUANT_INTERNAL_H

#include "quant.h"

void gq__f32_decode(const void *blocks, float *out, size_t n);
void gq__f32_encode(const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__f16_decode(const void *blocks, float *out, size_t n);
void gq__f16_encode(const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__bf16_decode(const void *blocks, float *out, size_t n);
void gq__bf16_encode(const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__mxfp4_decode(const void *blocks, float *out, size_t n);
void gq__mxfp4_encode(const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__q8_decode(const void *blocks, float *out, size_t n);
void gq__q8_encode(const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__q4_decode(const void *blocks, float *out, size_t n);
void gq__q4_encode(const float *in, void *blocks, size_t n, gq_stats *stats);

/* Adds one block (or run of scalars) to stats: `dec` is what the encoded
 * bytes decode to. Inexact means some value differs bit-for-bit in value
 * (NaN in, NaN out counts as exact; -0 and +0 as equal). */
void gq__stats_add(gq_stats *stats, const float *in, const float *dec, size_t n, uint64_t blocks);

/* ---- the SIMD paths of the q4 and q8 encoders ----
 * Every path writes the same bytes as the portable one (the rule written
 * once in q4.c / q8.c); tests/quant compares them on every kind of block and
 * bench_quant times each. GQ_ISA_* name the paths; gq__isa() is the best
 * one this CPU runs, capped by the environment variable GPTOSS_QUANT_ISA
 * ("portable", "avx2", "avx512": for comparing whole converted files). */
enum { GQ_ISA_PORTABLE = 0, GQ_ISA_AVX2 = 1, GQ_ISA_AVX512 = 2 };
int gq__isa(void);
/* the cap GPTOSS_QUANT_ISA asks for (GQ_ISA_AVX512 when unset) */
int gq__isa_cap(void);
int gq__isa_supported(int isa);
/* encode with the given path (one the CPU supports; see gq__isa_supported) */
void gq__q4_encode_isa(int isa, const float *in, void *blocks, size_t n, gq_stats *stats);
void gq__q8_encode_isa(int isa, const float *in, void *blocks, size_t n, gq_stats *stats);

/* The shared driver of q4 and q8: blocks 16 (AVX-512) or 8 (AVX2) at a
 * time through lanes16 / lanes8 (the last group padded), a group they
 * refuse (inf / NaN) and every block on the portable path through `block`
 * (one block's bytes) and `decode` (for the stats). */
typedef int (*gq__lanes_fn)(const float *in, uint8_t *out, size_t nb, gq_stats *stats);
void gq__encode_blocks(int isa, const float *in, uint8_t *out, size_t nb, int block_bytes, gq__lanes_fn lanes16,
                       gq__lanes_fn lanes8, void (*block)(const float *in, uint8_t *out),
                       void (*decode)(const void *blocks, float *out, size_t n), gq_stats *stats);

/* mxfp4_q8.c: gq_mxfp4_hf_to_q8's paths (same bytes; the scalar one is the
 * rule, the reference the others are tested against). The best one the CPU
 * runs is taken, capped by GPTOSS_QUANT_ISA ("portable": scalar, "avx2":
 * SSSE3). */
enum { GQ_HFQ8_SCALAR = 0, GQ_HFQ8_SSSE3 = 1, GQ_HFQ8_VBMI = 2 };
int gq__hfq8_path_supported(int path);
void gq__mxfp4_hf_to_q8_path(int path, const uint8_t *codes, const uint8_t *scales, size_t nblocks,
                             void *out_blocks, gq_stats *stats);

/* q4's candidate factors k of the inverse scale k / m (q4.c says why these) */
#define GQ__Q4_KGRID {-9.0f, -8.5f, -8.0f, -7.5f, -7.0f, -6.5f}
enum { GQ__Q4_NK = 6 };

/* lanes_x86.c: nb (1..16 for AVX-512, 1..8 for AVX2) consecutive blocks,
 * one block per vector lane, stats as the portable path adds them. Return
 * 0, having written nothing, when a block holds an inf or NaN (the caller
 * then takes the portable path for them). Absent (return 0) off x86-64. */
int gq__q4_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats);
int gq__q4_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats);
int gq__q8_encode16_avx512(const float *in, uint8_t *out, size_t nb, gq_stats *stats);
int gq__q8_encode8_avx2(const float *in, uint8_t *out, size_t nb, gq_stats *stats);

#endif
