/* gio_stream.c - see gio_stream.h for the promise.
 *
 * Shape: the caller copies its bytes into the FILLING block (one at a time);
 * a full block is QUEUED and one of the background threads writes it
 * (WRITING), then it is FREE again. Blocks start on an `align` boundary of
 * the file and, when full, are GIO_STREAM_BLOCK long, so a direct write is
 * aligned in offset, length and memory. A block left before it is full (the
 * caller jumped elsewhere, or flush) writes its whole sectors directly and
 * its last partial sector through the page cache (pwrite keeps the rest of
 * that sector), so no sector is ever written by two paths at once.
 *
 * Two writes of the same sector never race: a new block first waits for the
 * blocks in flight that overlap its range (only those: a writer jumping
 * between regions keeps its other writes going).
 *
 * Locking: mu guards the queue, the block states, err and dfd; the FILLING
 * block, fill and hwm belong to the caller's thread. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* O_DIRECT, sync_file_range, fallocate */
#endif
#include "gio_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

#define NBUF (GIO_STREAM_DEPTH + 1)
#define NREQ 8 /* borrowed requests queued or being written (gio_stream_write_borrowed) */
#define NSLOT (NBUF + NREQ)
#define GAP_KEEP ((uint64_t)64 << 10) /* a gap up to this is filled in the block (copy_write) */

enum { B_FREE, B_FILLING, B_QUEUED, B_WRITING };

typedef struct {
    uint8_t *buf;      /* our memory (NULL for a borrowed request) */
    const uint8_t *src; /* QUEUED / WRITING: what is written (buf, or the caller's memory) */
    uint64_t start;    /* file offset of src[0], a multiple of align */
    size_t len;        /* QUEUED / WRITING: bytes to write */
    int state;
} sblock;

struct gio_stream {
    int fd, dfd;            /* dfd: O_DIRECT / F_NOCACHE descriptor, -1: page cache only */
    int dfd_open;           /* the descriptor to close (dfd may be given up on) */
    size_t align;
    sblock b[NSLOT];        /* [0, NBUF): our blocks; [NBUF, NSLOT): borrowed requests */
    int cur;                /* the FILLING block, -1 when none */
    uint64_t fill;          /* file offset just past cur's bytes */
    uint64_t hwm;           /* just past the highest byte ever written */
    const uint8_t *pend;    /* the borrowed extent not yet queued: pend_len bytes at pend_off */
    uint64_t pend_off;
    size_t pend_len;
    int borrowing;          /* a borrowed write came: our blocks only carry sector ends now */
    int queue[NSLOT], qhead, qlen;
    int busy;               /* blocks QUEUED or WRITING */
    int err, quit;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t th[GIO_STREAM_DEPTH];
    int nth;
};

/* ---- buffers ---- */

#define HUGE_ALIGN ((size_t)2 << 20)

void *gio_buf_alloc(size_t size)
{
    void *p = NULL;
    size = (size + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
    if (posix_memalign(&p, HUGE_ALIGN, size) != 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, size, MADV_HUGEPAGE); /* a hint */
#endif
    return p;
}

void gio_buf_free(void *p)
{
    free(p);
}

/* Copy into a block the disk will read by DMA and we never read again:
 * non-temporal stores skip the read-for-ownership of every destination line
 * (a third of a plain copy's memory traffic here). */
static void copy_out(uint8_t *dst, const uint8_t *src, size_t n)
{
#if defined(__SSE2__)
    if (n >= 4096) {
        size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
        memcpy(dst, src, head);
        dst += head;
        src += head;
        n -= head;
        for (; n >= 64; n -= 64, dst += 64, src += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)src), b = _mm_loadu_si128((const __m128i *)(src + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(src + 32)), d = _mm_loadu_si128((const __m128i *)(src + 48));
            _mm_stream_si128((__m128i *)dst, a);
            _mm_stream_si128((__m128i *)(dst + 16), b);
            _mm_stream_si128((__m128i *)(dst + 32), c);
            _mm_stream_si128((__m128i *)(dst + 48), d);
        }
        _mm_sfence(); /* visible before the block is handed to a writer thread */
    }
#endif
    memcpy(dst, src, n);
}

/* Give a block's pages back (its bytes are dead): once writes are borrowed,
 * a block that was filled before (a header, the tokenizer blobs) would
 * otherwise stay resident for nothing. A hint. */
static void drop_memory(uint8_t *p, size_t n)
{
#if defined(MADV_DONTNEED)
    (void)madvise(p, n, MADV_DONTNEED);
#else
    (void)p, (void)n;
#endif
}

/* ---- page-cache hygiene ---- */

void gio_writeback_start(int fd, uint64_t off, uint64_t len)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd, (void)off, (void)len; /* the final fsync does it all */
#endif
}

void gio_drop_written(int fd, uint64_t off, uint64_t len)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    /* DONTNEED drops only clean pages: wait for the write-back first */
    (void)sync_file_range(fd, (off_t)off, (off_t)len,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
#endif
#if defined(POSIX_FADV_DONTNEED) && !defined(__APPLE__)
    (void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
#else
    (void)fd, (void)off, (void)len;
#endif
}

int gio_reserve(int fd, uint64_t size)
{
    if (size == 0)
        return 0;
    int rc = 0;
#if defined(__linux__)
    /* fallocate(2), not posix_fallocate: glibc emulates the latter by
     * writing every block where the file system cannot reserve, which would
     * double the I/O of a 14 GB file */
    rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size);
#elif defined(F_PREALLOCATE)
    fstore_t fs = {F_ALLOCATECONTIG | F_ALLOCATEALL, F_PEOFPOSMODE, 0, (off_t)size, 0};
    rc = fcntl(fd, F_PREALLOCATE, &fs);
    if (rc != 0) {
        fs.fst_flags = F_ALLOCATEALL; /* contiguous space was not to be had */
        rc = fcntl(fd, F_PREALLOCATE, &fs);
    }
#else
    (void)fd;
#endif
    if (rc != 0 && errno != ENOSPC && errno != EDQUOT && errno != EFBIG && errno != EIO)
        rc = 0; /* cannot reserve here (EOPNOTSUPP, ENOSYS...): the writes will say if space runs out */
    return rc;
}

/* ---- the background writers ---- */

static int pwrite_full(int fd, const uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        ssize_t n = pwrite(fd, p, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* 0 or an errno. Direct when possible; a file system that opened with
 * O_DIRECT but refuses the write (EINVAL: an alignment larger than ours)
 * gets this and every later block through the page cache. */
static int write_block(gio_stream *s, const sblock *b)
{
    pthread_mutex_lock(&s->mu);
    int dfd = s->dfd;
    pthread_mutex_unlock(&s->mu);
    if (dfd >= 0) {
        if (pwrite_full(dfd, b->src, b->len, b->start) == 0)
            return 0;
        if (errno != EINVAL)
            return errno;
        pthread_mutex_lock(&s->mu);
        s->dfd = -1; /* closed in gio_stream_free */
        pthread_mutex_unlock(&s->mu);
    }
    if (pwrite_full(s->fd, b->src, b->len, b->start))
        return errno;
    /* this thread waits for the write-back, not the caller: the page cache
     * holds at most the blocks in flight */
    gio_drop_written(s->fd, b->start, b->len);
    return 0;
}

static void *io_thread(void *arg)
{
    gio_stream *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->quit && s->qlen == 0)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->qlen == 0)
            break; /* quit, and the queue is empty */
        int i = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % NSLOT;
        s->qlen--;
        s->b[i].state = B_WRITING;
        pthread_mutex_unlock(&s->mu);
        int e = write_block(s, &s->b[i]);
        pthread_mutex_lock(&s->mu);
        if (s->borrowing && i < NBUF && s->b[i].len >= HUGE_ALIGN) {
            pthread_mutex_unlock(&s->mu);
            drop_memory(s->b[i].buf, GIO_STREAM_BLOCK);
            pthread_mutex_lock(&s->mu);
        }
        if (e && !s->err)
            s->err = e;
        s->b[i].state = B_FREE;
        s->busy--;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the caller's side ---- */

static int stream_err(gio_stream *s)
{
    pthread_mutex_lock(&s->mu);
    int e = s->err;
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* Release mu (held) and say whether a write has failed: 0, or -1 with errno. */
static int unlock_err(gio_stream *s)
{
    int e = s->err;
    pthread_mutex_unlock(&s->mu);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

/* Wait until no block is queued or being written. 0 or -1 (errno). */
static int drain(gio_stream *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->busy > 0)
        pthread_cond_wait(&s->done, &s->mu);
    return unlock_err(s);
}

/* Wait until no block in flight touches [lo, hi): a new block there must
 * not race an older write of the same sectors, and a read-back must see it.
 * Only that overlap is waited for, so a writer that jumps between regions
 * (tensors taken in the source files' order) keeps its writes in flight.
 * 0 or -1 (errno). */
static int wait_overlap(gio_stream *s, uint64_t lo, uint64_t hi)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < NSLOT && !busy; i++) {
            const sblock *b = &s->b[i];
            busy = (b->state == B_QUEUED || b->state == B_WRITING) && b->start < hi && lo < b->start + b->len;
        }
        if (!busy || s->err)
            break;
        pthread_cond_wait(&s->done, &s->mu);
    }
    return unlock_err(s);
}

/* Queue block i (mu held). */
static void enqueue(gio_stream *s, int i)
{
    s->b[i].state = B_QUEUED;
    s->queue[(s->qhead + s->qlen) % NSLOT] = i;
    s->qlen++;
    s->busy++;
    pthread_cond_signal(&s->work);
}

static void submit(gio_stream *s, size_t len)
{
    pthread_mutex_lock(&s->mu);
    sblock *b = &s->b[s->cur];
    b->len = len;
    b->src = b->buf;
    enqueue(s, s->cur);
    pthread_mutex_unlock(&s->mu);
    s->cur = -1;
}

/* The file's bytes [from, from+n) into dst: read back what may have been
 * written (below hwm), zeros past it (the file started empty). */
static int read_or_zero(gio_stream *s, uint8_t *dst, uint64_t from, size_t n)
{
    size_t k = from >= s->hwm ? 0 : s->hwm - from < n ? (size_t)(s->hwm - from) : n;
    if (k) {
        /* (no block in flight overlaps: open_block waited for that) */
        size_t got = 0;
        while (got < k) {
            ssize_t r = pread(s->fd, dst + got, k - got, (off_t)(from + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return -1;
            if (r == 0)
                break; /* past the end of the file: zeros */
            got += (size_t)r;
        }
        memset(dst + got, 0, k - got);
    }
    memset(dst + k, 0, n - k);
    return 0;
}

/* Make a FILLING block whose bytes reach up to off (exclusive). */
static int open_block(gio_stream *s, uint64_t off)
{
    pthread_mutex_lock(&s->mu);
    int i = -1;
    for (;;) {
        for (int k = 0; k < NBUF && i < 0; k++)
            if (s->b[k].state == B_FREE)
                i = k;
        if (i >= 0 || s->err)
            break;
        pthread_cond_wait(&s->done, &s->mu);
    }
    int e = s->err;
    if (i >= 0 && !e)
        s->b[i].state = B_FILLING;
    pthread_mutex_unlock(&s->mu);
    if (e) {
        errno = e;
        return -1;
    }
    sblock *b = &s->b[i];
    b->start = off / s->align * s->align;
    s->cur = i;
    s->fill = off;
    if (wait_overlap(s, b->start, b->start + GIO_STREAM_BLOCK) ||
        (off > b->start && read_or_zero(s, b->buf, b->start, (size_t)(off - b->start)))) {
        int e2 = errno;
        pthread_mutex_lock(&s->mu);
        b->state = B_FREE;
        pthread_mutex_unlock(&s->mu);
        s->cur = -1;
        errno = e2;
        return -1;
    }
    return 0;
}

/* Leave the FILLING block: whole sectors directly, the last partial one
 * through the page cache. */
static int close_block(gio_stream *s)
{
    sblock *b = &s->b[s->cur];
    size_t have = (size_t)(s->fill - b->start);
    size_t whole = have / s->align * s->align;
    if (have > whole && pwrite_full(s->fd, b->buf + whole, have - whole, b->start + whole))
        return -1;
    if (whole) {
        submit(s, whole);
    } else {
        pthread_mutex_lock(&s->mu);
        b->state = B_FREE;
        pthread_mutex_unlock(&s->mu);
        s->cur = -1;
    }
    return 0;
}

/* gio_stream_write without the borrowed extent: the bytes are copied. */
static int copy_write(gio_stream *s, const void *buf, size_t len, uint64_t off)
{
    int e = stream_err(s);
    if (e) {
        errno = e;
        return -1;
    }
    if (len == 0)
        return 0;
    const uint8_t *p = buf;
    uint64_t end = off + len;
    if (s->cur >= 0) {
        sblock *b = &s->b[s->cur];
        /* ahead inside this block: keep the gap's bytes in it when the gap
         * is padding-sized or ends inside fill's own sector (so the block
         * goes on into one large request). A larger gap leaves the block
         * instead: filling it would read back and write again whatever is
         * there (a GGUF export takes its tensors in the source's order, not
         * the file's: it skipped 15.7 MB of attention tensors per layer and
         * re-read and rewrote them, 717 MB on 20b q8e, issue 16); its whole
         * sectors now simply keep the file's bytes. */
        uint64_t edge = (s->fill + s->align - 1) / s->align * s->align;
        if (off >= s->fill && off < b->start + GIO_STREAM_BLOCK && (off <= edge || off - s->fill <= GAP_KEEP)) {
            if (off > s->fill && read_or_zero(s, b->buf + (s->fill - b->start), s->fill, (size_t)(off - s->fill)))
                return -1;
            s->fill = off;
        } else if (close_block(s)) {
            return -1;
        }
    }
    while (len) {
        if (s->cur < 0 && open_block(s, off))
            return -1;
        sblock *b = &s->b[s->cur];
        size_t at = (size_t)(s->fill - b->start);
        size_t k = GIO_STREAM_BLOCK - at < len ? GIO_STREAM_BLOCK - at : len;
        copy_out(b->buf + at, p, k);
        s->fill += k;
        p += k;
        off += k;
        len -= k;
        if (s->fill == b->start + GIO_STREAM_BLOCK)
            submit(s, GIO_STREAM_BLOCK);
    }
    if (end > s->hwm)
        s->hwm = end;
    return 0;
}

/* ---- borrowed writes: the caller's memory goes to the disk as it is ---- */

/* Queue len bytes of the caller's memory at p for file offset off (whole
 * sectors), waiting for a free request slot. 0 or -1 (errno). */
static int queue_borrowed(gio_stream *s, const uint8_t *p, uint64_t off, size_t len)
{
    pthread_mutex_lock(&s->mu);
    int i = -1;
    for (;;) {
        for (int j = NBUF; j < NSLOT && i < 0; j++)
            if (s->b[j].state == B_FREE)
                i = j;
        if (i >= 0 || s->err)
            break;
        pthread_cond_wait(&s->done, &s->mu);
    }
    if (i >= 0 && !s->err) {
        s->b[i].src = p;
        s->b[i].start = off;
        s->b[i].len = len;
        enqueue(s, i);
    }
    return unlock_err(s);
}

/* Queue the borrowed extent's whole sectors (requests of at most
 * GIO_STREAM_BLOCK bytes); its last partial sector is copied into a block,
 * where the next write continues it. 0 or -1 (errno). */
static int pend_finish(gio_stream *s)
{
    const uint8_t *p = s->pend;
    uint64_t off = s->pend_off;
    size_t len = s->pend_len, whole = len / s->align * s->align;
    s->pend_len = 0;
    while (whole) {
        size_t k = whole < GIO_STREAM_BLOCK ? whole : GIO_STREAM_BLOCK;
        if (queue_borrowed(s, p, off, k))
            return -1;
        p += k;
        off += k;
        len -= k;
        whole -= k;
    }
    return len ? copy_write(s, p, len, off) : 0;
}

int gio_stream_write(gio_stream *s, const void *buf, size_t len, uint64_t off)
{
    if (pend_finish(s))
        return -1;
    return copy_write(s, buf, len, off);
}

int gio_stream_write_borrowed(gio_stream *s, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    if (len == 0)
        return 0;
    if (s->pend_len && p == s->pend + s->pend_len && off == s->pend_off + s->pend_len) {
        /* the common case: the next piece of the same buffer */
        int e = stream_err(s);
        if (e) {
            errno = e;
            return -1;
        }
        s->pend_len += len;
        if (off + len > s->hwm)
            s->hwm = off + len;
        /* requests of a whole block, each started as soon as it is there */
        while (s->pend_len >= GIO_STREAM_BLOCK) {
            if (queue_borrowed(s, s->pend, s->pend_off, GIO_STREAM_BLOCK)) {
                s->pend_len = 0;
                return -1;
            }
            s->pend += GIO_STREAM_BLOCK;
            s->pend_off += GIO_STREAM_BLOCK;
            s->pend_len -= GIO_STREAM_BLOCK;
        }
        return 0;
    }
    if (pend_finish(s))
        return -1;
    /* Direct I/O wants memory aligned as the file offset is; elsewhere (or
     * through the page cache) a copy costs nothing more than the kernel's. */
    size_t head = (size_t)((s->align - off % s->align) % s->align);
    if (!gio_stream_direct(s) || ((uintptr_t)p - (uintptr_t)off) % s->align || len <= head)
        return copy_write(s, p, len, off);
    if (head && copy_write(s, p, head, off))
        return -1;
    p += head;
    off += head;
    len -= head;
    /* the block that took the head ends at off, on a sector boundary: out
     * it goes (whole sectors only); then nothing in flight may overlap the
     * extent (a rewrite of the same bytes) */
    if (s->cur >= 0 && close_block(s))
        return -1;
    if (wait_overlap(s, off, off + len))
        return -1;
    if (!s->borrowing) {
        /* from now on our blocks take only the partial sectors at the ends
         * of borrowed extents: the free ones give their pages back now, the
         * ones in flight when written (io_thread) */
        pthread_mutex_lock(&s->mu);
        s->borrowing = 1;
        for (int i = 0; i < NBUF; i++)
            if (s->b[i].state == B_FREE)
                drop_memory(s->b[i].buf, GIO_STREAM_BLOCK);
        pthread_mutex_unlock(&s->mu);
    }
    s->pend = p;
    s->pend_off = off;
    s->pend_len = len;
    if (off + len > s->hwm)
        s->hwm = off + len;
    return 0;
}

int gio_stream_release(gio_stream *s, const void *lo, const void *hi, int wait)
{
    const uint8_t *a = lo, *b = hi;
    int rc = 0;
    if (s->pend_len && s->pend < b && a < s->pend + s->pend_len)
        rc = pend_finish(s);
    /* even after an error: the memory is the caller's again only when no
     * write reads it (the threads always finish what is queued) */
    pthread_mutex_lock(&s->mu);
    while (wait) {
        int busy = 0;
        for (int i = NBUF; i < NSLOT && !busy; i++) {
            const sblock *r = &s->b[i];
            busy = (r->state == B_QUEUED || r->state == B_WRITING) && r->src < b && a < r->src + r->len;
        }
        if (!busy)
            break;
        pthread_cond_wait(&s->done, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc)
        return -1;
    int e = stream_err(s);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

int gio_stream_flush(gio_stream *s)
{
    if (pend_finish(s))
        return -1;
    if (s->cur >= 0 && close_block(s))
        return -1;
    return drain(s);
}

int gio_stream_direct(gio_stream *s)
{
    pthread_mutex_lock(&s->mu);
    int d = s->dfd >= 0;
    pthread_mutex_unlock(&s->mu);
    return d;
}

/* The O_DIRECT (macOS: F_NOCACHE) descriptor of the file fd has open, or
 * -1 where there is none to be had. */
static int open_direct(int fd, const char *path)
{
    const char *no = getenv("GPTOSS_NO_DIRECT_IO");
    if (!path || (no && *no && strcmp(no, "0")))
        return -1;
#if defined(O_DIRECT)
    int dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
#elif defined(F_NOCACHE)
    int dfd = open(path, O_WRONLY | O_CLOEXEC);
    if (dfd >= 0 && fcntl(dfd, F_NOCACHE, 1) != 0) {
        close(dfd);
        dfd = -1;
    }
#else
    int dfd = -1;
#endif
    struct stat a, b;
    if (dfd >= 0 && (fstat(fd, &a) || fstat(dfd, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
        close(dfd); /* the name no longer leads to our file */
        dfd = -1;
    }
    return dfd;
}

gio_stream *gio_stream_open(int fd, const char *path)
{
    gio_stream *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    s->cur = -1;
    s->dfd = s->dfd_open = -1;
    long pg = sysconf(_SC_PAGESIZE);
    /* 4096 covers the logical block size of every disk we know; a file
     * system that wants more refuses the write (EINVAL) and the stream
     * falls back to the page cache */
    s->align = pg > 4096 ? (size_t)pg : 4096;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    for (int i = 0; i < NBUF; i++) {
        if (!(s->b[i].buf = gio_buf_alloc(GIO_STREAM_BLOCK))) {
            gio_stream_free(s);
            errno = ENOMEM;
            return NULL;
        }
    }
    for (; s->nth < GIO_STREAM_DEPTH; s->nth++)
        if (pthread_create(&s->th[s->nth], NULL, io_thread, s) != 0)
            break;
    if (s->nth == 0) {
        gio_stream_free(s);
        errno = EAGAIN;
        return NULL;
    }
    s->dfd = s->dfd_open = open_direct(fd, path);
    return s;
}

void gio_stream_free(gio_stream *s)
{
    if (!s)
        return;
    int e = errno;
    pthread_mutex_lock(&s->mu);
    s->quit = 1; /* the threads write what is queued, then leave */
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nth; i++)
        pthread_join(s->th[i], NULL);
    for (int i = 0; i < NBUF; i++)
        gio_buf_free(s->b[i].buf);
    if (s->dfd_open >= 0)
        close(s->dfd_open);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
    free(s);
    errno = e;
}
