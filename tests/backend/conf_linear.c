/* conf_linear.c - embed, matmul, rmsnorm, rope and add against double-precision
 * references (tolerances: test_backend_conformance.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define NT GQ_TYPE_COUNT
#define BIG_ROWS 201088   /* the real vocabulary: a head / embedding this tall */
#define BIG_COLS 640      /* q8_32: 136.7 MB, past a 128 MiB descriptor window */
#define HEAD_DIM 64
#define ROPE_HEADS 8

typedef struct {
    gb_weight *wa[NT], *wb[NT];     /* A: [67, 96] with edge rows; B: [~259, 2880] */
    gb_weight *bias_a, *bias_b;
    gb_weight *big;                 /* q8_32 [201088, 640], or NULL */
    gb_weight *norm64, *norm2880, *inv_freq;
    int ra, rb;
} lin_state;

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory\n");
        exit(1);
    }
    return p;
}

/* Weight values with edge rows: all zero; tiny (q8/q4 scales become f16
 * subnormals, MXFP4 small exponents); one outlier among tiny values; large. */
static void weight_values(conf *c, float *v, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        float *row = v + (size_t)r * (size_t)cols;
        double amp = r == 1 ? 1e-5 : r == 3 ? 50.0 : 1.0;
        conf_fill(c, row, (size_t)cols, amp);
        if (r == 0)
            memset(row, 0, (size_t)cols * sizeof *row);
        if (r == 2) {
            conf_fill(c, row, (size_t)cols, 1e-3);
            row[cols / 2 + 1] = 300.0f;
        }
    }
}

/* gpt-oss's YaRN frequencies (base 150000, factor 32, beta 32 / 1, original
 * context 4096), rounded to f32 the way the model stores them. */
static void yarn_inv_freq(float *out, int head_dim)
{
    double base = 150000.0, factor = 32.0, orig = 4096.0, bfast = 32.0, bslow = 1.0;
    int half = head_dim / 2;
    double low = half * log(orig / (bfast * 2 * M_PI)) / log(base);
    double high = half * log(orig / (bslow * 2 * M_PI)) / log(base);
    for (int i = 0; i < half; i++) {
        double freq = pow(base, 2.0 * i / head_dim);
        double ramp = (i - low) / (high - low);
        double mask = 1.0 - (ramp < 0 ? 0 : ramp > 1 ? 1 : ramp);
        out[i] = (float)(1.0 / (factor * freq) * (1 - mask) + 1.0 / freq * mask);
    }
}

static void lin_setup(conf *c, void **state)
{
    lin_state *s = calloc(1, sizeof *s);
    if (!s)
        exit(1);
    *state = s;
    static char names[2][NT][32];
    s->ra = 67;
    s->rb = conf_size(c, 259, 5, 1);
    float *va = xalloc((size_t)s->ra * 96), *vb = xalloc((size_t)s->rb * 2880);
    for (int t = 0; t < NT; t++) {
        snprintf(names[0][t], sizeof names[0][t], "A.%s", gq_traits_of((gq_type)t)->name);
        snprintf(names[1][t], sizeof names[1][t], "B.%s", gq_traits_of((gq_type)t)->name);
        weight_values(c, va, s->ra, 96);
        weight_values(c, vb, s->rb, 2880);
        s->wa[t] = conf_weight(c, names[0][t], (gq_type)t, 1, s->ra, 96, va);
        s->wb[t] = conf_weight(c, names[1][t], (gq_type)t, 1, s->rb, 2880, vb);
    }
    conf_fill(c, va, (size_t)s->ra, 2.0);
    s->bias_a = conf_vec(c, "A.bias", 1, s->ra, va);
    conf_fill(c, vb, (size_t)s->rb, 2.0);
    s->bias_b = conf_vec(c, "B.bias", 1, s->rb, vb);
    for (int i = 0; i < 2880; i++)
        vb[i] = (float)(1.0 + 0.5 * conf_sym(c));
    s->norm64 = conf_vec(c, "norm64", 1, 64, vb);
    s->norm2880 = conf_vec(c, "norm2880", 1, 2880, vb);
    yarn_inv_freq(va, HEAD_DIM);
    s->inv_freq = conf_vec(c, "inv_freq", 1, HEAD_DIM / 2, va);
    free(va);
    free(vb);
    if (c->big) {
        /* random valid q8_32 blocks: f16 scales in [1e-3, 1e-2), any int8 */
        s->big = conf_weight_raw(c, "big.q8_32", GQ_Q8_32, 1, BIG_ROWS, BIG_COLS);
        uint8_t *p = conf_weight_bytes(c, s->big);
        size_t blocks = (size_t)BIG_ROWS * BIG_COLS / 32;
        uint16_t scales[256];
        for (int i = 0; i < 256; i++)
            scales[i] = gq_f32_to_f16((float)(1e-3 + 9e-3 * conf_unif(c)));
        conf_bytes(c, p, (size_t)gb_weight_bytes(s->big));
        for (size_t b = 0; b < blocks; b++, p += 34) {
            uint16_t d = scales[p[0]];
            p[0] = (uint8_t)d;
            p[1] = (uint8_t)(d >> 8);
        }
    }
}

/* ---- embed ---- */

static void embed_case(conf *c, const gb_weight *w, const int32_t *ids, int n, const char *what)
{
    if (c->dead)
        return;
    size_t cols = (size_t)w->cols;
    float *got = xalloc((size_t)n * cols), *want = xalloc(cols);
    conf_guard g;
    double err = 0;
    int ok = conf_guard_new(c, &g, (uint64_t)n * cols, NULL) &&
             conf_ok(c, c->b->embed(c->b, w, ids, n, g.ref), "embed") && conf_guard_check(c, &g, got, "embed");
    if (ok) {
        for (int t = 0; t < n; t++) {
            conf_decode_row(w, 0, ids[t], want);
            for (size_t i = 0; i < cols; i++) {
                double d = fabs((double)got[(size_t)t * cols + i] - want[i]);
                if (!(d <= err))
                    err = isnan(d) ? INFINITY : d;
            }
        }
        conf_result(c, "embed", what, err, 0.0);
    }
    conf_guard_free(c, &g);
    free(got);
    free(want);
}

/* ---- matmul ---- */

/* Run out = W x (+ bias) for n tokens; check the rows in `check` (all if
 * NULL) against the double reference; err = |diff| / (sum |W x| + |bias|),
 * the dot product's own condition scale. */
static void matmul_case(conf *c, const gb_weight *w, const gb_weight *bias, int n, const char *what, int sampled)
{
    if (c->dead)
        return;
    int64_t rows = w->rows, cols = w->cols;
    float *x = xalloc((size_t)n * (size_t)cols), *got = xalloc((size_t)n * (size_t)rows);
    /* activations of mixed magnitude, a zero token when n > 2 */
    for (int t = 0; t < n; t++)
        conf_fill(c, x + (size_t)t * (size_t)cols, (size_t)cols, t % 3 == 1 ? 8.0 : 1.0);
    if (n > 2)
        memset(x + (size_t)(n / 2) * (size_t)cols, 0, (size_t)cols * sizeof *x);
    conf_guard gx, go;
    int ok = conf_guard_new(c, &gx, (uint64_t)n * (uint64_t)cols, x) &&
             conf_guard_new(c, &go, (uint64_t)n * (uint64_t)rows, NULL) &&
             conf_ok(c, c->b->matmul(c->b, w, bias, gx.ref, n, go.ref), "matmul") &&
             conf_guard_check(c, &go, got, "matmul");
    if (ok) {
        float *row = xalloc((size_t)cols);
        const float *bv = bias ? (const float *)bias->host : NULL;
        double err = 0;
        for (int64_t r = 0; r < rows; r++) {
            /* sampled: every 97th row and the last 64 (the far end of a big weight) */
            if (sampled && r % 97 && r < rows - 64)
                continue;
            conf_decode_row(w, 0, r, row);
            for (int t = 0; t < n; t++) {
                const float *xt = x + (size_t)t * (size_t)cols;
                double s = 0, sa = 0;
                for (int64_t i = 0; i < cols; i++) {
                    double p = (double)row[i] * xt[i];
                    s += p;
                    sa += fabs(p);
                }
                if (bv) {
                    s += bv[r];
                    sa += fabs(bv[r]);
                }
                double d = fabs((double)got[(size_t)t * (size_t)rows + (size_t)r] - s);
                double e = sa > 0 ? d / sa : (d == 0 ? 0 : INFINITY);
                if (!(e <= err))
                    err = isnan(e) ? INFINITY : e;
            }
        }
        free(row);
        conf_result(c, "matmul", what, err, 1e-5);
    }
    conf_guard_free(c, &gx);
    conf_guard_free(c, &go);
    free(x);
    free(got);
}

/* ---- rmsnorm ---- */

static void rmsnorm_case(conf *c, const gb_weight *w, int n, double amp, int in_place, const char *what)
{
    if (c->dead)
        return;
    int dim = (int)w->cols;
    float eps = 1e-5f;
    size_t len = (size_t)n * (size_t)dim;
    float *x = xalloc(len), *got = xalloc(len);
    for (int t = 0; t < n; t++)
        conf_fill(c, x + (size_t)t * (size_t)dim, (size_t)dim, t == 2 ? 1e-4 * amp : amp);
    if (n > 3)
        memset(x + 3 * (size_t)dim, 0, (size_t)dim * sizeof *x); /* a zero row: out 0, eps keeps it finite */
    conf_guard gx, go;
    int ok = conf_guard_new(c, &gx, len, x);
    if (ok && !in_place)
        ok = conf_guard_new(c, &go, len, NULL);
    conf_guard *out = in_place ? &gx : &go;
    ok = ok && conf_ok(c, c->b->rmsnorm(c->b, gx.ref, w, n, dim, eps, out->ref), "rmsnorm") &&
         conf_guard_check(c, out, got, "rmsnorm");
    if (ok) {
        const float *wv = w->host;
        double err = 0;
        for (int t = 0; t < n; t++) {
            const float *xt = x + (size_t)t * (size_t)dim;
            double ss = 0, mx = 0, md = 0;
            for (int i = 0; i < dim; i++)
                ss += (double)xt[i] * xt[i];
            double r = 1.0 / sqrt(ss / dim + (double)eps);
            for (int i = 0; i < dim; i++) {
                double ref = xt[i] * r * wv[i];
                double d = fabs(got[(size_t)t * (size_t)dim + (size_t)i] - ref);
                mx = fmax(mx, fabs(ref));
                md = isnan(d) ? INFINITY : fmax(md, d);
            }
            double e = mx > 0 ? md / mx : (md == 0 ? 0 : INFINITY);
            err = fmax(err, e);
        }
        conf_result(c, "rmsnorm", what, err, 1e-5);
    }
    conf_guard_free(c, &gx);
    if (!in_place)
        conf_guard_free(c, &go);
    free(x);
    free(got);
}

/* ---- rope ---- */

static void rope_case(conf *c, const gb_weight *inv_freq, int n, int pos0, float mscale, const char *what)
{
    if (c->dead)
        return;
    int hd = HEAD_DIM, H = ROPE_HEADS, half = hd / 2;
    size_t len = (size_t)n * (size_t)H * (size_t)hd;
    float *x = xalloc(len), *got = xalloc(len);
    conf_fill(c, x, len, 2.0);
    conf_guard g;
    int ok = conf_guard_new(c, &g, len, x) &&
             conf_ok(c, c->b->rope(c->b, g.ref, n, H, hd, pos0, inv_freq, mscale), "rope") &&
             conf_guard_check(c, &g, got, "rope");
    if (ok) {
        const float *f = inv_freq->host;
        double mx = 0, md = 0;
        for (int t = 0; t < n; t++)
            for (int h = 0; h < H; h++) {
                const float *v = x + ((size_t)t * (size_t)H + (size_t)h) * (size_t)hd;
                const float *o = got + ((size_t)t * (size_t)H + (size_t)h) * (size_t)hd;
                for (int i = 0; i < half; i++) {
                    /* the angle is the fp32 product (backend.h; HF computes it so) */
                    float ang = (float)(pos0 + t) * f[i];
                    double cs = cos((double)ang) * mscale, sn = sin((double)ang) * mscale;
                    double r0 = v[i] * cs - v[i + half] * sn, r1 = v[i + half] * cs + v[i] * sn;
                    mx = fmax(mx, fmax(fabs(r0), fabs(r1)));
                    double d = fmax(fabs(o[i] - r0), fabs(o[i + half] - r1));
                    md = isnan(d) ? INFINITY : fmax(md, d);
                }
            }
        conf_result(c, "rope", what, md / mx, 1e-5);
    }
    conf_guard_free(c, &g);
    free(x);
    free(got);
}

/* ---- add ---- */

static void add_case(conf *c, size_t len, const char *what)
{
    if (c->dead)
        return;
    float *x = xalloc(len), *y = xalloc(len + 5), *got = xalloc(len);
    conf_fill(c, x, len, 100.0);
    conf_fill(c, y, len + 5, 1.0);
    conf_guard gx, gy;
    gb_ref yref;
    int ok = conf_guard_new(c, &gx, len, x) && conf_guard_new(c, &gy, len + 5, y);
    yref = gb_ref_f32(gy.ref, 5); /* y at yet another offset */
    ok = ok && conf_ok(c, c->b->add(c->b, gx.ref, yref, len), "add") && conf_guard_check(c, &gx, got, "add");
    if (ok) {
        /* fp32 addition is correctly rounded: one answer */
        double err = 0;
        for (size_t i = 0; i < len; i++) {
            float want = x[i] + y[i + 5];
            if (memcmp(&want, &got[i], sizeof want) != 0)
                err = fmax(err, isnan(got[i]) ? INFINITY : fabs((double)got[i] - want));
        }
        conf_result(c, "add", what, err, 0.0);
        float *yy = xalloc(len + 5);
        if (conf_get(c, gy.buf, gy.pad, yy, len + 5) && memcmp(yy, y, (len + 5) * sizeof *y) != 0)
            conf_fail(c, "add", what, "modified y");
        free(yy);
    }
    conf_guard_free(c, &gx);
    conf_guard_free(c, &gy);
    free(x);
    free(y);
    free(got);
}

static void lin_run(conf *c, void *state)
{
    lin_state *s = state;
    char what[96];
    /* embed: every type, repeated and edge rows, n = 1 and n > 1 */
    int32_t ids_a[9] = {0, 1, 2, 3, 66, 5, 5, 40, 1};
    for (int t = 0; t < NT; t++) {
        const char *tn = gq_traits_of((gq_type)t)->name;
        snprintf(what, sizeof what, "%s n=1 row 66", tn);
        embed_case(c, s->wa[t], &ids_a[4], 1, what);
        snprintf(what, sizeof what, "%s n=9 (zero/tiny/outlier rows)", tn);
        embed_case(c, s->wa[t], ids_a, 9, what);
        int32_t ids_b[3] = {s->rb - 1, 0, s->rb / 2};
        snprintf(what, sizeof what, "%s [%d x 2880] n=3", tn, s->rb);
        embed_case(c, s->wb[t], ids_b, 3, what);
    }
    int32_t zero = 0;
    embed_case(c, s->bias_b, &zero, 1, "f32 1-row vector (bias)");
    embed_case(c, s->inv_freq, &zero, 1, "f32 1-row vector (inv_freq)");
    if (s->big) {
        int32_t ids[4] = {BIG_ROWS - 1, 0, BIG_ROWS / 2, BIG_ROWS - 2};
        embed_case(c, s->big, ids, 4, "q8_32 [201088 x 640] far rows n=4");
    }

    /* matmul: every type, n = 1, 3, 17, 130, with and without bias */
    int ns[4] = {1, 3, 17, conf_size(c, 130, 5, 1)};
    for (int t = 0; t < NT; t++) {
        const char *tn = gq_traits_of((gq_type)t)->name;
        for (int i = 0; i < 4; i++)
            for (int bias = 0; bias < 2; bias++) {
                snprintf(what, sizeof what, "%s [67 x 96] n=%d%s", tn, ns[i], bias ? " +bias" : "");
                matmul_case(c, s->wa[t], bias ? s->bias_a : NULL, ns[i], what, 0);
            }
        int nb[3] = {1, 3, ns[3]};
        for (int i = 0; i < 3; i++) {
            snprintf(what, sizeof what, "%s [%d x 2880] n=%d%s", tn, s->rb, nb[i], i ? " +bias" : "");
            matmul_case(c, s->wb[t], i ? s->bias_b : NULL, nb[i], what, 0);
        }
    }
    if (s->big) {
        matmul_case(c, s->big, NULL, 1, "q8_32 [201088 x 640] n=1 (sampled rows)", 1);
        matmul_case(c, s->big, NULL, 3, "q8_32 [201088 x 640] n=3 (sampled rows)", 1);
    }

    /* rmsnorm: small and real width, n = 1 and n = 5 (a tiny row where eps
     * matters, a zero row), large values, in place */
    rmsnorm_case(c, s->norm64, 1, 1.0, 0, "dim=64 n=1");
    rmsnorm_case(c, s->norm64, 5, 1.0, 0, "dim=64 n=5 (tiny row, zero row)");
    rmsnorm_case(c, s->norm2880, 5, 1e3, 0, "dim=2880 n=5 large values");
    rmsnorm_case(c, s->norm2880, 1, 1.0, 1, "dim=2880 n=1 out == x");
    rmsnorm_case(c, s->norm2880, 5, 3.0, 1, "dim=2880 n=5 out == x");

    /* rope: YaRN frequencies, mscale 1 and the YaRN concentration, pos0 > 0 */
    float msc = (float)(0.1 * log(32.0) + 1.0);
    rope_case(c, s->inv_freq, 1, 0, 1.0f, "n=1 pos0=0 mscale=1");
    rope_case(c, s->inv_freq, 1, 4093, msc, "n=1 pos0=4093 mscale=1.35");
    rope_case(c, s->inv_freq, 7, 37, msc, "n=7 pos0=37 mscale=1.35");
    rope_case(c, s->inv_freq, 5, 131000, msc, "n=5 pos0=131000 mscale=1.35");

    /* add: odd lengths at odd offsets */
    add_case(c, 1, "len=1");
    add_case(c, 7, "len=7");
    add_case(c, 2880 * 3 + 5, "len=8645");
}

static void lin_done(void *state) { free(state); }

const conf_group conf_group_linear = {"linear", lin_setup, lin_run, lin_done};
