/* srcio.c - see srcio.h.
 *
 * Threads: one reader (preads chunk after chunk into nslots buffers), one
 * hasher when a shard's sha256 is wanted, and the pipeline's workers, which
 * wait for a chunk's bytes and release them when done. A buffer is reused
 * once its chunk is released by the workers AND hashed.
 *
 * The page cache: each chunk's ranges are announced POSIX_FADV_WILLNEED
 * up to AHEAD bytes in advance (many requests in flight, none of them in our
 * resident set), and a shard's pages are dropped (POSIX_FADV_DONTNEED) up to
 * the lower of two marks: the lowest offset any unconsumed chunk still reads
 * (sufmin, precomputed per chunk), and the hashed prefix when the shard is
 * being hashed. Both only grow. Locks: mu (chunk states, stop, the error),
 * then dmu (the hashed prefixes, the dropped marks); never the other way. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* O_DIRECT */
#endif
#include "srcio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gio_read.h"
#include "gio_stream.h"

#define NREADERS 2                       /* reads in flight (deep queues are what this disk wants) */
#define AHEAD_CHUNKS 8                   /* page-cache read-ahead of the buffered ranges */
#define ALIGN 4096u                      /* direct reads: offset, length and memory */
#define GAP_BUF ((size_t)4 << 20)        /* the hasher's read-back buffer */

struct cv_srcio {
    const st_checkpoint *ck;
    size_t n;
    int *fd;                             /* page cache */
    int *dfd;                            /* O_DIRECT (macOS: F_NOCACHE), -1 where refused */
    uint64_t *size;
    char **want;                         /* hex buffer for a wanted sha256, else NULL */
};

/* A second descriptor of the file fd has open, reading past the page cache
 * (O_DIRECT; F_NOCACHE on macOS), or -1 (refused, or GPTOSS_NO_DIRECT_IO set). */
static int open_direct(int fd, const char *path)
{
    const char *no = getenv("GPTOSS_NO_DIRECT_IO");
    if (no && *no && strcmp(no, "0"))
        return -1;
#if defined(O_DIRECT)
    int dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NONBLOCK);
#elif defined(F_NOCACHE)
    int dfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (dfd >= 0 && fcntl(dfd, F_NOCACHE, 1) != 0) {
        close(dfd);
        dfd = -1;
    }
#else
    int dfd = -1;
    (void)path;
#endif
    struct stat a, b;
    if (dfd >= 0 && (fstat(fd, &a) || fstat(dfd, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
        close(dfd); /* not the file we validated: the name was swapped */
        dfd = -1;
    }
    return dfd;
}

void cv_srcio_close(cv_srcio *io)
{
    if (!io)
        return;
    for (size_t i = 0; i < io->n; i++) {
        if (io->fd[i] >= 0)
            close(io->fd[i]);
        if (io->dfd[i] >= 0)
            close(io->dfd[i]);
    }
    free(io->fd);
    free(io->dfd);
    free(io->size);
    free(io->want);
    free(io);
}

cv_srcio *cv_srcio_open(const st_checkpoint *ck, char *err, size_t errlen)
{
    if (errlen)
        err[0] = 0;
    size_t n = st_shard_count(ck);
    for (size_t i = 0; i < n; i++)
        if (!st_shard_is_file(ck, i))
            return NULL; /* an image in memory: the mapping it is */
    cv_srcio *io = calloc(1, sizeof *io);
    if (io) {
        io->ck = ck;
        io->fd = malloc((n ? n : 1) * sizeof *io->fd);
        io->dfd = malloc((n ? n : 1) * sizeof *io->dfd);
        io->size = calloc(n ? n : 1, sizeof *io->size);
        io->want = calloc(n ? n : 1, sizeof *io->want);
    }
    if (!io || !io->fd || !io->dfd || !io->size || !io->want) {
        snprintf(err, errlen, "out of memory");
        if (io)
            io->n = 0;
        cv_srcio_close(io);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        io->fd[i] = io->dfd[i] = -1;
    io->n = n;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        io->fd[i] = gio_open_read(st_shard_path(ck, i), err, errlen);
        if (io->fd[i] < 0 || fstat(io->fd[i], &st) != 0) {
            if (io->fd[i] >= 0)
                snprintf(err, errlen, "%s: cannot stat: %s", st_shard_path(ck, i), strerror(errno));
            cv_srcio_close(io);
            return NULL;
        }
        io->size[i] = (uint64_t)st.st_size;
        io->dfd[i] = open_direct(io->fd[i], st_shard_path(ck, i));
    }
    return io;
}

int cv_srcio_want_sha256(cv_srcio *io, size_t shard, char *hex)
{
    if (!io || shard >= io->n)
        return -1;
    io->want[shard] = hex;
    return 0;
}

void cv_srcio_locate(const cv_srcio *io, const st_tensor *t, size_t *shard, uint64_t *off)
{
    *shard = (size_t)t->shard;
    *off = st_tensor_file_offset(io->ck, t);
}

/* ---- the reader ---- */

/* posix_fadvise hints (Linux, the BSDs); macOS has none of them. */
#if defined(POSIX_FADV_WILLNEED) && !defined(__APPLE__)
#define ADV_WILLNEED POSIX_FADV_WILLNEED
#define ADV_DONTNEED POSIX_FADV_DONTNEED
static void advise(int fd, uint64_t off, uint64_t len, int how)
{
    (void)posix_fadvise(fd, (off_t)off, (off_t)len, how);
}
#else
#define ADV_WILLNEED 0
#define ADV_DONTNEED 0
static void advise(int fd, uint64_t off, uint64_t len, int how)
{
    (void)fd, (void)off, (void)len, (void)how;
}
#endif

struct cv_reader {
    cv_srcio *io;
    const cv_srange *rg;
    size_t n, ns;                  /* chunks, shards */
    size_t slot_bytes;
    int nslots;
    uint8_t **slot;
    uint64_t *pos;                 /* per range: where its bytes start in the chunk's buffer */
    uint8_t *direct;               /* per range: read past the page cache */
    uint8_t *alias;                /* per chunk: the same ranges as the chunk before: read from its buffer */
    size_t *home;                  /* per chunk: the chunk whose buffer holds its bytes (itself, or before) */
    size_t *slot_user;             /* per buffer: the chunk read into it last (SIZE_MAX: none) */
    size_t next_take;              /* chunks [0, next_take) have their buffer (or are aliases): in order */
    uint64_t *sufmin;              /* (n+1) x ns: lowest offset chunks >= k read in shard s */
    uint8_t *ready, *released, *hashed;
    size_t consumed;               /* chunks [0, consumed) all released */
    size_t next_read;              /* the next chunk a reader thread takes */
    size_t advised;                /* chunks [0, advised) announced WILLNEED */
    long page;

    EVP_MD_CTX **md;               /* per shard, NULL when no hash is wanted */
    uint64_t *hc;                  /* hashed prefix per shard (dmu) */
    uint64_t *dropped;             /* dropped from the page cache up to (dmu) */
    uint8_t *gap;                  /* the hasher's read-back buffer */
    int hashing;

    pthread_mutex_t mu, dmu;
    pthread_cond_t cv;
    int stop, failed;
    char err[700];
    pthread_t rth[NREADERS], hth;
    int nr, have_h;
};

static void set_failed(cv_reader *r, const char *msg)
{
    pthread_mutex_lock(&r->mu);
    if (!r->failed) {
        r->failed = 1;
        snprintf(r->err, sizeof r->err, "%s", msg);
    }
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void read_failed(cv_reader *r, size_t s, uint64_t off, uint64_t len, int e)
{
    char msg[700];
    if (e)
        snprintf(msg, sizeof msg, "%s: cannot read %llu bytes at offset %llu: %s", st_shard_path(r->io->ck, s),
                 (unsigned long long)len, (unsigned long long)off, strerror(e));
    else
        snprintf(msg, sizeof msg, "%s: ends before offset %llu; was it changed during the conversion?",
                 st_shard_path(r->io->ck, s), (unsigned long long)(off + len));
    set_failed(r, msg);
}

/* pread until len bytes or the end of the file; the count, or -1 (errno). */
static int64_t pread_upto(int fd, uint8_t *dst, uint64_t off, uint64_t len)
{
    uint64_t got = 0;
    while (got < len) {
        size_t want = len - got > ((uint64_t)1 << 30) ? (size_t)1 << 30 : (size_t)(len - got);
        ssize_t k = pread(fd, dst + got, want, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (uint64_t)k;
    }
    return (int64_t)got;
}

/* [off, off+len) of shard s through the page cache into dst. 0 or -1 (reported). */
static int read_buffered(cv_reader *r, size_t s, uint8_t *dst, uint64_t off, uint64_t len)
{
    int64_t got = pread_upto(r->io->fd[s], dst, off, len);
    if (got == (int64_t)len)
        return 0;
    read_failed(r, s, off, len, got < 0 ? errno : 0);
    return -1;
}

/* Range j of chunk k into its place in dst (the chunk's buffer). */
static int read_range(cv_reader *r, size_t k, int j, uint8_t *dst)
{
    const cv_srange *g = &r->rg[k * CV_RANGES + j];
    size_t s = g->shard;
    uint8_t *at = dst + r->pos[k * CV_RANGES + j];
    if (r->direct[k * CV_RANGES + j]) {
        pthread_mutex_lock(&r->mu);
        int dfd = r->io->dfd[s];
        pthread_mutex_unlock(&r->mu);
        if (dfd >= 0) {
            uint64_t lead = g->off % ALIGN, start = g->off - lead;
            uint64_t len = (lead + g->len + ALIGN - 1) / ALIGN * ALIGN;
            int64_t got = pread_upto(dfd, at - lead, start, len); /* whole blocks; the file's end may cut it short */
            if (got >= (int64_t)(lead + g->len))
                return 0;
            if (got >= 0) {
                read_failed(r, s, g->off, g->len, 0);
                return -1;
            }
            if (errno != EINVAL) {
                read_failed(r, s, g->off, g->len, errno);
                return -1;
            }
            /* the file system wants other alignment: the page cache from now on */
            pthread_mutex_lock(&r->mu);
            r->io->dfd[s] = -1;
            pthread_mutex_unlock(&r->mu);
            close(dfd);
        }
    }
    return read_buffered(r, s, at, g->off, g->len);
}

/* Drop shard s's pages below both marks; consumed: chunks released so far. */
static void drop_behind(cv_reader *r, size_t s, size_t consumed)
{
    pthread_mutex_lock(&r->dmu);
    uint64_t to = r->sufmin[consumed * r->ns + s];
    if (r->md[s] && r->hc[s] < to)
        to = r->hc[s];
    to &= ~(uint64_t)(r->page - 1);
    if (to > r->dropped[s]) {
        advise(r->io->fd[s], r->dropped[s], to - r->dropped[s], ADV_DONTNEED);
        r->dropped[s] = to;
    }
    pthread_mutex_unlock(&r->dmu);
}

/* (mu held) Chunk u's buffer may be read into again: u and the chunks
 * that read it with it (aliases) are computed and hashed. */
static int slot_free(const cv_reader *r, size_t u)
{
    if (u == SIZE_MAX)
        return 1;
    for (size_t f = u; f < r->n && (f == u || r->alias[f]); f++)
        if (!r->released[f] || !r->hashed[f])
            return 0;
    return 1;
}

static void *reader_main(void *arg)
{
    cv_reader *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t k = r->next_read++;
        if (k < r->n && r->alias[k]) {
            /* the same bytes as chunk k-1 (a stride sibling's): no buffer, no
             * read, no copy (a copy was 14 % of a GGUF export's CPU: gate and
             * up rows of every gate_up) */
            while (!r->stop && !r->ready[k - 1])
                pthread_cond_wait(&r->cv, &r->mu);
            if (r->stop) {
                pthread_mutex_unlock(&r->mu);
                break;
            }
            r->ready[k] = 1;
            r->next_take = k + 1; /* (k-1 ready: it has taken its turn) */
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        /* chunk k's buffer is free once the chunk read into it last, and the
         * chunks that read it with it, are computed and hashed; buffers are
         * taken in chunk order (a later chunk taking it first would wait for
         * work that waits for chunk k) */
        size_t *user = &r->slot_user[k % (size_t)r->nslots];
        while (!r->stop && k < r->n && (r->next_take != k || !slot_free(r, *user)))
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop || k >= r->n) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        *user = k;
        r->next_take = k + 1;
        pthread_cond_broadcast(&r->cv);
        /* the ranges that go through the page cache: announced ahead, so the
         * kernel keeps many requests in flight while we copy */
        size_t from = r->advised > k ? r->advised : k, to = k + AHEAD_CHUNKS < r->n ? k + AHEAD_CHUNKS : r->n;
        if (to > r->advised)
            r->advised = to;
        pthread_mutex_unlock(&r->mu);
        for (size_t a = from; a < to; a++)
            for (int j = 0; j < CV_RANGES; j++) {
                const cv_srange *g = &r->rg[a * CV_RANGES + j];
                if (g->len && !r->direct[a * CV_RANGES + j])
                    advise(r->io->fd[g->shard], g->off, g->len, ADV_WILLNEED);
            }
        uint8_t *dst = r->slot[k % (size_t)r->nslots];
        for (int j = 0; j < CV_RANGES; j++)
            if (r->rg[k * CV_RANGES + j].len && read_range(r, k, j, dst))
                return NULL;
        pthread_mutex_lock(&r->mu);
        r->ready[k] = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* Hash [from, to) of shard s from the file (pread; the page cache when the
 * conversion read it through it). 0 or -1 (reported). */
static int hash_file(cv_reader *r, size_t s, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t n = to - from < GAP_BUF ? to - from : GAP_BUF;
        if (read_buffered(r, s, r->gap, from, n))
            return -1;
        EVP_DigestUpdate(r->md[s], r->gap, (size_t)n);
        from += n;
        pthread_mutex_lock(&r->dmu);
        r->hc[s] = from;
        pthread_mutex_unlock(&r->dmu);
    }
    return 0;
}

/* One range of chunk k, read into buf: extend shard s's hashed prefix. */
static int hash_range(cv_reader *r, size_t k, size_t s, uint64_t a, uint64_t len, const uint8_t *buf)
{
    uint64_t b = a + len, c = r->hc[s]; /* hc: only this thread writes it */
    if (b <= c)
        return 0;
    if (a > c) {
        /* a gap: read it back only if no later chunk reads inside it (else
         * it is still to come, and this range is hashed from the file then) */
        if (r->sufmin[(k + 1) * r->ns + s] < a)
            return 0;
        if (hash_file(r, s, c, a))
            return -1;
        c = a;
    }
    EVP_DigestUpdate(r->md[s], buf + (c - a), (size_t)(b - c));
    pthread_mutex_lock(&r->dmu);
    r->hc[s] = b;
    pthread_mutex_unlock(&r->dmu);
    return 0;
}

static void *hasher_main(void *arg)
{
    cv_reader *r = arg;
    for (size_t k = 0; k < r->n; k++) {
        pthread_mutex_lock(&r->mu);
        while (!r->stop && !r->ready[k])
            pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        size_t consumed = r->consumed;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        for (int j = 0; j < CV_RANGES; j++) {
            const cv_srange *g = &r->rg[k * CV_RANGES + j];
            if (g->len && r->md[g->shard] && hash_range(r, k, g->shard, g->off, g->len, cv_reader_at(r, k, j)))
                return NULL;
        }
        pthread_mutex_lock(&r->mu);
        r->hashed[k] = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        for (int j = 0; j < CV_RANGES; j++)
            if (r->rg[k * CV_RANGES + j].len)
                drop_behind(r, r->rg[k * CV_RANGES + j].shard, consumed);
    }
    return NULL;
}

const uint8_t *cv_reader_wait(cv_reader *r, size_t k)
{
    pthread_mutex_lock(&r->mu);
    while (!r->stop && !r->ready[k])
        pthread_cond_wait(&r->cv, &r->mu);
    int ok = r->ready[k] && !r->failed;
    pthread_mutex_unlock(&r->mu);
    return ok ? cv_reader_at(r, k, 0) : NULL;
}

const uint8_t *cv_reader_at(const cv_reader *r, size_t k, int j)
{
    size_t h = r->home[k]; /* an alias reads its home's buffer, laid out as the home's */
    return r->slot[h % (size_t)r->nslots] + r->pos[h * CV_RANGES + j];
}

void cv_reader_release(cv_reader *r, size_t k)
{
    pthread_mutex_lock(&r->mu);
    r->released[k] = 1;
    while (r->consumed < r->n && r->released[r->consumed])
        r->consumed++;
    size_t consumed = r->consumed;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int j = 0; j < CV_RANGES; j++)
        if (r->rg[k * CV_RANGES + j].len)
            drop_behind(r, r->rg[k * CV_RANGES + j].shard, consumed);
}

void cv_reader_stop(cv_reader *r)
{
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void reader_free(cv_reader *r)
{
    if (r->slot)
        for (int i = 0; i < r->nslots; i++)
            gio_buf_free(r->slot[i]);
    if (r->md)
        for (size_t s = 0; s < r->ns; s++)
            if (r->md[s])
                EVP_MD_CTX_free(r->md[s]);
    free(r->slot);
    free(r->pos);
    free(r->direct);
    free(r->alias);
    free(r->home);
    free(r->slot_user);
    free(r->sufmin);
    free(r->ready);
    free(r->released);
    free(r->hashed);
    free(r->md);
    free(r->hc);
    free(r->dropped);
    free(r->gap);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->dmu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

typedef struct {
    uint32_t shard;
    uint64_t off, end;
    size_t at; /* k * CV_RANGES + j */
} rkey;

static int by_pos(const void *a, const void *b)
{
    const rkey *x = a, *y = b;
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Which ranges go past the page cache: those no other chunk reads too
 * (GGUF's gate and up rows both read gate_up: the second read must find
 * the page cache), and not the second range (MXFP4 scales) of a shard being
 * hashed (the hash takes them again later). Then where each range sits in
 * its chunk's buffer. Returns the buffer size, 0 on OOM. */
static size_t lay_out(cv_reader *r)
{
    size_t nr = r->n * CV_RANGES, m = 0;
    rkey *key = malloc((nr ? nr : 1) * sizeof *key);
    if (!key)
        return 0;
    for (size_t k = 1; k < r->n; k++) {
        int same = 1;
        for (int j = 0; j < CV_RANGES; j++) {
            const cv_srange *a = &r->rg[k * CV_RANGES + j], *b = &r->rg[(k - 1) * CV_RANGES + j];
            same &= a->len == b->len && (!a->len || (a->shard == b->shard && a->off == b->off));
        }
        r->alias[k] = same && r->rg[k * CV_RANGES].len;
    }
    for (size_t k = 0; k < r->n; k++)
        r->home[k] = k && r->alias[k] ? r->home[k - 1] : k;
    for (size_t i = 0; i < nr; i++) {
        const cv_srange *g = &r->rg[i];
        r->direct[i] = g->len && r->io->dfd[g->shard] >= 0 && !(i % CV_RANGES == 1 && r->md[g->shard]);
        if (g->len && !r->alias[i / CV_RANGES]) /* a copy reads nothing */
            key[m++] = (rkey){g->shard, g->off, g->off + g->len, i};
    }
    qsort(key, m, sizeof *key, by_pos);
    size_t reach = 0; /* the range reaching furthest so far in this shard */
    for (size_t i = 1; i < m; i++) {
        if (key[i].shard != key[i - 1].shard) {
            reach = i;
            continue;
        }
        if (key[i].off < key[reach].end && key[i].at / CV_RANGES != key[reach].at / CV_RANGES)
            r->direct[key[i].at] = r->direct[key[reach].at] = 0;
        if (key[i].end > key[reach].end)
            reach = i;
    }
    free(key);
    size_t most = 1;
    for (size_t k = 0; k < r->n; k++) {
        uint64_t p = 0;
        for (int j = 0; j < CV_RANGES; j++) {
            size_t i = k * CV_RANGES + j;
            const cv_srange *g = &r->rg[i];
            p = (p + ALIGN - 1) / ALIGN * ALIGN;
            uint64_t lead = r->direct[i] ? g->off % ALIGN : 0;
            r->pos[i] = p + lead;
            p += r->direct[i] ? (lead + g->len + ALIGN - 1) / ALIGN * ALIGN : g->len;
        }
        if (p > most)
            most = (size_t)p;
    }
    return most;
}

cv_reader *cv_reader_start(cv_srcio *io, const cv_srange *ranges, size_t nchunks, int nslots, char *err,
                           size_t errlen)
{
    cv_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->dmu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->io = io;
    r->rg = ranges;
    r->n = nchunks;
    r->ns = io->n;
    r->nslots = nslots;
    long pg = sysconf(_SC_PAGESIZE);
    r->page = pg > 0 ? pg : 4096;
    size_t ns = r->ns ? r->ns : 1;
    r->slot = calloc((size_t)nslots, sizeof *r->slot);
    r->pos = malloc((nchunks * CV_RANGES + 1) * sizeof *r->pos);
    r->direct = calloc(nchunks * CV_RANGES + 1, 1);
    r->alias = calloc(nchunks + 1, 1);
    r->home = malloc((nchunks + 1) * sizeof *r->home);
    r->slot_user = malloc((size_t)nslots * sizeof *r->slot_user);
    r->sufmin = malloc((nchunks + 1) * ns * sizeof *r->sufmin);
    r->ready = calloc(nchunks + 1, 1);
    r->released = calloc(nchunks + 1, 1);
    r->hashed = calloc(nchunks + 1, 1);
    r->md = calloc(ns, sizeof *r->md);
    r->hc = calloc(ns, sizeof *r->hc);
    r->dropped = calloc(ns, sizeof *r->dropped);
    int oom = !r->slot || !r->pos || !r->direct || !r->alias || !r->home || !r->slot_user || !r->sufmin || !r->ready || !r->released || !r->hashed || !r->md ||
              !r->hc || !r->dropped;
    for (int i = 0; !oom && i < nslots; i++)
        r->slot_user[i] = SIZE_MAX;
    for (size_t s = 0; !oom && s < r->ns; s++)
        if (io->want[s]) {
            r->hashing = 1;
            oom = !(r->md[s] = EVP_MD_CTX_new()) || EVP_DigestInit_ex(r->md[s], EVP_sha256(), NULL) != 1;
        }
    if (!oom)
        oom = !(r->slot_bytes = lay_out(r));
    for (int i = 0; !oom && i < nslots; i++)
        oom = !(r->slot[i] = gio_buf_alloc(r->slot_bytes));
    if (!oom && r->hashing)
        oom = !(r->gap = malloc(GAP_BUF));
    if (oom) {
        snprintf(err, errlen, "out of memory for the source buffers (%d x %zu bytes)", nslots, r->slot_bytes);
        reader_free(r);
        return NULL;
    }
    for (size_t s = 0; s < r->ns; s++)
        r->sufmin[nchunks * r->ns + s] = io->size[s];
    for (size_t k = nchunks; k-- > 0;) {
        memcpy(&r->sufmin[k * r->ns], &r->sufmin[(k + 1) * r->ns], r->ns * sizeof *r->sufmin);
        for (int j = 0; j < CV_RANGES; j++) {
            const cv_srange *g = &ranges[k * CV_RANGES + j];
            if (g->len && g->off < r->sufmin[k * r->ns + g->shard])
                r->sufmin[k * r->ns + g->shard] = g->off;
        }
    }
    for (size_t k = 0; !r->hashing && k < nchunks; k++)
        r->hashed[k] = 1; /* nothing to wait for */
    for (; r->nr < NREADERS; r->nr++)
        if (pthread_create(&r->rth[r->nr], NULL, reader_main, r) != 0)
            break;
    r->have_h = r->nr > 0 && r->hashing && pthread_create(&r->hth, NULL, hasher_main, r) == 0;
    if (r->nr == 0 || (r->hashing && !r->have_h)) {
        snprintf(err, errlen, "cannot start the source reader threads");
        cv_reader_stop(r);
        for (int i = 0; i < r->nr; i++)
            pthread_join(r->rth[i], NULL);
        reader_free(r);
        return NULL;
    }
    return r;
}

int cv_reader_finish(cv_reader *r, int ok, char *err, size_t errlen)
{
    if (!ok)
        cv_reader_stop(r);
    for (int i = 0; i < r->nr; i++)
        pthread_join(r->rth[i], NULL);
    if (r->have_h)
        pthread_join(r->hth, NULL);
    int rc = 0;
    if (ok && !r->failed) {
        for (size_t s = 0; s < r->ns; s++) {
            if (!r->md[s])
                continue;
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned len = 0;
            /* what no chunk read: the tail, and a shard the plan never used */
            if (hash_file(r, s, r->hc[s], r->io->size[s]))
                break;
            if (EVP_DigestFinal_ex(r->md[s], md, &len) != 1 || len != 32) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s: the sha256 computation failed", st_shard_path(r->io->ck, s));
                set_failed(r, msg);
                break;
            }
            for (unsigned i = 0; i < 32; i++)
                snprintf(r->io->want[s] + 2 * i, 3, "%02x", md[i]);
        }
        for (size_t s = 0; s < r->ns; s++)
            drop_behind(r, s, r->n);
    }
    if (r->failed) {
        snprintf(err, errlen, "%s", r->err);
        rc = -1;
    }
    reader_free(r);
    return rc;
}
