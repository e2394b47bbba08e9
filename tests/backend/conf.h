/* conf.h - the harness of the backend conformance suite (see
 * test_backend_conformance.c for what is checked and the tolerances).
 *
 * One backend instance runs every case. backend.h allows prepare() once per
 * instance, so the suite runs in two phases: every group first builds its
 * weights (conf_weight*), then the harness prepares them all in one call,
 * then every group runs its cases against scalar references written here,
 * in double precision, over weights decoded by quant/'s reference decoders.
 *
 * A case ends with conf_result(): it prints the case's worst error against
 * its tolerance and counts a failure naming op, type, n and case. A status
 * other than GB_OK marks the backend dead (errors are sticky by contract):
 * later cases are skipped and the run fails.
 */
#ifndef GQ_CONF_H
#define GQ_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "quant.h"

#define CHECK_SKIP_CODE 77   /* ctest's SKIP_RETURN_CODE */

typedef struct conf_weight_rec conf_weight_rec;

typedef struct {
    gb_backend *b;
    double scale;              /* GQ_CONFORMANCE_SCALE: sizes and repeat counts */
    int big;                   /* GQ_CONFORMANCE_BIG (default 1): the vocabulary-sized weight */
    int cases, failures, dead;
    uint64_t rng;
    /* weights built by the groups, prepared in one call */
    conf_weight_rec *recs;
    int n_recs, cap_recs;
    uint8_t *arena;            /* the fake "file mapping" most weights' host bytes lie in */
    uint64_t arena_used, arena_bytes;
    void *arena_map;           /* the reservation the arena lies in */
    size_t arena_map_len;
} conf;

/* ---- random numbers (deterministic: one seed per run, printed) ---- */
uint64_t conf_u64(conf *c);
double conf_unif(conf *c);                 /* [0, 1) */
double conf_sym(conf *c);                  /* [-1, 1) */
double conf_gauss(conf *c);                /* N(0, 1) */
int conf_int(conf *c, int n);              /* 0 .. n-1 */
void conf_fill(conf *c, float *x, size_t n, double amp);   /* uniform [-amp, amp) */
void conf_bytes(conf *c, uint8_t *p, size_t n);            /* random bytes, fast (hundreds of MB) */

/* n floats of host memory (at least 1); exits on failure (a test harness) */
float *conf_floats(size_t n);

/* Scale a size by GQ_CONFORMANCE_SCALE, at least lo, rounded to a multiple of mult. */
int conf_size(const conf *c, int base, int lo, int mult);

/* ---- weights ---- */
/* A weight of n_mat x [rows, cols] of type t holding `vals` (n_mat*rows*cols
 * floats) encoded by quant/'s encoder; host bytes owned by the suite. */
gb_weight *conf_weight(conf *c, const char *name, gq_type t, int64_t n_mat, int64_t rows, int64_t cols,
                       const float *vals);
/* Same, zero-filled raw block bytes the caller fills (random blocks, poison). */
gb_weight *conf_weight_raw(conf *c, const char *name, gq_type t, int64_t n_mat, int64_t rows, int64_t cols);
/* The writable host bytes of a weight made here (valid until conf_prepare). */
uint8_t *conf_weight_bytes(conf *c, const gb_weight *w);
/* 1-row f32 vector weight (a norm, bias, sinks, inv_freq); n_mat vectors of d. */
gb_weight *conf_vec(conf *c, const char *name, int64_t n_mat, int64_t d, const float *vals);
/* One row of matrix `mat`, decoded by quant/'s reference decoder (exact:
 * every block value is an f32). */
void conf_decode_row(const gb_weight *w, int64_t mat, int64_t row, float *out);

/* Make the mapping read-only, hash every weight's host bytes, and prepare
 * every weight in one call; 1 if it worked. */
int conf_prepare(conf *c);
/* After the run: every weight's host bytes still hash the same. */
void conf_check_hosts(conf *c);
void conf_free_weights(conf *c);

/* ---- backend calls ---- */
/* 1 if st == GB_OK; else records the failure (op named by what), marks the
 * backend dead and returns 0. */
int conf_ok(conf *c, gb_status st, const char *what);
gb_buffer *conf_alloc(conf *c, uint64_t bytes);
void conf_release(conf *c, gb_buffer *buf);
/* Write / read n floats at float index i of buf. */
int conf_put(conf *c, gb_buffer *buf, uint64_t i, const float *x, size_t n);
int conf_get(conf *c, gb_buffer *buf, uint64_t i, float *x, size_t n);

/* A guarded region: n floats at float offset `pad` of a buffer of
 * pad + n + pad floats whose pads hold a sentinel. conf_guard_check reads
 * everything back, reports a write outside the region as a failure of
 * `what`, and copies the region to host. */
typedef struct {
    gb_buffer *buf;
    uint64_t pad, n;
    gb_ref ref;                /* the region */
} conf_guard;
int conf_guard_new(conf *c, conf_guard *g, uint64_t n, const float *init);
int conf_guard_check(conf *c, conf_guard *g, float *host, const char *what);
void conf_guard_free(conf *c, conf_guard *g);

/* ---- results ---- */
/* Report one case: "op case: max err E (tol T)"; err > tol (or NaN) fails. */
void conf_result(conf *c, const char *op, const char *what, double err, double tol);
/* A failed expectation that is not a number (wrong id, bad status). */
void conf_fail(conf *c, const char *op, const char *what, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- the groups: setup builds weights (before prepare), run checks ---- */
typedef struct {
    const char *name;
    void (*setup)(conf *c, void **state);
    void (*run)(conf *c, void *state);
    void (*done)(void *state);
} conf_group;

extern const conf_group conf_group_linear;   /* embed, matmul, rmsnorm, rope, add */
extern const conf_group conf_group_attn;     /* attention, kv_store */
extern const conf_group conf_group_moe;      /* moe */
extern const conf_group conf_group_score;    /* score */
extern const conf_group conf_group_fused;    /* the optional fused ops */

#endif
