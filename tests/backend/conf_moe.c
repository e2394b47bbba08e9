/* conf_moe.c - the MoE block (backend.h's contract: router, top-k with the
 * lower index winning ties, softmax over the k, clamped SwiGLU, only the
 * chosen experts read) for every expert weight type, against a
 * double-precision reference (tolerances: test_backend_conformance.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define NT GQ_TYPE_COUNT
#define E 32
#define TOPK 4
#define D 128
#define I 96
#define E_BIG 128          /* gpt-oss-120b's expert count */
#define D_BIG 64
#define I_BIG 64
#define D_WIDE 2880        /* the real hidden size; gate_up stack 141 MB, past a 128 MiB window */
#define I_WIDE 1440
#define LIMIT 7.0f
#define ALPHA 1.702f

/* experts that no token may choose: their weights and biases are NaN / inf,
 * so a backend that reads (or multiplies by zero) an unchosen expert fails */
static const int poisoned[2] = {7, 19};

typedef struct {
    gb_weight *gu, *gub, *dn, *dnb;
} experts;

typedef struct {
    experts ex[NT];
    experts big;               /* E_BIG mxfp4 experts */
    experts wide;              /* E mxfp4 experts of the real width (GQ_CONFORMANCE_BIG) */
    gb_weight *r_wide, *rb_wide;       /* chooses experts 28..31: the far end of the stacks */
    gb_weight *r_rand, *rb_rand;       /* random router, poisoned experts far below */
    gb_weight *r_zero, *rb_flat;       /* all logits equal: experts 0..k-1 */
    gb_weight *r_ladder, *rb_ladder;   /* a bias ladder with ties inside and at the k-th place */
    gb_weight *r_big, *rb_big;
    int ladder_rank[E];        /* expert of each rank in the ladder */
} moe_state;

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory\n");
        exit(1);
    }
    return p;
}

static int is_poisoned(int e) { return e == poisoned[0] || e == poisoned[1]; }

static void poison_matrix(conf *c, const gb_weight *w, int e)
{
    uint8_t *p = conf_weight_bytes(c, w) + (size_t)e * (size_t)w->rows * w->row_bytes;
    size_t bytes = (size_t)w->rows * w->row_bytes;
    switch (w->type) {
    case GQ_F32:
        for (size_t i = 0; i < bytes; i += 4) {
            uint32_t nan = 0x7fc00000u;
            memcpy(p + i, &nan, 4);
        }
        break;
    case GQ_F16:
    case GQ_BF16:
        for (size_t i = 0; i < bytes; i += 2) {
            uint16_t nan = w->type == GQ_F16 ? 0x7e00 : 0x7fc0;
            p[i] = (uint8_t)nan;
            p[i + 1] = (uint8_t)(nan >> 8);
        }
        break;
    case GQ_Q8_32:
    case GQ_Q4_32:
        for (size_t i = 0; i < bytes; i += (size_t)gq_traits_of(w->type)->block_bytes) {
            p[i] = 0x00; /* d = f16 NaN */
            p[i + 1] = 0x7e;
        }
        break;
    case GQ_MXFP4:
        for (size_t i = 0; i < bytes; i += 17) {
            p[i] = 255; /* scale 2^127: every value with |K| >= 2 is inf */
            memset(p + i + 1, 0x77, 16);
        }
        break;
    default:
        break;
    }
}

static void make_experts(conf *c, experts *x, gq_type t, int ne, int dd, int ii, const char *tag)
{
    static char names[NT + 1][4][40];
    int k = t < NT && ne == E ? t : NT;
    snprintf(names[k][0], 40, "%s.gate_up.%s", tag, gq_traits_of(t)->name);
    snprintf(names[k][1], 40, "%s.gate_up_bias", tag);
    snprintf(names[k][2], 40, "%s.down.%s", tag, gq_traits_of(t)->name);
    snprintf(names[k][3], 40, "%s.down_bias", tag);
    size_t ngu = (size_t)ne * 2 * (size_t)ii * (size_t)dd, ndn = (size_t)ne * (size_t)dd * (size_t)ii;
    float *v = xalloc(ngu > ndn ? ngu : ndn);
    conf_fill(c, v, ngu, 0.25);
    x->gu = conf_weight(c, names[k][0], t, ne, 2 * ii, dd, v);
    conf_fill(c, v, ndn, 0.25);
    x->dn = conf_weight(c, names[k][2], t, ne, dd, ii, v);
    conf_fill(c, v, (size_t)ne * 2 * (size_t)ii, 0.5);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2 * ii; i++)
            v[(size_t)poisoned[j] * 2 * (size_t)ii + (size_t)i] = NAN;
    x->gub = conf_weight(c, names[k][1], GQ_F32, ne, 1, 2 * ii, v);
    conf_fill(c, v, (size_t)ne * (size_t)dd, 0.5);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < dd; i++)
            v[(size_t)poisoned[j] * (size_t)dd + (size_t)i] = NAN;
    x->dnb = conf_weight(c, names[k][3], GQ_F32, ne, 1, dd, v);
    for (int j = 0; j < 2; j++) {
        poison_matrix(c, x->gu, poisoned[j]);
        poison_matrix(c, x->dn, poisoned[j]);
    }
    free(v);
}

/* Random valid MXFP4 blocks (scale bytes 118..124: values up to 0.75), the
 * poisoned experts as in poison_matrix; biases small. Cheap at any size. */
static void make_wide_experts(conf *c, experts *x)
{
    x->gu = conf_weight_raw(c, "wide.gate_up.mxfp4", GQ_MXFP4, E, 2 * I_WIDE, D_WIDE);
    x->dn = conf_weight_raw(c, "wide.down.mxfp4", GQ_MXFP4, E, D_WIDE, I_WIDE);
    const gb_weight *ws[2] = {x->gu, x->dn};
    for (int k = 0; k < 2; k++) {
        uint8_t *p = conf_weight_bytes(c, ws[k]);
        size_t blocks = (size_t)gb_weight_bytes(ws[k]) / 17;
        conf_bytes(c, p, (size_t)gb_weight_bytes(ws[k]));
        for (size_t b = 0; b < blocks; b++, p += 17)
            p[0] = (uint8_t)(118 + p[0] % 7);
        for (int j = 0; j < 2; j++)
            poison_matrix(c, ws[k], poisoned[j]);
    }
    float *v = xalloc((size_t)E * 2 * I_WIDE);
    conf_fill(c, v, (size_t)E * 2 * I_WIDE, 0.5);
    x->gub = conf_weight(c, "wide.gate_up_bias", GQ_F32, E, 1, 2 * I_WIDE, v);
    conf_fill(c, v, (size_t)E * D_WIDE, 0.5);
    x->dnb = conf_weight(c, "wide.down_bias", GQ_F32, E, 1, D_WIDE, v);
    free(v);
}

static void moe_setup(conf *c, void **state)
{
    moe_state *s = calloc(1, sizeof *s);
    if (!s)
        exit(1);
    *state = s;
    for (int t = 0; t < NT; t++)
        make_experts(c, &s->ex[t], (gq_type)t, E, D, I, "moe");
    make_experts(c, &s->big, GQ_MXFP4, E_BIG, D_BIG, I_BIG, "moe128");

    float r[E_BIG * D], rb[E_BIG];
    /* random router; the poisoned experts' bias keeps them out of every top-k */
    conf_fill(c, r, (size_t)E * D, 1.0);
    conf_fill(c, rb, E, 0.5);
    rb[poisoned[0]] = rb[poisoned[1]] = -1e4f;
    s->r_rand = conf_weight(c, "router.rand", GQ_F32, 1, E, D, r);
    s->rb_rand = conf_vec(c, "router_bias.rand", 1, E, rb);
    /* all logits exactly equal (zero rows, one bias): experts 0..k-1, weights 1/k */
    memset(r, 0, sizeof r);
    for (int e = 0; e < E; e++)
        rb[e] = 0.75f;
    s->r_zero = conf_weight(c, "router.zero", GQ_F32, 1, E, D, r);
    s->rb_flat = conf_vec(c, "router_bias.flat", 1, E, rb);
    /* a ladder: expert of rank j has bias 3 - 0.5 j (a random permutation);
     * ranks 0 and 1 tie (both chosen), ranks 3, 4, 5 tie (the lowest index of
     * the three takes the last place). Tied experts have zero router rows,
     * so their logits are the bias exactly on any backend; the others get
     * tiny rows that never reorder the ladder. */
    int perm[E];
    for (int e = 0; e < E; e++)
        perm[e] = e;
    for (int e = E - 1; e > 0; e--) {
        int j = conf_int(c, e + 1), tmp = perm[e];
        perm[e] = perm[j];
        perm[j] = tmp;
    }
    /* keep the poisoned experts at the bottom of the ladder */
    for (int j = 0; j < 2; j++)
        for (int rk = 0; rk < E - 2; rk++)
            if (perm[rk] == poisoned[j]) {
                int tmp = perm[rk];
                perm[rk] = perm[E - 1 - j];
                perm[E - 1 - j] = tmp;
            }
    conf_fill(c, r, (size_t)E * D, 1e-5);
    for (int rk = 0; rk < E; rk++) {
        int e = perm[rk];
        s->ladder_rank[rk] = e;
        double b = 3.0 - 0.5 * rk;
        if (rk == 1)
            b = 3.0;
        if (rk == 4 || rk == 5)
            b = 3.0 - 0.5 * 3;
        rb[e] = (float)b;
        if (rk <= 1 || (rk >= 3 && rk <= 5))
            memset(r + (size_t)e * D, 0, D * sizeof *r);
    }
    s->r_ladder = conf_weight(c, "router.ladder", GQ_F32, 1, E, D, r);
    s->rb_ladder = conf_vec(c, "router_bias.ladder", 1, E, rb);
    conf_fill(c, r, (size_t)E_BIG * D_BIG, 1.0);
    conf_fill(c, rb, E_BIG, 0.5);
    rb[poisoned[0]] = rb[poisoned[1]] = -1e4f;
    s->r_big = conf_weight(c, "router.128", GQ_F32, 1, E_BIG, D_BIG, r);
    s->rb_big = conf_vec(c, "router_bias.128", 1, E_BIG, rb);
    if (c->big) {
        make_wide_experts(c, &s->wide);
        float *rw = xalloc((size_t)E * D_WIDE);
        conf_fill(c, rw, (size_t)E * D_WIDE, 0.01);
        conf_fill(c, rb, E, 0.5);
        for (int e = E - TOPK; e < E; e++)
            rb[e] += 50.0f;
        rb[poisoned[0]] = rb[poisoned[1]] = -1e4f;
        s->r_wide = conf_weight(c, "router.wide", GQ_F32, 1, E, D_WIDE, rw);
        s->rb_wide = conf_vec(c, "router_bias.wide", 1, E, rb);
        free(rw);
    }
}

/* Top-k of n logits, descending, the lower index first among equals. */
static void topk(const double *l, int n, int k, int *idx)
{
    for (int i = 0; i < k; i++) {
        int best = -1;
        for (int e = 0; e < n; e++) {
            int taken = 0;
            for (int j = 0; j < i; j++)
                taken |= idx[j] == e;
            if (!taken && (best < 0 || l[e] > l[best]))
                best = e;
        }
        idx[i] = best;
    }
}

typedef struct {
    const experts *ex;
    const gb_weight *router, *rbias;
    int ne, dd, ii, n;
    double xamp;
    int need_clamp;            /* the case must engage the SwiGLU clamp */
    const int *want_set;       /* the top-k set every token must choose (any order), or NULL */
    const char *what;
} moe_case;

/* The reference for token x; returns 0 if the k-th and (k+1)-th router
 * logits are closer than a backend's fp32 rounding could resolve (and not
 * exactly equal), so the token must be redrawn.
 *
 * cond[d] is the first-order condition scale of out[d]: what an fp32
 * evaluation's error is proportional to (the matmul tolerance's
 * sum |W x|, carried through the block): each down product's
 * sum_j |down_dj| A_j + |bias_d|, where A_j = |a_j| plus a_j's sensitivity
 * to its gate and up sums times their own sum |W x| (zero where the clamp
 * holds); plus each chosen expert's |y_d| times the router's largest
 * sum |R x| + |bias| (an error in a logit moves the softmax weights by that
 * much, relatively); summed with the softmax weights. */
static int moe_ref(const moe_case *mc, const float *x, double *out, double *cond, int *chosen, long *clamped)
{
    int ne = mc->ne, dd = mc->dd, ii = mc->ii;
    const float *R = mc->router->host, *rb = mc->rbias->host;
    double l[E_BIG], la[E_BIG];
    for (int e = 0; e < ne; e++) {
        double s = rb[e], sa = fabs(rb[e]);
        for (int i = 0; i < dd; i++) {
            double p = (double)R[(size_t)e * (size_t)dd + (size_t)i] * x[i];
            s += p;
            sa += fabs(p);
        }
        l[e] = s;
        la[e] = sa;
    }
    int idx[TOPK + 1];
    topk(l, ne, TOPK + 1, idx);
    double gap = l[idx[TOPK - 1]] - l[idx[TOPK]];
    if (gap != 0 && gap < 1e-3 * (1 + fabs(l[idx[TOPK - 1]])))
        return 0;
    double w[TOPK], m = l[idx[0]], sum = 0, lcond = 0;
    for (int i = 0; i < TOPK; i++) {
        sum += w[i] = exp(l[idx[i]] - m);
        lcond = fmax(lcond, la[idx[i]]);
    }
    for (int d = 0; d < dd; d++)
        out[d] = cond[d] = 0;
    const float *gub = mc->ex->gub->host, *dnb = mc->ex->dnb->host;
    double h[2 * 2880], ha[2 * 2880], a[2880], aa[2880];
    for (int i = 0; i < TOPK; i++) {
        int e = idx[i];
        chosen[i] = e;
        if (is_poisoned(e))
            continue; /* the case is broken; moe_run_case says so */
        for (int r = 0; r < 2 * ii; r++) {
            double s = gub[(size_t)e * 2 * (size_t)ii + (size_t)r], sa = fabs(s);
            float row[D_WIDE];   /* rows decoded as needed: the wide experts are 12M values each */
            conf_decode_row(mc->ex->gu, e, r, row);
            for (int c = 0; c < dd; c++) {
                double p = (double)row[c] * x[c];
                s += p;
                sa += fabs(p);
            }
            h[r] = s;
            ha[r] = sa;
        }
        for (int j = 0; j < ii; j++) {
            double g = h[2 * j], u = h[2 * j + 1];
            int gc = g > LIMIT, uc = fabs(u) > LIMIT;
            *clamped += gc + uc;
            g = fmin(g, (double)LIMIT);
            u = fmax(fmin(u, (double)LIMIT), -(double)LIMIT);
            double sg = 1 / (1 + exp(-(double)ALPHA * g));
            a[j] = g * sg * (u + 1);
            double dg = gc ? 0 : (sg + ALPHA * g * sg * (1 - sg)) * (u + 1), du = uc ? 0 : g * sg;
            aa[j] = fabs(a[j]) + fabs(dg) * ha[2 * j] + fabs(du) * ha[2 * j + 1];
        }
        for (int d = 0; d < dd; d++) {
            double s = dnb[(size_t)e * (size_t)dd + (size_t)d], sa = fabs(s);
            float row[I_WIDE > D ? I_WIDE : D];
            conf_decode_row(mc->ex->dn, e, d, row);
            for (int j = 0; j < ii; j++) {
                s += (double)row[j] * a[j];
                sa += fabs((double)row[j]) * aa[j];
            }
            out[d] += w[i] / sum * s;
            cond[d] += w[i] / sum * (sa + fabs(s) * lcond);
        }
    }
    return 1;
}

static int in_set(int e, const int *set)
{
    for (int i = 0; i < TOPK; i++)
        if (set[i] == e)
            return 1;
    return 0;
}

static void moe_run_case(conf *c, const moe_case *mc)
{
    if (c->dead)
        return;
    int n = mc->n, dd = mc->dd, ne = mc->ne;
    float *x = xalloc((size_t)n * (size_t)dd), *got = xalloc((size_t)n * (size_t)dd);
    double *want = malloc((size_t)n * (size_t)dd * sizeof *want), *cond = malloc((size_t)n * (size_t)dd * sizeof *cond);
    if (!want || !cond)
        exit(1);
    long clamped = 0;
    int wrong_set = 0;
    for (int t = 0; t < n; t++) {
        int chosen[TOPK], tries = 0;
        do {
            conf_fill(c, x + (size_t)t * (size_t)dd, (size_t)dd, mc->xamp);
        } while (!moe_ref(mc, x + (size_t)t * (size_t)dd, want + (size_t)t * (size_t)dd, cond + (size_t)t * (size_t)dd,
                          chosen, &clamped) &&
                 ++tries < 1000);
        for (int i = 0; i < TOPK; i++)
            if (is_poisoned(chosen[i]) || (mc->want_set && !in_set(chosen[i], mc->want_set)))
                wrong_set = 1;
    }
    if (wrong_set || (mc->need_clamp && clamped == 0)) {
        /* the test's own construction failed: say so rather than pass vacuously */
        conf_fail(c, "moe", mc->what, "the case is not what it claims (reference chose %s, clamped %ld values)",
                  wrong_set ? "an unexpected set" : "as designed", clamped);
    }
    gb_moe m = {mc->router, mc->rbias, mc->ex->gu, mc->ex->gub, mc->ex->dn, mc->ex->dnb, ne, TOPK, dd, mc->ii,
                LIMIT, ALPHA};
    conf_guard gx, go;
    int ok = conf_guard_new(c, &gx, (uint64_t)n * (uint64_t)dd, x) &&
             conf_guard_new(c, &go, (uint64_t)n * (uint64_t)dd, NULL) &&
             conf_ok(c, c->b->moe(c->b, &m, gx.ref, n, go.ref), "moe") && conf_guard_check(c, &go, got, "moe");
    if (ok) {
        double err = 0;
        for (size_t i = 0; i < (size_t)n * (size_t)dd; i++) {
            double d = fabs(got[i] - want[i]);
            double e = cond[i] > 0 ? d / cond[i] : (d == 0 ? 0 : INFINITY);
            err = isnan(e) ? INFINITY : fmax(err, e);
        }
        char what[160];
        snprintf(what, sizeof what, "%s (%ld clamped)", mc->what, clamped);
        conf_result(c, "moe", what, err, 1e-6);
    }
    conf_guard_free(c, &gx);
    conf_guard_free(c, &go);
    free(x);
    free(got);
    free(want);
    free(cond);
}

static void moe_run(conf *c, void *state)
{
    moe_state *s = state;
    char what[NT][3][96];
    int nbig = conf_size(c, 37, 3, 1);
    for (int t = 0; t < NT; t++) {
        const char *tn = gq_traits_of((gq_type)t)->name;
        snprintf(what[t][0], 96, "%s E=32 k=4 n=1", tn);
        snprintf(what[t][1], 96, "%s E=32 k=4 n=%d", tn, nbig);
        snprintf(what[t][2], 96, "%s n=5 large activations", tn);
        moe_case cs[3] = {
            {&s->ex[t], s->r_rand, s->rb_rand, E, D, I, 1, 1.0, 0, NULL, what[t][0]},
            {&s->ex[t], s->r_rand, s->rb_rand, E, D, I, nbig, 1.0, 0, NULL, what[t][1]},
            {&s->ex[t], s->r_rand, s->rb_rand, E, D, I, 5, 20.0, 1, NULL, what[t][2]},
        };
        for (int i = 0; i < 3; i++)
            moe_run_case(c, &cs[i]);
    }
    /* exact ties: all equal -> experts 0..3; the ladder -> ranks 0, 1, 2 and
     * the lowest index among ranks 3..5 */
    static const int first4[TOPK] = {0, 1, 2, 3};
    int lad[TOPK];
    int r01_lo = s->ladder_rank[0] < s->ladder_rank[1] ? s->ladder_rank[0] : s->ladder_rank[1];
    int r01_hi = s->ladder_rank[0] ^ s->ladder_rank[1] ^ r01_lo;
    int low = s->ladder_rank[3];
    for (int rk = 4; rk <= 5; rk++)
        if (s->ladder_rank[rk] < low)
            low = s->ladder_rank[rk];
    lad[0] = r01_lo;
    lad[1] = r01_hi;
    lad[2] = s->ladder_rank[2];
    lad[3] = low;
    const gq_type tie_types[2] = {GQ_MXFP4, GQ_F32};
    for (int i = 0; i < 2; i++) {
        gq_type t = tie_types[i];
        const char *tn = gq_traits_of(t)->name;
        char w0[96], w1[96], w2[96];
        snprintf(w0, sizeof w0, "%s ties: all logits equal n=1", tn);
        snprintf(w1, sizeof w1, "%s ties: all logits equal n=6", tn);
        snprintf(w2, sizeof w2, "%s ties at ranks 0-1 and 3-5 n=6", tn);
        moe_case cs[3] = {
            {&s->ex[t], s->r_zero, s->rb_flat, E, D, I, 1, 1.0, 0, first4, w0},
            {&s->ex[t], s->r_zero, s->rb_flat, E, D, I, 6, 1.0, 0, first4, w1},
            {&s->ex[t], s->r_ladder, s->rb_ladder, E, D, I, 6, 1.0, 0, lad, w2},
        };
        for (int j = 0; j < 3; j++)
            moe_run_case(c, &cs[j]);
    }
    moe_case big = {&s->big, s->r_big, s->rb_big, E_BIG, D_BIG, I_BIG, 3, 1.0, 0, NULL, "mxfp4 E=128 k=4 n=3"};
    moe_run_case(c, &big);
    if (s->wide.gu) {
        static const int far[TOPK] = {31, 30, 29, 28};
        moe_case w1 = {&s->wide, s->r_wide, s->rb_wide, E, D_WIDE, I_WIDE, 1, 1.0, 0, far,
                       "mxfp4 D=2880 I=1440 experts 28-31 (141 MB stack) n=1"};
        moe_case w2 = {&s->wide, s->r_wide, s->rb_wide, E, D_WIDE, I_WIDE, 2, 1.0, 0, far,
                       "mxfp4 D=2880 I=1440 experts 28-31 (141 MB stack) n=2"};
        moe_run_case(c, &w1);
        moe_run_case(c, &w2);
    }
}

static void moe_done(void *state) { free(state); }

const conf_group conf_group_moe = {"moe", moe_setup, moe_run, moe_done};
