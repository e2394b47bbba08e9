/* bench_gemm.c - single-thread prefill product throughput (gk_matmul with n
 * tokens) on the gpt-oss-20b shapes, in multiply-adds per CPU-second of the
 * calling thread (steadier than wall time on a shared machine), for each
 * path this CPU has: AMX (where granted), AVX-512, AVX2, and the fast int8
 * mode. Not a test: the figures of bench/runtime_bench.sh and of
 * docs/PERFORMANCE.md's profile section. Prints one JSON object.
 *   bench_gemm [TOKENS ...]        (default 16 64 128) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gk_amx.h"
#include "gk_dot.h"
#include "gk_fast.h"
#include "gk_ops.h"
#include "quant.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    const char *name;
    gq_type type;
    int rows, cols;
} shape;

int main(int argc, char **argv)
{
    int toks[16], nt = 0;
    for (int i = 1; i < argc && nt < 16; i++)
        toks[nt++] = atoi(argv[i]);
    if (!nt) {
        toks[0] = 16, toks[1] = 64, toks[2] = 128;
        nt = 3;
    }
    const shape sh[] = {{"expert_gate_up_mxfp4", GQ_MXFP4, 5760, 2880}, {"attn_q_q8", GQ_Q8_32, 4096, 2880}};
    int maxn = 0;
    for (int i = 0; i < nt; i++)
        maxn = toks[i] > maxn ? toks[i] : maxn;
    float *x = malloc((size_t)maxn * 4096 * sizeof *x), *out = malloc((size_t)maxn * 5760 * sizeof *out);
    for (size_t i = 0; i < (size_t)maxn * 4096; i++)
        x[i] = (float)((int)(i * 2654435761u >> 20) % 2001 - 1000) * 1e-3f;
    printf("{\"unit\":\"GMAC per CPU-second, one thread\",\"amx\":\"%s\"", gk_amx_ok() ? "yes" : gk_amx_why_not());
    /* BENCH_ONLY=name_prefix: only the shapes and paths whose label starts so (profiling) */
    const char *only = getenv("BENCH_ONLY");
    int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 5; /* best of: the least disturbed run */
    for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
        if (only && strncmp(sh[s].name, only, strlen(only) < strlen(sh[s].name) ? strlen(only) : strlen(sh[s].name)))
            continue;
        size_t rb = gq_row_bytes(sh[s].type, sh[s].cols);
        unsigned char *w = malloc(rb * (size_t)sh[s].rows);
        for (size_t i = 0; i < rb * (size_t)sh[s].rows; i++)
            w[i] = (unsigned char)((i * 2654435761u) >> 24 & 0x7f);
        /* normal block scales (denormal ones would time the FPU's assists) */
        size_t bb = (size_t)gq_traits_of(sh[s].type)->block_bytes;
        for (size_t b = 0; b < rb * (size_t)sh[s].rows; b += bb) {
            if (sh[s].type == GQ_MXFP4) {
                w[b] = (unsigned char)(120 + b % 8);
            } else {
                w[b] = 0x1F; /* f16 0.0101 */
                w[b + 1] = 0x21;
            }
        }
        gk_mat m = {sh[s].type, w, sh[s].rows, sh[s].cols, rb};
        /* 0: exact on AMX, 1: exact on the FMA tiles, 2: fast on AMX-INT8,
         * 3: fast on the best vector integer path */
        for (int path = 0; path < 4; path++) {
            gk_amx_allow(path == 0 || path == 2);
            gk_fast_use(NULL);
            if ((path == 0 || path == 2) && !gk_amx_ok())
                continue;
            if ((path == 1 || path == 3) && getenv("BENCH_AMX_ONLY"))
                continue;
            char label[48];
            if (path == 3) {
                const char *best = gk_fast_path();
                gk_fast_use(best); /* keeps prefill off AMX-INT8 */
                snprintf(label, sizeof label, "fast_%s", best);
            } else {
                snprintf(label, sizeof label, "%s", path == 0 ? "amx" : path == 2 ? "fast_amx" : gk_isa_name(gk_isa_active()));
            }
            for (int i = 0; i < nt; i++) {
                double best = 1e30;
                for (int r = 0; r < reps; r++) {
                    double t0 = cpu_now();
                    if (path >= 2)
                        gk_matmul_fast(NULL, &m, NULL, x, toks[i], out, sh[s].rows);
                    else
                        gk_matmul(NULL, &m, NULL, x, toks[i], out, sh[s].rows);
                    double dt = cpu_now() - t0;
                    best = dt < best ? dt : best;
                }
                printf(",\"%s_%s_n%d\":%.2f", sh[s].name, label, toks[i],
                       (double)sh[s].rows * sh[s].cols * toks[i] / best / 1e9);
                fflush(stdout);
            }
        }
        gk_amx_allow(1);
        gk_fast_use(NULL);
        free(w);
    }
    printf("}\n");
    free(x);
    free(out);
    return 0;
}
