/* io_floor.c - the I/O floor of the conversion benchmarks: how fast this
 * machine can read a set of files once and write N bytes once, measured the
 * fastest way it allows, so that "conversion / floor" compares the converter
 * with the disk and not with a slow measuring tool.
 *
 *   io_floor [opts] write BYTES PATH      write BYTES of incompressible data to
 *                                         PATH, then fsync; PATH removed after
 *   io_floor [opts] read FILE...          read every FILE once, in order
 *   io_floor [opts] copy BYTES PATH FILE...
 *                                         both at once (one thread group reads
 *                                         the files while another writes PATH):
 *                                         what a converter that overlaps its
 *                                         reads and writes could reach at best
 *
 * Methods (-m, default "buffered,direct"; each one measured, the fastest
 * reported):
 *   buffered  large read()/write() calls of BLOCK bytes from/to one reused
 *             buffer, one call in flight (the kernel's read-ahead and
 *             write-back supply the queue depth), POSIX_FADV_SEQUENTIAL for
 *             reads, one fsync (F_FULLFSYNC on macOS) at the end of a write;
 *   direct    O_DIRECT (F_NOCACHE on macOS), DEPTH threads each with its own
 *             aligned BLOCK buffer taking the next BLOCK of the file, so
 *             DEPTH requests are in flight: on a virtual disk the queue depth
 *             decides the throughput (this one: one 16 MiB request at a time
 *             0.6 GB/s, 1 GiB ones 1.2 GB/s); fsync at the end of a write.
 * -b BLOCK (bytes, default 64 MiB), -q DEPTH (default 4). With COLD=1 in the
 * environment the page cache is dropped before every method (root on Linux;
 * otherwise the files read are evicted with POSIX_FADV_DONTNEED, which works
 * for any owner of clean pages).
 *
 * Output: one line `seconds=S method=M bytes=B` (S of the fastest method; for
 * copy, B is read+written), with -v every method on stderr, including the
 * CPU seconds (user+sys) the method cost.
 *
 * Why not `cat | head | dd conv=fsync` (the floor before issue 16): every
 * byte then went through two pipes and three processes, which is CPU-bound
 * here (54.5 s to write 13.8 GB where a program writing from memory took
 * 19.5 s), which flattered every ratio. The data are pseudo-random
 * (xorshift64) because this virtual disk writes zeros measurably faster. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ALIGN 4096u
#define MAX_DEPTH 64

static size_t g_block = (size_t)64 << 20;
static int g_depth = 4;
static int g_verbose, g_cold;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* An aligned buffer of g_block bytes of xorshift64 noise (seeded per
 * buffer, so no two threads write the same bytes). */
static void *noise_buf(uint64_t seed)
{
    void *p = NULL;
    if (posix_memalign(&p, ALIGN, g_block) != 0)
        return NULL;
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (seed * 0xD1B54A32D192ED03ull);
    uint64_t *w = p;
    for (size_t i = 0; i < g_block / 8; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        w[i] = s;
    }
    return p;
}

static int open_flags(int direct)
{
#ifdef O_DIRECT
    return direct ? O_DIRECT : 0;
#else
    (void)direct;
    return 0;
#endif
}

static void nocache(int fd, int direct)
{
#ifdef F_NOCACHE
    if (direct)
        fcntl(fd, F_NOCACHE, 1);
#else
    (void)fd;
    (void)direct;
#endif
}

static int full_sync(int fd)
{
#ifdef F_FULLFSYNC
    if (fcntl(fd, F_FULLFSYNC) == 0)
        return 0;
#endif
    return fsync(fd);
}

/* ---- one file, DEPTH threads taking BLOCKs in turn ---- */

typedef struct {
    int fd, write, direct;
    uint64_t size;
    atomic_uint_least64_t next;
    atomic_int failed;
} xfer;

typedef struct {
    xfer *x;
    void *buf;
    uint64_t bytes;
} lane;

static void *lane_run(void *arg)
{
    lane *l = arg;
    xfer *x = l->x;
    for (;;) {
        uint64_t off = atomic_fetch_add(&x->next, g_block);
        if (off >= x->size || atomic_load(&x->failed))
            break;
        size_t len = x->size - off < g_block ? (size_t)(x->size - off) : g_block;
        if (x->direct) /* whole blocks: a read's tail comes back short, a write's is truncated after */
            len = (len + ALIGN - 1) / ALIGN * ALIGN;
        for (size_t done = 0; done < len;) {
            ssize_t r = x->write ? pwrite(x->fd, (char *)l->buf + done, len - done, (off_t)(off + done))
                                 : pread(x->fd, (char *)l->buf + done, len - done, (off_t)(off + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 || (r == 0 && x->write)) {
                atomic_store(&x->failed, 1);
                return NULL;
            }
            if (r == 0)
                break; /* end of file */
            done += (size_t)r;
            l->bytes += (size_t)r;
        }
    }
    return NULL;
}

/* Run one file through `depth` lanes; lanes[i].buf must exist. 0 or -1. */
static int run_file(xfer *x, lane *lanes, int depth)
{
    pthread_t th[MAX_DEPTH];
    int started = 0;
    for (int i = 0; i < depth; i++) {
        lanes[i].x = x;
        if (depth == 1) {
            lane_run(&lanes[0]);
            started = 0;
            break;
        }
        if (pthread_create(&th[i], NULL, lane_run, &lanes[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (depth > 1 && started == 0)
        return -1;
    return atomic_load(&x->failed) ? -1 : 0;
}

typedef struct {
    int direct, depth;
    lane lanes[MAX_DEPTH];
} method;

static int method_init(method *m, int direct, int depth, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->direct = direct;
    m->depth = direct ? depth : 1;
    for (int i = 0; i < m->depth; i++)
        if (!(m->lanes[i].buf = noise_buf(seed * MAX_DEPTH + (uint64_t)i)))
            return -1;
    return 0;
}

static void method_free(method *m)
{
    for (int i = 0; i < m->depth; i++)
        free(m->lanes[i].buf);
}

/* Bytes moved by the lanes so far. */
static uint64_t method_bytes(const method *m)
{
    uint64_t b = 0;
    for (int i = 0; i < m->depth; i++)
        b += m->lanes[i].bytes;
    return b;
}

static int do_write(method *m, const char *path, uint64_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | open_flags(m->direct), 0644);
    if (fd < 0)
        return -1;
    nocache(fd, m->direct);
    xfer x = {.fd = fd, .write = 1, .direct = m->direct, .size = n};
    int rc = run_file(&x, m->lanes, m->depth);
    if (!rc && m->direct && ftruncate(fd, (off_t)n) != 0)
        rc = -1;
    if (!rc && full_sync(fd) != 0)
        rc = -1;
    close(fd);
    return rc;
}

static int do_read(method *m, char **files, int n)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "io_floor: %s: not a regular file\n", files[i]);
            return -1;
        }
        int fd = open(files[i], O_RDONLY | open_flags(m->direct));
        if (fd < 0)
            return -1;
        nocache(fd, m->direct);
#ifdef POSIX_FADV_SEQUENTIAL
        if (!m->direct)
            posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        xfer x = {.fd = fd, .direct = m->direct, .size = (uint64_t)st.st_size};
        int rc = run_file(&x, m->lanes, m->depth);
        close(fd);
        if (rc)
            return -1;
    }
    return 0;
}

/* ---- cold cache ---- */

static void make_cold(char **files, int n)
{
    if (!g_cold)
        return;
    sync();
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (f) {
        fputs("3\n", f);
        if (fclose(f) == 0)
            return;
    }
#ifdef POSIX_FADV_DONTNEED
    for (int i = 0; i < n; i++) { /* not root: evict our files' clean pages */
        int fd = open(files[i], O_RDONLY);
        if (fd >= 0) {
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            close(fd);
        }
    }
#else
    (void)files;
    (void)n;
#endif
}

/* ---- copy: a reader group and a writer group at the same time ---- */

typedef struct {
    method *m;
    char **files;
    int nfiles;
    const char *path;
    uint64_t n;
    int rc;
} copy_side;

static void *copy_reader(void *arg)
{
    copy_side *c = arg;
    c->rc = do_read(c->m, c->files, c->nfiles);
    return NULL;
}

/* ---- driver ---- */

typedef struct {
    const char *name;
    double seconds, cpu;
    uint64_t bytes;
} result;

static int run_method(const char *mode, int direct, uint64_t n, const char *path, char **files, int nfiles,
                      result *r)
{
    method m, w;
    int rc = -1;
    memset(&w, 0, sizeof w);
    if (method_init(&m, direct, g_depth, 1) || (!strcmp(mode, "copy") && method_init(&w, direct, g_depth, 2))) {
        fprintf(stderr, "io_floor: out of memory\n");
        method_free(&m);
        method_free(&w);
        return -1;
    }
    make_cold(files, nfiles);
    double c0 = cpu_seconds(), t0 = now();
    if (!strcmp(mode, "write")) {
        rc = do_write(&m, path, n);
        r->bytes = n;
    } else if (!strcmp(mode, "read")) {
        rc = do_read(&m, files, nfiles);
        r->bytes = method_bytes(&m);
    } else {
        copy_side cs = {&m, files, nfiles, path, n, -1};
        pthread_t th;
        if (pthread_create(&th, NULL, copy_reader, &cs) == 0) {
            rc = do_write(&w, path, n);
            pthread_join(th, NULL);
            rc = rc ? rc : cs.rc;
        }
        r->bytes = method_bytes(&m) + n;
    }
    r->seconds = now() - t0;
    r->cpu = cpu_seconds() - c0;
    r->name = direct ? "direct" : "buffered";
    if (path)
        unlink(path);
    method_free(&m);
    method_free(&w);
    if (rc)
        fprintf(stderr, "io_floor: %s %s failed: %s\n", mode, r->name, strerror(errno));
    else if (g_verbose)
        fprintf(stderr, "io_floor: %s %s (block %zu MiB, depth %d): %.3f s, %.2f GB/s, %.2f CPU s\n", mode, r->name,
                g_block >> 20, direct ? g_depth : 1, r->seconds, (double)r->bytes / r->seconds / 1e9, r->cpu);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: io_floor [-v] [-b BLOCK] [-q DEPTH] [-m buffered,direct] write BYTES PATH\n"
               "       io_floor [...] read FILE...\n"
               "       io_floor [...] copy BYTES PATH FILE...\n"
               "The fastest of the methods; prints seconds=S method=M bytes=B. COLD=1: cold page cache.\n");
}

int main(int argc, char **argv)
{
    const char *methods = "buffered,direct";
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "-v"))
            g_verbose = 1;
        else if (!strcmp(argv[a], "--help")) {
            usage(stdout);
            return 0;
        } else if (a + 1 < argc && !strcmp(argv[a], "-b"))
            g_block = (size_t)strtoull(argv[++a], NULL, 10);
        else if (a + 1 < argc && !strcmp(argv[a], "-q"))
            g_depth = atoi(argv[++a]);
        else if (a + 1 < argc && !strcmp(argv[a], "-m"))
            methods = argv[++a];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (g_block < ALIGN || g_block % ALIGN || g_depth < 1 || g_depth > MAX_DEPTH || a >= argc) {
        usage(stderr);
        return 2;
    }
    g_cold = getenv("COLD") && !strcmp(getenv("COLD"), "1");
    const char *mode = argv[a++];
    uint64_t n = 0;
    const char *path = NULL;
    if (!strcmp(mode, "write") || !strcmp(mode, "copy")) {
        char *end = NULL;
        if (a + 2 > argc || !(n = strtoull(argv[a], &end, 10)) || *end) {
            usage(stderr);
            return 2;
        }
        path = argv[a + 1];
        a += 2;
        if (!strcmp(mode, "write") ? a != argc : a >= argc) {
            usage(stderr);
            return 2;
        }
    } else if (strcmp(mode, "read") || a >= argc) {
        usage(stderr);
        return 2;
    }
    result best = {0}, r;
    int any = 0;
    const char *want[2] = {"buffered", "direct"};
    for (int d = 0; d < 2; d++) {
        if (!strstr(methods, want[d]))
            continue;
#if !defined(O_DIRECT) && !defined(F_NOCACHE)
        if (d)
            continue;
#endif
        memset(&r, 0, sizeof r);
        if (run_method(mode, d, n, path, argv + a, argc - a, &r) == 0 && (!any || r.seconds < best.seconds)) {
            best = r;
            any = 1;
        }
    }
    if (!any)
        return 1;
    printf("seconds=%.4f method=%s bytes=%llu cpu=%.2f\n", best.seconds, best.name, (unsigned long long)best.bytes,
           best.cpu);
    return 0;
}
