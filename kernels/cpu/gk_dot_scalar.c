/* gk_dot_scalar.c - the portable reference dot products and row decoders.
 * Straightforward on purpose: the SIMD paths are tested against these. */
#include "gk_dot_impl.h"

/* E2M1 magnitudes doubled (integers), pairs with gk_e8m0_half(). */
const float gk_fp4x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

float gk_dot_f32_scalar(const void *row, const float *x, int64_t n)
{
    const float *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += w[i] * x[i];
    return s;
}

float gk_dot_f16_scalar(const void *row, const float *x, int64_t n)
{
    const uint8_t *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += gk_f16p(w + 2 * i) * x[i];
    return s;
}

float gk_dot_bf16_scalar(const void *row, const float *x, int64_t n)
{
    const uint8_t *w = row;
    float s = 0;
    for (int64_t i = 0; i < n; i++)
        s += gk_bf16((uint16_t)(w[2 * i] | w[2 * i + 1] << 8)) * x[i];
    return s;
}

float gk_dot_mxfp4_scalar(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += 32, b += 17, x += 32) {
        float bs = 0;
        for (int j = 0; j < 16; j++)
            bs += gk_fp4x2[b[1 + j] & 15] * x[j] + gk_fp4x2[b[1 + j] >> 4] * x[j + 16];
        s += bs * gk_e8m0_half(b[0]);
    }
    return s;
}

float gk_dot_q8_32_scalar(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += 32, b += 34, x += 32) {
        float bs = 0;
        for (int j = 0; j < 32; j++)
            bs += (float)(int8_t)b[2 + j] * x[j];
        s += bs * gk_f16p(b);
    }
    return s;
}

float gk_dot_q4_32_scalar(const void *row, const float *x, int64_t n)
{
    const uint8_t *b = row;
    float s = 0;
    for (int64_t i = 0; i < n; i += 32, b += 18, x += 32) {
        float bs = 0;
        for (int j = 0; j < 16; j++)
            bs += (float)((b[2 + j] & 15) - 8) * x[j] + (float)((b[2 + j] >> 4) - 8) * x[j + 16];
        s += bs * gk_f16p(b);
    }
    return s;
}

float gk_dotf_scalar(const float *a, const float *b, int64_t n) { return gk_dot_f32_scalar(a, b, n); }

void gk_tile_scalar(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out, int64_t out_stride,
                    int accumulate)
{
    for (int t = 0; t < 4; t++)
        for (int r = 0; r < 4; r++) {
            float d = gk_dot_f32_scalar(w + r * ws, x + t * xs, n);
            out[t * out_stride + r] = accumulate ? out[t * out_stride + r] + d : d;
        }
}

void gk_decode_f32(const void *row, float *out, int64_t n) { memcpy(out, row, (size_t)n * 4); }

void gk_decode_f16(const void *row, float *out, int64_t n)
{
    const uint8_t *w = row;
    for (int64_t i = 0; i < n; i++)
        out[i] = gk_f16p(w + 2 * i);
}

void gk_decode_bf16(const void *row, float *out, int64_t n)
{
    const uint8_t *w = row;
    for (int64_t i = 0; i < n; i++)
        out[i] = gk_bf16((uint16_t)(w[2 * i] | w[2 * i + 1] << 8));
}

void gk_decode_mxfp4(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    for (int64_t i = 0; i < n; i += 32, b += 17, out += 32) {
        float d = gk_e8m0_half(b[0]);
        for (int j = 0; j < 16; j++) {
            out[j] = gk_fp4x2[b[1 + j] & 15] * d;
            out[j + 16] = gk_fp4x2[b[1 + j] >> 4] * d;
        }
    }
}

void gk_decode_q8_32(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    for (int64_t i = 0; i < n; i += 32, b += 34, out += 32) {
        float d = gk_f16p(b);
        for (int j = 0; j < 32; j++)
            out[j] = (float)(int8_t)b[2 + j] * d;
    }
}

void gk_decode_q4_32(const void *row, float *out, int64_t n)
{
    const uint8_t *b = row;
    for (int64_t i = 0; i < n; i += 32, b += 18, out += 32) {
        float d = gk_f16p(b);
        for (int j = 0; j < 16; j++) {
            out[j] = (float)((b[2 + j] & 15) - 8) * d;
            out[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}
