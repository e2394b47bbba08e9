/* conf_attn.c - attention with sinks (full and sliding, GQA, decode and
 * prefill, a wrapped ring) and kv_store, against double-precision references
 * (tolerances: test_backend_conformance.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define HD 64
#define WINDOW 16

typedef struct {
    gb_weight *sinks16, *sinks16_big, *sinks64;
} attn_state;

static float *xalloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory\n");
        exit(1);
    }
    return p;
}

static float poison(void) { return NAN; }

static void attn_setup(conf *c, void **state)
{
    attn_state *s = calloc(1, sizeof *s);
    if (!s)
        exit(1);
    *state = s;
    float v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (float)(1.5 * conf_gauss(c));
    s->sinks16 = conf_vec(c, "sinks16", 1, 16, v);
    s->sinks64 = conf_vec(c, "sinks64", 1, 64, v);
    for (int i = 0; i < 16; i++)
        v[i] = (float)(6.0 + 4.0 * conf_unif(c)); /* the sink takes most of the mass */
    s->sinks16_big = conf_vec(c, "sinks16_big", 1, 16, v);
}

typedef struct {
    int hq, hkv, window, cap, pos0, n;
    const gb_weight *sinks;
    double qamp;
    const char *what;
} attn_case;

/* The reference: every position's key / value comes from K / V ([pos0 + n,
 * Hkv * HD], by position), whatever slot the backend keeps it in. */
static void attn_ref(const attn_case *ac, const float *sinks, const float *q, const float *K, const float *V,
                     double scale, double *out)
{
    int hq = ac->hq, group = ac->hq / ac->hkv;
    size_t kvs = (size_t)ac->hkv * HD;
    double *s = malloc(((size_t)ac->pos0 + (size_t)ac->n) * sizeof *s);
    if (!s)
        exit(1);
    for (int t = 0; t < ac->n; t++) {
        int pos = ac->pos0 + t;
        int lo = ac->window > 0 && pos - ac->window + 1 > 0 ? pos - ac->window + 1 : 0;
        for (int h = 0; h < hq; h++) {
            const float *qh = q + ((size_t)t * (size_t)hq + (size_t)h) * HD;
            int kvh = h / group;
            double m = sinks[h];
            for (int j = lo; j <= pos; j++) {
                const float *k = K + (size_t)j * kvs + (size_t)kvh * HD;
                double d = 0;
                for (int i = 0; i < HD; i++)
                    d += (double)qh[i] * k[i];
                s[j - lo] = d * scale;
                m = fmax(m, s[j - lo]);
            }
            double den = exp(sinks[h] - m);
            for (int j = lo; j <= pos; j++)
                den += s[j - lo] = exp(s[j - lo] - m);
            double *o = out + ((size_t)t * (size_t)hq + (size_t)h) * HD;
            for (int i = 0; i < HD; i++)
                o[i] = 0;
            for (int j = lo; j <= pos; j++) {
                const float *v = V + (size_t)j * kvs + (size_t)kvh * HD;
                for (int i = 0; i < HD; i++)
                    o[i] += s[j - lo] * v[i];
            }
            for (int i = 0; i < HD; i++)
                o[i] /= den;
        }
    }
    free(s);
}

/* The cache as a ring: slot p % cap holds position p for the cap positions
 * before pos0; slots never written hold NaN (reading them poisons the result). */
static void fill_cache(const attn_case *ac, const float *K, float *cache)
{
    size_t kvs = (size_t)ac->hkv * HD;
    for (size_t i = 0; i < (size_t)ac->cap * kvs; i++)
        cache[i] = poison();
    for (int p = ac->pos0 - ac->cap > 0 ? ac->pos0 - ac->cap : 0; p < ac->pos0; p++)
        memcpy(cache + (size_t)(p % ac->cap) * kvs, K + (size_t)p * kvs, kvs * sizeof *cache);
}

static void attention_case(conf *c, const attn_case *ac)
{
    if (c->dead)
        return;
    size_t kvs = (size_t)ac->hkv * HD, qs = (size_t)ac->hq * HD;
    size_t npos = (size_t)ac->pos0 + (size_t)ac->n, ncache = (size_t)ac->cap * kvs;
    float *K = xalloc(npos * kvs), *V = xalloc(npos * kvs), *q = xalloc((size_t)ac->n * qs);
    float *kc = xalloc(ncache), *vc = xalloc(ncache), *got = xalloc((size_t)ac->n * qs);
    float *back = xalloc(ncache);
    double *want = malloc((size_t)ac->n * qs * sizeof *want);
    if (!want)
        exit(1);
    conf_fill(c, K, npos * kvs, 1.0);
    conf_fill(c, V, npos * kvs, 1.0);
    conf_fill(c, q, (size_t)ac->n * qs, ac->qamp);
    fill_cache(ac, K, kc);
    fill_cache(ac, V, vc);
    conf_guard gq, gk, gv, gkc, gvc, go;
    int ok = conf_guard_new(c, &gq, (uint64_t)ac->n * qs, q) &&
             conf_guard_new(c, &gk, (uint64_t)ac->n * kvs, K + (size_t)ac->pos0 * kvs) &&
             conf_guard_new(c, &gv, (uint64_t)ac->n * kvs, V + (size_t)ac->pos0 * kvs) &&
             conf_guard_new(c, &gkc, ncache, kc) && conf_guard_new(c, &gvc, ncache, vc) &&
             conf_guard_new(c, &go, (uint64_t)ac->n * qs, NULL);
    gb_attn a = {ac->hq, ac->hkv, HD, ac->window, ac->sinks, gkc.ref, gvc.ref, ac->cap, 1.0f / sqrtf((float)HD)};
    ok = ok && conf_ok(c, c->b->attention(c->b, &a, gq.ref, gk.ref, gv.ref, ac->n, ac->pos0, go.ref), "attention") &&
         conf_guard_check(c, &go, got, "attention");
    if (ok) {
        /* the cache is read, never written */
        int same = conf_guard_check(c, &gkc, back, "attention") && !memcmp(back, kc, ncache * sizeof *kc) &&
                   conf_guard_check(c, &gvc, back, "attention") && !memcmp(back, vc, ncache * sizeof *vc);
        if (!same)
            conf_fail(c, "attention", ac->what, "modified the cache");
        attn_ref(ac, ac->sinks->host, q, K, V, (double)a.scale, want);
        double vmax = 0, md = 0;
        for (size_t i = 0; i < npos * kvs; i++)
            vmax = fmax(vmax, fabs(V[i]));
        for (size_t i = 0; i < (size_t)ac->n * qs; i++) {
            double d = fabs(got[i] - want[i]);
            md = isnan(d) ? INFINITY : fmax(md, d);
        }
        conf_result(c, "attention", ac->what, md / vmax, 1e-5);
    }
    conf_guard_free(c, &gq);
    conf_guard_free(c, &gk);
    conf_guard_free(c, &gv);
    conf_guard_free(c, &gkc);
    conf_guard_free(c, &gvc);
    conf_guard_free(c, &go);
    free(K);
    free(V);
    free(q);
    free(kc);
    free(vc);
    free(got);
    free(back);
    free(want);
}

/* kv_store: slot p % cap gets position p for the last cap positions of the
 * batch; every other slot keeps what it held. Exact (a copy). */
static void kv_store_case(conf *c, const attn_case *ac)
{
    if (c->dead)
        return;
    size_t kvs = (size_t)ac->hkv * HD, ncache = (size_t)ac->cap * kvs, nb = (size_t)ac->n * kvs;
    float *k = xalloc(nb), *v = xalloc(nb), *kc = xalloc(ncache), *vc = xalloc(ncache);
    float *gk_back = xalloc(ncache), *gv_back = xalloc(ncache);
    conf_fill(c, k, nb, 1.0);
    conf_fill(c, v, nb, 1.0);
    conf_fill(c, kc, ncache, 10.0);
    conf_fill(c, vc, ncache, 10.0);
    conf_guard gk, gv, gkc, gvc;
    int ok = conf_guard_new(c, &gk, nb, k) && conf_guard_new(c, &gv, nb, v) && conf_guard_new(c, &gkc, ncache, kc) &&
             conf_guard_new(c, &gvc, ncache, vc);
    gb_attn a = {ac->hq, ac->hkv, HD, ac->window, ac->sinks, gkc.ref, gvc.ref, ac->cap, 1.0f / sqrtf((float)HD)};
    ok = ok && conf_ok(c, c->b->kv_store(c->b, &a, gk.ref, gv.ref, ac->n, ac->pos0), "kv_store") &&
         conf_guard_check(c, &gkc, gk_back, "kv_store") && conf_guard_check(c, &gvc, gv_back, "kv_store");
    if (ok) {
        int first = ac->n > ac->cap ? ac->n - ac->cap : 0;
        for (int t = first; t < ac->n; t++) {
            size_t slot = (size_t)((ac->pos0 + t) % ac->cap);
            memcpy(kc + slot * kvs, k + (size_t)t * kvs, kvs * sizeof *kc);
            memcpy(vc + slot * kvs, v + (size_t)t * kvs, kvs * sizeof *vc);
        }
        int bad_slots = 0;
        for (int s = 0; s < ac->cap; s++)
            bad_slots += memcmp(kc + (size_t)s * kvs, gk_back + (size_t)s * kvs, kvs * sizeof *kc) != 0 ||
                         memcmp(vc + (size_t)s * kvs, gv_back + (size_t)s * kvs, kvs * sizeof *vc) != 0;
        /* the "error" printed is the number of slots that differ from the expected ring */
        conf_result(c, "kv_store", ac->what, bad_slots, 0);
    }
    conf_guard_free(c, &gk);
    conf_guard_free(c, &gv);
    conf_guard_free(c, &gkc);
    conf_guard_free(c, &gvc);
    free(k);
    free(v);
    free(kc);
    free(vc);
    free(gk_back);
    free(gv_back);
}

static void attn_run(conf *c, void *state)
{
    attn_state *s = state;
    const gb_weight *s16 = s->sinks16;
    int W = WINDOW, nlong = conf_size(c, 40, W + 1, 1);
    char w8[96], w9[96], w10[96], w11[96];
    snprintf(w8, sizeof w8, "sliding W=16 prefill n=%d>W pos0=0", nlong);
    snprintf(w9, sizeof w9, "sliding W=16 prefill n=%d>W pos0=70 wrapped", nlong);
    /* long prefill batches (the Vulkan host's tiled kernel: 64 query rows of
     * one kv head per workgroup, tiles of 32 keys): many row tiles, the last
     * one part-filled (n * 8 not a multiple of 64) */
    int nbig = conf_size(c, 2100, 301, 1);
    snprintf(w10, sizeof w10, "full GQA16/2 prefill n=%d pos0=100", nbig);
    snprintf(w11, sizeof w11, "sliding W=128 GQA16/2 prefill n=%d pos0=1000 wrapped", nbig);
    const gb_weight *s64 = s->sinks64;
    const attn_case cases[] = {
        {16, 2, 0, 64, 0, 1, s16, 1.0, "full GQA16/2 decode n=1 pos0=0"},
        {16, 2, 0, 64, 45, 1, s16, 1.0, "full GQA16/2 decode n=1 pos0=45"},
        {16, 2, 0, 64, 0, 17, s16, 1.0, "full GQA16/2 prefill n=17 pos0=0"},
        {16, 2, 0, 64, 29, 13, s16, 1.0, "full GQA16/2 prefill n=13 pos0=29"},
        {16, 2, 0, 64, 29, 13, s16, 6.0, "full prefill n=13 pos0=29 sharp scores"},
        {16, 2, W, W, 5, 1, s16, 1.0, "sliding W=16 decode pos0=5 (ring part-filled)"},
        {16, 2, W, W, 53, 1, s16, 1.0, "sliding W=16 decode pos0=53 wrapped"},
        {16, 2, W, W, 53, 1, s->sinks16_big, 1.0, "sliding decode pos0=53 large sinks"},
        {16, 2, W, W, 53, 7, s16, 1.0, "sliding W=16 prefill n=7 pos0=53 wrapped"},
        {16, 2, W, W, 0, nlong, s16, 1.0, w8},
        {16, 2, W, W, 70, nlong, s16, 1.0, w9},
        {64, 8, 0, 256, 200, 1, s->sinks64, 4.0, "full GQA64/8 decode n=1 pos0=200"},
        {64, 8, 128, 128, 300, 3, s->sinks64, 1.0, "sliding W=128 GQA64/8 n=3 pos0=300"},
        /* batches around the tile sizes, with the model's shape (GQA 64/8) */
        {64, 8, 0, 64, 0, 2, s64, 1.0, "full GQA64/8 prefill n=2 pos0=0"},
        {64, 8, 0, 64, 0, 63, s64, 1.0, "full GQA64/8 prefill n=63 pos0=0"},
        {64, 8, 0, 128, 37, 64, s64, 1.0, "full GQA64/8 prefill n=64 pos0=37"},
        {64, 8, 0, 65, 0, 65, s64, 4.0, "full GQA64/8 prefill n=65 pos0=0 sharp scores"},
        {64, 8, 128, 128, 0, 300, s64, 1.0, "sliding W=128 GQA64/8 prefill n=300 pos0=0"},
        {64, 8, 128, 128, 200, 300, s64, 1.0, "sliding W=128 GQA64/8 prefill n=300 pos0=200 wrapped"},
        {64, 8, 128, 128, 131, 65, s64, 1.0, "sliding W=128 GQA64/8 prefill n=65 pos0=131 wrapped"},
        {16, 2, 0, 100 + nbig, 100, nbig, s16, 1.0, w10},
        {16, 2, 128, 128, 1000, nbig, s16, 1.0, w11},
        /* a group that does not divide a tile's 64 rows (G = 3) */
        {12, 4, 0, 64, 5, 50, s16, 1.0, "full GQA12/4 prefill n=50 pos0=5"},
        {12, 4, W, W, 40, 50, s16, 1.0, "sliding W=16 GQA12/4 prefill n=50 pos0=40 wrapped"},
        {16, 2, W, W, 53, 40, s->sinks16_big, 1.0, "sliding W=16 prefill n=40 pos0=53 large sinks"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        attention_case(c, &cases[i]);

    const attn_case stores[] = {
        {16, 2, W, W, 53, 1, s16, 1, "ring cap=16 n=1 pos0=53"},
        {16, 2, W, W, 60, 7, s16, 1, "ring cap=16 n=7 pos0=60 (wraps inside the batch)"},
        {16, 2, W, W, 70, 40, s16, 1, "ring cap=16 n=40>cap pos0=70"},
        {16, 2, 0, 64, 29, 13, s16, 1, "full cap=64 n=13 pos0=29"},
        {16, 2, 0, 64, 0, 1, s16, 1, "full cap=64 n=1 pos0=0"},
    };
    for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
        kv_store_case(c, &stores[i]);
}

static void attn_done(void *state) { free(state); }

const conf_group conf_group_attn = {"attention", attn_setup, attn_run, attn_done};
