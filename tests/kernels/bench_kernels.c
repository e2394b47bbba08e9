/* bench_kernels.c - single-thread throughput of every dot kernel on every ISA
 * this CPU has, rows of 2880 values (gpt-oss's hidden size), weights small
 * enough to stay in cache: the compute ceiling of decode, to set beside the
 * memory floor. Best of 15 passes. Run by bench/runtime_bench.sh (not a test).
 * Prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gk_dot.h"
#include "gk_fast.h"
#include "gk_ops.h"
#include "quant.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
    enum { COLS = 2880, ROWS = 512 };
    gq_type ts[] = {GQ_MXFP4, GQ_Q8_32, GQ_Q4_32, GQ_BF16};
    float *x = malloc(COLS * sizeof *x);
    for (int i = 0; i < COLS; i++)
        x[i] = (float)(i % 7) * 0.1f;
    printf("{\"cols\":%d,\"rows\":%d,\"unit\":\"Gparam/s, one thread, in cache\"", COLS, ROWS);
    for (size_t ti = 0; ti < sizeof ts / sizeof *ts; ti++) {
        size_t rb = gq_row_bytes(ts[ti], COLS);
        unsigned char *w = malloc(rb * ROWS);
        for (size_t i = 0; i < rb * ROWS; i++)
            w[i] = (unsigned char)((i * 2654435761u) >> 24 & 0x7f);
        /* block scales as real weights have them (random bytes made MXFP4
         * scales subnormal: the FPU's assists, not the kernels, were timed) */
        size_t bb = (size_t)gq_traits_of(ts[ti])->block_bytes;
        for (size_t b = 0; ts[ti] != GQ_BF16 && b < rb * ROWS; b += bb) {
            if (ts[ti] == GQ_MXFP4) {
                w[b] = (unsigned char)(118 + b % 10);
            } else {
                w[b] = 0x1F; /* f16 0.0101 */
                w[b + 1] = 0x21;
            }
        }
        for (int isa = 0; isa < 4; isa++) {
            if (!gk_isa_supported((gk_isa)isa))
                continue;
            gk_dot_fn f = gk_dot_for_isa(ts[ti], (gk_isa)isa);
            double best = 1e30;
            volatile float sink = 0;
            for (int r = 0; r < 15; r++) {
                double t0 = now();
                for (int i = 0; i < ROWS; i++)
                    sink += f(w + rb * (size_t)i, x, COLS);
                double dt = now() - t0;
                if (dt < best)
                    best = dt;
            }
            printf(",\"%s_%s\":%.3f", gq_traits_of(ts[ti])->name, gk_isa_name((gk_isa)isa),
                   (double)ROWS * COLS / best / 1e9);
        }
        /* the fast numerics' matrix-vector product (rounding included), on
         * every integer path this CPU has (the automatic one is the first) */
        static const char *fast_paths[] = {"avx512-vbmi", "avx512-vnni", "avx-vnni", "avx2", "neon-dotprod"};
        for (size_t pi = 0; gk_fast_ok(ts[ti], COLS) && pi < sizeof fast_paths / sizeof *fast_paths; pi++) {
            if (gk_fast_use(fast_paths[pi]) != 0)
                continue;
            gk_mat m = {ts[ti], w, ROWS, COLS, rb};
            static float out[ROWS];
            double best = 1e30;
            for (int r = 0; r < 15; r++) {
                double t0 = now();
                gk_matmul_fast(NULL, &m, NULL, x, 1, out, ROWS);
                double dt = now() - t0;
                if (dt < best)
                    best = dt;
            }
            printf(",\"%s_fast_%s\":%.3f", gq_traits_of(ts[ti])->name, gk_fast_path(), (double)ROWS * COLS / best / 1e9);
        }
        gk_fast_use(NULL);
        free(w);
    }
    printf("}\n");
    free(x);
    return 0;
}
