/* gk_fast_neon_i8mm.c - the fast numerics' prefill tile for aarch64 with the
 * 8-bit matrix multiply (FEAT_I8MM: smmla; Apple M2 on, Graviton 3 on,
 * Neoverse V1/N2), chosen at run time (getauxval HWCAP2_I8MM on Linux,
 * hw.optional.arm.FEAT_I8MM on macOS) after the dot-product check. Built
 * with -march=armv8.2-a+dotprod+i8mm (kernels/cpu/CMakeLists.txt); nothing
 * here but the check runs before it says yes, so a CPU with dotprod alone
 * (Apple M1, Graviton 2) never meets an smmla.
 *
 * Why: smmla multiplies a 2 x 8 block of int8 by an 8 x 2 one into 2 x 2
 * int32 sums, 32 products an instruction where sdot does 16. Prefill runs
 * two decoded weight rows against two tokens at once (gk_fast.c fm_task);
 * decode (one token) stays on neon-dotprod's loops, which this path shares.
 *
 * Same bits as neon-dotprod: a block's integer sum is exact however the
 * rows and tokens are paired, and each output's float steps are
 * gk_fast_pair_acc's in the same order, then the odd block's tail.
 *
 * Status: type-checked with clang --target=aarch64 on the x86 development
 * machine, never executed there; tests/kernels/test_fast runs it on the
 * first aarch64 CI machine with i8mm ("fast path neon-i8mm: checked"). */
#include "gk_fast_impl.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_MATMUL_INT8)
#include <arm_neon.h>

int gk_fast_neon_has_i8mm(void)
{
    return gk_fast_neon_has_dotprod() && gk_neon_cpu_has(1, 13, "hw.optional.arm.FEAT_I8MM"); /* HWCAP2_I8MM */
}

/* 16 bytes at offset o of two rows (or two tokens) as the two 2 x 8
 * operands of smmla: {a[0..7], b[0..7]} and {a[8..15], b[8..15]} */
static inline void pair_rows(const int8_t *a, const int8_t *b, int8x16_t *lo, int8x16_t *hi)
{
    int64x2_t x = vreinterpretq_s64_s8(vld1q_s8(a)), y = vreinterpretq_s64_s8(vld1q_s8(b));
    *lo = vreinterpretq_s8_s64(vzip1q_s64(x, y));
    *hi = vreinterpretq_s8_s64(vzip2q_s64(x, y));
}

/* acc += the 2 x 2 sums of 16 values at offset o */
static inline int32x4_t mm16(int32x4_t acc, const uint8_t *wu0, const uint8_t *wu1, const int8_t *q0,
                             const int8_t *q1, int o)
{
    int8x16_t wl, wh, xl, xh;
    pair_rows((const int8_t *)wu0 + o, (const int8_t *)wu1 + o, &wl, &wh);
    pair_rows(q0 + o, q1 + o, &xl, &xh);
    return vmmlaq_s32(vmmlaq_s32(acc, wl, xl), wh, xh);
}

static void dot_dec22(const uint8_t *wu0, const float *dwv0, const uint8_t *wu1, const float *dwv1,
                      const gk_xpack *x0, const gk_xpack *x1, float out[4])
{
    /* which 16-byte groups of a pair's 64 belong to its first block:
     * pair order (nibble formats: b lo, b+1 lo, b hi, b+1 hi) or natural */
    int nib = gk_fast_nibbles(x0->wt), g1 = nib ? 2 : 1, g2 = nib ? 1 : 2;
    const float *dw[2] = {dwv0, dwv1};
    const gk_xpack *xs[2] = {x0, x1};
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k = 0; k < x0->nb / 2; k++) {
        const uint8_t *a = wu0 + 64 * k, *b = wu1 + 64 * k;
        const int8_t *p = x0->q + 64 * k, *q = x1->q + 64 * k;
        int32x4_t z = vdupq_n_s32(0);
        int32x4_t s0 = mm16(mm16(z, a, b, p, q, 0), a, b, p, q, 16 * g1);      /* block 2k */
        int32x4_t s1 = mm16(mm16(z, a, b, p, q, 16 * g2), a, b, p, q, 48);     /* block 2k + 1 */
        int32_t i0[4], i1[4];
        vst1q_s32(i0, s0);
        vst1q_s32(i1, s1);
        for (int r = 0; r < 2; r++)
            for (int t = 0; t < 2; t++)
                s[2 * r + t] = gk_fast_pair_acc(s[2 * r + t], i0[2 * r + t], i1[2 * r + t], dw[r][16 * k],
                                                dw[r][16 * k + 1], xs[t]->d[2 * k], xs[t]->d[2 * k + 1]);
    }
    const uint8_t *wu[2] = {wu0, wu1};
    for (int r = 0; r < 2; r++)
        for (int t = 0; t < 2; t++)
            out[2 * r + t] = s[2 * r + t] + gk_fast_dec_tail(wu[r], dw[r], xs[t]);
}

const gk_fast_kernels gk_fast_neon_i8mm = {"neon-i8mm", gk_fast_neon_dot, gk_fast_neon_decode, gk_fast_neon_dot_dec,
                                           0, dot_dec22};

#elif defined(__aarch64__)
/* built without +i8mm (a compiler that lacks it): the path never runs */
int gk_fast_neon_has_i8mm(void) { return 0; }
const gk_fast_kernels gk_fast_neon_i8mm = {"neon-i8mm", NULL, NULL, NULL, 0, NULL};
#else
typedef int gk_fast_neon_i8mm_unused;
#endif
