/* test_kernels.c - the CPU kernels checked against independent references.
 *
 *  - every dot kernel (each ISA the CPU has) vs a double-precision dot of the
 *    row decoded by quant/ (its own decoder, written separately), on random
 *    blocks including extreme MXFP4 scales and f16 subnormal scales;
 *  - the row decoders vs quant/'s decoders, bit for bit;
 *  - gk_matmul: n = 1 and n > 1 paths vs the reference, and bit-identical
 *    results for 1, 2 and 3 threads (each row is summed by one thread in a
 *    fixed order);
 *  - the pool runs every task exactly once, many times over;
 *  - the read-only products of bench --numerics read: outputs = bias;
 *  - rope / softmax / swiglu against their formulas;
 *  - the reference built from quant's traits (what a new format runs on)
 *    against the same double reference, and the kernel tables' fallback
 *    chain (every format gets a kernel on every path);
 *  - the prefill tile of each ISA against a double reference (tails, strides);
 *  - the AMX exact product (where this CPU and kernel grant AMX): against the
 *    double reference, one token's outputs bit-identical whatever the batch
 *    around it and the thread count, across several 16-token tiles and
 *    L2 chunks; the three-piece bf16 split of fp32 exact;
 *  - the huge-page weight copy: the same bytes, the source left alone, and
 *    made only when GQ_CPU_WEIGHTS=huge asks and memory allows; the share
 *    on huge pages that bench reports (0 where they are forbidden).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "check.h"
#include "gk_amx.h"
#include "gk_dot.h"
#include "gk_hugepages.h"
#include "gk_ops.h"
#include "gk_pool.h"
#include "quant.h"

#define KRAND_SEED 0x9E3779B97F4A7C15ull
#include "krand.h"

/* Random row bytes of type t with cols values; scales kept in a sane range
 * except for a few extreme blocks. */
static void random_row(gq_type t, uint8_t *row, int cols)
{
    const gq_traits *tr = gq_traits_of(t);
    int nb = cols / tr->block_values;
    for (int b = 0; b < nb; b++) {
        uint8_t *p = row + (size_t)b * (size_t)tr->block_bytes;
        for (int i = 0; i < tr->block_bytes; i++)
            p[i] = (uint8_t)rnd();
        switch (t) {
        case GQ_MXFP4: /* denormal and big scales too */
            p[GQ_MXFP4_SCALE_OFFSET] = b == 0 ? 0 : b == 1 ? 1 : b == 2 ? 200 : (uint8_t)(118 + rnd() % 16);
            break;
        case GQ_Q8_32:
        case GQ_Q4_32: {
            uint16_t h = b == 0 ? 0x0003 : gq_f32_to_f16(ldexpf(1.0f + frand() * 0.5f, -(int)(rnd() % 10)));
            int at = t == GQ_Q8_32 ? GQ_Q8_32_D_OFFSET : GQ_Q4_32_D_OFFSET;
            p[at] = (uint8_t)h;
            p[at + 1] = (uint8_t)(h >> 8);
            break;
        }
        case GQ_BF16:
        case GQ_F16:
        case GQ_F32:
            break;
        default:
            break;
        }
    }
    if (t == GQ_BF16 || t == GQ_F16 || t == GQ_F32) {
        for (int i = 0; i < cols; i++) {
            float v = frand() * 4;
            if (t == GQ_BF16) {
                uint16_t h = gq_f32_to_bf16(v);
                memcpy(row + 2 * i, &h, 2);
            } else if (t == GQ_F16) {
                uint16_t h = gq_f32_to_f16(v);
                memcpy(row + 2 * i, &h, 2);
            } else {
                memcpy(row + 4 * i, &v, 4);
            }
        }
    }
}

static void test_dots(void)
{
    enum { COLS = 2880 };
    static uint8_t row[COLS * 4];
    static float x[COLS], ref[COLS], mine[COLS];
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < COLS; i++)
            x[i] = frand();
        for (int ti = 0; ti < GQ_TYPE_COUNT; ti++) { /* every format of quant.h */
            gq_type t = (gq_type)ti;
            random_row(t, row, COLS);
            gq_traits_of(t)->decode(row, ref, COLS);
            for (int isa = 0; isa <= 4; isa++) { /* 4: the reference from quant's traits */
                if (isa < 4 && !gk_isa_supported((gk_isa)isa))
                    continue;
                memset(mine, 0, sizeof mine);
                (isa < 4 ? gk_decode_for_isa(t, (gk_isa)isa) : gk_decode_ref_for(t))(row, mine, COLS);
                CHECK_MSG(!memcmp(ref, mine, sizeof ref), "decode %s/%s matches quant/ bit for bit",
                          gq_traits_of(t)->name, isa < 4 ? gk_isa_name((gk_isa)isa) : "ref");
            }
            double exact = 0, mag = 0;
            for (int i = 0; i < COLS; i++) {
                exact += (double)ref[i] * x[i];
                mag += fabs((double)ref[i] * x[i]);
            }
            /* and one block short: an odd block count leaves the loops that
             * take two blocks a step a tail (when the format's blocks are 32) */
            int bv = gq_traits_of(t)->block_values, short_n = COLS - bv;
            double exact_s = 0, mag_s = 0;
            for (int i = 0; i < short_n; i++) {
                exact_s += (double)ref[i] * x[i];
                mag_s += fabs((double)ref[i] * x[i]);
            }
            for (int isa = 0; isa <= 4; isa++) {
                if (isa < 4 && !gk_isa_supported((gk_isa)isa))
                    continue;
                gk_dot_fn dot = isa < 4 ? gk_dot_for_isa(t, (gk_isa)isa) : gk_dot_ref_for(t);
                float got = dot(row, x, COLS), got_s = dot(row, x, short_n);
                /* fp32 accumulation: error bounded by ~n*eps*sum|terms| */
                double tol = 1e-5 * mag + 1e-30, tol_s = 1e-5 * mag_s + 1e-30;
                CHECK_MSG(fabs(got - exact) <= tol, "dot %s/%s: %.9g vs exact %.9g (tol %.3g)",
                          gq_traits_of(t)->name, isa < 4 ? gk_isa_name((gk_isa)isa) : "ref", got, exact, tol);
                CHECK_MSG(fabs(got_s - exact_s) <= tol_s, "dot %s/%s over %d values: %.9g vs exact %.9g",
                          gq_traits_of(t)->name, isa < 4 ? gk_isa_name((gk_isa)isa) : "ref", short_n, got_s,
                          exact_s);
            }
        }
    }
}

static void test_matmul_isa(void);
static void test_matmul(void)
{
    gk_isa keep = gk_isa_active();
    for (int isa = 0; isa < 4; isa++)
        if (gk_set_isa((gk_isa)isa) == 0) {
            printf("matmul on %s\n", gk_isa_name((gk_isa)isa));
            test_matmul_isa();
        }
    gk_set_isa(keep);
}

static void test_matmul_isa(void)
{
    enum { ROWS = 77, COLS = 1088, N = 9 }; /* 4x4 tiles, leftovers, 512-column chunks + remainder */
    gq_type types[] = {GQ_BF16, GQ_MXFP4, GQ_Q8_32, GQ_Q4_32, GQ_F32};
    static uint8_t w[ROWS * COLS * 4];
    static float x[N * COLS], dec[COLS], out1[N * ROWS], outk[N * ROWS], bias[ROWS];
    gk_pool *pools[3] = {gk_pool_create(1), gk_pool_create(2), gk_pool_create(3)};
    for (int i = 0; i < N * COLS; i++)
        x[i] = frand();
    for (int r = 0; r < ROWS; r++)
        bias[r] = frand();
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        gq_type t = types[ti];
        size_t rb = gq_row_bytes(t, COLS);
        for (int r = 0; r < ROWS; r++)
            random_row(t, w + (size_t)r * rb, COLS);
        gk_mat m = {t, w, ROWS, COLS, rb};
        for (int n = 1; n <= N; n += n == 1 ? 4 : 4) {
            CHECK(gk_matmul(pools[0], &m, bias, x, n, out1, ROWS) == 0);
            for (int p = 1; p < 3; p++) {
                memset(outk, 0, sizeof outk);
                gk_matmul(pools[p], &m, bias, x, n, outk, ROWS);
                CHECK_MSG(!memcmp(out1, outk, (size_t)n * ROWS * sizeof(float)),
                          "matmul %s n=%d identical with %d threads", gq_traits_of(t)->name, n, p + 1);
            }
            int bad = 0;
            for (int r = 0; r < ROWS; r++) {
                gq_traits_of(t)->decode(w + (size_t)r * rb, dec, COLS);
                for (int k = 0; k < n; k++) {
                    double e = bias[r], mag = fabs(bias[r]);
                    for (int c = 0; c < COLS; c++) {
                        e += (double)dec[c] * x[k * COLS + c];
                        mag += fabs((double)dec[c] * x[k * COLS + c]);
                    }
                    bad += !(fabs(out1[k * ROWS + r] - e) <= 1e-5 * mag + 1e-30); /* a NaN is bad too */
                }
            }
            CHECK_MSG(!bad, "matmul %s n=%d vs double reference: %d bad", gq_traits_of(t)->name, n, bad);
        }
    }
    for (int p = 0; p < 3; p++)
        gk_pool_destroy(pools[p]);
}

/* hi + mid + lo == x exactly, each piece a bf16 (the exact AMX path's premise) */
static void test_split3(void)
{
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t u = rnd() << 16 ^ rnd();
        float x;
        memcpy(&x, &u, 4);
        if (!isfinite(x) || fabsf(x) < 0x1p-100f)
            continue; /* pieces of tiny values go subnormal (flushed by AMX: documented) */
        uint16_t pc[3];
        gk_amx_split3(x, pc);
        double s = 0;
        for (int p = 0; p < 3; p++)
            s += (double)gq_bf16_to_f32(pc[p]);
        bad += s != (double)x;
    }
    CHECK_MSG(bad == 0, "split3: %d values not exactly hi + mid + lo", bad);
}

static void test_amx(void)
{
    if (!gk_amx_ok()) {
        printf("AMX product: not here (%s)\n", gk_amx_why_not());
        return;
    }
    enum { ROWS = 45, N = 80, MAXC = 2880 };
    struct { gq_type t; int cols; } cases[] = {{GQ_MXFP4, 2880}, {GQ_Q8_32, 1088}, {GQ_Q4_32, 96}, {GQ_BF16, 100},
                                               {GQ_BF16, 2880}};
    static uint8_t w[ROWS * MAXC * 2];
    static float x[N * MAXC], dec[MAXC], all[N * ROWS], part[N * ROWS], other[N * ROWS], bias[ROWS];
    gk_pool *pools[2] = {gk_pool_create(1), gk_pool_create(3)};
    for (int i = 0; i < N * MAXC; i++)
        x[i] = frand() * (i % 97 == 0 ? 1e4f : 1.0f);
    for (int r = 0; r < ROWS; r++)
        bias[r] = frand();
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        gq_type t = cases[ci].t;
        int cols = cases[ci].cols;
        size_t rb = gq_row_bytes(t, cols);
        for (int r = 0; r < ROWS; r++)
            random_row(t, w + (size_t)r * rb, cols);
        gk_mat m = {t, w, ROWS, cols, rb};
        const char *tn = gq_traits_of(t)->name;
        CHECK(gk_amx_gemm_exact(pools[1], &m, bias, x, N, all, ROWS) == 0);
        int bad = 0;
        for (int r = 0; r < ROWS; r++) {
            gq_traits_of(t)->decode(w + (size_t)r * rb, dec, (size_t)cols);
            for (int k = 0; k < N; k++) {
                double e = bias[r], mag = fabs(bias[r]);
                for (int c = 0; c < cols; c++) {
                    e += (double)dec[c] * x[(size_t)k * cols + c];
                    mag += fabs((double)dec[c] * x[(size_t)k * cols + c]);
                }
                bad += !(fabs(all[k * ROWS + r] - e) <= 1e-5 * mag + 1e-30);
            }
        }
        CHECK_MSG(!bad, "amx %s cols %d vs double reference: %d bad", tn, cols, bad);
        /* the last 9 tokens alone, one thread: the same bits */
        CHECK(gk_amx_gemm_exact(pools[0], &m, bias, x + (size_t)(N - 9) * cols, 9, part, ROWS) == 0);
        CHECK_MSG(!memcmp(part, all + (size_t)(N - 9) * ROWS, 9 * ROWS * sizeof(float)),
                  "amx %s cols %d: a token's outputs do not depend on the batch or the threads", tn, cols);
        /* the AVX-512 tiles agree (another summation order) */
        gk_amx_allow(0);
        gk_matmul(pools[1], &m, bias, x, N, other, ROWS);
        gk_amx_allow(1);
        double mx = 0;
        for (int i = 0; i < N * ROWS; i++) {
            double d = fabs(other[i] - all[i]) / (fabs(other[i]) + 1e-3);
            mx = d > mx ? d : mx;
        }
        printf("amx %s cols %d: max rel diff vs AVX-512 %.3g\n", tn, cols, mx);
    }
    for (int p = 0; p < 2; p++)
        gk_pool_destroy(pools[p]);
}

static atomic_int hits[1000];
static void count_task(void *ctx, int task, int thread)
{
    (void)ctx;
    (void)thread;
    atomic_fetch_add(&hits[task], 1);
}

static void test_pool(void)
{
    gk_pool *p = gk_pool_create(4);
    CHECK(gk_pool_size(p) == 4);
    for (int rep = 0; rep < 200; rep++) {
        int n = 1 + rep * 5 % 1000;
        for (int i = 0; i < n; i++)
            atomic_store(&hits[i], 0);
        gk_pool_run(p, count_task, NULL, n);
        int bad = 0;
        for (int i = 0; i < n; i++)
            bad += atomic_load(&hits[i]) != 1;
        CHECK_MSG(!bad, "pool run %d: every one of %d tasks exactly once", rep, n);
    }
    gk_pool_destroy(p);
}

/* GB_READ's products: the same tasks, every output its bias (or 0), the
 * bytes read (their sum: 0 for zero weights, not for random ones) */
static void test_matvec_read(void)
{
    enum { ROWS = 77, COLS = 1088, JOBS = 3 };
    size_t rb = gq_row_bytes(GQ_MXFP4, COLS);
    static uint8_t w[JOBS][ROWS * 600];
    static float x[COLS], bias[ROWS], out[JOBS][ROWS];
    for (int j = 0; j < JOBS; j++)
        for (int r = 0; r < ROWS; r++)
            random_row(GQ_MXFP4, w[j] + (size_t)r * rb, COLS);
    for (int r = 0; r < ROWS; r++)
        bias[r] = frand();
    for (int threads = 1; threads <= 3; threads += 2) {
        gk_pool *p = gk_pool_create(threads);
        gk_matvec_job jobs[JOBS];
        for (int j = 0; j < JOBS; j++) {
            jobs[j] = (gk_matvec_job){{GQ_MXFP4, w[j], ROWS, COLS, rb}, j == 1 ? NULL : bias, x, out[j]};
            for (int r = 0; r < ROWS; r++)
                out[j][r] = NAN;
        }
        CHECK_MSG(gk_matvec_many_read(p, jobs, JOBS) != 0, "read matvec, %d threads: random bytes sum to nonzero",
                  threads);
        int bad = 0;
        for (int j = 0; j < JOBS; j++)
            for (int r = 0; r < ROWS; r++)
                bad += out[j][r] != (j == 1 ? 0.0f : bias[r]);
        CHECK_MSG(!bad, "read matvec, %d threads: every output is its bias (%d not)", threads, bad);
        static uint8_t zero[ROWS * 600];
        jobs[0].w.data = zero;
        CHECK_MSG(gk_matvec_many_read(p, jobs, 1) == 0, "read matvec, %d threads: zero bytes sum to 0", threads);
        gk_pool_destroy(p);
    }
}

static void test_huge_copy(void)
{
    size_t n = GK_HUGE_MIN_BYTES + 12345; /* a partial last huge page */
    uint8_t *src = malloc(n), *keep = malloc(n);
    CHECK(src && keep);
    if (!src || !keep) {
        free(src);
        free(keep);
        return;
    }
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)(rnd() >> 8);
    memcpy(keep, src, n);
    gk_pool *p = gk_pool_create(3);
    uint8_t *c = gk_huge_copy(p, src, n, 0);
#if defined(__linux__)
    CHECK_MSG(c != NULL, "huge-page copy made on Linux");
#endif
    if (c) {
        CHECK_MSG(!memcmp(c, keep, n), "huge-page copy: the same %zu bytes", n);
        gk_span sp = {c, n};
        double f = gk_huge_share(&sp, 1);
        CHECK_MSG(f >= 0 && f <= 1, "the copy's share on huge pages is known and in [0, 1] (got %g)", f);
        gk_huge_free(c, n);
    }
#if defined(__linux__) && defined(MADV_NOHUGEPAGE)
    /* memory that may not have huge pages reads as 0 */
    if (access("/proc/self/smaps", R_OK) == 0) {
        size_t m = (size_t)8 << 20;
        uint8_t *a = mmap(NULL, m, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(a != MAP_FAILED);
        if (a != MAP_FAILED) {
            CHECK(madvise(a, m, MADV_NOHUGEPAGE) == 0);
            memset(a, 1, m);
            gk_span sp = {a, m};
            double f = gk_huge_share(&sp, 1);
            CHECK_MSG(f == 0, "MADV_NOHUGEPAGE memory: share 0 (got %g)", f);
            munmap(a, m);
        }
    }
#endif
    CHECK_MSG(gk_huge_share(NULL, 0) == -1, "no spans: unknown");
    CHECK_MSG(!memcmp(src, keep, n), "huge-page copy: heap source left as it was");
    gk_pool_destroy(p);
    const char *old = getenv("GQ_CPU_WEIGHTS");
    char saved[64] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("GQ_CPU_WEIGHTS", "map", 1);
    CHECK_MSG(!gk_huge_wanted(1 << 20), "GQ_CPU_WEIGHTS=map: no copy");
    unsetenv("GQ_CPU_WEIGHTS");
    CHECK_MSG(!gk_huge_wanted(1 << 20), "no copy unless asked for");
    setenv("GQ_CPU_WEIGHTS", "huge", 1);
    CHECK_MSG(!gk_huge_wanted((uint64_t)1 << 62), "no copy larger than the memory");
    if (old)
        setenv("GQ_CPU_WEIGHTS", saved, 1);
    else
        unsetenv("GQ_CPU_WEIGHTS");
    free(src);
    free(keep);
}

/* The 4x4 prefill tile of every ISA vs a double-precision reference, with
 * lengths that leave a tail after the vector steps, strided rows/tokens/
 * outputs, and accumulate on and off. */
static void test_tiles(void)
{
    enum { N = 77, WS = 80, XS = 83, OS = 7 };
    static float w[4 * WS], x[4 * XS], out[4 * OS];
    for (int i = 0; i < 4 * WS; i++)
        w[i] = frand();
    for (int i = 0; i < 4 * XS; i++)
        x[i] = frand();
    for (int isa = 0; isa < 4; isa++) {
        if (!gk_isa_supported((gk_isa)isa))
            continue;
        for (int n = 1; n <= N; n += 19)
            for (int accumulate = 0; accumulate < 2; accumulate++) {
                for (int i = 0; i < 4 * OS; i++)
                    out[i] = (float)i;
                gk_tile_for_isa((gk_isa)isa)(w, WS, x, XS, n, out, OS, accumulate);
                int bad = 0;
                for (int t = 0; t < 4; t++)
                    for (int r = 0; r < 4; r++) {
                        double e = accumulate ? (double)(t * OS + r) : 0, mag = fabs(e);
                        for (int j = 0; j < n; j++) {
                            e += (double)w[r * WS + j] * x[t * XS + j];
                            mag += fabs((double)w[r * WS + j] * x[t * XS + j]);
                        }
                        bad += !(fabs(out[t * OS + r] - e) <= 1e-5 * mag + 1e-30);
                    }
                for (int t = 0; t < 4; t++) /* columns 4..OS-1 of each output row untouched */
                    for (int r = 4; r < OS; r++)
                        bad += out[t * OS + r] != (float)(t * OS + r);
                CHECK_MSG(bad == 0, "tile %s n=%d accumulate=%d: %d wrong outputs", gk_isa_name((gk_isa)isa), n,
                          accumulate, bad);
            }
    }
}

/* The kernel tables: every format has a dot and a decode on every path,
 * asked-for paths this CPU lacks fall back (AVX-512 -> AVX2 -> scalar,
 * NEON -> scalar), a format with no loop on a path gets the next path's or
 * quant's reference, and a value that is no gq_type gets nothing. */
static void test_kernel_tables(void)
{
    for (int isa = 0; isa < 4; isa++)
        for (int t = 0; t < GQ_TYPE_COUNT; t++) {
            CHECK_MSG(gk_dot_for_isa((gq_type)t, (gk_isa)isa) && gk_decode_for_isa((gq_type)t, (gk_isa)isa),
                      "%s has kernels on %s", gq_traits_of((gq_type)t)->name, gk_isa_name((gk_isa)isa));
            CHECK(gk_dot_ref_for((gq_type)t) && gk_decode_ref_for((gq_type)t));
        }
    CHECK(gk_dot_for_isa(GQ_TYPE_COUNT, GK_ISA_SCALAR) == NULL && gk_decode_for_isa(GQ_TYPE_COUNT, GK_ISA_SCALAR) == NULL);
    CHECK(gk_dot_for(GQ_TYPE_COUNT) == NULL && gk_dot_ref_for(GQ_TYPE_COUNT) == NULL);
    /* the scalar path has no decoders of its own: it decodes with quant's */
    for (int t = 0; t < GQ_TYPE_COUNT; t++)
        CHECK(gk_decode_for_isa((gq_type)t, GK_ISA_SCALAR) == gk_decode_ref_for((gq_type)t));
    /* a path the CPU lacks gives what the next path down gives */
    for (int isa = 1; isa < 4; isa++) {
        if (gk_isa_supported((gk_isa)isa))
            continue;
        gk_isa down = isa == GK_ISA_AVX512 && gk_isa_supported(GK_ISA_AVX2) ? GK_ISA_AVX2 : GK_ISA_SCALAR;
        for (int t = 0; t < GQ_TYPE_COUNT; t++)
            CHECK_MSG(gk_dot_for_isa((gq_type)t, (gk_isa)isa) == gk_dot_for_isa((gq_type)t, down),
                      "%s on missing %s falls back to %s", gq_traits_of((gq_type)t)->name,
                      gk_isa_name((gk_isa)isa), gk_isa_name(down));
        CHECK(gk_dotf_for_isa((gk_isa)isa) == gk_dotf_for_isa(down) && gk_tile_for_isa((gk_isa)isa) == gk_tile_for_isa(down));
    }
    /* where a path has its own loop it is used, not the fallback */
    if (gk_isa_supported(GK_ISA_AVX2))
        CHECK(gk_dot_for_isa(GQ_MXFP4, GK_ISA_AVX2) != gk_dot_for_isa(GQ_MXFP4, GK_ISA_SCALAR));
    if (gk_isa_supported(GK_ISA_AVX512)) {
        CHECK(gk_dot_for_isa(GQ_MXFP4, GK_ISA_AVX512) != gk_dot_for_isa(GQ_MXFP4, GK_ISA_AVX2));
        CHECK(gk_decode_for_isa(GQ_Q4_32, GK_ISA_AVX512) != gk_decode_ref_for(GQ_Q4_32));
        /* no F16 loop on AVX-512 or AVX2: the scalar one */
        CHECK(gk_dot_for_isa(GQ_F16, GK_ISA_AVX512) == gk_dot_for_isa(GQ_F16, GK_ISA_SCALAR));
    }
    CHECK(gk_dot_for_isa(GQ_F16, GK_ISA_SCALAR) != gk_dot_ref_for(GQ_F16));
}

static void test_helpers(void)
{
    /* rope: rotation by pos*inv_freq, scaled */
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, f[2] = {0.5f, 0.01f};
    float w[8];
    memcpy(w, v, sizeof v);
    gk_rope(w, 2, 4, 3, f, 1.5f);
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 2; i++) {
            double a = v[h * 4 + i], b = v[h * 4 + i + 2], ang = 3.0 * f[i];
            double e0 = 1.5 * (a * cos(ang) - b * sin(ang)), e1 = 1.5 * (b * cos(ang) + a * sin(ang));
            CHECK(fabs(w[h * 4 + i] - e0) < 1e-5 && fabs(w[h * 4 + i + 2] - e1) < 1e-5);
        }
    float s[3] = {1, 2, 3};
    gk_softmax(s, 3);
    double z = exp(1) + exp(2) + exp(3);
    CHECK(fabs(s[0] - exp(1) / z) < 1e-6 && fabs(s[2] - exp(3) / z) < 1e-6);
    float hgu[6] = {10, 10, -1, -10, 0.5f, 0.25f}, act[3];
    gk_swiglu_interleaved(hgu, 3, 7, 1.702f, act);
    CHECK(fabs(act[0] - 7 / (1 + exp(-1.702 * 7)) * 8) < 1e-4);       /* gate and up clamped to 7 */
    CHECK(fabs(act[1] - (-1 / (1 + exp(1.702))) * (-6)) < 1e-5);       /* up clamped to -7, +1 */
    CHECK(fabs(act[2] - 0.5 / (1 + exp(-0.851)) * 1.25) < 1e-6);
}

/* gk_round_like_ggml against hand-worked values of ggml's rules. */
static void test_round_like_ggml(void)
{
    /* Q8_0: amax 127 -> d = 1 exactly, so outputs are the integers nearest
     * x, ties to even; 127 / amax = 1 too */
    float x[40], y[40];
    for (int i = 0; i < 32; i++)
        x[i] = 0.25f * (float)i;
    x[0] = 127.0f;
    x[1] = 43.5f;   /* tie -> 44 */
    x[2] = -35.5f;  /* tie -> -36 */
    x[3] = 2.5f;    /* tie -> 2 */
    x[4] = -0.5f;   /* tie -> -0 */
    for (int i = 32; i < 40; i++)
        x[i] = 0.1f * (float)i; /* partial block: kept */
    const gq_type q8s[] = {GQ_Q8_32, GQ_Q4_32, GQ_MXFP4};
    for (int k = 0; k < 3; k++) {
        gk_round_like_ggml(q8s[k], x, y, 40);
        int bad = 0;
        for (int i = 5; i < 32; i++)
            bad += y[i] != rint(0.25 * i);
        CHECK_MSG(y[0] == 127.0f && y[1] == 44.0f && y[2] == -36.0f && y[3] == 2.0f && y[4] == 0.0f && !bad,
                  "Q8_0 rounding for %s: %g %g %g %g %g, %d others wrong", gq_traits_of(q8s[k])->name, y[0], y[1],
                  y[2], y[3], y[4], bad);
        CHECK(!memcmp(y + 32, x + 32, 8 * sizeof(float)));
    }
    /* amax 1: d = f16(1/127) (not 1/127), levels from x * 127 */
    float z[32] = {1.0f, 0.5f, -0.25f};
    gk_round_like_ggml(GQ_Q8_32, z, y, 32);
    double d = (double)gq_f16_to_f32(gq_f32_to_f16(1.0f / 127.0f));
    CHECK(y[0] == (float)(127 * d) && y[1] == (float)(64 * d) && y[2] == (float)(-32 * d) && y[3] == 0.0f);
    /* an all-zero block stays zero */
    memset(z, 0, sizeof z);
    gk_round_like_ggml(GQ_Q4_32, z, y, 32);
    CHECK(y[0] == 0.0f && y[31] == 0.0f);
    /* BF16 / F16: nearest even of the 8 / 11 significant bits; F32 as is */
    float v[3] = {1.0f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-10f, 1.0f + 0x1p-12f};
    gk_round_like_ggml(GQ_BF16, v, y, 3);
    CHECK(y[0] == 1.0f && y[1] == 1.0f + 0x1p-7f && y[2] == 1.0f);
    gk_round_like_ggml(GQ_F16, v, y, 3);
    CHECK(y[0] == v[0] && y[1] == v[1] && y[2] == 1.0f); /* 2^-10 is an f16 ulp at 1 */
    gk_round_like_ggml(GQ_F32, v, y, 3);
    CHECK(!memcmp(v, y, sizeof v));
    gk_round_like_ggml(GQ_BF16, v, v, 3); /* in place */
    CHECK(v[1] == 1.0f + 0x1p-7f);
}

int main(void)
{
    printf("kernels: best ISA here: %s\n", gk_isa_name(gk_isa_best()));
    test_dots();
    test_matmul();
    test_pool();
    test_matvec_read();
    test_huge_copy();
    test_helpers();
    test_kernel_tables();
    test_tiles();
    test_round_like_ggml();
    test_split3();
    test_amx();
    return check_done("test_kernels");
}
