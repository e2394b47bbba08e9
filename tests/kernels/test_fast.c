/* test_fast.c - the fast numerics (kernels/cpu gk_fast.h) against a scalar
 * model of the same rounding, written here from the documented rule:
 *
 *  - gk_fast_round: q and d bit for bit equal to the model's (zero blocks,
 *    ties, tiny and huge values, one dominant value);
 *  - gk_matmul_fast on every integer path this CPU has (scalar, AVX2,
 *    AVX-VNNI, AVX512-VNNI, AMX-INT8) and every weight type it takes
 *    (MXFP4 with extreme scales (e = 0, 1, 2, 200, 240) in some rows, Q8_32, Q4_32; odd
 *    block counts, MXFP4 rows of whole quads and of quads + 1, 2, 3): against
 *    sum_b d_b * sum_j dec_j * q_j in double, where dec is quant/'s own
 *    decoding of the weight row (code times scale, exact) and q, d the
 *    model's rounding; within 1e-5 of the sum of the terms' magnitudes;
 *  - bit-identical results for 1 and 3 threads, and (AMX-INT8) for a token
 *    whatever the batch around it; gk_matvec_many_fast == the n = 1 product;
 *  - weights without a fast product (F32, BF16, a column count that is not
 *    a multiple of 32) are refused, not approximated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gk_amx.h"
#include "gk_dot.h"
#include "gk_fast.h"
#include "gk_ops.h"
#include "gk_pool.h"
#include "quant.h"

#define KRAND_SEED 0x2545F4914F6CDD1Dull
#include "krand.h"

/* the rule of gk_fast.h, spelled out independently */
static void model_round(const float *x, int8_t *q, float *d)
{
    float amax = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax)
            amax = fabsf(x[j]);
    float id = amax != 0 ? 127.0f / amax : 0.0f;
    *d = amax / 127.0f;
    for (int j = 0; j < 32; j++) {
        float v = x[j] * id;
        float r = nearbyintf(v); /* default rounding mode: nearest, ties to even */
        q[j] = (int8_t)r;
    }
}

static void test_round_isa(void);
static void test_round(void)
{
    gk_isa keep = gk_isa_active();
    for (int isa = 0; isa < 4; isa++)
        if (gk_set_isa((gk_isa)isa) == 0)
            test_round_isa();
    gk_set_isa(keep);
}

static void test_round_isa(void)
{
    float x[32];
    int8_t q[32], mq[32];
    float d, md;
    int bad = 0;
    for (int trial = 0; trial < 20000; trial++) {
        int kind = trial % 5;
        for (int j = 0; j < 32; j++) {
            x[j] = kind == 0 ? 0.0f : frand() * (kind == 1 ? 1e-30f : kind == 2 ? 1e30f : 1.0f);
            if (kind == 3 && j == 7)
                x[j] = 1000.0f; /* one dominant value: the rest round to few levels */
            if (kind == 4)
                x[j] = (float)((int)(rnd() % 255) - 127) * 0.5f; /* halves: ties */
        }
        gk_fast_round(x, 32, q, &d);
        model_round(x, mq, &md);
        bad += memcmp(q, mq, 32) != 0 || memcmp(&d, &md, sizeof d) != 0;
    }
    CHECK_MSG(bad == 0, "gk_fast_round (%s) == the rule: %d blocks differ", gk_isa_name(gk_isa_active()), bad);
}

/* extreme: MXFP4 scale bytes 1, 200, 240, 0, 2 in blocks 0, 1, 2, 3, 5 (subnormal
 * and huge scales; such a row's error bound is then set by its largest terms,
 * so only some rows have them) */
static void random_row(gq_type t, uint8_t *row, int cols, int extreme)
{
    const gq_traits *tr = gq_traits_of(t);
    static const int ext[6] = {1, 200, 240, 0, -1, 2};
    int nb = cols / 32;
    for (int b = 0; b < nb; b++) {
        uint8_t *p = row + (size_t)b * (size_t)tr->block_bytes;
        for (int i = 0; i < tr->block_bytes; i++)
            p[i] = (uint8_t)rnd();
        if (t == GQ_MXFP4) {
            int e = extreme && b < 6 ? ext[b] : -1;
            p[GQ_MXFP4_SCALE_OFFSET] = e >= 0 ? (uint8_t)e : (uint8_t)(118 + rnd() % 16);
        } else {
            uint16_t h = gq_f32_to_f16(ldexpf(1.0f + frand() * 0.5f, -(int)(rnd() % 10)));
            p[0] = (uint8_t)h;
            p[1] = (uint8_t)(h >> 8);
        }
    }
}

/* the double model of one output */
static double model_dot(gq_type t, const uint8_t *row, int cols, const float *x, double *mag)
{
    float dec[4096], xb[32], d;
    int8_t q[32];
    gq_traits_of(t)->decode(row, dec, (size_t)cols);
    double s = 0;
    *mag = 0;
    for (int b = 0; b < cols / 32; b++) {
        memcpy(xb, x + b * 32, sizeof xb);
        model_round(xb, q, &d);
        double bs = 0;
        for (int j = 0; j < 32; j++) {
            bs += (double)dec[b * 32 + j] * q[j];
            *mag += fabs((double)dec[b * 32 + j] * q[j] * d);
        }
        s += bs * d;
    }
    return s;
}

static void test_products(void)
{
    enum { ROWS = 37, N = 40, MAXC = 2880 };
    static const char *paths[] = {"scalar",      "scalar-tile", "avx2",         "avx-vnni", "avx512-vnni",
                                  "avx512-vbmi", "amx",         "neon-dotprod", "neon-i8mm"};
    /* MXFP4 block counts: 90 (22 whole quads and a pair: gpt-oss rows), 3, 4, 5, 7 (a quad alone, + a
     * block, + a pair and a block) */
    struct { gq_type t; int cols; } cases[] = {{GQ_MXFP4, 2880}, {GQ_MXFP4, 96},   {GQ_MXFP4, 128},
                                               {GQ_MXFP4, 160},  {GQ_MXFP4, 224},  {GQ_Q8_32, 1088},
                                               {GQ_Q8_32, 32},   {GQ_Q4_32, 160}};
    static uint8_t w[ROWS * MAXC * 2];
    static float x[N * MAXC], out1[N * ROWS], out3[N * ROWS], part[N * ROWS], bias[ROWS];
    gk_pool *p1 = gk_pool_create(1), *p3 = gk_pool_create(3);
    for (int i = 0; i < N * MAXC; i++)
        x[i] = frand() * (i % 89 == 0 ? 30.0f : 1.0f);
    for (int r = 0; r < ROWS; r++)
        bias[r] = frand();
    for (size_t pi = 0; pi < sizeof paths / sizeof *paths; pi++) {
        if (gk_fast_use(paths[pi]) != 0) {
            printf("fast path %s: not on this CPU / build\n", paths[pi]);
            continue;
        }
        for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
            gq_type t = cases[ci].t;
            int cols = cases[ci].cols;
            const char *tn = gq_traits_of(t)->name;
            size_t rb = gq_row_bytes(t, cols);
            for (int r = 0; r < ROWS; r++)
                random_row(t, w + (size_t)r * rb, cols, r % 4 == 0);
            gk_mat m = {t, w, ROWS, cols, rb};
            int ns[] = {1, 5, N};
            for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
                int n = ns[k];
                CHECK(gk_matmul_fast(p1, &m, bias, x, n, out1, ROWS) == 0);
                CHECK(gk_matmul_fast(p3, &m, bias, x, n, out3, ROWS) == 0);
                CHECK_MSG(!memcmp(out1, out3, (size_t)n * ROWS * sizeof(float)),
                          "fast %s %s cols %d n=%d: 1 and 3 threads identical", paths[pi], tn, cols, n);
                int bad = 0;
                double worst = 0;
                for (int r = 0; r < ROWS; r++)
                    for (int j = 0; j < n; j++) {
                        double mag, e = model_dot(t, w + (size_t)r * rb, cols, x + (size_t)j * cols, &mag) + bias[r];
                        double err = fabs(out1[j * ROWS + r] - e) / (mag + fabs(bias[r]) + 1e-30);
                        worst = err > worst || err != err ? err : worst;
                        bad += !(err <= 1e-5); /* NaN is bad */
                    }
                CHECK_MSG(!bad, "fast %s %s cols %d n=%d vs the model: %d bad (worst %.3g)", paths[pi], tn, cols, n,
                          bad, worst);
            }
            /* the last 7 tokens alone give the same bits as inside the batch of N */
            CHECK(gk_matmul_fast(p3, &m, bias, x + (size_t)(N - 7) * cols, 7, part, ROWS) == 0);
            CHECK_MSG(!memcmp(part, out1 + (size_t)(N - 7) * ROWS, 7 * ROWS * sizeof(float)),
                      "fast %s %s cols %d: a token's outputs do not depend on the batch", paths[pi], tn, cols);
            /* the experts of one token: gk_matvec_many_fast == the n = 1 product */
            gk_matvec_job jobs[2] = {{m, bias, x, part}, {m, NULL, x + cols, part + ROWS}};
            CHECK(gk_matvec_many_fast(p3, jobs, 2) == 0);
            CHECK(gk_matmul_fast(p1, &m, bias, x, 1, out1, ROWS) == 0);
            CHECK(gk_matmul_fast(p1, &m, NULL, x + cols, 1, out1 + ROWS, ROWS) == 0);
            CHECK_MSG(!memcmp(part, out1, 2 * ROWS * sizeof(float)), "fast %s %s: matvec_many == matmul n=1",
                      paths[pi], tn);
        }
        printf("fast path %s: checked\n", paths[pi]);
    }
    gk_fast_use(NULL);
    /* no fast product for these: refused */
    gk_mat f32 = {GQ_F32, w, 4, 64, 256}, bf = {GQ_BF16, w, 4, 64, 128}, odd = {GQ_Q8_32, w, 4, 40, 0};
    CHECK(!gk_fast_ok(GQ_F32, 64) && gk_matmul_fast(p1, &f32, NULL, x, 2, out1, 4) == -1);
    CHECK(!gk_fast_ok(GQ_BF16, 64) && gk_matmul_fast(p1, &bf, NULL, x, 2, out1, 4) == -1);
    CHECK(!gk_fast_ok(GQ_Q8_32, 40) && gk_matmul_fast(p1, &odd, NULL, x, 2, out1, 4) == -1);
    gk_pool_destroy(p1);
    gk_pool_destroy(p3);
}

int main(void)
{
    printf("fast: automatic path here: %s%s\n", gk_fast_path(), gk_amx_ok() ? " (+ AMX-INT8 prefill)" : "");
    test_round();
    test_products();
    return check_done("test_fast");
}
