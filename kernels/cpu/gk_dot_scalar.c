/* gk_dot_scalar.c - the portable dot-product loops, one per format.
 * Straightforward on purpose: each sums a block's codes times the
 * activations, then scales once per block, with quant/'s FP4 values, E8M0
 * scale and f16 conversion. The row decoders are quant/'s own (the
 * reference, through gk_dot.c), so this file has none. */
#include "gk_dot_impl.h"

enum { BV = GQ_BLOCK_VALUES, HALF = GQ_NIBBLE_BYTES };

static float dot_f32(const void *row, const float *x, int64_t n)
{
    const float *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += w[i] * x[i];
    return s;
}

static float dot_f16(const void *row, const float *x, int64_t n)
{
    const uint8_t *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += gk_f16p(w + GQ_F16_BYTES * i) * x[i];
    return s;
}

static float dot_bf16(const void *row, const float *x, int64_t n)
{
    const uint8_t *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += gk_bf16p(w + GQ_BF16_BYTES * i) * x[i];
    return s;
}

static float dot_mxfp4(const void *row, const float *x, int64_t n)
{
    const float *K = gq_mxfp4_kvalues;
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += BV, b += GQ_MXFP4_BLOCK_BYTES, x += BV) {
        const uint8_t *q = b + GQ_MXFP4_QS_OFFSET;
        float bs = 0;
        for (int j = 0; j < HALF; j++)
            bs += K[q[j] & 15] * x[j] + K[q[j] >> 4] * x[j + HALF];
        s += bs * gq_e8m0_half_table[b[GQ_MXFP4_SCALE_OFFSET]];
    }
    return s;
}

static float dot_q8_32(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q8_32_BLOCK_BYTES, x += BV) {
        const int8_t *q = (const int8_t *)(b + GQ_Q8_32_QS_OFFSET);
        float bs = 0;
        for (int j = 0; j < BV; j++)
            bs += (float)q[j] * x[j];
        s += bs * gk_f16p(b + GQ_Q8_32_D_OFFSET);
    }
    return s;
}

static float dot_q4_32(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += BV, b += GQ_Q4_32_BLOCK_BYTES, x += BV) {
        const uint8_t *q = b + GQ_Q4_32_QS_OFFSET;
        float bs = 0;
        for (int j = 0; j < HALF; j++)
            bs += (float)((q[j] & 15) - GQ_Q4_32_ZERO) * x[j] + (float)((q[j] >> 4) - GQ_Q4_32_ZERO) * x[j + HALF];
        s += bs * gk_f16p(b + GQ_Q4_32_D_OFFSET);
    }
    return s;
}

static float dotf(const float *a, const float *b, int64_t n) { return dot_f32(a, b, n); }

static void tile(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out, int64_t out_stride,
                 int accumulate)
{
    for (int t = 0; t < 4; t++)
        for (int r = 0; r < 4; r++) {
            float d = dot_f32(w + r * ws, x + t * xs, n);
            out[t * out_stride + r] = accumulate ? out[t * out_stride + r] + d : d;
        }
}

const gk_isa_kernels gk_kernels_scalar = {
    .dot = {[GQ_F32] = dot_f32, [GQ_F16] = dot_f16, [GQ_BF16] = dot_bf16, [GQ_MXFP4] = dot_mxfp4,
            [GQ_Q8_32] = dot_q8_32, [GQ_Q4_32] = dot_q4_32},
    .dotf = dotf,
    .tile = tile,
};
