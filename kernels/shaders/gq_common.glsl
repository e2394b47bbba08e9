// gq_common.glsl - helpers every kernel of kernels/shaders/ may include (not a
// kernel itself: only *.comp files are compiled). The binding convention is
// kernels/gpu/gd.h's: binding i is argument i, a window of its buffer; push
// word i is the argument's byte offset inside that window.
#ifndef GQ_COMMON_GLSL
#define GQ_COMMON_GLSL

// Block geometry: quant/quant_blocks.h is the one place these numbers are
// written (glslc -I quant).
#include "quant_blocks.h"

// IEEE half to float, exact (subnormals and inf/NaN included), without
// relying on the driver's unpackHalf2x16 treatment of subnormals.
float gq_half(uint h)
{
    uint s = (h >> 15) & 1u, e = (h >> 10) & 31u, m = h & 1023u;
    float v;
    if (e == 0u)
        v = float(m) * (1.0 / 16777216.0);          // m * 2^-24
    else if (e == 31u)
        v = m == 0u ? uintBitsToFloat(0x7f800000u) : uintBitsToFloat(0x7fc00000u);
    else
        v = uintBitsToFloat(((e + 112u) << 23) | (m << 13));
    return s == 1u ? -v : v;
}

float gq_bf16(uint h) { return uintBitsToFloat(h << 16); }

// Byte / 16-bit reads of a uint[] array at a byte offset (macros: GLSL cannot
// pass a runtime-sized buffer array to a function).
#define GQ_U8(arr, o) ((arr[(o) >> 2] >> (((o) & 3u) * 8u)) & 0xffu)
#define GQ_U16(arr, o) ((arr[(o) >> 2] >> (((o) & 2u) * 8u)) & 0xffffu)

// Value j of a row of `type` whose first byte is at byte offset rb of the
// uint array arr (rb is a multiple of 4 for f32, of 2 for f16/bf16/q8/q4).
#define GQ_DEFINE_VALUE(name, arr)                                                                 \
    float name(uint type, uint rb, uint j)                                                         \
    {                                                                                              \
        if (type == GQ_T_F32)                                                                      \
            return uintBitsToFloat(arr[(rb >> 2) + j]);                                            \
        if (type == GQ_T_F16)                                                                      \
            return gq_half(GQ_U16(arr, rb + 2u * j));                                              \
        if (type == GQ_T_BF16)                                                                     \
            return gq_bf16(GQ_U16(arr, rb + 2u * j));                                              \
        uint blk = j / 32u, jj = j % 32u;                                                          \
        if (type == GQ_T_MXFP4) {                                                                  \
            const int K[16] = int[16](GQ_MXFP4_KVALUES);                                           \
            uint o = rb + blk * uint(GQ_MXFP4_BLOCK_BYTES);                                        \
            uint e = GQ_U8(arr, o + uint(GQ_MXFP4_SCALE_OFFSET));                                  \
            uint q = GQ_U8(arr, o + uint(GQ_MXFP4_QS_OFFSET) + (jj & 15u));                        \
            uint code = jj < 16u ? (q & 15u) : (q >> 4);                                           \
            return ldexp(float(K[code]), int(e) - GQ_MXFP4_SCALE_BIAS);                            \
        }                                                                                          \
        if (type == GQ_T_Q8_32) {                                                                  \
            uint o = rb + blk * uint(GQ_Q8_32_BLOCK_BYTES);                                        \
            float d = gq_half(GQ_U16(arr, o + uint(GQ_Q8_32_D_OFFSET)));                           \
            int q = int(GQ_U8(arr, o + uint(GQ_Q8_32_QS_OFFSET) + jj) << 24) >> 24;                \
            return float(q) * d;                                                                   \
        }                                                                                          \
        {                                                                                          \
            uint o = rb + blk * uint(GQ_Q4_32_BLOCK_BYTES);                                        \
            float d = gq_half(GQ_U16(arr, o + uint(GQ_Q4_32_D_OFFSET)));                           \
            uint q = GQ_U8(arr, o + uint(GQ_Q4_32_QS_OFFSET) + (jj & 15u));                        \
            uint nib = jj < 16u ? (q & 15u) : (q >> 4);                                            \
            return float(int(nib) - GQ_Q4_32_ZERO) * d;                                            \
        }                                                                                          \
    }

#endif
