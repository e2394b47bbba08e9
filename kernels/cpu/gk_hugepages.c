/* gk_hugepages.c - read-only weight copies on 2 MiB pages (see gk_hugepages.h). */
#include "gk_hugepages.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)

#if defined(__linux__) && defined(MADV_HUGEPAGE)

/* the kernel's THP mode is not "[never]" (no file: no THP) */
static int thp_enabled(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return 0;
    char line[128] = {0};
    int ok = fgets(line, sizeof line, f) != NULL && strstr(line, "[never]") == NULL;
    fclose(f);
    return ok;
}

/* MemAvailable in bytes, 0 if unknown */
static uint64_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[128];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

int gk_huge_wanted(uint64_t total)
{
    const char *env = getenv("GQ_CPU_WEIGHTS");
    if (!env || strcmp(env, "huge"))
        return 0;
    if (total == 0 || !thp_enabled())
        return 0;
    return mem_available() >= total + ((uint64_t)1 << 30);
}

typedef struct {
    uint8_t *dst;
    const uint8_t *src;
    size_t bytes;
    long pg;                  /* the page size, or 0 */
} copy_ctx;

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older kernels say EINVAL and the copy faults as it reads */
#endif

/* one huge page per task: each thread faults in and fills its own pages.
 * The source's page tables are filled by one call first: a file mapping
 * read by memcpy faults every 16 pages or so (4.85 GB: 1.9 s of system time
 * with the faults, 1.3 s with this). */
static void copy_task(void *p, int task, int thread)
{
    (void)thread;
    copy_ctx *c = p;
    size_t off = (size_t)task * HUGE_PAGE, n = c->bytes - off < HUGE_PAGE ? c->bytes - off : HUGE_PAGE;
    if (c->pg > 0) {
        uintptr_t a = (uintptr_t)(c->src + off) & ~(uintptr_t)(c->pg - 1), e = (uintptr_t)(c->src + off + n);
        (void)madvise((void *)a, (size_t)(e - a), MADV_POPULATE_READ);
    }
    memcpy(c->dst + off, c->src + off, n);
}

static size_t rounded(size_t bytes) { return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1); }

void *gk_huge_alloc(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    size_t len = rounded(bytes);
    /* THP needs 2 MiB-aligned virtual ranges: map a page more, trim both ends */
    uint8_t *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + len + HUGE_PAGE > p + len)
        munmap(p + len, (size_t)(raw + len + HUGE_PAGE - (p + len)));
    (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: 4 KiB pages still work */
    return p;
}

void *gk_huge_copy(gk_pool *pool, const void *src, size_t bytes, int drop_src)
{
    uint8_t *p = gk_huge_alloc(bytes);
    if (!p)
        return NULL;
    size_t len = rounded(bytes);
    long pg = sysconf(_SC_PAGESIZE);
    copy_ctx c = {p, src, bytes, pg > 0 ? pg : 0};
    gk_pool_run(pool, copy_task, &c, (int)(len / HUGE_PAGE));
    (void)mprotect(p, len, PROT_READ); /* as read-only as the mapping it replaces */
    /* the source pages of a read-only file mapping can be dropped from this
     * process (a later read faults them back in from the page cache) */
    if (drop_src && pg > 0) {
        uintptr_t a = ((uintptr_t)src + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1),
                  e = ((uintptr_t)src + bytes) & ~(uintptr_t)(pg - 1);
        if (e > a)
            (void)madvise((void *)a, (size_t)(e - a), MADV_DONTNEED);
    }
    return p;
}

void gk_huge_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, rounded(bytes));
}

/* the bytes of spans inside [a, e) */
static uint64_t overlap(const gk_span *s, int n, uintptr_t a, uintptr_t e)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        uintptr_t lo = (uintptr_t)s[i].p, hi = lo + s[i].bytes;
        lo = lo > a ? lo : a;
        hi = hi < e ? hi : e;
        if (hi > lo)
            sum += hi - lo;
    }
    return sum;
}

double gk_huge_share(const gk_span *spans, int n)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    double huge = 0, total = 0;
    uint64_t in = 0, rss = 0, pmd = 0; /* the current mapping: span bytes, kB resident, kB huge */
    int fields = 0;                   /* smaps names huge pages at all */
    for (;;) {
        int eof = fgets(line, sizeof line, f) == NULL;
        unsigned long a, e;
        char c;
        unsigned long long kb;
        /* a mapping's first line, "START-END perms ...", ends the one before */
        if (eof || (sscanf(line, "%lx-%lx%c", &a, &e, &c) == 3 && c == ' ')) {
            if (in) {
                total += (double)in;
                if (rss)
                    huge += (double)in * (pmd < rss ? (double)pmd / (double)rss : 1.0);
            }
            if (eof)
                break;
            in = overlap(spans, n, a, e);
            rss = pmd = 0;
        } else if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
            rss = kb;
        } else if (sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1 || sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
            pmd += kb;
            fields = 1;
        }
    }
    fclose(f);
    return fields && total > 0 ? huge / total : -1;
}

#else /* no THP: nothing is copied */

int gk_huge_wanted(uint64_t total)
{
    (void)total;
    return 0;
}

void *gk_huge_alloc(size_t bytes)
{
    (void)bytes;
    return NULL;
}

void *gk_huge_copy(gk_pool *pool, const void *src, size_t bytes, int drop_src)
{
    (void)pool;
    (void)src;
    (void)bytes;
    (void)drop_src;
    return NULL;
}

void gk_huge_free(void *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}

double gk_huge_share(const gk_span *spans, int n)
{
    (void)spans;
    (void)n;
    return -1;
}

#endif
