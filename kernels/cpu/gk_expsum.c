/* gk_expsum.c - see gk_expsum.h. */
#include "gk_expsum.h"

#include <math.h>

#include "gk_dot.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GK_EXP512 __attribute__((target("avx512f,avx512dq,avx512vl,fma")))
#define GK_HAVE_EXP512 1

/* exp of 8 doubles: x = k ln2 + r (|r| <= ln2 / 2, ln2 in two parts so r is
 * exact), exp(r) by its Taylor series to r^13 (truncation below 1e-17
 * relative), times 2^k by scalef (exact, subnormal results rounded once).
 * Below -1000 the result is 0 (exp underflows there anyway). */
GK_EXP512 static inline __m512d exp8(__m512d x)
{
    x = _mm512_max_pd(x, _mm512_set1_pd(-1000.0));
    __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634074)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.90821492927058770002e-10), r);
    static const double c[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                               1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,
                               1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,         0.5,
                               1.0,                1.0};
    __m512d p = _mm512_set1_pd(c[0]);
    for (int i = 1; i < 14; i++)
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
    return _mm512_scalef_pd(p, k);
}

GK_EXP512 static double sum_exp512(const float *x, int n, double shift)
{
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd(), s = _mm512_set1_pd(shift);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_add_pd(acc0, exp8(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), s)));
        acc1 = _mm512_add_pd(acc1, exp8(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)), s)));
    }
    double t = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
    for (; i < n; i++)
        t += exp((double)x[i] - shift);
    return t;
}

GK_EXP512 static double kld512(const double *p, const double *q, int n)
{
    __m512d acc = _mm512_setzero_pd();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d pv = _mm512_loadu_pd(p + i);
        acc = _mm512_fmadd_pd(exp8(pv), _mm512_sub_pd(pv, _mm512_loadu_pd(q + i)), acc);
    }
    double t = _mm512_reduce_add_pd(acc);
    for (; i < n; i++)
        t += exp(p[i]) * (p[i] - q[i]);
    return t;
}
#endif

double gk_sum_exp_shifted(const float *x, int n, double shift)
{
#ifdef GK_HAVE_EXP512
    if (gk_isa_active() == GK_ISA_AVX512)
        return sum_exp512(x, n, shift);
#endif
    double t = 0;
    for (int i = 0; i < n; i++)
        t += exp((double)x[i] - shift);
    return t;
}

double gk_kld_rows(const double *p, const double *q, int n)
{
#ifdef GK_HAVE_EXP512
    if (gk_isa_active() == GK_ISA_AVX512)
        return kld512(p, q, n);
#endif
    double t = 0;
    for (int i = 0; i < n; i++)
        t += exp(p[i]) * (p[i] - q[i]);
    return t;
}
