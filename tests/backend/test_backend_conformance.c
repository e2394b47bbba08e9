/* test_backend_conformance.c - every op of kernels/backend.h, on any
 * registered backend, against independent scalar references.
 *
 *   test_backend_conformance [BACKEND]      (or env GQ_TEST_BACKEND; default "cpu")
 *   env GQ_CONFORMANCE_SCALE=0.25..4 sizes (rows, batch lengths; default 1)
 *       GQ_CONFORMANCE_BIG=0          skip what crosses a 128 MiB window (a 136.7 MB head, a
 *                                     141 MB expert stack, a 160 MiB buffer)
 *       GQ_CONFORMANCE_SEED=N         another random draw (default fixed)
 *       GQ_TEST_DEVICE=...            gb_config.device for a GPU backend
 *       GQ_TEST_THREADS=N             gb_config.n_threads (default 0: one per core)
 * Exit 0: every case passed; 1: a failure (each named: op, type, n, case);
 * 77: the backend is not available here (not built in, no device).
 *
 * The references are plain double-precision loops over weights decoded by
 * quant/'s reference decoders (gq_traits_of(t)->decode; random weights are
 * made with quant/'s encoders or as random valid blocks). Inputs are random
 * plus edge cases; every output lands at a non-zero offset of a larger
 * buffer whose surroundings hold a sentinel, so a write out of bounds fails.
 * Every case prints its worst error and its tolerance.
 *
 * Tolerances (eps32 = 2^-24 = 6e-8, the fp32 unit roundoff):
 *   op         metric                                   tol    why
 *   write/read bytes back                               exact  a copy
 *   embed      max |out - decode(row)|                  exact  every block value is an f32 (quant.h)
 *   add        bits of x + y                            exact  fp32 addition is correctly rounded
 *   kv_store   slots differing from the expected ring   0      a copy
 *   fused ops  values differing from the op sequence    0      optional ops (add_rmsnorm, rope_kv_store)
 *              on the same backend                             promise the sequence's results; each is
 *                                                              also held to its sequence's tolerance
 *                                                              against the double reference
 *   argmax     ids differing from the host's argmax     0      a comparison, no arithmetic
 *   matmul     max |out - ref| / (sum_c |W x| + |b|)    1e-5   fp32 accumulation of K products is
 *              (per output: the dot product's own              off by at most ~K eps32 of sum |W x|
 *              condition scale, so a tiny row counts           (1.7e-4 at K = 2880, worst case) and by
 *              as much as a large one)                         ~sqrt(K) eps32 typically (3e-6); 1e-5
 *                                                              passes any sane summation order and
 *                                                              fails a wrong scale, block or row
 *   rmsnorm    per row max |diff| / max |ref|           1e-5   fp32 mean of squares over 2880 values
 *                                                              (~sqrt(dim) eps32) plus a few roundings
 *   rope       max |diff| / max |ref|                   1e-5   the angle is the fp32 product
 *                                                              pos * inv_freq[i] (backend.h; HF does the
 *                                                              same); cos / sin of it must then be
 *                                                              accurate to ~1e-6, also at pos 131000
 *                                                              (careful range reduction on a GPU)
 *   attention  max |diff| / max |v|                     1e-5   the output is a convex mix of values:
 *                                                              fp32 scores (64-term dots) and exp
 *                                                              (GLSL: 3 + 2|x| ulp) perturb each weight
 *                                                              by ~3e-6 relative
 *   moe        max |diff| / C, C the block's first-     1e-6   C is what fp32 error is proportional to:
 *              order condition scale (conf_moe.c:              each product's sum |W x|, the gate / up
 *              moe_ref)                                        sums' errors carried through the SwiGLU,
 *                                                              and |y| times the router's sum |R x| (a
 *                                                              logit error moves the softmax weights);
 *                                                              a sane fp32 block stays within a few
 *                                                              eps32 of C (the CPU: 0.5), so 1e-6 = 17
 *                                                              eps32, which still fails alpha off by
 *                                                              1e-4. (max |diff| / max |ref| would not
 *                                                              do: with large x the router alone moves
 *                                                              the output by 1.3e-5 of max |ref| in
 *                                                              plain sequential fp32.) The router's
 *                                                              choice is exact: every random token keeps
 *                                                              a gap >= 1e-3 between the k-th and k+1-th
 *                                                              logit; ties are exact by construction
 *                                                              (zero rows, equal biases)
 *   score nll  |nll - ref|                              1e-5   issue 11's gate: perplexity within 1e-5
 *                                                              relative = mean NLL within 1e-5; an fp32
 *                                                              tree logsumexp over 201088 logits is
 *                                                              good to ~2e-6
 *   score top  |log p - ref| ; ids exact where the      1e-5   ids are exact wherever the reference's
 *              reference's neighbours are >= 1e-4              gap to its neighbours is 0 (a tie: lower
 *              apart or exactly equal; every log p <= 0        id first) or >= 1e-4
 *   score kld  |kld - ref| / (1e-5 + 1e-4 |ref|)        1      an error d in logsumexp shifts the KLD
 *                                                              by d (sum p_ref = 1): 1e-5 absolute,
 *                                                              i.e. <= 1% of a typical 1e-3 KLD
 * NaN anywhere fails. The CPU backend (double logsumexp, fp32 dots) sits
 * one to three orders of magnitude below every tolerance (docs/BACKENDS.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"

/* The absurd allocation of the error contract must come back as NULL under
 * AddressSanitizer too (its default is to abort on it). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static const conf_group *const groups[] = {&conf_group_linear, &conf_group_attn, &conf_group_moe, &conf_group_score,
                                            &conf_group_fused};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double env_double(const char *name, double def)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : def;
}

/* ---- write / read / alloc / finish / read_bandwidth ---- */

static void memory_cases(conf *c)
{
    gb_backend *b = c->b;
    const uint64_t n = 4099; /* odd: no backend rounds it up by luck */
    uint8_t *pat = malloc(n), *back = malloc(n);
    if (!pat || !back)
        exit(1);
    for (uint64_t i = 0; i < n; i++)
        pat[i] = (uint8_t)(conf_u64(c) | 1);
    gb_buffer *x = conf_alloc(c, n), *y = conf_alloc(c, n);
    if (!x || !y)
        goto out;
    int bad = 0;
    /* fresh buffers are zero-filled */
    if (!conf_ok(c, b->read(b, (gb_ref){x, 0}, back, n), "read"))
        goto out;
    for (uint64_t i = 0; i < n; i++)
        bad |= back[i] != 0;
    if (bad)
        conf_fail(c, "alloc", "zero fill", "a fresh %llu-byte buffer is not zero-filled", (unsigned long long)n);
    c->cases++;
    /* whole write, partial writes at odd byte offsets, reads at offsets */
    if (!conf_ok(c, b->write(b, (gb_ref){x, 0}, pat, n), "write") ||
        !conf_ok(c, b->write(b, (gb_ref){y, 13}, pat + 100, 7), "write") ||
        !conf_ok(c, b->write(b, (gb_ref){x, n - 5}, pat + 7, 5), "write"))
        goto out;
    memcpy(pat + n - 5, pat + 7, 5);
    if (!conf_ok(c, b->read(b, (gb_ref){x, 0}, back, n), "read"))
        goto out;
    c->cases++;
    if (memcmp(back, pat, n))
        conf_fail(c, "write/read", "x whole + tail at offset n-5", "bytes differ");
    else
        printf("  ok   write/read whole 4099 bytes, 5 at offset 4094\n");
    uint8_t small[20];
    if (!conf_ok(c, b->read(b, (gb_ref){y, 10}, small, 20), "read"))
        goto out;
    bad = 0;
    for (int i = 0; i < 20; i++)
        bad |= small[i] != (i >= 3 && i < 10 ? pat[100 + i - 3] : 0);
    c->cases++;
    if (bad)
        conf_fail(c, "write/read", "7 bytes at offset 13", "read 20 bytes at offset 10: wrong or neighbours touched");
    else
        printf("  ok   write/read 7 bytes at offset 13, read back 20 at offset 10\n");
    /* a released buffer's memory comes back zero-filled */
    conf_release(c, x);
    x = conf_alloc(c, n);
    if (!x || !conf_ok(c, b->read(b, (gb_ref){x, 0}, back, n), "read"))
        goto out;
    bad = 0;
    for (uint64_t i = 0; i < n; i++)
        bad |= back[i] != 0;
    c->cases++;
    if (bad)
        conf_fail(c, "alloc", "after release", "a buffer allocated after a release is not zero-filled");
    else
        printf("  ok   alloc zero-fills fresh and reused memory\n");
    if (c->big) {
        /* past a 128 MiB descriptor window */
        uint64_t big = 160ull << 20, off = 150ull << 20;
        gb_buffer *z = conf_alloc(c, big);
        if (!z)
            goto out;
        int ok = conf_ok(c, b->write(b, (gb_ref){z, off}, pat, n), "write") &&
                 conf_ok(c, b->read(b, (gb_ref){z, off}, back, n), "read");
        uint8_t tail[8] = {1};
        ok = ok && conf_ok(c, b->read(b, (gb_ref){z, big - 8}, tail, 8), "read");
        c->cases++;
        if (ok && (memcmp(back, pat, n) || memcmp(tail, "\0\0\0\0\0\0\0\0", 8)))
            conf_fail(c, "write/read", "160 MiB buffer at offset 150 MiB", "bytes differ");
        else if (ok)
            printf("  ok   write/read at offset 150 MiB of a 160 MiB buffer\n");
        conf_release(c, z);
    }
    if (conf_ok(c, b->finish(b), "finish"))
        c->cases++;
    double bps = 0;
    if (conf_ok(c, b->read_bandwidth(b, 16u << 20, &bps), "read_bandwidth")) {
        c->cases++;
        if (!(bps > 0 && isfinite(bps)))
            conf_fail(c, "read_bandwidth", "16 MiB", "returned %g bytes/s", bps);
        else
            printf("  ok   read_bandwidth over 16 MiB: %.3g GB/s\n", bps / 1e9);
    }
out:
    conf_release(c, x);
    conf_release(c, y);
    free(pat);
    free(back);
}

/* ---- the error contract ---- */

static void error_cases(conf *c, const char *name, const gb_config *cfg)
{
    char err[512] = "", note[256] = "";
    gb_backend *nb = NULL;
    gb_status st = gb_backend_create("no-such-backend", cfg, &nb, note, sizeof note, err, sizeof err);
    c->cases++;
    if (st != GB_ERR_UNAVAILABLE || !err[0] || nb)
        conf_fail(c, "registry", "unknown name", "got %s, message '%s' (want GB_ERR_UNAVAILABLE and a message)",
                  gb_status_name(st), err);
    else
        printf("  ok   registry: unknown name -> %s: %s\n", gb_status_name(st), err);
    for (int s = GB_OK; s <= GB_ERR_UNAVAILABLE; s++)
        if (!gb_status_name((gb_status)s) || !gb_status_name((gb_status)s)[0])
            conf_fail(c, "registry", "gb_status_name", "no name for status %d", s);

    /* a fresh instance: the absurd allocation, then stickiness */
    gb_backend *b = NULL;
    err[0] = 0;
    st = gb_backend_create(name, cfg, &b, note, sizeof note, err, sizeof err);
    if (st != GB_OK || !b) {
        conf_fail(c, "registry", "second instance", "%s: %s", gb_status_name(st), err);
        return;
    }
    gb_buffer *small = NULL, *huge = NULL;
    gb_status s0 = b->alloc(b, 64, &small);
    gb_status s1 = b->alloc(b, 1ull << 62, &huge);
    c->cases++;
    if (s0 != GB_OK || s1 != GB_ERR_NOMEM || !b->error[0] || b->status != GB_ERR_NOMEM) {
        conf_fail(c, "alloc", "1 << 62 bytes",
                  "got %s then %s, b->status %s, error '%s' (want GB_OK, GB_ERR_NOMEM twice and a message)",
                  gb_status_name(s0), gb_status_name(s1), gb_status_name(b->status), b->error);
    } else {
        printf("  ok   alloc(1 << 62) -> %s: %s\n", gb_status_name(s1), b->error);
        float v = 1;
        gb_buffer *again = NULL;
        gb_status s2 = b->write(b, (gb_ref){small, 0}, &v, sizeof v);
        gb_status s3 = b->read(b, (gb_ref){small, 0}, &v, sizeof v);
        gb_status s4 = b->alloc(b, 64, &again);
        gb_status s5 = b->finish(b);
        gb_status s6 = b->add(b, (gb_ref){small, 0}, (gb_ref){small, 4}, 1);
        c->cases++;
        if (s2 != s1 || s3 != s1 || s4 != s1 || s5 != s1 || s6 != s1)
            conf_fail(c, "error", "sticky", "after NOMEM: write %s, read %s, alloc %s, finish %s, add %s (want %s each)",
                      gb_status_name(s2), gb_status_name(s3), gb_status_name(s4), gb_status_name(s5),
                      gb_status_name(s6), gb_status_name(s1));
        else
            printf("  ok   the error is sticky: write, read, alloc, finish, add all return %s\n", gb_status_name(s1));
    }
    b->destroy(b); /* frees `small` too */
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : getenv("GQ_TEST_BACKEND");
    if (!name || !*name)
        name = "cpu";
    conf c;
    memset(&c, 0, sizeof c);
    c.scale = env_double("GQ_CONFORMANCE_SCALE", 1.0);
    c.big = (int)env_double("GQ_CONFORMANCE_BIG", 1.0);
    c.rng = (uint64_t)env_double("GQ_CONFORMANCE_SEED", 20261202.0);
    if (!(c.scale > 0)) {
        fprintf(stderr, "GQ_CONFORMANCE_SCALE must be > 0 (got %s)\n", getenv("GQ_CONFORMANCE_SCALE"));
        return 2;
    }
    gb_config cfg = {(int)env_double("GQ_TEST_THREADS", 0), getenv("GQ_TEST_DEVICE")};
    char err[512] = "", note[256] = "";
    gb_status st = gb_backend_create(name, &cfg, &c.b, note, sizeof note, err, sizeof err);
    if (st == GB_ERR_UNAVAILABLE) {
        printf("backend %s unavailable here: %s (skipped)\n", name, err);
        return CHECK_SKIP_CODE;
    }
    if (st != GB_OK || !c.b) {
        fprintf(stderr, "FAIL: creating backend %s: %s: %s\n", name, gb_status_name(st), err);
        return 1;
    }
    printf("backend %s: device %s, isa %s%s; scale %g, seed %llu\n", c.b->name, c.b->device, c.b->isa,
           c.b->is_software ? " (software)" : "", c.scale, (unsigned long long)c.rng);
    if (note[0])
        printf("note: %s\n", note);

    /* GQ_CONFORMANCE_ONLY=<group>: that group alone (a kernel's cases while
     * working on it; the memory and error cases still run) */
    const char *only = getenv("GQ_CONFORMANCE_ONLY");
    int on[N_GROUPS];
    void *state[N_GROUPS] = {0};
    double t0 = now_s();
    for (size_t g = 0; g < N_GROUPS; g++)
        if ((on[g] = !only || !*only || !strcmp(only, groups[g]->name)))
            groups[g]->setup(&c, &state[g]);
    double t1 = now_s();
    int prepared = conf_prepare(&c);
    printf("  (weights made in %.2f s, prepared in %.2f s)\n", t1 - t0, now_s() - t1);
    if (prepared) {
        for (size_t g = 0; g < N_GROUPS; g++) {
            if (!on[g])
                continue;
            printf("%s:\n", groups[g]->name);
            double tg = now_s();
            groups[g]->run(&c, state[g]);
            printf("  (%s: %.2f s)\n", groups[g]->name, now_s() - tg);
        }
        printf("memory:\n");
        memory_cases(&c);
        conf_check_hosts(&c);
    }
    if (c.dead)
        printf("  (the backend failed: the cases after the failure did not run)\n");
    c.b->destroy(c.b);
    for (size_t g = 0; g < N_GROUPS; g++)
        if (on[g])
            groups[g]->done(state[g]);
    conf_free_weights(&c);

    printf("errors:\n");
    c.b = NULL;
    error_cases(&c, name, &cfg);

    printf("test_backend_conformance %s: %d cases, %d failed\n", name, c.cases, c.failures);
    return c.failures ? 1 : 0;
}
