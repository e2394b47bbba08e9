/* io_floor.c - the I/O floor of the conversion benchmarks: how fast this
 * machine can read a set of files once and write N bytes once, measured the
 * fastest way it allows, so that "conversion / floor" compares the converter
 * with the disk and not with a slow measuring tool.
 *
 *   io_floor write BYTES PATH   write BYTES of incompressible data to PATH,
 *                               then fsync; PATH is removed afterwards
 *   io_floor read FILE...       read every FILE once, sequentially
 *
 * Each mode is measured two ways and the faster is reported:
 *   buffered: large write()/read() calls from/to one reused 16 MiB buffer
 *             (plus fsync for write), posix_fadvise SEQUENTIAL for reads;
 *   direct:   O_DIRECT with an aligned buffer (Linux; the page cache is
 *             bypassed, so a cold read is really cold).
 * Output: one line `seconds=S method=M bytes=B` (S of the faster method),
 * and with -v both methods on stderr.
 *
 * Why not `cat | head | dd conv=fsync` (the old floor): every byte then goes
 * through two pipes and three processes, which is CPU-bound here; a program
 * writing from memory with large writes is what the converter competes
 * with. The data are pseudo-random (xorshift64) because this virtual disk
 * writes zeros measurably faster than data. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES (16u << 20)
#define ALIGN 4096u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int verbose;

static void *aligned_buf(void)
{
    void *p = NULL;
    if (posix_memalign(&p, ALIGN, BUF_BYTES) != 0)
        return NULL;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint64_t *w = p;
    for (size_t i = 0; i < BUF_BYTES / 8; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        w[i] = s;
    }
    return p;
}

/* Seconds to write n bytes to path (removed afterwards), or -1. */
static double write_once(const char *path, uint64_t n, int direct, const void *buf)
{
    int flags = O_WRONLY | O_CREAT | O_TRUNC;
#ifdef O_DIRECT
    if (direct)
        flags |= O_DIRECT;
#else
    if (direct)
        return -1;
#endif
    double t0 = now();
    int fd = open(path, flags, 0644);
    if (fd < 0)
        return -1;
#if defined(__APPLE__)
    if (direct)
        fcntl(fd, F_NOCACHE, 1);
#endif
    uint64_t left = n;
    int ok = 1;
    while (ok && left > 0) {
        size_t k = left < BUF_BYTES ? (size_t)left : BUF_BYTES;
        if (direct && k % ALIGN) /* O_DIRECT wants whole blocks: round the tail up, truncate after */
            k = (k + ALIGN - 1) / ALIGN * ALIGN;
        ssize_t w = write(fd, buf, k);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            ok = 0;
            break;
        }
        left = (uint64_t)w >= left ? 0 : left - (uint64_t)w;
    }
    if (ok && direct && ftruncate(fd, (off_t)n) != 0)
        ok = 0;
#if defined(__APPLE__)
    if (ok && fcntl(fd, F_FULLFSYNC) != 0)
        ok = 0;
#else
    if (ok && fsync(fd) != 0)
        ok = 0;
#endif
    close(fd);
    double t = now() - t0;
    unlink(path);
    return ok ? t : -1;
}

/* Seconds to read every file once, or -1. */
static double read_all(char **files, int n_files, int direct, void *buf, uint64_t *bytes)
{
    double t0 = now();
    *bytes = 0;
    for (int i = 0; i < n_files; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "io_floor: %s: not a regular file\n", files[i]);
            return -1;
        }
        int flags = O_RDONLY;
#ifdef O_DIRECT
        if (direct)
            flags |= O_DIRECT;
#else
        if (direct)
            return -1;
#endif
        int fd = open(files[i], flags);
        if (fd < 0)
            return -1;
#if defined(__APPLE__)
        if (direct)
            fcntl(fd, F_NOCACHE, 1);
#elif defined(POSIX_FADV_SEQUENTIAL)
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        for (;;) {
            ssize_t r = read(fd, buf, BUF_BYTES);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                close(fd);
                return -1;
            }
            if (r == 0)
                break;
            *bytes += (uint64_t)r;
        }
        close(fd);
    }
    return now() - t0;
}

static void report(double tb, double td, uint64_t bytes)
{
    if (verbose)
        fprintf(stderr, "io_floor: buffered %.3f s, direct %.3f s (-1: unavailable), %llu bytes\n", tb, td,
                (unsigned long long)bytes);
    int use_direct = td > 0 && (tb <= 0 || td < tb);
    printf("seconds=%.4f method=%s bytes=%llu\n", use_direct ? td : tb, use_direct ? "direct" : "buffered",
           (unsigned long long)bytes);
}

static void drop_cache(void)
{
    /* Best effort, as the benches do: only root on Linux can. */
    sync();
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (f) {
        fputs("3\n", f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    int a = 1;
    if (a < argc && strcmp(argv[a], "-v") == 0) {
        verbose = 1;
        a++;
    }
    if (a >= argc || strcmp(argv[a], "--help") == 0) {
        fprintf(a >= argc ? stderr : stdout,
                "usage: io_floor [-v] write BYTES PATH | read FILE...\n"
                "The faster of buffered and O_DIRECT I/O; prints seconds=S method=M bytes=B.\n"
                "With COLD=1 in the environment the page cache is dropped before each method (root).\n");
        return a >= argc ? 2 : 0;
    }
    int cold = getenv("COLD") && strcmp(getenv("COLD"), "1") == 0;
    void *buf = aligned_buf();
    if (!buf) {
        fprintf(stderr, "io_floor: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (strcmp(argv[a], "write") == 0 && a + 2 < argc + 0 && a + 2 == argc - 1) {
        char *end;
        uint64_t n = strtoull(argv[a + 1], &end, 10);
        if (*end || !n) {
            fprintf(stderr, "io_floor: BYTES must be a positive integer\n");
            rc = 2;
        } else {
            if (cold)
                drop_cache();
            double tb = write_once(argv[a + 2], n, 0, buf);
            if (cold)
                drop_cache();
            double td = write_once(argv[a + 2], n, 1, buf);
            if (tb < 0 && td < 0) {
                fprintf(stderr, "io_floor: cannot write %s: %s\n", argv[a + 2], strerror(errno));
                rc = 1;
            } else
                report(tb, td, n);
        }
    } else if (strcmp(argv[a], "read") == 0 && a + 1 < argc) {
        uint64_t bb = 0, bd = 0;
        if (cold)
            drop_cache();
        double tb = read_all(argv + a + 1, argc - a - 1, 0, buf, &bb);
        if (cold)
            drop_cache();
        double td = read_all(argv + a + 1, argc - a - 1, 1, buf, &bd);
        if (tb < 0 && td < 0) {
            fprintf(stderr, "io_floor: cannot read the files\n");
            rc = 1;
        } else
            report(tb, td, tb >= 0 ? bb : bd);
    } else {
        fprintf(stderr, "io_floor: usage: io_floor [-v] write BYTES PATH | read FILE...\n");
        rc = 2;
    }
    free(buf);
    return rc;
}
