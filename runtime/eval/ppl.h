/* ppl.h - perplexity and KL divergence against a reference, llama.cpp's way.
 *
 * Method (docs/RUNTIME.md): the token sequence is cut into floor(n / ctx)
 * chunks of ctx tokens; each chunk is evaluated from an empty cache, and only
 * its second half is scored: positions j = ctx/2 .. ctx-2 predict token j+1
 * (the first half gives every scored token at least ctx/2 tokens of context).
 * A trailing partial chunk is ignored. PPL = exp(mean NLL); its uncertainty
 * is PPL * standard error of the mean NLL.
 *
 * With a reference (ppl_ref.h) the same scored tokens are compared: KL
 * divergence KL(ref || this) over the reference's top-k ids plus one bucket
 * for the remaining mass, top-1 agreement (this argmax == reference argmax),
 * and the PPL ratio exp(mean(nll - nll_ref)) with the standard error of the
 * paired differences.
 */
#ifndef GQ_PPL_H
#define GQ_PPL_H

#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "ppl_ref.h"

typedef struct {
    int ctx;                  /* chunk length */
    int k;                    /* top-k kept for --save-ref (16) */
    int progress;             /* 1: progress line on stderr */
    const ppl_ref *ref;       /* compare against this, or NULL */
} ppl_opts;

typedef struct {
    size_t n_scored, n_chunks;
    double mean_nll, ppl, ppl_err;
    ppl_ref own;              /* this run as a reference (for --save-ref) */
    /* with a reference: */
    float *kld;               /* per scored token */
    double kld_mean, kld_median, kld_p99, kld_max, top1;
    double ppl_ratio, ppl_ratio_err, ref_ppl;
    double seconds, tokens_per_s;
} ppl_result;

/* 0; -1 with a message (too few tokens, reference mismatch, context);
 * GQ_ERR_BACKEND with the backend's message. The per-token reductions run
 * on the session's backend (be->score): no logits row crosses to the host. */
int ppl_run(gq_session *s, int vocab, const int32_t *ids, size_t n, const ppl_opts *o, ppl_result *r, char *err,
            size_t errlen);
void ppl_result_free(ppl_result *r);

#endif
