/* srcio.h - how the pipeline reads the source shards: large reads into a
 * few reused aligned buffers, past the page cache where nobody needs the
 * bytes again, and the sha256 of every shard computed from the very bytes
 * the conversion reads.
 *
 * Why not the mapping (what the pipeline did before issue 16): faulting
 * 14 GB in from the workers, then MADV_DONTNEED with its TLB shootdowns,
 * cost system time, the faults read only as deep as the kernel's read-ahead
 * window, and the mapped pages counted in the resident set. Why not plain
 * buffered preads either: measured on the 20b fixture they cost more system
 * time than the mapping (the copy out of the page cache, 17 % of the CPU
 * samples, plus adding and dropping every page). So a range goes in with
 * O_DIRECT (macOS: F_NOCACHE), straight from the disk into our buffer, two
 * chunks in flight (this virtual disk reads 0.6-0.7 GB/s one 16 MiB request
 * at a time and 1.0-1.2 GB/s with deeper queues), except where the bytes are
 * wanted a second time, which must then come from memory: the MXFP4 scales
 * of a shard being hashed (below), and a range that overlaps another
 * chunk's. Those go through the page cache, announced POSIX_FADV_WILLNEED a
 * few chunks ahead and dropped (POSIX_FADV_DONTNEED) once nobody needs them.
 * A chunk whose ranges are exactly the previous chunk's is not read at all:
 * it reads that chunk's buffer (no copy either; the buffer is free again
 * once both are released, and buffers are taken in chunk order): the
 * pipeline makes GGUF's gate and up
 * rows (even and odd rows of one gate_up tensor) such pairs, so gate_up is
 * read once (reading it twice through the page cache cost 4 s of system
 * time on 20b).
 * The mapping stays where it is better: for the runtime, which uses the
 * weights in place again and again (formats/gptoss_reader.c), and for the
 * safetensors headers.
 *
 * Hashing: a plain checkpoint folder's shards must be sha256'd for the
 * .gptoss header's provenance; reading them a second time for that doubled
 * the reads. The pipeline takes its work in the order of the files
 * (cv_pipeline_run sorts the tensors by source position when given a
 * srcio), so each shard is read nearly front to back, and a hasher thread
 * follows the reads: a range that continues the shard's hashed prefix is
 * hashed from the buffer it was read into; a range further on (an MXFP4
 * tensor's scales, read with its blocks) is left for later; a gap nobody
 * will read any more (the header, scales already used, bytes no tensor
 * holds) is read back with pread, from the page cache where the conversion
 * read it through it. The hash runs on its own thread (OpenSSL's EVP, SHA
 * extensions where the CPU has them: about 1 GB/s per core here), so it
 * costs CPU but no wall time on an I/O-bound run.
 */
#ifndef GQ_CONVERT_SRCIO_H
#define GQ_CONVERT_SRCIO_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

typedef struct cv_srcio cv_srcio;

/* Open every shard of ck for reading. NULL with a message when a shard
 * cannot be opened; NULL with err set to "" when the checkpoint is an image
 * in memory (st_open_memory): then the pipeline reads the mapping. */
cv_srcio *cv_srcio_open(const st_checkpoint *ck, char *err, size_t errlen);
void cv_srcio_close(cv_srcio *io);
/* Ask for the sha256 of shard i: hex (65 bytes) receives it, lowercase, at
 * the end of the next successful cv_pipeline_run given this srcio (before
 * the sink's finish). 0, or -1 (no such shard, no memory). */
int cv_srcio_want_sha256(cv_srcio *io, size_t shard, char *hex);
/* The shard and file offset of t's first byte. */
void cv_srcio_locate(const cv_srcio *io, const st_tensor *t, size_t *shard, uint64_t *off);

/* ---- the pipeline's side ---- */

/* A byte range of one shard. */
typedef struct {
    uint32_t shard;
    uint64_t off, len; /* len 0: no range */
} cv_srange;
#define CV_RANGES 2    /* per chunk: a dense tensor's rows, or MXFP4 blocks + scales */

typedef struct cv_reader cv_reader;

/* Start reading: chunk k's ranges are ranges[k * CV_RANGES + j] (kept by
 * the caller until finish), read into one of nslots reused buffers. NULL
 * with a message on failure. */
cv_reader *cv_reader_start(cv_srcio *io, const cv_srange *ranges, size_t nchunks, int nslots, char *err,
                           size_t errlen);
/* Waits for chunk k's bytes; its range 0 (NULL once the reader failed or stopped). */
const uint8_t *cv_reader_wait(cv_reader *r, size_t k);
/* Range j of chunk k, once cv_reader_wait(k) has returned it. */
const uint8_t *cv_reader_at(const cv_reader *r, size_t k, int j);
/* The workers are done with chunk k's bytes: its buffer may be reused. */
void cv_reader_release(cv_reader *r, size_t k);
/* Stop early (cancel, a failure elsewhere): waiters get NULL. */
void cv_reader_stop(cv_reader *r);
/* Join the threads and free. ok: every chunk was consumed; then the wanted
 * hashes are completed (the bytes of each shard no chunk read are read
 * now). Returns 0, or -1 with a message (a read error, here or earlier,
 * naming the shard). */
int cv_reader_finish(cv_reader *r, int ok, char *err, size_t errlen);

#endif
