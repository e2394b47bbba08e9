/* quant.h - block formats of gptoss-convert, as one table of traits.
 *
 * Every weight the converter writes and the runtime reads is stored in one of
 * the block formats below. A format is a row of `gq_traits`: how many values a
 * block holds, how many bytes it takes, how to turn blocks into floats and
 * floats into blocks. Code that handles "any format" looks the row up instead
 * of switching on the type (the ggml type-traits idea).
 *
 * This module includes nothing else of the project and allocates nothing.
 * The ids and byte geometry are #defines in quant_blocks.h (shared with the
 * GPU shaders); this header is where C code looks everything else up.
 * docs/QUANT.md "Adding a block format" lists what a new format touches.
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
#include <string.h>

#include "quant_blocks.h"

typedef enum {
    GQ_F32 = GQ_T_F32,
    GQ_F16 = GQ_T_F16,
    GQ_BF16 = GQ_T_BF16,
    GQ_MXFP4 = GQ_T_MXFP4,
    GQ_Q8_32 = GQ_T_Q8_32,
    GQ_Q4_32 = GQ_T_Q4_32,
    GQ_TYPE_COUNT = GQ_T_COUNT
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

/* What a format may store (gq_traits.uses), a property of the format that
 * the converter's recipes and the model loader check instead of listing
 * types:
 *   GQ_USE_DENSE    dense matrices (embedding, attention, output head).
 *                   Not MXFP4: it only ever comes from the checkpoint's own
 *                   MXFP4 experts; re-encoding bf16 weights to FP4 would
 *                   lose far more than q4_32 does.
 *   GQ_USE_EXPERTS  the MoE expert matrices (every format).
 *   GQ_USE_RECIPE   a choice of the converter's --quant / per-class options
 *                   (bf16, mxfp4, q8, q4; f32 and f16 only pass through). */
enum { GQ_USE_DENSE = 1u, GQ_USE_EXPERTS = 2u, GQ_USE_RECIPE = 4u };

/* ggml's numbers for our formats (ggml.h enum ggml_type; llama.h enum
 * llama_ftype), written once here for the traits rows; formats/gguf.h
 * names the whole ggml type table from them. */
#define GQ_GGML_TYPE_F32 0
#define GQ_GGML_TYPE_F16 1
#define GQ_GGML_TYPE_Q4_0 2
#define GQ_GGML_TYPE_Q8_0 8
#define GQ_GGML_TYPE_BF16 30
#define GQ_GGML_TYPE_MXFP4 39
#define GQ_LLAMA_FTYPE_ALL_F32 0
#define GQ_LLAMA_FTYPE_MOSTLY_F16 1
#define GQ_LLAMA_FTYPE_MOSTLY_Q4_0 2
#define GQ_LLAMA_FTYPE_MOSTLY_Q8_0 7
#define GQ_LLAMA_FTYPE_MOSTLY_BF16 32
#define GQ_LLAMA_FTYPE_MOSTLY_MXFP4_MOE 38

typedef struct {
    gq_type type;
    const char *name;        /* "f32", "f16", "bf16", "mxfp4", "q8_32", "q4_32" */
    int block_values;        /* values per block (1 for scalar types, else GQ_BLOCK_VALUES) */
    int block_bytes;         /* bytes per block */
    /* Decode n values (n a multiple of block_values) from blocks to out:
     * exact, and the scalar reference every kernel is tested against (the
     * CPU kernels fall back to it for a format they have no loop for). */
    void (*decode)(const void *blocks, float *out, size_t n);
    /* encode n values; stats may be NULL. NULL for formats we never encode
     * to from floats (none today; MXFP4 encodes by nearest value). */
    void (*encode)(const float *in, void *blocks, size_t n, gq_stats *stats);
    const char *short_name;  /* the CLI / recipe spelling: "q8", "q4", else name */
    unsigned uses;           /* GQ_USE_* */
    int ggml_type;           /* ggml type id with byte-identical blocks; -1 if none */
    int gguf_file_type;      /* llama.cpp general.file_type of a GGUF whose experts are this type */
    /* The type ggml's CPU matmul rounds the activations to before it
     * multiplies them with a weight of this type (llama.cpp's vec_dot_type):
     * GQ_Q8_32 (ggml's Q8_0 rule, not our encoder) or the type itself. */
    gq_type ggml_act_type;
} gq_traits;

/* The row for a type, or NULL for an out-of-range value. */
const gq_traits *gq_traits_of(gq_type type);
/* Lookup by name or short name ("q8", "q4"); NULL if unknown. */
const gq_traits *gq_traits_by_name(const char *name);

/* Bytes for n values of a type; 0 if n is not a multiple of the block size
 * or the size would overflow. */
size_t gq_row_bytes(gq_type type, uint64_t n);

/* Scalar conversions, exact where the target can hold the value. The two
 * decodes are inline: the kernels call them once per block. */
static inline float gq_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
uint16_t gq_f32_to_bf16(float f);   /* round to nearest even, NaN stays NaN */
static inline float gq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu, u;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in f32 */
        float v = (float)man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 0x1f)                              /* inf / NaN (payload kept) */
        u = sign | 0x7f800000u | (man << 13);
    else
        u = sign | ((exp + 112u) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
uint16_t gq_f32_to_f16(float f);    /* round to nearest even, saturating to inf */

/* FP4 E2M1 code (0..15) to value, as in the OCP MX spec. */
extern const float gq_fp4_values[16];
/* The same doubled (GQ_MXFP4_KVALUES: integers, code 8 = +0): what an MXFP4
 * block multiplies by its scale 2^(e-128). */
extern const float gq_mxfp4_kvalues[16];

/* The MXFP4 block scale 2^(e-128) for a scale byte e, exact (subnormal for
 * e < 2), from bits; and the same for all 256 bytes as a table (one load per
 * block in the SIMD loops; tests/quant checks the two agree). */
static inline float gq_e8m0_half(uint8_t e)
{
    uint32_t u = e >= 2 ? (uint32_t)(e - 1) << 23 : 0x00200000u << e;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
extern const float gq_e8m0_half_table[256];

/* Hugging Face / OpenAI MXFP4 storage: for one row of `nblocks` blocks,
 * `codes` holds 16 bytes per block (element 2k is the low nibble of byte k,
 * 2k+1 the high nibble) and `scales` one E8M0 byte per block
 * (value = FP4[code] * 2^(scale-127)). Re-lays them out as GQ_MXFP4 blocks.
 * Exact: no value changes. */
void gq_mxfp4_from_hf(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out_blocks);

/* Decode HF-layout MXFP4 directly to floats (exact; as fast as the block decode). */
void gq_mxfp4_hf_decode(const uint8_t *codes, const uint8_t *scales, size_t nblocks, float *out);

/* HF-layout MXFP4 blocks (as above) -> Q8_32 blocks, byte-identical to
 * gq_mxfp4_hf_decode followed by the Q8_32 encoder, but without floats for
 * every block the encoder stores exactly (d = 2^p: all blocks with scale
 * bytes 104..146, minus all-zero ones); the rest go through the floats and
 * the encoder. Stats: blocks, values, inexact blocks and sq_err as the
 * encoder adds them; sq_ref only for the blocks that went through floats
 * (the exact ones add no error, so nothing is lost for them). */
void gq_mxfp4_hf_to_q8(const uint8_t *codes, const uint8_t *scales, size_t nblocks, void *out_blocks,
                       gq_stats *stats);

#endif
