/* ppl.c - chunked perplexity with optional comparison to a reference (see ppl.h). */
#include "ppl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double ppl_quantiles[PPL_NQ] = {0, 0.001, 0.01, 0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95, 0.99, 0.999, 1};

#define SCORE_ROWS 16

typedef struct {
    const ppl_opts *o;
    ppl_result *r;
    gb_backend *be;
    const int32_t *chunk;     /* ids of the current chunk */
    size_t chunk_no;
    size_t next;              /* index of the next scored record */
    size_t ref_next;          /* (ref_session) next record of the reference pass */
    int vocab, first;
    gb_buffer *refbuf;        /* dense reference rows on the backend */
    float *host;              /* SCORE_ROWS * vocab floats (file rows, --save-ref rows) */
    double *lsm;              /* vocab doubles */
    int rc;                   /* our own failure inside a callback (message in msg) */
    char msg[512];
} cb_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A callback failure of ours (not the backend's): remembered, and the pass stops. */
static gb_status stop(cb_state *st, int rc)
{
    st->rc = rc;
    return GB_ERR_INVALID;
}

static int finite_row(double v) { return isfinite(v); }

static gb_status nonfinite(cb_state *st, const char *who, size_t t, const char *what)
{
    int per = st->o->ctx - 1 - st->first;
    size_t in_chunk = t % (size_t)per;
    snprintf(st->msg, sizeof st->msg,
             "%s produced a NaN or Inf logit (%s): chunk %zu, token %zu of the chunk (scored record %zu); "
             "the model file or the backend is broken (try --backend cpu, then gptoss-convert verify)",
             who, what, st->chunk_no + 1, (size_t)st->first + in_chunk + 1, t);
    return stop(st, PPL_ERR_NONFINITE);
}

/* The reference model's rows: kept on the backend for this chunk (add into
 * a zero-filled buffer: a copy), and its NLL and argmax. */
static gb_status on_ref_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cb_state *st = user;
    int ctx = st->o->ctx;
    int ns = index + n_rows <= ctx - 1 ? n_rows : ctx - 1 - index;
    if (ns <= 0)
        return GB_OK;
    gb_ref dst = gb_ref_f32((gb_ref){st->refbuf, 0}, (uint64_t)(index - st->first) * (uint64_t)vocab);
    gb_status s = st->be->add(st->be, dst, logits, (uint64_t)ns * (uint64_t)vocab);
    if (s != GB_OK)
        return s;
    size_t t = st->ref_next;
    float top[SCORE_ROWS];
    for (int r0 = 0; r0 < ns; r0 += SCORE_ROWS) {
        int nr = ns - r0 < SCORE_ROWS ? ns - r0 : SCORE_ROWS;
        gb_score_in in = {st->chunk + index + r0 + 1, 1, {NULL, 0}, 0, NULL, NULL};
        gb_score_out out = {st->r->ref_nll + t, st->r->ref_top1 + t, top, NULL};
        s = st->be->score(st->be, gb_ref_f32(logits, (uint64_t)r0 * (uint64_t)vocab), nr, vocab, &in, &out);
        if (s != GB_OK)
            return s;
        for (int j = 0; j < nr; j++)
            if (!finite_row(st->r->ref_nll[t + (size_t)j]) || !finite_row(top[j]))
                return nonfinite(st, "the reference model", t + (size_t)j, "its NLL or log-sum-exp");
        t += (size_t)nr;
    }
    st->ref_next = t;
    return GB_OK;
}

/* Rows index .. index + n_rows - 1 of a chunk, reduced where they live
 * (be->score): NLL of the next token, top-k, KLD against the reference. */
static gb_status on_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cb_state *st = user;
    int ctx = st->o->ctx;
    /* the last position predicts nothing inside the chunk */
    int ns = index + n_rows <= ctx - 1 ? n_rows : ctx - 1 - index;
    ppl_result *r = st->r;
    ppl_ref *ref = st->o->ref;
    uint32_t k = r->own.k ? r->own.k : 1;
    int dense = st->o->ref_session || (ref && ref->kind == PPL_REF_FULL);
    char e[512];
    for (int r0 = 0; r0 < ns; r0 += SCORE_ROWS) {
        int nr = ns - r0 < SCORE_ROWS ? ns - r0 : SCORE_ROWS;
        size_t t = st->next;
        double kld[SCORE_ROWS];
        uint32_t tid[SCORE_ROWS * PPL_REF_MAX_K];
        float tlp[SCORE_ROWS * PPL_REF_MAX_K];
        gb_score_in in = {st->chunk + index + r0 + 1, (int)k, {NULL, 0}, 0, NULL, NULL};
        gb_score_out out = {r->own.nll + t, r->own.k ? r->own.ids + t * k : tid,
                            r->own.k ? r->own.logp + t * k : tlp, NULL};
        if (st->o->ref_session) {
            in.ref_logits = gb_ref_f32((gb_ref){st->refbuf, 0}, (uint64_t)(index + r0 - st->first) * (uint64_t)vocab);
            out.kld = kld;
        } else if (dense) {
            /* a full reference file: decode the rows and upload them */
            for (int j = 0; j < nr; j++)
                if (ppl_ref_next_row(ref, st->host + (size_t)j * (size_t)vocab, e, sizeof e) != 0) {
                    snprintf(st->msg, sizeof st->msg, "%s", e);
                    return stop(st, -1);
                }
            gb_status s = st->be->write(st->be, (gb_ref){st->refbuf, 0}, st->host,
                                        (uint64_t)nr * (uint64_t)vocab * sizeof(float));
            if (s != GB_OK)
                return s;
            in.ref_logits = (gb_ref){st->refbuf, 0};
            out.kld = kld;
        } else if (ref) {
            in.ref_k = (int)ref->k;
            in.ref_ids = ref->ids + t * ref->k;
            in.ref_logp = ref->logp + t * ref->k;
            out.kld = kld;
        }
        gb_status s = st->be->score(st->be, gb_ref_f32(logits, (uint64_t)r0 * (uint64_t)vocab), nr, vocab, &in, &out);
        if (s != GB_OK)
            return s;
        for (int j = 0; j < nr; j++) {
            size_t tj = t + (size_t)j;
            /* a NaN or +Inf logit makes the row's log-sum-exp, hence every
             * log-probability, NaN; a -Inf one shows in the NLL or KLD */
            if (!finite_row(r->own.nll[tj]) || !finite_row(out.top_logp[(size_t)j * k]) ||
                (out.kld && !finite_row(kld[j])))
                return nonfinite(st, "the model", tj, "its NLL, log-sum-exp or KLD");
            r->own.top1[tj] = out.top_ids[(size_t)j * k];
            if (out.kld)
                r->kld[tj] = kld[j];
        }
        if (st->o->save) {
            /* a full reference needs every log-probability on the host */
            s = st->be->read(st->be, gb_ref_f32(logits, (uint64_t)r0 * (uint64_t)vocab), st->host,
                             (uint64_t)nr * (uint64_t)vocab * sizeof(float));
            if (s != GB_OK)
                return s;
            for (int j = 0; j < nr; j++) {
                const float *row = st->host + (size_t)j * (size_t)vocab;
                double mx = row[0], sum = 0;
                for (int i = 1; i < vocab; i++)
                    mx = row[i] > mx ? row[i] : mx;
                for (int i = 0; i < vocab; i++)
                    sum += exp((double)row[i] - mx);
                double lse = mx + log(sum);
                for (int i = 0; i < vocab; i++)
                    st->lsm[i] = (double)row[i] - lse;
                if (ppl_ref_writer_row(st->o->save, st->lsm, (uint32_t)vocab, e, sizeof e) != 0) {
                    snprintf(st->msg, sizeof st->msg, "%s", e);
                    return stop(st, -2);
                }
            }
        }
        st->next += (size_t)nr;
    }
    return GB_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void dist(size_t N, const double *v, ppl_dist *d)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < N; i++)
        sum += v[i];
    d->mean = sum / (double)N;
    for (size_t i = 0; i < N; i++)
        sq += (v[i] - d->mean) * (v[i] - d->mean);
    d->err = N > 1 ? sqrt(sq / (double)(N - 1) / (double)N) : 0;
    double *s = malloc(N * sizeof *s);
    if (!s)
        return;
    memcpy(s, v, N * sizeof *s);
    qsort(s, N, sizeof *s, cmp_double);
    for (int i = 0; i < PPL_NQ; i++) {
        size_t rank = (size_t)ceil(ppl_quantiles[i] * (double)N - 1e-9);
        d->q[i] = s[rank ? rank - 1 : 0];
    }
    free(s);
}

void ppl_compute_stats(size_t N, const float *nll, const float *nll_ref, const double *kld, const double *dp,
                       const uint8_t *same, ppl_stats *st)
{
    if (N == 0)
        return;
    double mq = 0, mb = 0, md = 0;
    for (size_t i = 0; i < N; i++) {
        mq += nll[i];
        mb += nll_ref[i];
        md += (double)nll[i] - (double)nll_ref[i];
    }
    mq /= (double)N;
    mb /= (double)N;
    md /= (double)N;
    double vq = 0, vb = 0, cov = 0, vd = 0, s = 0;
    for (size_t i = 0; i < N; i++) {
        double a = nll[i] - mq, b = nll_ref[i] - mb, d = ((double)nll[i] - (double)nll_ref[i]) - md;
        vq += a * a;
        vb += b * b;
        cov += a * b;
        vd += d * d;
        s += same[i];
    }
    double n1 = N > 1 ? (double)(N - 1) : 1;
    st->n = N;
    st->ref_ppl = exp(mb);
    st->ref_ppl_err = st->ref_ppl * sqrt(vb / n1 / (double)N);
    st->ln_ratio = md;
    st->ln_ratio_err = sqrt(vd / n1 / (double)N);
    st->ppl_ratio = exp(md);
    st->ppl_ratio_err = st->ppl_ratio * st->ln_ratio_err;
    st->cor_nll = vq > 0 && vb > 0 ? cov / sqrt(vq * vb) : 1;
    dist(N, kld, &st->kld);
    dist(N, dp, &st->dp);
    double m2 = 0, v2 = 0;
    for (size_t i = 0; i < N; i++)
        m2 += dp[i] * dp[i];
    m2 /= (double)N;
    for (size_t i = 0; i < N; i++)
        v2 += (dp[i] * dp[i] - m2) * (dp[i] * dp[i] - m2);
    st->dp_rms = sqrt(m2);
    st->dp_rms_err = st->dp_rms > 0 ? 0.5 / st->dp_rms * sqrt(v2 / n1 / (double)N) : 0;
    st->top1 = s / (double)N;
    st->top1_err = sqrt(st->top1 * (1 - st->top1) / n1);
}

int ppl_run(gq_session *s, int vocab, const int32_t *ids, size_t n, const ppl_opts *o, ppl_result *r, char *err,
            size_t errlen)
{
    memset(r, 0, sizeof *r);
    int ctx = o->ctx;
    if (ctx < 4 || ctx > gq_session_ctx(s) || (o->ref_session && ctx > gq_session_ctx(o->ref_session))) {
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
    r->own.kind = o->k > 0 ? PPL_REF_TOPK : PPL_REF_FULL;
    r->own.k = (uint32_t)(o->k > 0 ? o->k : 0);
    if (r->own.k > PPL_REF_MAX_K)
        r->own.k = PPL_REF_MAX_K;
    if ((int)r->own.k > vocab)
        r->own.k = (uint32_t)vocab;
    r->own.vocab = (uint32_t)vocab;
    r->own.ctx = (uint32_t)ctx;
    r->own.n_tokens = (uint32_t)n;
    r->own.tokens_crc = ppl_ids_crc(ids, n);
    r->own.n_scored = r->n_scored;
    ppl_ref *ref = o->ref;
    if (ref) {
        const char *what = ref->vocab != r->own.vocab ? "vocabulary size"
                           : ref->ctx != r->own.ctx ? "context length (--ctx)"
                           : ref->n_tokens != r->own.n_tokens || ref->tokens_crc != r->own.tokens_crc ? "text (token ids)"
                           : ref->n_scored != r->n_scored ? "number of scored tokens" : NULL;
        if (what) {
            snprintf(err, errlen, "the reference was made on different input: its %s differs (reference: %u tokens "
                     "(crc %08x), ctx %u, vocab %u; this run: %zu tokens (crc %08x), ctx %d, vocab %d): use the same "
                     "text/ids, tokenizer and --ctx as --save-ref did", what, ref->n_tokens, ref->tokens_crc, ref->ctx,
                     ref->vocab, n, r->own.tokens_crc, ctx, vocab);
            return -1;
        }
    }
    int cmp = ref || o->ref_session;
    size_t N = r->n_scored, k = r->own.k;
    r->own.nll = malloc(N * sizeof *r->own.nll);
    r->own.top1 = malloc(N * sizeof *r->own.top1);
    if (k) {
        r->own.ids = malloc(N * k * sizeof *r->own.ids);
        r->own.logp = malloc(N * k * sizeof *r->own.logp);
    }
    if (cmp) {
        r->kld = malloc(N * sizeof *r->kld);
        r->dp = malloc(N * sizeof *r->dp);
        r->ref_nll = malloc(N * sizeof *r->ref_nll);
        r->ref_top1 = malloc(N * sizeof *r->ref_top1);
    }
    cb_state st;
    memset(&st, 0, sizeof st);
    st.o = o;
    st.r = r;
    st.be = gq_session_backend(s);
    st.vocab = vocab;
    st.first = first;
    if (o->ref_session && gq_session_backend(o->ref_session) != st.be) {
        ppl_result_free(r);
        snprintf(err, errlen, "the reference model must run on the same backend");
        return -1;
    }
    int dense_file = ref && ref->kind == PPL_REF_FULL;
    if (dense_file || o->save)
        st.host = malloc((size_t)SCORE_ROWS * (size_t)vocab * sizeof *st.host);
    if (o->save)
        st.lsm = malloc((size_t)vocab * sizeof *st.lsm);
    if (!r->own.nll || !r->own.top1 || (k && (!r->own.ids || !r->own.logp)) ||
        (cmp && (!r->kld || !r->dp || !r->ref_nll || !r->ref_top1)) || ((dense_file || o->save) && !st.host) ||
        (o->save && !st.lsm)) {
        free(st.host);
        free(st.lsm);
        ppl_result_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    gb_backend *be = st.be;
    int rc = 0;
    uint64_t rows = dense_file ? SCORE_ROWS : o->ref_session ? per : 0;
    if (dense_file && be->alloc(be, rows * (uint64_t)vocab * 4, &st.refbuf) != GB_OK) {
        snprintf(err, errlen, "%s backend: %s", be->name, be->error);
        rc = GQ_ERR_BACKEND;
    }
    double t0 = now(), last = t0;
    for (size_t c = 0; c < chunks && rc == 0; c++) {
        st.chunk = ids + c * (size_t)ctx;
        st.chunk_no = c;
        if (o->ref_session) {
            /* a fresh zero-filled buffer per chunk: add() into it copies */
            if (be->alloc(be, rows * (uint64_t)vocab * 4, &st.refbuf) != GB_OK) {
                snprintf(err, errlen, "%s backend: %s (the reference model's logits of one chunk: %llu bytes)",
                         be->name, be->error, (unsigned long long)(rows * (uint64_t)vocab * 4));
                rc = GQ_ERR_BACKEND;
                break;
            }
            st.ref_next = st.next;
            gq_session_reset(o->ref_session);
            rc = gq_forward(o->ref_session, st.chunk, ctx, first, on_ref_logits, &st, err, errlen);
        }
        if (rc == 0) {
            gq_session_reset(s);
            rc = gq_forward(s, st.chunk, ctx, first, on_logits, &st, err, errlen);
        }
        if (o->ref_session) {
            be->release(be, st.refbuf);
            st.refbuf = NULL;
        }
        if (rc != 0)
            break;
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
    if (st.refbuf)
        be->release(be, st.refbuf);
    free(st.host);
    free(st.lsm);
    if (rc != 0 && st.rc != 0) {
        snprintf(err, errlen, "%s", st.msg);
        rc = st.rc == PPL_ERR_NONFINITE ? PPL_ERR_NONFINITE : -1;
    }
    if (rc == 0 && dense_file && ppl_ref_rows_done(ref, err, errlen) != 0)
        rc = -1;
    if (rc != 0) {
        ppl_result_free(r);
        return rc;
    }
    r->seconds = now() - t0;
    r->tokens_per_s = (double)(chunks * (size_t)ctx) / r->seconds;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < N; i++)
        sum += r->own.nll[i];
    r->mean_nll = sum / (double)N;
    for (size_t i = 0; i < N; i++)
        sq += (r->own.nll[i] - r->mean_nll) * (r->own.nll[i] - r->mean_nll);
    double var = N > 1 ? sq / (double)(N - 1) : 0;
    r->ppl = exp(r->mean_nll);
    r->ppl_err = r->ppl * sqrt(var / (double)N);
    if (!cmp)
        return 0;
    if (ref) {
        memcpy(r->ref_nll, ref->nll, N * sizeof *r->ref_nll);
        memcpy(r->ref_top1, ref->top1, N * sizeof *r->ref_top1);
    }
    uint8_t *same = malloc(N);
    if (!same) {
        ppl_result_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < N; i++) {
        r->dp[i] = exp(-(double)r->own.nll[i]) - exp(-(double)r->ref_nll[i]);
        same[i] = r->own.top1[i] == r->ref_top1[i];
    }
    ppl_compute_stats(N, r->own.nll, r->ref_nll, r->kld, r->dp, same, &r->st);
    r->st.full = !(ref && ref->kind == PPL_REF_TOPK);
    free(same);
    return 0;
}

void ppl_result_free(ppl_result *r)
{
    ppl_ref_free(&r->own);
    free(r->kld);
    free(r->dp);
    free(r->ref_nll);
    free(r->ref_top1);
    r->kld = r->dp = NULL;
    r->ref_nll = NULL;
    r->ref_top1 = NULL;
}
