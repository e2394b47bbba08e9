/* quant.h - block formats of gptoss-convert, as one table of traits.
 *
 * Every weight the converter writes and the runtime reads is stored in one of
 * the block formats below. A format is a row of `gq_traits`: how many values a
 * block holds, how many bytes it takes, how to turn blocks into floats and
 * floats into blocks. Code that handles "any format" looks the row up instead
 * of switching on the type (the ggml type-traits idea).
 *
 * This module includes nothing else of the project and allocates nothing.
 *
 * Block layouts (all little-endian, all blocks of 32 values cover 32
 * consecutive elements of one row):
 *   F32    4 bytes per value.
 *   F16    IEEE half, 2 bytes per value.
 *   BF16   bfloat16, 2 bytes per value.
 *   MXFP4  17 bytes: u8 e, u8 qs[16]; value j = K[qs[j] & 15] * 2^(e-128),
 *          value j+16 = K[qs[j] >> 4] * 2^(e-128),
 *          K = {0,1,2,3,4,6,8,12,0,-1,-2,-3,-4,-6,-8,-12}
 *          (identical to ggml's MXFP4 block, so GGUF export is a copy; note
 *          Hugging Face's nibble order differs: see gq_mxfp4_from_hf).
 *   Q8_32  34 bytes: f16 d, i8 qs[32]; value j = qs[j] * d (ggml's Q8_0).
 *   Q4_32  18 bytes: f16 d, u8 qs[16]; value j = ((qs[j] & 15) - 8) * d,
 *          value j+16 = ((qs[j] >> 4) - 8) * d (ggml's Q4_0 layout; only the
 *          choice of d differs: ours minimizes squared error).
 *
 * Encoders (all deterministic: same bytes on every machine, compiler and
 * thread count; blocks are independent, so any chunking gives the same bytes):
 *   F16/BF16  round to nearest even (NaN stays NaN, overflow gives inf).
 *   MXFP4     smallest scale byte e with max|x| <= 12 * 2^(e-128), each value
 *             to the nearest grid value, ties to the even code; NaN -> 0.
 *   Q8_32     lossless whenever the block is a set of integers times one
 *             power of two 2^p (|int| <= 127, 2^-24 <= 2^p <= 2^15): then
 *             d = 2^p. Every MXFP4 block with scale byte 104..146 is such a
 *             block. Otherwise d = f16(max|x| / 127), nearest q.
 *   Q4_32     d searched to minimize the squared error (docs/QUANT.md);
 *             never worse than llama.cpp's Q4_0 rule on any block.
 *   Q8/Q4 keep blocks finite: inf saturates, NaN encodes as 0.
 * Decoders are exact (every block value is representable in f32); an MXFP4
 * scale byte of 255 gives +-inf for |K| >= 2, as exact arithmetic does.
 */
#ifndef GQ_QUANT_H
#define GQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    GQ_F32 = 0,
    GQ_F16 = 1,
    GQ_BF16 = 2,
    GQ_MXFP4 = 3,
    GQ_Q8_32 = 4,
    GQ_Q4_32 = 5,
    GQ_TYPE_COUNT
} gq_type;

/* Statistics an encoder accumulates; callers zero it, encoders add to it.
 * Summing over chunks in any order gives the same totals except sq_err. */
typedef struct {
    uint64_t blocks;          /* blocks encoded */
    uint64_t inexact_blocks;  /* blocks whose decode differs from the input */
    double sq_err;            /* sum of (decoded - input)^2 */
    double sq_ref;            /* sum of input^2 (for relative error) */
    uint64_t values;          /* values encoded */
} gq_stats;

typedef struct {
    gq_type type;
    const char *name;        /* "f32", "f16", "bf16", "mxfp4", "q8_32", "q4_32" */
    int block_values;        /* values per block (1 for scalar types, else 32) */
    int block_bytes;         /* bytes per block */
    /* decode n values (n a multiple of block_values) from blocks to out */
    void (*decode)(const void *blocks, float *out, size_t n);
    /* encode n values; stats may be NULL. NULL for formats we never encode
     * to from floats (none today; MXFP4 encodes by nearest value). */
    void (*encode)(const float *in, void *blocks, size_t n, gq_stats *stats);
} gq_traits;

/* The row for a type, or NULL for an out-of-range value. */
const gq_traits *gq_traits_of(gq_type type);
/* Lookup by name ("q8" and "q4" are accepted for q8_32 / q4_32); NULL if unknown. */
const gq_traits *gq_traits_by_name(const char *name);

/* Bytes for n values of a type; 0 if n is not a multiple of the block size
 * or the size would overflow. */
size_t gq_row_bytes(gq_type type, uint64_t n);

/* Scalar conversions, exact where the target can hold the value. */
float gq_bf16_to_f32(uint16_t h);
uint16_t gq_f32_to_bf16(float f);   /* round to nearest even, NaN stays NaN */
float gq_f16_to_f32(uint16_t h);
uint16_t gq_f32_to_f16(float f);    /* round to nearest even, saturating to inf */

/* FP4 E2M1 code (0..15) to value, as in the OCP MX spec. */
extern const float gq_fp4_values[16];

/* Hugging Face / OpenAI MXFP4 storage: for one row of `nblocks` blocks,
 * `codes` holds 16 bytes per block (element 2k is the low nibble of byte k,
 * 2k+1 the high nibble) and `scales` one E8M0 byte per block
 * (value = FP4[code] * 2^(scale-127)). Re-lays them out as GQ_MXFP4 blocks.
 * Exact: no value changes. */
void gq_mxfp4_from_hf(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out_blocks);

/* Decode HF-layout MXFP4 directly to floats (exact; as fast as the block decode). */
void gq_mxfp4_hf_decode(const uint8_t *codes, const uint8_t *scales, size_t nblocks, float *out);

#endif
