/* gk_fast_neon.c - the fast numerics' integer loops for aarch64 with the
 * dot-product extension (FEAT_DotProd: sdot, Apple M1 on, Graviton 2 on,
 * Cortex-A55/A76 on), chosen at run time (getauxval HWCAP_ASIMDDP on Linux,
 * hw.optional.arm.FEAT_DotProd on macOS). This one file is compiled with
 * -march=armv8.2-a+dotprod (kernels/cpu/CMakeLists.txt: older compilers
 * declare the sdot intrinsics only then), holds nothing that runs before
 * that check, and the rest of the build stays plain armv8-a.
 *
 * sdot multiplies signed by signed, so the weight codes stay signed (the
 * packed corrections of the x86 loops are not used) and each block's 32
 * products are summed by two sdot into 4 lanes, then across them.
 *
 * Status: type-checked with clang --target=aarch64 on the x86 development
 * machine, never executed there; tests/kernels/test_fast runs it on the
 * first aarch64 CI machine ("fast path neon-dotprod: checked"). */
#include "gk_fast_impl.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

#if defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "quant.h"

#define GK_DOTPROD /* the whole file is built for +dotprod */

enum { BV = GQ_BLOCK_VALUES, MXB = GQ_MXFP4_BLOCK_BYTES, Q8B = GQ_Q8_32_BLOCK_BYTES, Q4B = GQ_Q4_32_BLOCK_BYTES };

int gk_neon_cpu_has(int hwcap2, int bit, const char *apple_name)
{
#if defined(__linux__)
    (void)apple_name;
    return (getauxval(hwcap2 ? AT_HWCAP2 : AT_HWCAP) & (1ul << bit)) != 0;
#elif defined(__APPLE__)
    (void)hwcap2, (void)bit;
    int v = 0;
    size_t len = sizeof v;
    return sysctlbyname(apple_name, &v, &len, NULL, 0) == 0 && v;
#else
    (void)hwcap2, (void)bit, (void)apple_name;
    return 0;
#endif
}

int gk_fast_neon_has_dotprod(void) { return gk_neon_cpu_has(0, 20, "hw.optional.arm.FEAT_DotProd"); /* HWCAP_ASIMDDP */ }

static const int8_t mx_codes[16] = {GQ_MXFP4_KVALUES};

static inline float f16at(const uint8_t *p) { return gq_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* Signed codes of pair k (64 bytes in pack order: gk_fast_impl.h) and the
 * two blocks' scales. */
GK_DOTPROD static inline void pair_codes(gq_type wt, const uint8_t *row, int k, int8x16_t w[4], float dw[2])
{
    if (wt == GQ_Q8_32) {
        const uint8_t *b = row + (size_t)(2 * k) * Q8B;
        w[0] = vld1q_s8((const int8_t *)(b + 2));
        w[1] = vld1q_s8((const int8_t *)(b + 18));
        w[2] = vld1q_s8((const int8_t *)(b + Q8B + 2));
        w[3] = vld1q_s8((const int8_t *)(b + Q8B + 18));
        dw[0] = f16at(b);
        dw[1] = f16at(b + Q8B);
        return;
    }
    int mx = wt == GQ_MXFP4;
    size_t bb = mx ? MXB : Q4B, qo = mx ? GQ_MXFP4_QS_OFFSET : GQ_Q4_32_QS_OFFSET;
    const uint8_t *b = row + (size_t)(2 * k) * bb;
    uint8x16_t q0 = vld1q_u8(b + qo), q1 = vld1q_u8(b + bb + qo), m4 = vdupq_n_u8(15);
    uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4), h0 = vshrq_n_u8(q0, 4), h1 = vshrq_n_u8(q1, 4);
    if (mx) {
        int8x16_t lut = vld1q_s8(mx_codes);
        w[0] = vqtbl1q_s8(lut, l0);
        w[1] = vqtbl1q_s8(lut, l1);
        w[2] = vqtbl1q_s8(lut, h0);
        w[3] = vqtbl1q_s8(lut, h1);
        dw[0] = gq_e8m0_half_table[b[0]];
        dw[1] = gq_e8m0_half_table[b[bb]];
    } else {
        int8x16_t z = vdupq_n_s8(GQ_Q4_32_ZERO);
        w[0] = vsubq_s8(vreinterpretq_s8_u8(l0), z);
        w[1] = vsubq_s8(vreinterpretq_s8_u8(l1), z);
        w[2] = vsubq_s8(vreinterpretq_s8_u8(h0), z);
        w[3] = vsubq_s8(vreinterpretq_s8_u8(h1), z);
        dw[0] = f16at(b);
        dw[1] = f16at(b + bb);
    }
}

/* The two blocks' exact sums of 64 codes (pack order) times 64 values. */
GK_DOTPROD static inline void pair_isums(gq_type wt, const int8x16_t w[4], const int8_t *q, int32_t s[2])
{
    int32x4_t z = vdupq_n_s32(0);
    int8x16_t x0 = vld1q_s8(q), x1 = vld1q_s8(q + 16), x2 = vld1q_s8(q + 32), x3 = vld1q_s8(q + 48);
    if (wt == GQ_Q8_32) { /* natural order: block b = bytes 0..31 */
        s[0] = vaddvq_s32(vdotq_s32(vdotq_s32(z, w[0], x0), w[1], x1));
        s[1] = vaddvq_s32(vdotq_s32(vdotq_s32(z, w[2], x2), w[3], x3));
    } else { /* pair order: b lo, b+1 lo, b hi, b+1 hi */
        s[0] = vaddvq_s32(vdotq_s32(vdotq_s32(z, w[0], x0), w[2], x2));
        s[1] = vaddvq_s32(vdotq_s32(vdotq_s32(z, w[1], x1), w[3], x3));
    }
}

GK_DOTPROD float gk_fast_neon_dot(const uint8_t *row, const gk_xpack *x)
{
    float s = 0.0f;
    for (int k = 0; k < x->nb / 2; k++) {
        int8x16_t w[4];
        float dw[2];
        int32_t is[2];
        pair_codes(x->wt, row, k, w, dw);
        pair_isums(x->wt, w, x->q + 64 * k, is);
        s += (float)is[0] * (dw[0] * x->d[2 * k]) + (float)is[1] * (dw[1] * x->d[2 * k + 1]);
    }
    return s + gk_fast_tail(row, x);
}

/* A decoded row here: signed codes (pack order) for the pairs, dwv[16k] and
 * dwv[16k + 1] the pair's two scales; the odd tail as gk_fast_decode_tail
 * leaves it (offset codes, natural order), summed by gk_fast_dec_tail. */
GK_DOTPROD void gk_fast_neon_decode(gq_type wt, const uint8_t *row, int nb, uint8_t *wu, float *dwv)
{
    for (int k = 0; k < nb / 2; k++) {
        int8x16_t w[4];
        float dw[2];
        pair_codes(wt, row, k, w, dw);
        for (int i = 0; i < 4; i++)
            vst1q_s8((int8_t *)(wu + 64 * k + 16 * i), w[i]);
        dwv[16 * k] = dw[0];
        dwv[16 * k + 1] = dw[1];
    }
    gk_fast_decode_tail(wt, row, nb, wu, dwv);
}

GK_DOTPROD float gk_fast_neon_dot_dec(const uint8_t *wu, const float *dwv, const gk_xpack *x)
{
    float s = 0.0f;
    for (int k = 0; k < x->nb / 2; k++) {
        int8x16_t w[4];
        int32_t is[2];
        for (int i = 0; i < 4; i++)
            w[i] = vld1q_s8((const int8_t *)(wu + 64 * k + 16 * i));
        pair_isums(x->wt, w, x->q + 64 * k, is);
        s = gk_fast_pair_acc(s, is[0], is[1], dwv[16 * k], dwv[16 * k + 1], x->d[2 * k], x->d[2 * k + 1]);
    }
    return s + gk_fast_dec_tail(wu, dwv, x);
}

const gk_fast_kernels gk_fast_neon_dotprod = {"neon-dotprod", gk_fast_neon_dot, gk_fast_neon_decode,
                                              gk_fast_neon_dot_dec, 0, NULL};

#elif defined(__aarch64__)
/* built without +dotprod (a compiler that lacks it): the path never runs */
int gk_fast_neon_has_dotprod(void) { return 0; }
const gk_fast_kernels gk_fast_neon_dotprod = {"neon-dotprod", NULL, NULL, NULL, 0, NULL};
#else
typedef int gk_fast_neon_unused;
#endif
