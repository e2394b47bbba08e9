/* quant_blocks.h - the block formats' ids and byte geometry, as plain
 * #defines: the one place these numbers are written.
 *
 * Included by quant.h (C) and by the GPU compute shaders (GLSL:
 * `#include "quant_blocks.h"`), so this file holds nothing but #define and
 * comments: no C types, no includes, no casts, no suffixes. Everything else
 * about a format (names, decoders, encoders, which weights it may hold, its
 * ggml number) is a row of quant.h's traits table.
 *
 * Byte layouts (little-endian; a block covers GQ_BLOCK_VALUES consecutive
 * values of one row, value index j = 0..31):
 *
 *   MXFP4  (17 bytes)  byte 0      = E8M0 scale byte e
 *                      bytes 1..16 = codes: byte 1+j holds value j in its
 *                                    low nibble and value j+16 in its high
 *                                    nibble
 *          value = K[code] * 2^(e - 128), K = GQ_MXFP4_KVALUES (the E2M1
 *          FP4 values doubled, so integers; code 8 is -0 and decodes as 0).
 *          2^(e-128) is subnormal in f32 for e < 2 and exact for every e.
 *
 *   Q8_32  (34 bytes)  bytes 0..1  = f16 scale d
 *                      bytes 2..33 = int8 q[32]
 *          value j = q[j] * d                          (ggml's Q8_0)
 *
 *   Q4_32  (18 bytes)  bytes 0..1  = f16 scale d
 *                      bytes 2..17 = byte 2+j holds value j in its low
 *                                    nibble and value j+16 in its high one
 *          value = (nibble - 8) * d                    (ggml's Q4_0)
 *
 *   F32 / F16 / BF16: one value per "block" of 4 / 2 / 2 bytes.
 */
#ifndef GQ_QUANT_BLOCKS_H
#define GQ_QUANT_BLOCKS_H

/* ---- type ids (gq_type in quant.h takes its values from these) ---- */
#define GQ_T_F32 0
#define GQ_T_F16 1
#define GQ_T_BF16 2
#define GQ_T_MXFP4 3
#define GQ_T_Q8_32 4
#define GQ_T_Q4_32 5
#define GQ_T_COUNT 6

/* ---- geometry ---- */
#define GQ_BLOCK_VALUES 32          /* values per block of every block format */
#define GQ_F32_BYTES 4
#define GQ_F16_BYTES 2
#define GQ_BF16_BYTES 2
#define GQ_MXFP4_BLOCK_BYTES 17
#define GQ_Q8_32_BLOCK_BYTES 34
#define GQ_Q4_32_BLOCK_BYTES 18

/* ---- where things sit inside a block (byte offsets) ---- */
#define GQ_MXFP4_SCALE_OFFSET 0     /* u8 E8M0 scale byte */
#define GQ_MXFP4_QS_OFFSET 1        /* 16 bytes of nibble pairs (j, j+16) */
#define GQ_Q8_32_D_OFFSET 0         /* f16 d */
#define GQ_Q8_32_QS_OFFSET 2        /* 32 x int8 */
#define GQ_Q4_32_D_OFFSET 0         /* f16 d */
#define GQ_Q4_32_QS_OFFSET 2        /* 16 bytes of nibble pairs (j, j+16) */
#define GQ_NIBBLE_BYTES 16          /* GQ_BLOCK_VALUES / 2: bytes of packed 4-bit codes */

/* ---- value rules ---- */
/* MXFP4: doubled E2M1 values by 4-bit code (a comma list: use it inside an
 * array initializer or a constructor, e.g. int[16](GQ_MXFP4_KVALUES)). */
#define GQ_MXFP4_KVALUES 0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12
#define GQ_MXFP4_SCALE_BIAS 128     /* value = K * 2^(e - 128) with the doubled K */
#define GQ_Q4_32_ZERO 8             /* Q4_32 value = (nibble - 8) * d */

#endif
