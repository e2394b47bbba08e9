/* gk_expsum.h - the two exp-heavy sums of the perplexity reductions
 * (backend_cpu_eval.c), in double, vectorized where the CPU allows.
 *
 * exp is evaluated to about 1 ulp (AVX-512: range reduction by ln 2, a
 * degree-13 polynomial, scalef; elsewhere libm's exp), so the sums agree with
 * a serial libm loop to ~1e-15 relative, not bit for bit (the summation order
 * is by lanes). A 201088-entry row was ~0.2 M libm calls: half of `ppl`. */
#ifndef GK_EXPSUM_H
#define GK_EXPSUM_H

/* sum_i exp((double)x[i] - shift) */
double gk_sum_exp_shifted(const float *x, int n, double shift);
/* sum_i exp(p[i]) * (p[i] - q[i]): KL(p || q) of two log-probability rows */
double gk_kld_rows(const double *p, const double *q, int n);

#endif
