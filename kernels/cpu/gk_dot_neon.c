/* gk_dot_neon.c - NEON dot products for aarch64 (Apple silicon, Graviton...),
 * where Advanced SIMD is part of the base architecture, so no run-time check
 * is needed beyond being compiled for __aarch64__.
 *
 * Same exact-first scheme as the x86 paths: block codes widened to fp32
 * lanes (MXFP4 through a byte table lookup of the doubled E2M1 integers),
 * fp32 FMA with the activations, one scale multiply per block. */
#include "gk_dot_impl.h"

#if defined(__aarch64__)
#include <arm_neon.h>

enum { BV = GQ_BLOCK_VALUES };

/* 16 int8 values times 16 activations, added to acc. */
static inline float32x4_t fma16_s8(int8x16_t q, const float *x, float32x4_t acc)
{
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vld1q_f32(x));
    acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_high_s16(lo)), vld1q_f32(x + 4));
    acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vld1q_f32(x + 8));
    return vfmaq_f32(acc, vcvtq_f32_s32(vmovl_high_s16(hi)), vld1q_f32(x + 12));
}

static float gk_dot_f32_neon(const void *row, const float *x, int64_t n)
{
    const float *w = row;
    float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, vld1q_f32(w + i), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++)
        s += w[i] * x[i];
    return s;
}

static float gk_dotf_neon(const float *a, const float *b, int64_t n) { return gk_dot_f32_neon(a, b, n); }

static float gk_dot_bf16_neon(const void *row, const float *x, int64_t n)
{
    const uint16_t *w = row;
    float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t h = vld1q_u16(w + i);
        a0 = vfmaq_f32(a0, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++)
        s += gq_bf16_to_f32(w[i]) * x[i];
    return s;
}

static float gk_dot_mxfp4_neon(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    static const int8_t k[16] = {GQ_MXFP4_KVALUES};
    const int8x16_t lut = vld1q_s8(k);
    const uint8x16_t m4 = vdupq_n_u8(15);
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n; i += BV, b += GQ_MXFP4_BLOCK_BYTES, x += BV) {
        uint8x16_t q = vld1q_u8(b + GQ_MXFP4_QS_OFFSET);
        int8x16_t lo = vqtbl1q_s8(lut, vandq_u8(q, m4)), hi = vqtbl1q_s8(lut, vshrq_n_u8(q, 4));
        float32x4_t bs = fma16_s8(lo, x, vdupq_n_f32(0));
        bs = fma16_s8(hi, x + 16, bs);
        acc = vfmaq_n_f32(acc, bs, gq_e8m0_half(b[GQ_MXFP4_SCALE_OFFSET]));
    }
    return vaddvq_f32(acc);
}

static float gk_dot_q8_32_neon(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q8_32_BLOCK_BYTES, x += BV) {
        float32x4_t bs = fma16_s8(vld1q_s8((const int8_t *)(b + GQ_Q8_32_QS_OFFSET)), x, vdupq_n_f32(0));
        bs = fma16_s8(vld1q_s8((const int8_t *)(b + GQ_Q8_32_QS_OFFSET + 16)), x + 16, bs);
        acc = vfmaq_n_f32(acc, bs, gk_f16p(b + GQ_Q8_32_D_OFFSET));
    }
    return vaddvq_f32(acc);
}

static float gk_dot_q4_32_neon(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t k8 = vdupq_n_s8(GQ_Q4_32_ZERO);
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q4_32_BLOCK_BYTES, x += BV) {
        uint8x16_t q = vld1q_u8(b + GQ_Q4_32_QS_OFFSET);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), k8);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), k8);
        float32x4_t bs = fma16_s8(lo, x, vdupq_n_f32(0));
        bs = fma16_s8(hi, x + 16, bs);
        acc = vfmaq_n_f32(acc, bs, gk_f16p(b + GQ_Q4_32_D_OFFSET));
    }
    return vaddvq_f32(acc);
}

const gk_isa_kernels gk_kernels_neon = {
    .dot = {[GQ_F32] = gk_dot_f32_neon, [GQ_BF16] = gk_dot_bf16_neon, [GQ_MXFP4] = gk_dot_mxfp4_neon,
            [GQ_Q8_32] = gk_dot_q8_32_neon, [GQ_Q4_32] = gk_dot_q4_32_neon},
    .dotf = gk_dotf_neon,
};

#else
typedef int gk_dot_neon_unused;
#endif
