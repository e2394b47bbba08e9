/* conf_fused.c - backend.h's optional fused ops (add_rmsnorm, rope_kv_store,
 * argmax). A backend without one says so and is not failed (forward.c then
 * runs the op sequence). One that has it must give, on the same inputs,
 * exactly the bits of the op sequence it replaces run on the same backend
 * (whose ops the other groups check against double-precision references),
 * and be within the sequence's tolerances of the double references too;
 * argmax must equal the host's exact argmax. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define HD 64

typedef struct {
    gb_weight *norm64, *norm2880, *inv_freq;
} fused_state;

static void fused_setup(conf *c, void **state)
{
    fused_state *s = calloc(1, sizeof *s);
    if (!s)
        exit(1);
    *state = s;
    float *v = conf_floats(2880);
    for (int i = 0; i < 2880; i++)
        v[i] = (float)(1.0 + 0.5 * conf_sym(c));
    s->norm64 = conf_vec(c, "fused.norm64", 1, 64, v);
    s->norm2880 = conf_vec(c, "fused.norm2880", 1, 2880, v);
    for (int i = 0; i < HD / 2; i++) /* 150000^(-2i/d), gpt-oss's base */
        v[i] = (float)pow(150000.0, -2.0 * i / HD);
    s->inv_freq = conf_vec(c, "fused.inv_freq", 1, HD / 2, v);
    free(v);
}

/* values of a and b (n floats) that differ bitwise */
static int n_diff(const float *a, const float *b, size_t n)
{
    int d = 0;
    for (size_t i = 0; i < n; i++)
        d += memcmp(a + i, b + i, sizeof *a) != 0;
    return d;
}

static void skipped(const char *op)
{
    printf("  skip %s: not implemented by this backend (its callers run the op sequence)\n", op);
}

/* ---- add_rmsnorm == add + rmsnorm ---- */

static void add_rmsnorm_case(conf *c, const gb_weight *w, int n, double amp, const char *what)
{
    if (c->dead)
        return;
    int dim = (int)w->cols;
    float eps = 1e-5f;
    size_t len = (size_t)n * (size_t)dim;
    float *x = conf_floats(len), *y = conf_floats(len), *gx = conf_floats(len), *go = conf_floats(len), *sx = conf_floats(len),
          *so = conf_floats(len);
    conf_fill(c, x, len, amp);
    conf_fill(c, y, len, amp);
    if (n > 2) /* a row where y cancels x: the sum is 0, eps keeps it finite */
        for (int i = 0; i < dim; i++)
            y[2 * (size_t)dim + (size_t)i] = -x[2 * (size_t)dim + (size_t)i];
    conf_guard fx, fy, fo, qx, qy, qo;
    int ok = conf_guard_new(c, &fx, len, x) && conf_guard_new(c, &fy, len, y) && conf_guard_new(c, &fo, len, NULL) &&
             conf_guard_new(c, &qx, len, x) && conf_guard_new(c, &qy, len, y) && conf_guard_new(c, &qo, len, NULL);
    ok = ok && conf_ok(c, c->b->add_rmsnorm(c->b, fx.ref, fy.ref, w, n, dim, eps, fo.ref), "add_rmsnorm") &&
         conf_guard_check(c, &fx, gx, "add_rmsnorm") && conf_guard_check(c, &fo, go, "add_rmsnorm");
    ok = ok && conf_ok(c, c->b->add(c->b, qx.ref, qy.ref, len), "add") &&
         conf_ok(c, c->b->rmsnorm(c->b, qx.ref, w, n, dim, eps, qo.ref), "rmsnorm") &&
         conf_guard_check(c, &qx, sx, "add") && conf_guard_check(c, &qo, so, "rmsnorm");
    if (ok) {
        char w2[160];
        snprintf(w2, sizeof w2, "%s: values differing from add + rmsnorm", what);
        conf_result(c, "add_rmsnorm", w2, n_diff(gx, sx, len) + n_diff(go, so, len), 0);
        const float *wv = w->host;
        double err = 0;
        for (int t = 0; t < n; t++) {
            const float *xt = x + (size_t)t * (size_t)dim, *yt = y + (size_t)t * (size_t)dim;
            double ss = 0, mx = 0, md = 0;
            for (int i = 0; i < dim; i++) {
                float s = xt[i] + yt[i]; /* fp32 addition: one answer */
                if (memcmp(&s, &gx[(size_t)t * (size_t)dim + (size_t)i], sizeof s))
                    md = INFINITY;
                ss += (double)s * s;
            }
            double r = 1.0 / sqrt(ss / dim + (double)eps);
            for (int i = 0; i < dim; i++) {
                double ref = (double)(xt[i] + yt[i]) * r * wv[i];
                double d = fabs(go[(size_t)t * (size_t)dim + (size_t)i] - ref);
                mx = fmax(mx, fabs(ref));
                md = isnan(d) ? INFINITY : fmax(md, d);
            }
            err = fmax(err, mx > 0 ? md / mx : (md == 0 ? 0 : INFINITY));
        }
        snprintf(w2, sizeof w2, "%s: against the double reference", what);
        conf_result(c, "add_rmsnorm", w2, err, 1e-5);
    }
    conf_guard_free(c, &fx);
    conf_guard_free(c, &fy);
    conf_guard_free(c, &fo);
    conf_guard_free(c, &qx);
    conf_guard_free(c, &qy);
    conf_guard_free(c, &qo);
    free(x);
    free(y);
    free(gx);
    free(go);
    free(sx);
    free(so);
}

/* ---- rope_kv_store == rope q, rope k, kv_store ---- */

typedef struct {
    int hq, hkv, window, cap, pos0, n;
    const char *what;
} rkv_case;

static void rope_kv_case(conf *c, const fused_state *s, const rkv_case *rc)
{
    if (c->dead)
        return;
    size_t qn = (size_t)rc->n * (size_t)rc->hq * HD, kn = (size_t)rc->n * (size_t)rc->hkv * HD,
           cn = (size_t)rc->cap * (size_t)rc->hkv * HD;
    float *q = conf_floats(qn), *k = conf_floats(kn), *v = conf_floats(kn), *kc = conf_floats(cn), *vc = conf_floats(cn);
    float *got[4], *want[4];
    size_t len[4] = {qn, kn, cn, cn};
    for (int i = 0; i < 4; i++) {
        got[i] = conf_floats(len[i]);
        want[i] = conf_floats(len[i]);
    }
    conf_fill(c, q, qn, 2.0);
    conf_fill(c, k, kn, 2.0);
    conf_fill(c, v, kn, 2.0);
    conf_fill(c, kc, cn, 10.0);
    conf_fill(c, vc, cn, 10.0);
    float mscale = 1.3465736f;
    conf_guard f[5], u[5];
    const float *init[5] = {q, k, v, kc, vc};
    size_t glen[5] = {qn, kn, kn, cn, cn};
    int ok = 1;
    for (int i = 0; i < 5 && ok; i++)
        ok = conf_guard_new(c, &f[i], glen[i], init[i]) && conf_guard_new(c, &u[i], glen[i], init[i]);
    gb_attn fa = {rc->hq, rc->hkv, HD, rc->window, NULL, f[3].ref, f[4].ref, rc->cap, 0.125f};
    gb_attn ua = fa;
    ua.k_cache = u[3].ref;
    ua.v_cache = u[4].ref;
    ok = ok && conf_ok(c, c->b->rope_kv_store(c->b, &fa, f[0].ref, f[1].ref, f[2].ref, rc->n, rc->pos0, s->inv_freq,
                                              mscale),
                       "rope_kv_store");
    ok = ok && conf_ok(c, c->b->rope(c->b, u[0].ref, rc->n, rc->hq, HD, rc->pos0, s->inv_freq, mscale), "rope") &&
         conf_ok(c, c->b->rope(c->b, u[1].ref, rc->n, rc->hkv, HD, rc->pos0, s->inv_freq, mscale), "rope") &&
         conf_ok(c, c->b->kv_store(c->b, &ua, u[1].ref, u[2].ref, rc->n, rc->pos0), "kv_store");
    const int map[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4 && ok; i++)
        ok = conf_guard_check(c, &f[map[i]], got[i], "rope_kv_store") &&
             conf_guard_check(c, &u[map[i]], want[i], "rope + kv_store");
    if (ok) {
        char w2[160];
        int d = 0;
        for (int i = 0; i < 4; i++)
            d += n_diff(got[i], want[i], len[i]);
        snprintf(w2, sizeof w2, "%s: values differing from rope, rope, kv_store", rc->what);
        conf_result(c, "rope_kv_store", w2, d, 0);
        /* q against the double-precision rotation */
        const float *fr = s->inv_freq->host;
        double mx = 0, md = 0;
        for (size_t r = 0; r < qn / HD; r++) {
            int t = (int)(r / (size_t)rc->hq);
            const float *a = q + r * HD, *o = got[0] + r * HD;
            for (int i = 0; i < HD / 2; i++) {
                float ang = (float)(rc->pos0 + t) * fr[i];
                double cs = cos((double)ang) * mscale, sn = sin((double)ang) * mscale;
                double r0 = a[i] * cs - a[i + HD / 2] * sn, r1 = a[i + HD / 2] * cs + a[i] * sn;
                mx = fmax(mx, fmax(fabs(r0), fabs(r1)));
                double e = fmax(fabs(o[i] - r0), fabs(o[i + HD / 2] - r1));
                md = isnan(e) ? INFINITY : fmax(md, e);
            }
        }
        snprintf(w2, sizeof w2, "%s: q against the double reference", rc->what);
        conf_result(c, "rope_kv_store", w2, md / mx, 1e-5);
    }
    for (int i = 0; i < 5; i++) {
        conf_guard_free(c, &f[i]);
        conf_guard_free(c, &u[i]);
    }
    for (int i = 0; i < 4; i++) {
        free(got[i]);
        free(want[i]);
    }
    free(q);
    free(k);
    free(v);
    free(kc);
    free(vc);
}

/* ---- argmax ---- */

typedef enum { AM_RANDOM, AM_TIES, AM_NEG_INF, AM_FLAT, AM_NAN } am_kind;

static void argmax_case(conf *c, int n, int vocab, am_kind kind, const char *what)
{
    if (c->dead)
        return;
    size_t len = (size_t)n * (size_t)vocab;
    float *l = conf_floats(len);
    conf_fill(c, l, len, 20.0);
    for (int r = 0; r < n; r++) {
        float *row = l + (size_t)r * (size_t)vocab;
        if (kind == AM_TIES) { /* the same maximum at three places: the lowest wins */
            int a = conf_int(c, vocab / 2) + vocab / 2, b2 = conf_int(c, vocab / 2), d = vocab - 1;
            row[a] = row[b2] = row[d] = 50.0f;
        } else if (kind == AM_NEG_INF) {
            for (int i = 0; i < vocab; i++)
                row[i] = -INFINITY;
            if (r % 2)
                row[conf_int(c, vocab)] = -1e30f;
        } else if (kind == AM_FLAT) {
            for (int i = 0; i < vocab; i++)
                row[i] = 1.0f;
        } else if (kind == AM_NAN) {
            for (int i = 0; i < vocab; i += 7)
                row[i] = NAN;
            if (r == n - 1)
                for (int i = 0; i < vocab; i++)
                    row[i] = NAN;
        }
    }
    conf_guard g;
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids)
        exit(1);
    int ok = conf_guard_new(c, &g, len, l) &&
             conf_ok(c, c->b->argmax(c->b, g.ref, n, vocab, ids), "argmax");
    if (ok) {
        int bad = 0;
        for (int r = 0; r < n; r++) {
            const float *row = l + (size_t)r * (size_t)vocab;
            int best = -1;
            for (int i = 0; i < vocab; i++)
                if (!isnan(row[i]) && (best < 0 || row[i] > row[best]))
                    best = i;
            if (best < 0)
                best = 0;
            if (ids[r] != best) {
                if (!bad)
                    printf("  (argmax %s: row %d: got %d, want %d)\n", what, r, ids[r], best);
                bad++;
            }
        }
        conf_result(c, "argmax", what, bad, 0);
    }
    conf_guard_free(c, &g);
    free(ids);
    free(l);
}

static void fused_run(conf *c, void *state)
{
    fused_state *s = state;
    if (!c->b->add_rmsnorm)
        skipped("add_rmsnorm");
    else {
        add_rmsnorm_case(c, s->norm2880, 1, 1.0, "dim=2880 n=1");
        add_rmsnorm_case(c, s->norm2880, 5, 1e3, "dim=2880 n=5 large values, a zero row");
        add_rmsnorm_case(c, s->norm64, 3, 1.0, "dim=64 n=3, a zero row");
    }
    if (!c->b->rope_kv_store)
        skipped("rope_kv_store");
    else {
        const rkv_case cases[] = {
            {16, 2, 0, 64, 0, 1, "full GQA16/2 decode pos0=0"},
            {16, 2, 0, 64, 45, 1, "full GQA16/2 decode pos0=45"},
            {16, 2, 16, 16, 5, 1, "sliding W=16 decode pos0=5"},
            {16, 2, 16, 16, 53, 1, "sliding W=16 decode pos0=53 wrapped"},
            {16, 2, 0, 64, 29, 13, "full prefill n=13 pos0=29"},
            {16, 2, 16, 40, 60, 7, "sliding W=16 cap=40 n=7 pos0=60 (wraps inside the batch)"},
            {64, 8, 0, 512, 300, 1, "full GQA64/8 decode pos0=300"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            rope_kv_case(c, s, &cases[i]);
    }
    if (!c->b->argmax)
        skipped("argmax");
    else {
        argmax_case(c, 3, 1000, AM_RANDOM, "3 rows of 1000, random");
        argmax_case(c, c->big ? 2 : 1, 201088, AM_RANDOM, "rows of 201088, random");
        argmax_case(c, 4, 4099, AM_TIES, "4 rows of 4099, the maximum three times (the lowest wins)");
        argmax_case(c, 2, 777, AM_NEG_INF, "-inf rows (and one finite value)");
        argmax_case(c, 1, 3000, AM_FLAT, "a flat row (id 0)");
        argmax_case(c, 3, 2000, AM_NAN, "NaN never wins; a row of NaN gives 0");
    }
}

static void fused_done(void *state) { free(state); }

const conf_group conf_group_fused = {"fused", fused_setup, fused_run, fused_done};
