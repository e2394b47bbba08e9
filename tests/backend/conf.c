/* conf.c - the harness of the backend conformance suite (see conf.h). */
#include "conf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct conf_weight_rec {
    gb_weight *w;
    uint8_t *bytes;            /* writable until conf_prepare */
    int outside;               /* 1: host bytes stay outside the "mapping" */
    uint64_t hash;             /* of the host bytes, to prove nobody wrote them */
};

/* ---- random numbers: splitmix64 ---- */

uint64_t conf_u64(conf *c)
{
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double conf_unif(conf *c) { return (double)(conf_u64(c) >> 11) * (1.0 / 9007199254740992.0); }
double conf_sym(conf *c) { return 2.0 * conf_unif(c) - 1.0; }
int conf_int(conf *c, int n) { return (int)(conf_unif(c) * n); }

double conf_gauss(conf *c)
{
    double u = conf_unif(c), v = conf_unif(c);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void conf_fill(conf *c, float *x, size_t n, double amp)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * conf_sym(c));
}

void conf_bytes(conf *c, uint8_t *p, size_t n)
{
    /* xorshift64* seeded from the main stream, state in a register */
    uint64_t x = conf_u64(c) | 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1Dull;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++)
        p[i] = (uint8_t)conf_u64(c);
}

int conf_size(const conf *c, int base, int lo, int mult)
{
    int v = (int)(base * c->scale + 0.5);
    if (v < lo)
        v = lo;
    if (mult > 1)
        v = (v + mult - 1) / mult * mult;
    return v;
}

/* ---- weights ---- */

static conf_weight_rec *add_rec(conf *c)
{
    if (c->n_recs == c->cap_recs) {
        int cap = c->cap_recs ? 2 * c->cap_recs : 64;
        conf_weight_rec *r = realloc(c->recs, (size_t)cap * sizeof *r);
        if (!r) {
            fprintf(stderr, "conformance: out of host memory for the weight list\n");
            exit(1);
        }
        c->recs = r;
        c->cap_recs = cap;
    }
    conf_weight_rec *r = &c->recs[c->n_recs++];
    memset(r, 0, sizeof *r);
    return r;
}

#define ARENA_ALIGN 16384u      /* the .gptoss mapping's alignment */
#define ARENA_RESERVE (4ull << 30) /* address space only: pages are touched as weights are made */
#define TENSOR_ALIGN 32u        /* GGUF's: the weakest alignment the runtime hands over */

/* Bytes for a weight inside the "file mapping": a reserved anonymous
 * mapping, 16 KiB aligned, filled front to back (no copy of hundreds of MB
 * at prepare time). NULL if it is full. */
static uint8_t *arena_take(conf *c, uint64_t bytes)
{
    if (!c->arena_map) {
        size_t len = (size_t)ARENA_RESERVE + ARENA_ALIGN;
        int flags = MAP_PRIVATE | MAP_ANON;
#ifdef MAP_NORESERVE
        flags |= MAP_NORESERVE;
#endif
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        c->arena_map = m;
        c->arena_map_len = len;
        c->arena = (uint8_t *)(((uintptr_t)m + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
    }
    uint64_t off = (c->arena_used + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
    if (off + bytes > ARENA_RESERVE)
        return NULL;
    c->arena_used = off + bytes;
    return c->arena + off;
}

gb_weight *conf_weight_raw(conf *c, const char *name, gq_type t, int64_t n_mat, int64_t rows, int64_t cols)
{
    size_t row_bytes = gq_row_bytes(t, (uint64_t)cols);
    gb_weight *w = calloc(1, sizeof *w);
    size_t bytes = (size_t)n_mat * (size_t)rows * row_bytes;
    /* every third weight's bytes stay outside the mapping, as model-owned
     * memory would: prepare must take both */
    int outside = (c->n_recs + 1) % 3 == 0;
    uint8_t *p = outside ? calloc(bytes ? bytes : 1, 1) : arena_take(c, bytes);
    if (!row_bytes || !w || !p) {
        fprintf(stderr, "conformance: cannot make weight %s (%s, %lld x %lld x %lld)\n", name,
                gq_traits_of(t)->name, (long long)n_mat, (long long)rows, (long long)cols);
        exit(1);
    }
    w->name = name;
    w->type = t;
    w->n_mat = n_mat;
    w->rows = rows;
    w->cols = cols;
    w->row_bytes = row_bytes;
    w->host = p;
    conf_weight_rec *r = add_rec(c);
    r->w = w;
    r->bytes = p;
    r->outside = outside;
    return w;
}

gb_weight *conf_weight(conf *c, const char *name, gq_type t, int64_t n_mat, int64_t rows, int64_t cols,
                       const float *vals)
{
    gb_weight *w = conf_weight_raw(c, name, t, n_mat, rows, cols);
    gq_traits_of(t)->encode(vals, conf_weight_bytes(c, w), (size_t)(n_mat * rows * cols), NULL);
    return w;
}

gb_weight *conf_vec(conf *c, const char *name, int64_t n_mat, int64_t d, const float *vals)
{
    return conf_weight(c, name, GQ_F32, n_mat, 1, d, vals);
}

uint8_t *conf_weight_bytes(conf *c, const gb_weight *w)
{
    for (int i = 0; i < c->n_recs; i++)
        if (c->recs[i].w == w && c->recs[i].bytes)
            return c->recs[i].bytes;
    fprintf(stderr, "conformance: weight %s is not writable any more (after prepare)\n", w->name);
    exit(1);
}

void conf_decode_row(const gb_weight *w, int64_t mat, int64_t row, float *out)
{
    const uint8_t *p = (const uint8_t *)w->host + ((size_t)mat * (size_t)w->rows + (size_t)row) * w->row_bytes;
    gq_traits_of(w->type)->decode(p, out, (size_t)w->cols);
}

/* A hash of the host bytes, 8 bytes a step (hundreds of MB get hashed). */
static uint64_t fnv(const void *p, uint64_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull, w;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int conf_prepare(conf *c)
{
    c->arena_bytes = (c->arena_used + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    /* a model's file mapping is read-only: so is this one from now on */
    if (c->arena_bytes && mprotect(c->arena, (size_t)c->arena_bytes, PROT_READ) != 0)
        fprintf(stderr, "conformance: note: could not make the weight mapping read-only\n");
    gb_weight **ws = malloc((size_t)(c->n_recs ? c->n_recs : 1) * sizeof *ws);
    if (!ws)
        exit(1);
    for (int i = 0; i < c->n_recs; i++) {
        conf_weight_rec *r = &c->recs[i];
        r->bytes = NULL;
        r->hash = fnv(r->w->host, gb_weight_bytes(r->w));
        ws[i] = r->w;
    }
    int ok = conf_ok(c, c->b->prepare(c->b, ws, c->n_recs, c->arena, c->arena_bytes), "prepare");
    if (ok)
        for (int i = 0; i < c->n_recs; i++)
            if (!ws[i]->dev.buf) {
                conf_fail(c, "prepare", ws[i]->name, "returned GB_OK but left weight->dev.buf NULL");
                ok = 0;
            }
    if (ok) {
        printf("  prepare: %d weights (%llu bytes in a read-only 16 KiB-aligned mapping, a third outside) ok\n",
               c->n_recs, (unsigned long long)c->arena_used);
        c->cases++;
    }
    free(ws);
    return ok;
}

/* The host bytes must be what they were before prepare: a backend reads
 * the model's memory (often a read-only file mapping), it never writes it. */
void conf_check_hosts(conf *c)
{
    int bad = 0;
    for (int i = 0; i < c->n_recs; i++)
        if (fnv(c->recs[i].w->host, gb_weight_bytes(c->recs[i].w)) != c->recs[i].hash) {
            conf_fail(c, "prepare", c->recs[i].w->name, "the weight's host bytes changed during the run");
            bad = 1;
        }
    c->cases++;
    if (!bad)
        printf("  weights: host bytes of all %d weights unchanged by the run\n", c->n_recs);
}

void conf_free_weights(conf *c)
{
    for (int i = 0; i < c->n_recs; i++) {
        conf_weight_rec *r = &c->recs[i];
        if (r->outside)
            free((void *)r->w->host);
        free(r->w);
    }
    free(c->recs);
    if (c->arena_map)
        munmap(c->arena_map, c->arena_map_len);
    c->arena_map = NULL;
    c->arena = NULL;
    c->recs = NULL;
    c->n_recs = c->cap_recs = 0;
}

/* ---- backend calls ---- */

int conf_ok(conf *c, gb_status st, const char *what)
{
    if (st == GB_OK)
        return 1;
    if (!c->dead)
        conf_fail(c, what, "status", "returned %s: %s", gb_status_name(st), c->b->error);
    c->dead = 1;
    return 0;
}

gb_buffer *conf_alloc(conf *c, uint64_t bytes)
{
    gb_buffer *buf = NULL;
    if (c->dead || !conf_ok(c, c->b->alloc(c->b, bytes, &buf), "alloc"))
        return NULL;
    if (!buf)
        conf_fail(c, "alloc", "result", "returned GB_OK with a NULL buffer");
    return buf;
}

void conf_release(conf *c, gb_buffer *buf)
{
    if (buf)
        c->b->release(c->b, buf);
}

int conf_put(conf *c, gb_buffer *buf, uint64_t i, const float *x, size_t n)
{
    gb_ref r = {buf, i * 4u};
    return !c->dead && buf && conf_ok(c, c->b->write(c->b, r, x, n * sizeof *x), "write");
}

int conf_get(conf *c, gb_buffer *buf, uint64_t i, float *x, size_t n)
{
    gb_ref r = {buf, i * 4u};
    return !c->dead && buf && conf_ok(c, c->b->read(c->b, r, x, n * sizeof *x), "read");
}

static float sentinel(void)
{
    uint32_t u = 0x7fc0dea1u; /* a NaN with a payload: no op produces it */
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int conf_guard_new(conf *c, conf_guard *g, uint64_t n, const float *init)
{
    memset(g, 0, sizeof *g);
    g->pad = 37; /* odd, so the region starts at an offset no backend aligns to by luck */
    g->n = n;
    uint64_t total = n + 2 * g->pad;
    float *h = malloc((size_t)total * sizeof *h);
    if (!h)
        exit(1);
    float s = sentinel();
    for (uint64_t i = 0; i < total; i++)
        h[i] = s;
    if (init)
        memcpy(h + g->pad, init, (size_t)n * sizeof *h);
    else
        memset(h + g->pad, 0, (size_t)n * sizeof *h);
    g->buf = conf_alloc(c, total * 4u);
    int ok = conf_put(c, g->buf, 0, h, (size_t)total);
    free(h);
    g->ref.buf = g->buf;
    g->ref.off = g->pad * 4u;
    return ok;
}

int conf_guard_check(conf *c, conf_guard *g, float *host, const char *what)
{
    uint64_t total = g->n + 2 * g->pad;
    float *h = malloc((size_t)total * sizeof *h);
    if (!h)
        exit(1);
    int ok = conf_get(c, g->buf, 0, h, (size_t)total);
    if (ok) {
        float s = sentinel();
        for (uint64_t i = 0; i < total; i++) {
            if (i >= g->pad && i < g->pad + g->n)
                continue;
            if (memcmp(&h[i], &s, sizeof s) != 0) {
                conf_fail(c, what, "bounds", "wrote outside its output: float %lld of the region [0, %llu)",
                          (long long)i - (long long)g->pad, (unsigned long long)g->n);
                ok = 0;
                break;
            }
        }
        memcpy(host, h + g->pad, (size_t)g->n * sizeof *h);
    }
    free(h);
    return ok;
}

void conf_guard_free(conf *c, conf_guard *g)
{
    conf_release(c, g->buf);
    g->buf = NULL;
}

/* ---- results ---- */

void conf_result(conf *c, const char *op, const char *what, double err, double tol)
{
    c->cases++;
    int bad = !(err <= tol);
    if (bad)
        c->failures++;
    printf("  %s %-9s %-44s max err %-10.3g tol %-8.3g%s\n", bad ? "FAIL" : "ok  ", op, what, err, tol,
               bad ? "  <--" : "");
    if (bad)
        fprintf(stderr, "FAIL: %s %s: max err %.6g > tol %.3g\n", op, what, err, tol);
}

void conf_fail(conf *c, const char *op, const char *what, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failures++;
    printf("  FAIL %-9s %s: %s\n", op, what, msg);
    fprintf(stderr, "FAIL: %s %s: %s\n", op, what, msg);
}

float *conf_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory\n");
        exit(1);
    }
    return p;
}
