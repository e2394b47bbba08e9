/* bench_quant.c - single-core encode/decode throughput of every block
 * format (make -f Makefile.bench bench-quant). Medians of RUNS runs over
 * 32 Mi gaussian values (MXFP4-derived for the "q4 from mxfp4" row), with
 * the memcpy of the same f32 input measured in the same run as the floor and
 * llama.cpp's Q4_0 reference rule (re-implemented, scalar) as the peer for
 * the q4 encoder; q4 and q8 also per SIMD path (portable, AVX2, AVX-512:
 * those this CPU has), with and without the statistics the converter
 * collects. Times are thread CPU time of the one thread. Writes a
 * JSON summary to argv[1] if given. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"
#include "quant_internal.h"

#define N (32u * 1024u * 1024u)
static int runs = 7;

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

static double now(void)
{
    struct timespec t;
    /* thread CPU time: the development machine is shared by several
     * engineers' builds, and wall time there measures the queue */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*job)(void *ctx);
static double median_s(job f, void *ctx)
{
    double t[64];
    for (int r = 0; r < runs; r++) {
        double a = now();
        f(ctx);
        t[r] = now() - a;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp);
    return t[runs / 2];
}

static float *xin, *xout;
static void *blocks;
static const gq_traits *cur;

static void do_encode(void *c) { (void)c; cur->encode(xin, blocks, N, NULL); }
/* one SIMD path of the q4 / q8 encoder (quant_internal.h), with or without
 * the statistics the converter asks for */
static int path_isa, path_stats;
static void do_encode_path(void *c)
{
    (void)c;
    gq_stats st = {0};
    if (cur->type == GQ_Q4_32)
        gq__q4_encode_isa(path_isa, xin, blocks, N, path_stats ? &st : NULL);
    else
        gq__q8_encode_isa(path_isa, xin, blocks, N, path_stats ? &st : NULL);
}
static const char *isa_names[] = {"portable", "avx2", "avx512"};

/* q4 and q8 per path: M values/s, to stdout and the JSON */
static void bench_paths(FILE *js, const char *input)
{
    const gq_type types[2] = {GQ_Q4_32, GQ_Q8_32};
    for (int t = 0; t < 2; t++)
        for (int isa = GQ_ISA_PORTABLE; isa <= GQ_ISA_AVX512; isa++) {
            if (!gq__isa_supported(isa))
                continue;
            cur = gq_traits_of(types[t]);
            path_isa = isa;
            path_stats = 0;
            double e = median_s(do_encode_path, NULL);
            path_stats = 1;
            double es = median_s(do_encode_path, NULL);
            printf("%-6s %-8s %-14s encode %6.0f, with stats %6.0f Mvalues/s\n", cur->short_name, isa_names[isa],
                   input, N / e / 1e6, N / es / 1e6);
            if (js)
                fprintf(js,
                        "  {\"format\": \"%s\", \"path\": \"%s\", \"input\": \"%s\", \"encode_mvalues_s\": %.1f, "
                        "\"encode_stats_mvalues_s\": %.1f},\n",
                        cur->name, isa_names[isa], input, N / e / 1e6, N / es / 1e6);
        }
}
static void do_decode(void *c) { (void)c; cur->decode(blocks, xout, N); }
static void do_copy(void *c) { (void)c; memcpy(xout, xin, (size_t)N * 4); }

static void q4_0_ref(void *c)
{
    (void)c;
    uint8_t *o = blocks;
    for (size_t b = 0; b < N / 32; b++, o += 18) {
        const float *x = xin + b * 32;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t h = gq_f32_to_f16(d);
        o[0] = (uint8_t)h;
        o[1] = (uint8_t)(h >> 8);
        for (int j = 0; j < 16; j++) {
            int a = (int8_t)(x[j] * id + 8.5f), bq = (int8_t)(x[j + 16] * id + 8.5f);
            a = a > 15 ? 15 : a;
            bq = bq > 15 ? 15 : bq;
            o[2 + j] = (uint8_t)(a | (bq << 4));
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                "usage: bench_quant [SUMMARY.json]   (env RUNS: runs per median, default 7)\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    const char *r = getenv("RUNS");
    if (r && atoi(r) > 0 && atoi(r) < 64)
        runs = atoi(r);
    xin = malloc((size_t)N * 4);
    xout = malloc((size_t)N * 4);
    blocks = malloc((size_t)N * 4);
    if (!xin || !xout || !blocks)
        return 1;
    for (size_t i = 0; i < N; i++)
        xin[i] = (float)(sqrt(-2.0 * log(unif() + 1e-300)) * cos(6.283185307179586 * unif()) * 0.02);
    memset(xout, 0, (size_t)N * 4);
    memset(blocks, 0, (size_t)N * 4);
    FILE *js = argc > 1 ? fopen(argv[1], "w") : NULL;
    if (js)
        fprintf(js, "{\"values\": %u, \"runs\": %d, \"rows\": [\n", N, runs);
    double floor_s = median_s(do_copy, NULL);
    printf("floor: memcpy of the f32 input %.0f Mvalues/s (%.1f GB/s read+write)\n", N / floor_s / 1e6,
           2.0 * N * 4 / floor_s / 1e9);
    printf("%-8s %14s %14s   (single core, median of %d, Mvalues/s)\n", "format", "encode", "decode", runs);
    for (int t = 0; t < GQ_TYPE_COUNT; t++) {
        cur = gq_traits_of((gq_type)t);
        double e = median_s(do_encode, NULL), d = median_s(do_decode, NULL);
        printf("%-8s %14.0f %14.0f\n", cur->name, N / e / 1e6, N / d / 1e6);
        if (js)
            fprintf(js, "  {\"format\": \"%s\", \"encode_mvalues_s\": %.1f, \"decode_mvalues_s\": %.1f},\n",
                    cur->name, N / e / 1e6, N / d / 1e6);
    }
    bench_paths(js, "gaussian");
    double p = median_s(q4_0_ref, NULL);
    printf("peer: Q4_0 reference rule encode %.0f Mvalues/s\n", N / p / 1e6);
    /* q4 from MXFP4-derived values (the 20b q4 recipe's expert input) */
    const gq_traits *mx = gq_traits_of(GQ_MXFP4);
    uint8_t blk[17];
    for (size_t b = 0; b < N / 32; b++) {
        blk[0] = (uint8_t)(118 + (int)(unif() * 8));
        for (int j = 1; j < 17; j++)
            blk[j] = (uint8_t)(unif() * 256);
        mx->decode(blk, xin + b * 32, 32);
    }
    bench_paths(js, "mxfp4-derived");
    cur = gq_traits_of(GQ_Q4_32);
    double q = median_s(do_encode, NULL);
    printf("q4_32 encode of MXFP4-derived values: %.0f Mvalues/s\n", N / q / 1e6);
    if (js) {
        fprintf(js, "  {\"format\": \"q4_32_from_mxfp4\", \"encode_mvalues_s\": %.1f}],\n", N / q / 1e6);
        fprintf(js, "  \"floor_memcpy_mvalues_s\": %.1f, \"peer_q4_0_rule_encode_mvalues_s\": %.1f}\n",
                N / floor_s / 1e6, N / p / 1e6);
        fclose(js);
    }
    free(xin);
    free(xout);
    free(blocks);
    return 0;
}
