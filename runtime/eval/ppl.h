/* ppl.h - perplexity and KL divergence against a reference, llama.cpp's way.
 *
 * Method (docs/RUNTIME.md): the token sequence is cut into floor(n / ctx)
 * chunks of ctx tokens; each chunk is evaluated from an empty cache, and only
 * its second half is scored: positions j = ctx/2 .. ctx-2 predict token j+1
 * (the first half gives every scored token at least ctx/2 tokens of context).
 * A trailing partial chunk is ignored. PPL = exp(mean NLL); its uncertainty
 * is PPL * standard error of the mean NLL.
 *
 * A reference is one of:
 *  - another model in the same process (ref_session, same backend): each
 *    chunk runs through it first; its logits rows stay on the backend and
 *    the KLD is the exact full-vocabulary value (be->score, dense);
 *  - a full reference file (ppl_ref.h): each row is decoded on the host and
 *    uploaded (be->write) for the same dense score: full vocabulary, within
 *    the 16-bit code's error;
 *  - a top-k reference file: sparse score, a lower bound of the KLD.
 * Statistics (ppl_stats) are computed in double from per-token values:
 * KLD(ref || this), dp = p_this(target) - p_ref(target), top-1 agreement,
 * and ln(PPL ratio) from the paired NLL differences. No logits row crosses
 * to the host, except to write a full reference (--save-ref needs them).
 */
#ifndef GQ_PPL_H
#define GQ_PPL_H

#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "ppl_ref.h"

/* ppl_run's return when a logit is NaN or Inf (err names the chunk and token). */
#define PPL_ERR_NONFINITE (-10)

typedef struct {
    int ctx;                  /* chunk length */
    int k;                    /* --save-ref: 0 = full vocabulary, else top-k kept (1..64) */
    int progress;             /* 1: progress line on stderr */
    ppl_ref *ref;             /* compare against this file, or NULL */
    gq_session *ref_session;  /* or against this model (same backend, same vocabulary), or NULL */
    ppl_ref_writer *save;     /* full rows of this run go here (k == 0), or NULL */
} ppl_opts;

#define PPL_NQ 13
/* the quantiles reported (nearest rank: the smallest value with at least
 * q * N values <= it; q = 0 is the minimum) */
extern const double ppl_quantiles[PPL_NQ];

typedef struct {
    double mean, err;         /* mean and standard error of the mean */
    double q[PPL_NQ];         /* at ppl_quantiles */
} ppl_dist;

typedef struct {
    size_t n;
    double ref_ppl, ref_ppl_err;
    double ln_ratio, ln_ratio_err;        /* mean(nll - nll_ref) */
    double ppl_ratio, ppl_ratio_err;      /* exp(ln_ratio) */
    double cor_nll;                       /* correlation of nll and nll_ref */
    ppl_dist kld, dp;
    double dp_rms, dp_rms_err;
    double top1, top1_err;                /* "same top p" */
    int full;                             /* 1: full-vocabulary KLD, 0: a lower bound (top-k) */
} ppl_stats;

typedef struct {
    size_t n_scored, n_chunks;
    double mean_nll, ppl, ppl_err;
    ppl_ref own;              /* this run as a reference: nll, top1 (+ top-k ids/logp when k > 0) */
    /* with a reference: per scored token */
    double *kld, *dp;
    float *ref_nll;           /* (ref_session) the reference model's NLL */
    uint32_t *ref_top1;
    ppl_stats st;
    double seconds, tokens_per_s;
} ppl_result;

/* 0; -1 with a message (too few tokens, reference mismatch, context);
 * GQ_ERR_BACKEND with the backend's message; PPL_ERR_NONFINITE naming the
 * first bad position. The per-token reductions run on the session's backend
 * (be->score). */
int ppl_run(gq_session *s, int vocab, const int32_t *ids, size_t n, const ppl_opts *o, ppl_result *r, char *err,
            size_t errlen);
/* The statistics of N per-token values (also for tests): nll, nll_ref,
 * kld, same (1 if the argmaxes agree). */
void ppl_compute_stats(size_t N, const float *nll, const float *nll_ref, const double *kld, const double *dp,
                       const uint8_t *same, ppl_stats *st);
void ppl_result_free(ppl_result *r);

#endif
