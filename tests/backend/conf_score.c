/* conf_score.c - the perplexity reductions (NLL, top-k, sparse and dense KL
 * divergence) against float64 references, for a small vocabulary and the
 * real one (201088) (tolerances: test_backend_conformance.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define VOCAB_REAL 201088
#define TOPK_MARGIN 1e-4   /* log-prob gap below which two ids may come in either order */
#define TOL_LOGP 1e-5
#define TOL_KLD_ABS 1e-5
#define TOL_KLD_REL 1e-4

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory\n");
        exit(1);
    }
    return p;
}

static void score_setup(conf *c, void **state)
{
    (void)c;
    *state = NULL;
}

typedef enum { LOGITS_GRID, LOGITS_CONT, LOGITS_DOMINANT, LOGITS_SHIFTED } logit_kind;

/* Logits: GRID are multiples of 1/64 (many exact ties, and distinct values
 * at least 1/64 apart); CONT continuous, N(0, 9); DOMINANT one logit at 30;
 * SHIFTED continuous around 100 (exp overflows fp32 without the max).
 * With V = 201088 the dominant id's log-prob is about -2e-6: the sum of
 * exponentials is 1 + 2e-6, where an imprecise log can go negative. */
static void make_logits(conf *c, float *l, int V, logit_kind k)
{
    for (int i = 0; i < V; i++) {
        double g = 3.0 * conf_gauss(c);
        l[i] = k == LOGITS_GRID ? (float)(round(g * 64) / 64) : (float)g;
        if (k == LOGITS_SHIFTED)
            l[i] += 100.0f;
    }
    if (k == LOGITS_DOMINANT)
        l[conf_int(c, V)] = 30.0f;
    if (k == LOGITS_GRID) {
        /* an exact tie at the very top as well */
        float mx = l[0];
        for (int i = 1; i < V; i++)
            mx = fmaxf(mx, l[i]);
        l[V - 1] = l[V / 3] = mx + 1.0f;
    }
}

static void log_probs(const float *l, int V, double *lp)
{
    double m = l[0], s = 0;
    for (int i = 1; i < V; i++)
        m = fmax(m, l[i]);
    for (int i = 0; i < V; i++)
        s += exp((double)l[i] - m);
    double lse = m + log(s);
    for (int i = 0; i < V; i++)
        lp[i] = (double)l[i] - lse;
}

/* The k largest of lp, descending, lower id first among equals. */
static void ref_topk(const double *lp, int V, int k, int *ids)
{
    int have = 0;
    for (int i = 0; i < V; i++) {
        if (have == k && !(lp[i] > lp[ids[k - 1]]))
            continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && lp[ids[j - 1]] < lp[i]) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = i;
    }
}

typedef struct {
    int V, n, top_k, ref_k;
    logit_kind kind;
    int dense;                 /* 1: dense reference; 2: dense reference == logits */
    int want_nll;
    const char *what;
} score_case;

static void score_run_case(conf *c, const score_case *sc)
{
    if (c->dead)
        return;
    int V = sc->V, n = sc->n, K = sc->top_k, RK = sc->ref_k;
    size_t len = (size_t)n * (size_t)V;
    float *l = xalloc(len), *rl = xalloc(len);
    double *lp = malloc(len * sizeof *lp), *rlp = malloc(len * sizeof *rlp);
    int32_t *target = malloc((size_t)n * sizeof *target);
    int *want_ids = malloc((size_t)(K + 1 > RK ? K + 1 : RK) * sizeof *want_ids);
    uint32_t *ref_ids = malloc((size_t)(n * RK + 1) * sizeof *ref_ids);
    float *ref_logp = xalloc((size_t)n * (size_t)RK);
    float nll[8], top_logp[8 * 64];
    uint32_t top_ids[8 * 64];
    double kld[8];
    if (!lp || !rlp || !target || !want_ids || !ref_ids || n > 8)
        exit(1);
    for (int t = 0; t < n; t++) {
        float *lt = l + (size_t)t * (size_t)V, *rt = rl + (size_t)t * (size_t)V;
        make_logits(c, lt, V, sc->kind);
        /* the reference model: this one perturbed (or identical) */
        for (int i = 0; i < V; i++)
            rt[i] = sc->dense == 2 ? lt[i] : lt[i] + (float)(0.3 * conf_gauss(c));
        log_probs(lt, V, lp + (size_t)t * (size_t)V);
        log_probs(rt, V, rlp + (size_t)t * (size_t)V);
        /* targets: the argmax, the argmin, a random id */
        int am = 0, an = 0;
        for (int i = 1; i < V; i++) {
            am = lt[i] > lt[am] ? i : am;
            an = lt[i] < lt[an] ? i : an;
        }
        target[t] = t % 3 == 0 ? am : t % 3 == 1 ? an : conf_int(c, V);
        if (RK) {
            ref_topk(rlp + (size_t)t * (size_t)V, V, RK, want_ids);
            for (int j = 0; j < RK; j++) {
                ref_ids[(size_t)t * (size_t)RK + (size_t)j] = (uint32_t)want_ids[j];
                ref_logp[(size_t)t * (size_t)RK + (size_t)j] = (float)rlp[(size_t)t * (size_t)V + (size_t)want_ids[j]];
            }
        }
    }
    conf_guard gl, gr;
    int ok = conf_guard_new(c, &gl, len, l);
    gr.buf = NULL;
    if (ok && sc->dense)
        ok = conf_guard_new(c, &gr, len, rl);
    gb_score_in in = {sc->want_nll ? target : NULL, K, {NULL, 0}, RK, RK ? ref_ids : NULL, RK ? ref_logp : NULL};
    if (sc->dense)
        in.ref_logits = gr.ref;
    int want_kld = sc->dense || RK;
    gb_score_out out = {sc->want_nll ? nll : NULL, K ? top_ids : NULL, K ? top_logp : NULL, want_kld ? kld : NULL};
    ok = ok && conf_ok(c, c->b->score(c->b, gl.ref, n, V, &in, &out), "score");
    if (ok) {
        double e_nll = 0, e_top = 0, e_kld = 0;
        int wrong_ids = 0, ambiguous = 0, positive = 0;
        for (int t = 0; t < n; t++) {
            const double *lpt = lp + (size_t)t * (size_t)V, *rlpt = rlp + (size_t)t * (size_t)V;
            if (sc->want_nll) {
                double d = fabs(nll[t] - -lpt[target[t]]);
                e_nll = isnan(d) ? INFINITY : fmax(e_nll, d);
            }
            if (K) {
                ref_topk(lpt, V, K + 1, want_ids);
                for (int j = 0; j < K; j++) {
                    uint32_t gid = top_ids[(size_t)t * (size_t)K + (size_t)j];
                    float glp = top_logp[(size_t)t * (size_t)K + (size_t)j];
                    double w = lpt[want_ids[j]];
                    double gp = j > 0 ? lpt[want_ids[j - 1]] - w : INFINITY, gn = w - lpt[want_ids[j + 1]];
                    int clear = (gp == 0 || gp >= TOPK_MARGIN) && (gn == 0 || gn >= TOPK_MARGIN);
                    if (!clear)
                        ambiguous++;
                    else if (gid != (uint32_t)want_ids[j]) {
                        if (!wrong_ids) /* the first one, in detail */
                            printf("       score %s: row %d top-%d id %u, want %d (log p %.9g vs %.9g)\n", sc->what,
                                   t, j + 1, gid, want_ids[j], glp, w);
                        wrong_ids++;
                    }
                    positive += glp > 0;
                    double d = fabs(glp - fmin(w, 0.0));
                    e_top = isnan(d) ? INFINITY : fmax(e_top, d);
                }
            }
            if (want_kld) {
                double kl = 0;
                if (sc->dense) {
                    for (int i = 0; i < V; i++)
                        kl += exp(rlpt[i]) * (rlpt[i] - lpt[i]);
                } else {
                    /* the sparse reference: its k ids, the rest one bucket */
                    double pref = 0, pnew = 0;
                    for (int j = 0; j < RK; j++) {
                        double rj = ref_logp[(size_t)t * (size_t)RK + (size_t)j];
                        uint32_t id = ref_ids[(size_t)t * (size_t)RK + (size_t)j];
                        kl += exp(rj) * (rj - lpt[id]);
                        pref += exp(rj);
                        pnew += exp(lpt[id]);
                    }
                    double tr = 1 - pref, tn = 1 - pnew;
                    if (tr > 1e-12)
                        kl += tr * (log(tr) - log(tn > 1e-30 ? tn : 1e-30));
                }
                double d = fabs(kld[t] - kl) / (TOL_KLD_ABS + TOL_KLD_REL * fabs(kl));
                e_kld = isnan(d) ? INFINITY : fmax(e_kld, d);
            }
        }
        char what[160];
        if (sc->want_nll) {
            snprintf(what, sizeof what, "%s nll", sc->what);
            conf_result(c, "score", what, e_nll, TOL_LOGP);
        }
        if (K) {
            snprintf(what, sizeof what, "%s top-%d log p (%d near-ties)", sc->what, K, ambiguous);
            conf_result(c, "score", what, e_top, TOL_LOGP);
            if (positive)
                conf_fail(c, "score", sc->what, "%d top-k log-probabilities are > 0 (must be clamped to <= 0)",
                          positive);
            c->cases++;
            if (wrong_ids)
                conf_fail(c, "score", sc->what, "%d top-k ids wrong where the reference's margin is clear",
                          wrong_ids);
            else
                printf("  ok   %-9s %s top-%d ids exact (ties: lower id first)\n", "score", sc->what, K);
        }
        if (want_kld) {
            /* printed as a fraction of the tolerance 1e-5 + 1e-4 |kld| */
            snprintf(what, sizeof what, "%s %s kld (err / tol)", sc->what, sc->dense ? "dense" : "sparse");
            conf_result(c, "score", what, e_kld, 1.0);
        }
    }
    conf_guard_free(c, &gl);
    if (sc->dense)
        conf_guard_free(c, &gr);
    free(l);
    free(rl);
    free(lp);
    free(rlp);
    free(target);
    free(want_ids);
    free(ref_ids);
    free(ref_logp);
}

static void score_run(conf *c, void *state)
{
    (void)state;
    int VR = VOCAB_REAL;
    const score_case cases[] = {
        {1003, 3, 8, 0, LOGITS_GRID, 1, 1, "V=1003 n=3 grid logits (ties)"},
        {1003, 3, 8, 8, LOGITS_GRID, 0, 0, "V=1003 n=3 grid logits (ties) ref_k=8"},
        {1003, 2, 64, 64, LOGITS_CONT, 0, 1, "V=1003 n=2 continuous ref_k=64"},
        {1003, 2, 5, 0, LOGITS_CONT, 2, 1, "V=1003 n=2 reference == logits"},
        {1003, 3, 4, 16, LOGITS_SHIFTED, 0, 1, "V=1003 n=3 logits near 100"},
        {1003, 1, 0, 0, LOGITS_CONT, 0, 1, "V=1003 n=1 nll only"},
        {VR, 2, 64, 0, LOGITS_GRID, 1, 1, "V=201088 n=2 grid logits (ties)"},
        {VR, 3, 16, 64, LOGITS_CONT, 0, 1, "V=201088 n=3 continuous ref_k=64"},
        {VR, 1, 8, 0, LOGITS_DOMINANT, 1, 1, "V=201088 n=1 one dominant logit"},
        {VR, 1, 0, 0, LOGITS_CONT, 1, 0, "V=201088 n=1 dense kld only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        score_run_case(c, &cases[i]);
}

static void score_done(void *state) { (void)state; }

const conf_group conf_group_score = {"score", score_setup, score_run, score_done};
