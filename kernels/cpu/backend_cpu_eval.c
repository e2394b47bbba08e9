/* backend_cpu_eval.c - the CPU backend's perplexity reductions (score),
 * its read-bandwidth probe (the decode floor of `bench --membw`), the
 * share of its streamed weights on huge pages (`bench`) and GB_READ's
 * read-only products (the decode ceiling of `bench --numerics read`). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_cpu_impl.h"
#include "gk_dot.h"
#include "gk_expsum.h"
#include "gk_hugepages.h"

/* ---- the perplexity reductions ---- */

/* lp[i] = log p(i) of one row of logits: max in fp32, the sum of exp in
 * double (gk_expsum.h: the original ppl.c's arithmetic to ~1e-15, no longer
 * bit for bit: its serial libm loop was half of `ppl`'s time). */
static void log_softmax(const float *logits, int V, double *lp)
{
    float mx = logits[0];
    for (int i = 1; i < V; i++)
        if (logits[i] > mx)
            mx = logits[i];
    double sum = gk_sum_exp_shifted(logits, V, (double)mx);
    double lse = mx + log(sum);
    for (int i = 0; i < V; i++)
        lp[i] = (double)logits[i] - lse;
}

/* The k largest (float)lp, descending, the lower id first among equals
 * (insertion: k is small, most values are rejected by one compare), each
 * clamped to <= 0 (rounding: a log-probability is never positive). */
static void top_k(const double *lp, int V, int k, uint32_t *ids, float *out)
{
    int have = 0;
    for (int i = 0; i < V; i++) {
        float v = (float)lp[i];
        if (have == k && !(v > out[k - 1]))
            continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && out[j - 1] < v) {
            out[j] = out[j - 1];
            ids[j] = ids[j - 1];
            j--;
        }
        out[j] = v;
        ids[j] = (uint32_t)i;
    }
    for (int j = 0; j < k; j++)
        if (out[j] > 0)
            out[j] = 0;
}

typedef struct {
    const float *L, *R;
    int vocab, k;
    const gb_score_in *in;
    gb_score_out *out;
    double *lp;                  /* per thread: 2 * vocab doubles */
} score_ctx;

/* One row: its log-probabilities, NLL, top-k and KLD (arguments checked
 * beforehand, so a task cannot fail). */
static void score_task(void *p, int t, int thread)
{
    score_ctx *c = p;
    const gb_score_in *in = c->in;
    gb_score_out *out = c->out;
    int vocab = c->vocab, k = c->k;
    double *lp = c->lp + (size_t)thread * 2 * (size_t)vocab, *lpr = lp + vocab;
    log_softmax(c->L + (size_t)t * (size_t)vocab, vocab, lp);
    if (out->nll)
        out->nll[t] = (float)-lp[in->target[t]];
    if (k > 0 && (out->top_ids || out->top_logp)) {
        uint32_t ids[GB_TOPK_MAX];
        float top[GB_TOPK_MAX];
        top_k(lp, vocab, k, ids, top);
        if (out->top_ids)
            memcpy(out->top_ids + (size_t)t * (size_t)k, ids, (size_t)k * sizeof *ids);
        if (out->top_logp)
            memcpy(out->top_logp + (size_t)t * (size_t)k, top, (size_t)k * sizeof *top);
    }
    if (!out->kld)
        return;
    double kl = 0;
    if (c->R) {
        log_softmax(c->R + (size_t)t * (size_t)vocab, vocab, lpr);
        kl = gk_kld_rows(lpr, lp, vocab);
    } else {
        /* the reference's top ref_k, then one bucket for the rest of its
         * mass against the rest of this row's mass (a lower bound) */
        const uint32_t *rid = in->ref_ids + (size_t)t * (size_t)in->ref_k;
        const float *rlp = in->ref_logp + (size_t)t * (size_t)in->ref_k;
        double pref_sum = 0, pnew_sum = 0;
        for (int j = 0; j < in->ref_k; j++) {
            double pr = exp((double)rlp[j]);
            kl += pr * ((double)rlp[j] - lp[rid[j]]);
            pref_sum += pr;
            pnew_sum += exp(lp[rid[j]]);
        }
        double tail_ref = 1 - pref_sum, tail_new = 1 - pnew_sum;
        if (tail_ref > 1e-12)
            kl += tail_ref * (log(tail_ref) - log(tail_new > 1e-30 ? tail_new : 1e-30));
    }
    out->kld[t] = kl;
}

/* The rows in parallel on the pool (a 201088-entry row is ~0.2 M exp() in
 * double: one thread was half of `ppl`'s time); each row is still computed
 * by one thread in index order, so every figure is bit-identical to the
 * serial loop's. */
gb_status cpu_score(gb_backend *b, gb_ref logits, int n, int vocab, const gb_score_in *in, gb_score_out *out)
{
    LIVE_OR_RETURN(b);
    int dense = in->ref_logits.buf != NULL, sparse = in->ref_k > 0;
    int k = in->top_k;
    if (n < 0 || vocab < 1 || k < 0 || k > GB_TOPK_MAX || k > vocab || in->ref_k < 0 || (dense && sparse) ||
        (out->nll && !in->target) || (out->kld && !dense && !sparse) || (sparse && (!in->ref_ids || !in->ref_logp)))
        return gb_fail(b, GB_ERR_INVALID, "score: arguments outside the contract (n %d, vocab %d, top_k %d, ref_k %d)",
                       n, vocab, k, in->ref_k);
    const float *L, *R = NULL;
    uint64_t row_bytes = (uint64_t)vocab * 4;
    AT(logits, (uint64_t)n * row_bytes, "score logits", L);
    if (dense)
        AT(in->ref_logits, (uint64_t)n * row_bytes, "score reference logits", R);
    for (int t = 0; out->nll && t < n; t++)
        if (in->target[t] < 0 || in->target[t] >= vocab)
            return gb_fail(b, GB_ERR_INVALID, "score: target id %d is outside 0..%d", in->target[t], vocab - 1);
    for (int64_t i = 0; out->kld && sparse && i < (int64_t)n * in->ref_k; i++)
        if (in->ref_ids[i] >= (uint32_t)vocab)
            return gb_fail(b, GB_ERR_INVALID, "score: reference id %u is outside 0..%d", in->ref_ids[i], vocab - 1);
    cpu_ctx *c = (cpu_ctx *)b->ctx;
    size_t need = (size_t)gk_pool_size(c->pool) * (size_t)vocab;
    if (c->lp_cap < need) {
        uint64_t bytes = 2 * (uint64_t)need * sizeof(double);
        double *nl = malloc((size_t)bytes);
        if (!nl)
            return cpu_nomem(b, "the log-probabilities of the rows", bytes);
        free(c->lp);
        c->lp = nl;
        c->lp_cap = need;
    }
    score_ctx sc = {L, dense ? R : NULL, vocab, k, in, out, c->lp};
    gk_pool_run(c->pool, score_task, &sc, n);
    return GB_OK;
}

/* ---- read bandwidth: the decode floor of `bench` ---- */

typedef struct {
    const float *buf;
    size_t chunk;
    float *sink;                 /* per thread, 16 floats apart (no false sharing) */
    gk_dotf_fn dotf;
} bw_ctx;

static void bw_task(void *p, int task, int thread)
{
    bw_ctx *c = p;
    const float *buf = c->buf + (size_t)task * c->chunk;
    c->sink[thread * 16] += c->dotf(buf, buf, (int64_t)c->chunk);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The median of 5 passes of the kernels' fp32 dot over buf[0, n) on the pool. */
static double median_pass(gk_pool *pool, float *buf, size_t n, size_t chunk, float *sink)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (float)(i & 7);
    bw_ctx c = {buf, chunk, sink, gk_dotf()};
    enum { REPS = 5 };
    double v[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = mono_now();
        gk_pool_run(pool, bw_task, &c, (int)(n / chunk));
        v[r] = (double)(n * sizeof(float)) / (mono_now() - t0);
    }
    for (int i = 1; i < REPS; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[REPS / 2];
}

/* The read bandwidth of the kernels' fp32 dot over `bytes` (much larger than
 * the caches) on this backend's threads: the way the kernels read weights.
 * Measured on heap memory and on memory advised for 2 MiB pages, and the
 * faster one kept: the floor is the fastest way this machine reads (the
 * weights' own mapping has 2 MiB pages when the page cache allows,
 * docs/RUNTIME.md; with 4 KiB pages the floor alone would be a TLB-bound
 * figure, flattering any decode that had 2 MiB pages). */
gb_status cpu_read_bandwidth(gb_backend *b, uint64_t bytes, double *bytes_per_s)
{
    LIVE_OR_RETURN(b);
    *bytes_per_s = 0;
    size_t chunk = (size_t)1 << 20;
    size_t n = (size_t)(bytes / sizeof(float)) / chunk * chunk;
    if (n == 0)
        return gb_fail(b, GB_ERR_INVALID, "read_bandwidth: %llu bytes is less than one 4 MiB chunk",
                       (unsigned long long)bytes);
    gk_pool *pool = ((cpu_ctx *)b->ctx)->pool;
    float *sink = calloc((size_t)gk_pool_size(pool) * 16, sizeof(float));
    float *buf = sink ? malloc(n * sizeof(float)) : NULL;
    if (!buf) {
        free(sink);
        return cpu_nomem(b, "the bandwidth test buffer", (uint64_t)n * sizeof(float));
    }
    double bw = median_pass(pool, buf, n, chunk, sink);
    free(buf);
    float *huge = gk_huge_alloc(n * sizeof(float)); /* NULL without THP: the heap figure stands */
    if (huge) {
        double h = median_pass(pool, huge, n, chunk, sink);
        bw = h > bw ? h : bw;
        gk_huge_free(huge, n * sizeof(float));
    }
    free(sink);
    *bytes_per_s = bw;
    return GB_OK;
}

/* ---- the streamed weights' share on huge pages ---- */

double cpu_weights_huge_fraction(gb_backend *b)
{
    int n = 0;
    for (const struct gb_buffer *u = ((cpu_ctx *)b->ctx)->live; u; u = u->next)
        n += u->streamed;
    gk_span *s = n ? malloc((size_t)n * sizeof *s) : NULL;
    if (!s)
        return -1;
    n = 0;
    for (const struct gb_buffer *u = ((cpu_ctx *)b->ctx)->live; u; u = u->next)
        if (u->streamed)
            s[n++] = (gk_span){u->data, (size_t)u->bytes};
    double f = gk_huge_share(s, n);
    free(s);
    return f;
}

/* ---- GB_READ: the products only read their weights ---- */

void cpu_matvec_many_read(gb_backend *b, const gk_matvec_job *jobs, int n)
{
    cpu_ctx *c = b->ctx;
    c->read_sum += gk_matvec_many_read(c->pool, jobs, n);
}

/* m's bytes read once as the decode product reads them (whatever n), every
 * token's outputs the bias */
void cpu_product_read(gb_backend *b, const gk_mat *m, const float *bias, int n, float *out, int64_t out_stride)
{
    gk_matvec_job job = {*m, bias, NULL, out};
    cpu_matvec_many_read(b, &job, 1);
    for (int t = 1; t < n; t++)
        memcpy(out + (size_t)t * (size_t)out_stride, out, (size_t)m->rows * sizeof *out);
}

/* k distinct experts from a fixed pseudo-random sequence (xorshift64),
 * equal weights: a decode reads other experts at every layer and token, and
 * so does this */
void cpu_route_read(gb_backend *b, int n, int k, int *idx, float *w)
{
    uint64_t *seq = &((cpu_ctx *)b->ctx)->read_seq;
    for (int i = 0; i < k && i < n; i++) {
        int e, taken;
        do {
            uint64_t z = *seq;
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            *seq = z;
            e = (int)(z % (uint64_t)n);
            taken = 0;
            for (int j = 0; j < i; j++)
                taken |= idx[j] == e;
        } while (taken);
        idx[i] = e;
        w[i] = 1.0f / (float)k;
    }
}
