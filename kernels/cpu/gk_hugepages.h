/* gk_hugepages.h - a read-only copy of weight bytes on 2 MiB pages.
 *
 * Decode streams every weight byte once per token (1.27 GB on the 8-layer
 * 20b file), and a file mapping of 4 KiB pages costs one TLB miss, and in a
 * virtual machine a two-level page walk, every 4 KiB: 310,000 per token.
 * Where the kernel has transparent huge pages (Linux, THP "always" or
 * "madvise"), a copy of the bytes in anonymous memory advised MADV_HUGEPAGE
 * lies on 2 MiB pages and needs 512 times fewer (the file mapping gets
 * 2 MiB pages only where the page cache holds the file in 2 MiB folios:
 * after a read from disk on Linux 6.x, not after buffered writes such as
 * `cp`: docs/RUNTIME.md). The copy is made once, at prepare, on the pool's
 * threads, and made read-only.
 *
 * The price: memory (an anonymous copy the size of the weights; the file's
 * page cache stays reclaimable, and the copy is made only when MemAvailable
 * leaves room) and load time (the kernel zeroes every fresh page before the
 * copy: on the 2-core VM of 2026-12-03, whose host backs guest memory on
 * first touch, the 4.24 GB of the 8-layer 20b file took a load from 0.25 to
 * 3.3 CPU-seconds, 10-20 decoded tokens' worth, against 4-27 % less CPU per
 * decoded token; docs/PERFORMANCE.md, CPU runtime). So
 * it is asked for, not the default: GQ_CPU_WEIGHTS=huge (long generations);
 * unset or "map", the weights stay in the zero-copy file mapping. Elsewhere
 * (macOS, THP "never") nothing is copied. */
#ifndef GK_HUGEPAGES_H
#define GK_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>

#include "gk_pool.h"

/* Weights smaller than this stay in the mapping (too few pages to matter),
 * and so does a gathered one (gb_weight.gathered: the embedding, a row per
 * token). */
#define GK_HUGE_MIN_BYTES ((size_t)4 << 20)

/* 1 if copies of `total` bytes in all should be made now: GQ_CPU_WEIGHTS=huge,
 * Linux with THP not "never", and MemAvailable at least total + 1 GiB. */
int gk_huge_wanted(uint64_t total);

/* Zeroed, writable memory of `bytes` bytes, 2 MiB-aligned and advised for
 * huge pages (a hint: the kernel may still give 4 KiB pages); NULL where it
 * could not be made or the system has no THP. Release with gk_huge_free. */
void *gk_huge_alloc(size_t bytes);

/* A read-only copy of src[0, bytes) on memory advised for huge pages, copied
 * on the pool; NULL if it could not be made (then keep using src).
 * drop_src: src lies in a read-only file mapping, whose pages this process
 * may drop after the copy (MADV_DONTNEED; never pass 1 for heap memory,
 * which that would zero). */
void *gk_huge_copy(gk_pool *pool, const void *src, size_t bytes, int drop_src);

/* Release a gk_huge_alloc or gk_huge_copy of `bytes` bytes. */
void gk_huge_free(void *p, size_t bytes);

/* A range of bytes of this process. */
typedef struct {
    const void *p;
    size_t bytes;
} gk_span;

/* The share, 0..1, of the bytes of spans[0, n) that lie on 2 MiB pages now,
 * or -1 where the system does not say (not Linux, no /proc). Linux reports
 * huge pages per mapping, not per address (/proc/self/smaps: FilePmdMapped
 * for a file mapping, AnonHugePages for a copy), so each span's bytes count
 * with the share of its mapping's resident bytes that are huge: exact for a
 * copy, and for the file mapping once decode has read every streamed
 * weight. Pages not yet read count as small. */
double gk_huge_share(const gk_span *spans, int n);

#endif
