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

#endif
