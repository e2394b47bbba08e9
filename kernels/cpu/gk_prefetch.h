/* gk_prefetch.h - private to kernels/cpu: how far ahead the matrix-vector
 * loops of decode ask for the weight bytes they will read next.
 *
 * Decode reads every weight byte once per token, straight from DRAM. The
 * hardware prefetchers do not follow a stream across a 4 KiB page, and the
 * weights are a file mapping of 4 KiB pages, so without help each dot stalls
 * at every page and keeps only a few lines in flight: on the 20b file with 2
 * threads, decode took 0.26 CPU-s/token (0.20 with this; 2026-12-03, Xeon
 * with AVX-512, docs/PERFORMANCE.md). Each loop issues one prefetch per block
 * (or per pair of blocks where a block is under 32 bytes: at least one per
 * 64 bytes read) for the byte GK_PREFETCH_BYTES ahead of the one it reads. A
 * prefetch never faults, so running past the end of the row (into the next
 * row, or past the matrix) is harmless.
 *
 * The distance: on that machine, a streaming Q8_32 / MXFP4 matvec of 400 MB
 * with 2 threads spent the least CPU time per byte from 4 to 12 KiB ahead (2
 * KiB recovered half of the gain, 0.5 KiB almost none); 6 KiB is in the
 * middle of the plateau, and stays in L1 (48 KiB) beside the activations. */
#ifndef GK_PREFETCH_H
#define GK_PREFETCH_H

#define GK_PREFETCH_BYTES 6144

/* read-only, keep in all cache levels (the row is read within microseconds) */
#define GK_PREFETCH_AHEAD(p) __builtin_prefetch((const char *)(p) + GK_PREFETCH_BYTES, 0, 3)

#endif
