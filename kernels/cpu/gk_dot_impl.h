/* gk_dot_impl.h - private to kernels/cpu: the per-path kernel symbols and the
 * small scalar conversions they share. Not part of the kernels API. */
#ifndef GK_DOT_IMPL_H
#define GK_DOT_IMPL_H

#include <string.h>

#include "gk_dot.h"

static inline float gk_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE half to float, exact (subnormals, inf, NaN included). */
static inline float gk_f16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 0x3ff, u;
    if (e == 0) {
        if (m == 0) {
            u = sign;
        } else { /* subnormal: renormalize */
            e = 113;
            while (!(m & 0x400)) {
                m <<= 1;
                e--;
            }
            u = sign | e << 23 | (m & 0x3ff) << 13;
        }
    } else if (e == 31) {
        u = sign | 0x7f800000u | m << 13;
    } else {
        u = sign | (e + 112) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float gk_f16p(const uint8_t *p) { return gk_f16((uint16_t)(p[0] | p[1] << 8)); }

extern const float gk_fp4x2[16];
/* gk_e8m0_half(e) for every e (gk_e8m0.c). */
extern const float gk_e8m0_half_table[256];

float gk_dot_f32_scalar(const void *row, const float *x, int64_t n);
float gk_dot_f16_scalar(const void *row, const float *x, int64_t n);
float gk_dot_bf16_scalar(const void *row, const float *x, int64_t n);
float gk_dot_mxfp4_scalar(const void *row, const float *x, int64_t n);
float gk_dot_q8_32_scalar(const void *row, const float *x, int64_t n);
float gk_dot_q4_32_scalar(const void *row, const float *x, int64_t n);
float gk_dotf_scalar(const float *a, const float *b, int64_t n);
void gk_tile_scalar(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out, int64_t out_stride,
                    int accumulate);

void gk_decode_f32(const void *row, float *out, int64_t n);
void gk_decode_f16(const void *row, float *out, int64_t n);
void gk_decode_bf16(const void *row, float *out, int64_t n);
void gk_decode_mxfp4(const void *row, float *out, int64_t n);
void gk_decode_q8_32(const void *row, float *out, int64_t n);
void gk_decode_q4_32(const void *row, float *out, int64_t n);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GK_HAVE_X86 1
float gk_dot_bf16_avx2(const void *row, const float *x, int64_t n);
float gk_dot_mxfp4_avx2(const void *row, const float *x, int64_t n);
float gk_dot_q8_32_avx2(const void *row, const float *x, int64_t n);
float gk_dot_q4_32_avx2(const void *row, const float *x, int64_t n);
float gk_dot_f32_avx2(const void *row, const float *x, int64_t n);
float gk_dotf_avx2(const float *a, const float *b, int64_t n);
float gk_dot_bf16_avx512(const void *row, const float *x, int64_t n);
float gk_dot_mxfp4_avx512(const void *row, const float *x, int64_t n);
float gk_dot_q8_32_avx512(const void *row, const float *x, int64_t n);
float gk_dot_q4_32_avx512(const void *row, const float *x, int64_t n);
float gk_dot_f32_avx512(const void *row, const float *x, int64_t n);
float gk_dotf_avx512(const float *a, const float *b, int64_t n);
void gk_tile_avx2(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out, int64_t out_stride,
                    int accumulate);
void gk_tile_avx512(const float *w, int64_t ws, const float *x, int64_t xs, int64_t n, float *out, int64_t out_stride,
                    int accumulate);
void gk_decode_mxfp4_avx512(const void *row, float *out, int64_t n);
void gk_decode_q8_32_avx512(const void *row, float *out, int64_t n);
void gk_decode_q4_32_avx512(const void *row, float *out, int64_t n);
void gk_decode_bf16_avx512(const void *row, float *out, int64_t n);
#endif

#if defined(__aarch64__)
float gk_dot_bf16_neon(const void *row, const float *x, int64_t n);
float gk_dot_mxfp4_neon(const void *row, const float *x, int64_t n);
float gk_dot_q8_32_neon(const void *row, const float *x, int64_t n);
float gk_dot_q4_32_neon(const void *row, const float *x, int64_t n);
float gk_dot_f32_neon(const void *row, const float *x, int64_t n);
float gk_dotf_neon(const float *a, const float *b, int64_t n);
#endif

#endif
