/* ppl.c - chunked perplexity with optional comparison to a reference (see ppl.h). */
#include "ppl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const ppl_opts *o;
    ppl_result *r;
    gb_backend *be;
    const int32_t *chunk;     /* ids of the current chunk */
    size_t next;              /* index of the next scored record */
} cb_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define SCORE_ROWS 16

/* Rows index .. index + n_rows - 1 of a chunk, reduced where they live
 * (be->score): NLL of the next token, top-k, KLD against the reference. */
static gb_status on_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cb_state *st = user;
    int ctx = st->o->ctx;
    /* the last position predicts nothing inside the chunk */
    int ns = index + n_rows <= ctx - 1 ? n_rows : ctx - 1 - index;
    ppl_result *r = st->r;
    const ppl_ref *ref = st->o->ref;
    uint32_t k = r->own.k;
    for (int r0 = 0; r0 < ns; r0 += SCORE_ROWS) {
        int nr = ns - r0 < SCORE_ROWS ? ns - r0 : SCORE_ROWS;
        size_t t = st->next;
        double kld[SCORE_ROWS];
        gb_score_in in = {st->chunk + index + r0 + 1, (int)k, {NULL, 0}, 0, NULL, NULL};
        gb_score_out out = {r->own.nll + t, r->own.ids + t * k, r->own.logp + t * k, NULL};
        if (ref) {
            in.ref_k = (int)ref->k;
            in.ref_ids = ref->ids + t * ref->k;
            in.ref_logp = ref->logp + t * ref->k;
            out.kld = kld;
        }
        gb_status s = st->be->score(st->be, gb_ref_f32(logits, (uint64_t)r0 * (uint64_t)vocab), nr, vocab, &in, &out);
        if (s != GB_OK)
            return s;
        for (int j = 0; ref && j < nr; j++) {
            r->kld[t + (size_t)j] = (float)kld[j];
            if (r->own.ids[(t + (size_t)j) * k] == ref->ids[(t + (size_t)j) * ref->k])
                r->top1 += 1;
        }
        st->next += (size_t)nr;
    }
    return GB_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int ppl_run(gq_session *s, int vocab, const int32_t *ids, size_t n, const ppl_opts *o, ppl_result *r, char *err,
            size_t errlen)
{
    memset(r, 0, sizeof *r);
    int ctx = o->ctx;
    if (ctx < 4 || ctx > gq_session_ctx(s)) {
        snprintf(err, errlen, "--ctx %d must be in 4..%d", ctx, gq_session_ctx(s));
        return -1;
    }
    size_t chunks = n / (size_t)ctx;
    if (chunks == 0) {
        snprintf(err, errlen, "the input has %zu tokens, fewer than one chunk of --ctx %d (use a smaller --ctx or more text)",
                 n, ctx);
        return -1;
    }
    int first = ctx / 2;
    size_t per = (size_t)(ctx - 1 - first);
    r->n_chunks = chunks;
    r->n_scored = chunks * per;
    r->own.k = (uint32_t)(o->k > 0 ? o->k : 16);
    if (r->own.k > PPL_REF_MAX_K)
        r->own.k = PPL_REF_MAX_K;
    if ((int)r->own.k > vocab)
        r->own.k = (uint32_t)vocab;
    r->own.vocab = (uint32_t)vocab;
    r->own.ctx = (uint32_t)ctx;
    r->own.n_tokens = (uint32_t)n;
    r->own.tokens_crc = ppl_ids_crc(ids, n);
    r->own.n_scored = r->n_scored;
    const ppl_ref *ref = o->ref;
    if (ref && (ref->vocab != r->own.vocab || ref->ctx != r->own.ctx || ref->n_tokens != r->own.n_tokens ||
                ref->tokens_crc != r->own.tokens_crc || ref->n_scored != r->n_scored)) {
        snprintf(err, errlen, "the reference was made on different input (reference: %u tokens, ctx %u, vocab %u; "
                 "this run: %zu tokens, ctx %d, vocab %d): use the same text/ids and --ctx as --save-ref did",
                 ref->n_tokens, ref->ctx, ref->vocab, n, ctx, vocab);
        return -1;
    }
    r->own.ids = malloc(r->n_scored * r->own.k * sizeof *r->own.ids);
    r->own.logp = malloc(r->n_scored * r->own.k * sizeof *r->own.logp);
    r->own.nll = malloc(r->n_scored * sizeof *r->own.nll);
    r->kld = ref ? malloc(r->n_scored * sizeof *r->kld) : NULL;
    cb_state st = {o, r, gq_session_backend(s), NULL, 0};
    if (!r->own.ids || !r->own.logp || !r->own.nll || (ref && !r->kld)) {
        ppl_result_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double t0 = now(), last = t0;
    for (size_t c = 0; c < chunks; c++) {
        st.chunk = ids + c * (size_t)ctx;
        gq_session_reset(s);
        int rc = gq_forward(s, st.chunk, ctx, first, on_logits, &st, err, errlen);
        if (rc != 0) {
            ppl_result_free(r);
            return rc;
        }
        double t = now();
        if (o->progress && (t - last > 0.5 || c + 1 == chunks)) {
            last = t;
            double sum = 0;
            for (size_t i = 0; i < st.next; i++)
                sum += r->own.nll[i];
            fprintf(stderr, "\rppl: chunk %zu/%zu, ppl %.4f, %.1f tok/s   ", c + 1, chunks, exp(sum / (double)st.next),
                    (double)((c + 1) * (size_t)ctx) / (t - t0));
            if (c + 1 == chunks)
                fputc('\n', stderr);
        }
    }
    r->seconds = now() - t0;
    r->tokens_per_s = (double)(chunks * (size_t)ctx) / r->seconds;
    size_t N = r->n_scored;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < N; i++) {
        sum += r->own.nll[i];
        sq += (double)r->own.nll[i] * r->own.nll[i];
    }
    r->mean_nll = sum / (double)N;
    double var = N > 1 ? (sq / (double)N - r->mean_nll * r->mean_nll) * (double)N / (double)(N - 1) : 0;
    r->ppl = exp(r->mean_nll);
    r->ppl_err = r->ppl * sqrt(var > 0 ? var / (double)N : 0);
    if (!ref)
        return 0;
    double dsum = 0, dsq = 0, rsum = 0, ksum = 0;
    for (size_t i = 0; i < N; i++) {
        double d = (double)r->own.nll[i] - ref->nll[i];
        dsum += d;
        dsq += d * d;
        rsum += ref->nll[i];
        ksum += r->kld[i];
    }
    double dmean = dsum / (double)N;
    double dvar = N > 1 ? (dsq / (double)N - dmean * dmean) * (double)N / (double)(N - 1) : 0;
    r->ref_ppl = exp(rsum / (double)N);
    r->ppl_ratio = exp(dmean);
    r->ppl_ratio_err = r->ppl_ratio * sqrt(dvar > 0 ? dvar / (double)N : 0);
    r->kld_mean = ksum / (double)N;
    r->top1 /= (double)N;
    float *sorted = malloc(N * sizeof *sorted);
    if (sorted) {
        memcpy(sorted, r->kld, N * sizeof *sorted);
        qsort(sorted, N, sizeof *sorted, cmp_float);
        r->kld_median = N % 2 ? sorted[N / 2] : 0.5 * ((double)sorted[N / 2 - 1] + sorted[N / 2]);
        size_t p99 = (size_t)ceil(0.99 * (double)N);
        r->kld_p99 = sorted[p99 ? p99 - 1 : 0];
        r->kld_max = sorted[N - 1];
        free(sorted);
    }
    return 0;
}

void ppl_result_free(ppl_result *r)
{
    ppl_ref_free(&r->own);
    free(r->kld);
    r->kld = NULL;
}
