/* bench_gptoss_writer.c - what the .gptoss writer costs over plain I/O.
 *
 * usage: bench_gptoss_writer DIR GIB RUNS [JSON_OUT]
 * Each run writes GIB GiB twice into DIR, in 32 MiB chunks (what the
 * converter hands over): once as the floor (preallocate where the system
 * can, write(2), fsync: the least a durable writer must do), once through
 * gf_writer (layout, preallocation, XXH3 of every byte, header patch,
 * fsync, rename, directory fsync), in alternating order. Prints the medians and their ratio. Not a test: run by
 * `make -f Makefile.bench bench-gfile`. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE   /* fallocate(), as the writer uses */
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gf_test_util.h"

#define CHUNK (32u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) of this process: the work the writer adds
 * shows here even when a shared disk makes wall times noisy. */
static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec * 1e-6;
}

static double last_cpu;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double floor_run(const char *dir, int gib, const uint8_t *buf)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/floor.bin", dir);
    double t0 = now(), c0 = cpu();
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
#if defined(__linux__)
    if (fallocate(fd, 0, 0, (off_t)gib << 30)) { /* unsupported: plain writes */ }
#endif
    for (int i = 0; i < gib * 32; i++)
        if (write(fd, buf, CHUNK) != (ssize_t)CHUNK) return -1;
    if (fsync(fd)) return -1;
    close(fd);
    double t = now() - t0;
    last_cpu = cpu() - c0;
    unlink(p);
    return t;
}

static double writer_run(const char *dir, int gib, const uint8_t *buf)
{
    char p[1100], err[512], meta[8192], name[32];
    snprintf(p, sizeof p, "%s/bench.gptoss", dir);
    tiny_meta(meta, sizeof meta);
    double t0 = now(), c0 = cpu();
    gf_writer *w = gf_writer_create(p, 1, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    int rc = gf_writer_set_meta(w, meta);
    uint64_t shape[2] = {32768, 8192};   /* 1 GiB of f32 per tensor */
    for (int t = 0; !rc && t < gib; t++) {
        snprintf(name, sizeof name, "t%d", t);
        rc = gf_writer_add_tensor(w, name, GQ_F32, 2, shape) < 0;
    }
    rc = rc || gf_writer_begin(w);
    for (int t = 0; !rc && t < gib; t++)
        for (int i = 0; !rc && i < 32; i++) rc = gf_writer_write(w, (size_t)t, buf, CHUNK);
    rc = rc || gf_writer_finish(w);
    if (rc) fprintf(stderr, "%s\n", gf_writer_error(w));
    gf_writer_abort(w);
    double t = now() - t0;
    last_cpu = cpu() - c0;
    unlink(p);
    return rc ? -1 : t;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR GIB RUNS [JSON_OUT]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int gib = atoi(argv[2]), runs = atoi(argv[3]);
    if (gib < 1 || runs < 1 || runs > 99) return 2;
    uint8_t *buf = malloc(CHUNK);
    if (!buf) return 1;
    for (size_t i = 0; i < CHUNK; i++) buf[i] = (uint8_t)(i * 131 + (i >> 12));
    double fl[99], wr[99], flc[99], wrc[99];
    for (int r = 0; r < runs; r++) {
        if (r & 1) {
            wr[r] = writer_run(dir, gib, buf);
            wrc[r] = last_cpu;
            fl[r] = floor_run(dir, gib, buf);
            flc[r] = last_cpu;
        } else {
            fl[r] = floor_run(dir, gib, buf);
            flc[r] = last_cpu;
            wr[r] = writer_run(dir, gib, buf);
            wrc[r] = last_cpu;
        }
        if (fl[r] < 0 || wr[r] < 0) return 1;
        printf("run %d: floor %.2f s (cpu %.2f s), gf_writer %.2f s (cpu %.2f s)\n", r + 1, fl[r], flc[r], wr[r], wrc[r]);
    }
    qsort(fl, (size_t)runs, sizeof *fl, cmp_d);
    qsort(wr, (size_t)runs, sizeof *wr, cmp_d);
    qsort(flc, (size_t)runs, sizeof *flc, cmp_d);
    qsort(wrc, (size_t)runs, sizeof *wrc, cmp_d);
    double f = fl[runs / 2], w = wr[runs / 2], gb = gib * 1.073741824;
    printf("median of %d: floor (fallocate+write+fsync) %.2f s = %.2f GB/s, cpu %.2f s; gf_writer %.2f s = %.2f GB/s, "
           "cpu %.2f s; wall ratio %.2fx\n", runs, f, gb / f, flc[runs / 2], w, gb / w, wrc[runs / 2], w / f);
    if (argc > 4) {
        FILE *o = fopen(argv[4], "w");
        if (o) {
            fprintf(o, "{\"gib\":%d,\"runs\":%d,\"floor_s\":%.3f,\"writer_s\":%.3f,\"ratio\":%.3f,"
                    "\"floor_cpu_s\":%.3f,\"writer_cpu_s\":%.3f}\n", gib, runs, f, w, w / f, flc[runs / 2], wrc[runs / 2]);
            fclose(o);
        }
    }
    free(buf);
    return 0;
}
