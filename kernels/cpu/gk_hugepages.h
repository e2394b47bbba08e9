/* gk_hugepages.h - a read-only copy of weight bytes on 2 MiB pages.
 *
 * Decode streams every weight byte once per token (1.27 GB on the 8-layer
 * 20b file), and a file mapping of 4 KiB pages costs one TLB miss, and in a
 * virtual machine a two-level page walk, every 4 KiB: 310,000 per token.
 * Where the kernel has transparent huge pages (Linux, THP "always" or
 * "madvise"), a copy of the bytes in anonymous memory advised MADV_HUGEPAGE
 * lies on 2 MiB pages and needs 512 times fewer (the page cache of a file
 * mapping gives huge pages only when it happens to hold the file in 2 MiB
 * folios: 0.6 of the 4.2 GB mapped on 2026-12-03). The copy is made once, at
 * prepare, on the pool's threads, and made read-only.
 *
 * The price is memory: the copy is anonymous memory the size of the weights
 * (the file's page cache stays reclaimable), so it is made only when
 * MemAvailable leaves room, and GQ_CPU_WEIGHTS=map keeps the zero-copy file
 * mapping (e.g. under a cgroup memory limit that MemAvailable does not see).
 * Elsewhere (macOS, THP "never") nothing is copied. */
#ifndef GK_HUGEPAGES_H
#define GK_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>

#include "gk_pool.h"

/* Weights smaller than this stay in the mapping (too few pages to matter). */
#define GK_HUGE_MIN_BYTES ((size_t)4 << 20)

/* 1 if copies of `total` bytes in all should be made now: Linux with THP not
 * "never", GQ_CPU_WEIGHTS not "map", and MemAvailable at least total + 1 GiB. */
int gk_huge_wanted(uint64_t total);

/* A read-only copy of src[0, bytes) on memory advised for huge pages, copied
 * on the pool; NULL if it could not be made (then keep using src).
 * drop_src: src lies in a read-only file mapping, whose pages this process
 * may drop after the copy (MADV_DONTNEED; never pass 1 for heap memory,
 * which that would zero). */
void *gk_huge_copy(gk_pool *pool, const void *src, size_t bytes, int drop_src);

/* Release a gk_huge_copy of `bytes` bytes. */
void gk_huge_free(void *p, size_t bytes);

#endif
