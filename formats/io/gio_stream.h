/* gio_stream.h - bulk writes into one file at the disk's speed, without
 * gigabytes of dirty page cache and without the kernel copying every byte.
 *
 * Why: writing a 14-22 GB conversion with plain pwrite() made the kernel
 * copy every byte into the page cache (12 % of an mxfp4 conversion's CPU
 * time) and pile up dirty pages that the rest of the machine then waits
 * for; and one pwrite at a time keeps a virtual disk's queue shallow (16 MiB
 * requests one at a time: 0.6-0.8 GB/s here, two 32 MiB ones in flight:
 * 1.0-1.2 GB/s; issue 16).
 *
 * Promise:
 *  - every byte given to gio_stream_write is at its offset in the file once
 *    gio_stream_flush has returned 0 (the caller then fsyncs: this module
 *    makes nothing durable by itself);
 *  - writes at ascending offsets (a converter streaming tensors, with small
 *    gaps of padding) are copied into blocks of GIO_STREAM_BLOCK bytes that
 *    start on a sector boundary, and full blocks go out with O_DIRECT from
 *    background threads, GIO_STREAM_DEPTH at a time, while the caller
 *    produces the next; the caller's buffer is free as soon as the call
 *    returns;
 *  - any other order is correct too: a write elsewhere closes the block
 *    being filled (its last partial sector through the page cache) and opens
 *    one there, which first waits for the blocks in flight that overlap it
 *    (a header rewritten at the end; tensors taken in another order than
 *    the file's);
 *  - a gap between two writes keeps the file's bytes: a small one (up to
 *    64 KiB, or inside one sector) is filled in the block, its bytes read
 *    back if anything was ever written at or past them, else taken to be
 *    zeros; across a larger one the block is left, and the gap's whole
 *    sectors are not written at all. So the file must have been created
 *    empty (sized with ftruncate or fallocate is fine), as gio_out's
 *    temporaries are;
 *  - where O_DIRECT is refused (tmpfs, some FUSE and network file systems)
 *    blocks go through the page cache instead, and each one is written back
 *    and dropped from the cache (sync_file_range + POSIX_FADV_DONTNEED) by
 *    the background thread, so dirty data never exceeds the blocks in
 *    flight (also when GPTOSS_NO_DIRECT_IO is set in the environment, to
 *    compare, or for a file system whose O_DIRECT misbehaves). macOS:
 *    F_NOCACHE on the descriptor the blocks are written to;
 *  - an error of a background write (ENOSPC, EIO) is returned, with errno,
 *    by the next gio_stream_write or by gio_stream_flush.
 *  - gio_stream_write_borrowed (below) skips the copy for a caller that
 *    keeps its buffer until gio_stream_release.
 * Memory: (GIO_STREAM_DEPTH + 1) blocks (touched only as far as used).
 */
#ifndef GQ_GIO_STREAM_H
#define GQ_GIO_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define GIO_STREAM_BLOCK ((size_t)32 << 20)
#define GIO_STREAM_DEPTH 2

typedef struct gio_stream gio_stream;

/* fd: the file open for writing (stays the caller's; used for the page
 * cache path and read-backs). path: the same file, reopened here with
 * O_DIRECT (NULL: no direct I/O). NULL with errno on failure (ENOMEM,
 * thread creation). */
gio_stream *gio_stream_open(int fd, const char *path);
/* 0, or -1 with errno (this write's or an earlier background one's). */
int gio_stream_write(gio_stream *s, const void *buf, size_t len, uint64_t off);
/* The same without the copy, where direct I/O allows (issue 16: the copy
 * was 14 % of a q8 conversion's CPU): the whole sectors of [off, off+len)
 * are written from buf itself, in the background, when buf is aligned as
 * off is (buf - off a multiple of the sector size: the caller places its
 * bytes so); contiguous calls (the next bytes of the same buffer, at the
 * next offset) merge into requests of GIO_STREAM_BLOCK bytes. Whatever is
 * not so (the partial sectors at the ends, an unaligned buffer, the page
 * cache path) is copied as by gio_stream_write. So buf is NOT free when the
 * call returns: it must stay valid and unchanged until gio_stream_release
 * of a range containing it, gio_stream_flush or gio_stream_free has
 * returned. 0, or -1 with errno. */
int gio_stream_write_borrowed(gio_stream *s, const void *buf, size_t len, uint64_t off);
/* Hand the caller's memory [lo, hi) back: queue what is pending there and,
 * with wait, wait until no write reads it (also after an error, so that
 * the memory may be freed). Without wait, only start its writes (the next
 * call may be long in coming). 0, or -1 with errno (an error of any write). */
int gio_stream_release(gio_stream *s, const void *lo, const void *hi, int wait);
/* Write out the partial block and wait for every write in flight. 0 or -1
 * with errno. The stream stays usable. */
int gio_stream_flush(gio_stream *s);
/* 1 when blocks go out with O_DIRECT (or F_NOCACHE), 0 through the page cache. */
int gio_stream_direct(gio_stream *s);
/* Waits for the writes in flight, drops a partial block unwritten, frees
 * (NULL is fine). Keeps errno. */
void gio_stream_free(gio_stream *s);

/* A buffer for direct I/O: aligned to 2 MiB and, on Linux, backed by
 * transparent huge pages where the system allows (pinning a 32 MiB buffer
 * for O_DIRECT then takes 16 page references instead of 8192: that pinning
 * was 7.5 % of an mxfp4 conversion's CPU samples). NULL on failure. */
void *gio_buf_alloc(size_t size);
void gio_buf_free(void *p);

/* ---- page-cache hygiene for writers that keep the page cache (the Hub
 * download, whose hasher reads its bytes back) ---- */

/* Start write-back of [off, off+len) now (Linux; elsewhere nothing). */
void gio_writeback_start(int fd, uint64_t off, uint64_t len);
/* Wait for the write-back of [off, off+len) and drop those pages from the
 * page cache (Linux: sync_file_range + POSIX_FADV_DONTNEED; elsewhere only
 * the hint where there is one). A hint: failures are ignored. */
void gio_drop_written(int fd, uint64_t off, uint64_t len);
/* Reserve the blocks of [0, size) (fallocate on Linux, F_PREALLOCATE on
 * macOS) without changing the file's size. 0, or -1 with errno; a file
 * system that cannot reserve (EOPNOTSUPP...) counts as success: only
 * ENOSPC / EDQUOT / EFBIG and real I/O errors fail. */
int gio_reserve(int fd, uint64_t size);

#endif
