/* pipeline.c - chunked, multithreaded, in-order streaming (see pipeline.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "gio_stream.h"
#include "pipeline.h"
#include "produce.h"
#include "srcio.h"

#define NSLOTS 2                        /* chunk buffers: one written, one computed */
#define NSLOTS_BORROW 4                 /* a borrowing sink: two being written, two computed */
#define NIN 3                           /* input buffers (srcio): two being read, one computed from */
#define SUB_BYTES ((uint64_t)1 << 20)   /* work unit; fixed, so output order is fixed */
#define DEFAULT_CHUNK ((size_t)32 << 20)

/* ---- schedule ---- */

typedef struct {
    size_t tensor;
    uint64_t r0, nrows, sub_rows;
    uint32_t nsub;
    uint64_t bytes;
    uint64_t src_row0;      /* first source row: where the chunk's input buffer starts */
    uint32_t phase;         /* its bytes start this far into its slot (the file offset mod the page) */
    uint32_t group;         /* the first of n stride siblings reading one input: n, else 1 or 0 */
} chunk;

typedef struct {
    uint8_t *buf;
    gq_stats *sub_stats;
    uint8_t *sub_done;      /* per sub-task: 1 computed, 2 hashed too (the sink takes them in order, each as it is done) */
    uint32_t done;
} slot;

typedef struct {
    const cv_out_tensor *t;
    chunk *chunks;
    size_t nchunks;
    slot slots[NSLOTS_BORROW];
    int nslots;
    size_t scratch_floats;
    long page;
    int avx;                /* x86 with AVX: workers clear the upper register state */

    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    size_t next_chunk;      /* next sub-task to hand out: chunk ... */
    uint32_t next_sub;      /* ... and sub-task within it ... */
    uint32_t next_member;   /* ... of this sibling of the group starting at next_chunk */
    size_t written;         /* chunks whose slot may be computed into again */
    int stop;

    const cv_sink *sink;
    int hashing;            /* the workers feed sink->hash, in order (the baton below) */
    size_t h_chunk;         /* the next sub-task to hash: chunk ... */
    uint32_t h_sub;         /* ... and sub-task */
    int h_busy, hash_failed;

    cv_reader *rd;          /* srcio: chunk inputs read into buffers; NULL: the mapping */
    cv_srange *ranges;      /* CV_RANGES per chunk */
    int read_failed;
} pipe_state;

static void drop_pages(const pipe_state *s, const cv_out_tensor *t, uint64_t r0, uint64_t n, int advice)
{
    const uint8_t *b[2], *e[2];
    int k = cv_producer_ranges(&t->prod, r0, n, b, e);
    for (int i = 0; i < k; i++) {
        uintptr_t lo = (uintptr_t)b[i], hi = (uintptr_t)e[i], pg = (uintptr_t)s->page;
        if (advice == MADV_DONTNEED) {
            lo = (lo + pg - 1) & ~(pg - 1); /* only pages wholly consumed */
            hi &= ~(pg - 1);
        } else {
            lo &= ~(pg - 1);
        }
        if (hi > lo)
            (void)madvise((void *)lo, hi - lo, advice); /* a hint: failure is harmless */
    }
}

/* x86: clear the upper halves of the AVX registers. A thread starts with a
 * copy of its creator's register state; when that state has dirty upper
 * halves, every legacy-SSE instruction of the encoders pays a merge penalty:
 * the q4 workers ran at less than half the speed of the same code in a fresh
 * program (45 vs 115 M values/s per core on the 20b fixture). In
 * gptoss-convert the main thread's upper halves were dirty from the .gptoss
 * writer's first gf_writer_add_blob (memcpy + XXH3_64bits: Debian's libxxhash
 * 0.8.1 dispatches to AVX2 / AVX-512 code that leaves them so), and any
 * library may do the same.
 * Our SSE code never dirties the state again, but it is cleared before every
 * sub-task anyway (one instruction per megabyte), in case a library call in
 * the loop does. */
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx"))) static void clear_upper_avx(void) { __builtin_ia32_vzeroupper(); }
static int have_avx(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx");
}
#else
static void clear_upper_avx(void) {}
static int have_avx(void) { return 0; }
#endif

/* With s->mu held: hash the sub-tasks that are next in order and computed,
 * unless another worker is at it (it will take ours too: it looks again
 * before it gives the baton back). The lock is dropped while hashing. */
static void hash_ready(pipe_state *s)
{
    while (!s->h_busy && !s->stop && s->h_chunk < s->nchunks) {
        const chunk *c = &s->chunks[s->h_chunk];
        slot *sl = &s->slots[s->h_chunk % (size_t)s->nslots];
        uint32_t j = s->h_sub;
        /* 1 only once this chunk's own sub-task is computed: a slot's
         * earlier chunk leaves 2s until the sink has taken it */
        if (sl->sub_done[j] != 1)
            break;
        s->h_busy = 1;
        pthread_mutex_unlock(&s->mu);
        const uint64_t orow = c->bytes / c->nrows, r = (uint64_t)j * c->sub_rows;
        const uint64_t nr = c->nrows - r < c->sub_rows ? c->nrows - r : c->sub_rows;
        int rc = s->sink->hash(s->sink->ctx, c->tensor, sl->buf + c->phase + r * orow, (size_t)(nr * orow));
        pthread_mutex_lock(&s->mu);
        s->h_busy = 0;
        if (rc) {
            s->stop = 1;
            s->hash_failed = 1;
            break;
        }
        sl->sub_done[j] = 2;
        if (++s->h_sub == c->nsub) {
            s->h_sub = 0;
            s->h_chunk++;
        }
    }
}

/* (mu held) How many chunks from k are handed out together: a sibling group,
 * when all of it fits in the slots at once (else one after the other). */
static size_t group_of(const pipe_state *s, size_t k)
{
    size_t g = s->chunks[k].group;
    return g > 1 && g <= (size_t)s->nslots ? g : 1;
}

static void *worker(void *arg)
{
    pipe_state *s = arg;
    float *scratch = malloc(s->scratch_floats * sizeof *scratch);
    pthread_mutex_lock(&s->mu);
    if (!scratch)
        s->stop = 1;
    for (;;) {
        size_t g = 1;
        while (!s->stop && s->next_chunk < s->nchunks &&
               s->next_chunk + (g = group_of(s, s->next_chunk)) - 1 >= s->written + (size_t)s->nslots)
            pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->stop || s->next_chunk >= s->nchunks)
            break;
        /* stride siblings (GGUF's gate and up of one gate_up) read the same
         * input: their sub-tasks are handed out in turn (gate 0, up 0, gate
         * 1, ...), so the second reads the input while the first has just
         * brought it into the cache. One after the other, the whole 32 MiB
         * input was read from memory twice (the MXFP4 re-layout took 1.3x
         * the CPU of the .gptoss conversion's; issue 16). */
        size_t k = s->next_chunk + s->next_member;
        uint32_t sub = s->next_sub;
        if (++s->next_member == g) {
            s->next_member = 0;
            if (++s->next_sub == s->chunks[s->next_chunk].nsub) {
                s->next_chunk += g;
                s->next_sub = 0;
            }
        }
        pthread_mutex_unlock(&s->mu);

        if (s->avx)
            clear_upper_avx();
        const chunk *c = &s->chunks[k];
        const cv_out_tensor *t = &s->t[c->tensor];
        const uint8_t *in = s->rd ? cv_reader_wait(s->rd, k) : NULL;
        if (s->rd && !in) { /* the read failed, or we are stopping */
            pthread_mutex_lock(&s->mu);
            s->stop = 1;
            s->read_failed = 1;
            break;
        }
        slot *sl = &s->slots[k % (size_t)s->nslots];
        uint64_t r0 = c->r0 + (uint64_t)sub * c->sub_rows;
        uint64_t n = c->nrows - (uint64_t)sub * c->sub_rows;
        if (n > c->sub_rows)
            n = c->sub_rows;
        uint64_t off = c->phase + (uint64_t)sub * c->sub_rows * gq_row_bytes(t->type, t->prod.cols);
        /* into a local first: encoders add to it per 32-value block, and the
         * sub_stats of different workers share cache lines */
        gq_stats local;
        memset(&local, 0, sizeof local);
        if (in) {
            cv_produce_view(t, r0, n, sl->buf + off, scratch, &local, in, c->src_row0,
                    t->prod.kind == CV_SRC_MXFP4 ? cv_reader_at(s->rd, k, 1) : NULL);
        } else {
            cv_produce_rows(t, r0, n, sl->buf + off, scratch, &local);
            drop_pages(s, t, r0, n, MADV_DONTNEED);
        }
        sl->sub_stats[sub] = local;

        pthread_mutex_lock(&s->mu);
        sl->sub_done[sub] = 1;
        if (++sl->done == c->nsub && s->rd)
            cv_reader_release(s->rd, k); /* lock order: s->mu, then the reader's */
        if (s->hashing)
            hash_ready(s);
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
    free(scratch);
    return NULL;
}

/* Where tensor t's source reading starts, for the file order. */
typedef struct {
    size_t shard, idx;
    uint64_t off;
} src_key;

static int by_source(const void *a, const void *b)
{
    const src_key *x = a, *y = b;
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The file range of source bytes [b, e) of tensor st (b, e inside its data). */
static cv_srange file_range(const cv_srcio *io, const st_tensor *st, const uint8_t *b, const uint8_t *e)
{
    size_t shard;
    uint64_t off;
    cv_srcio_locate(io, st, &shard, &off);
    return (cv_srange){(uint32_t)shard, off + (uint64_t)(b - (const uint8_t *)st->data), (uint64_t)(e - b)};
}

/* Same source, same cut, rows interleaved within the same row groups. */
static int siblings(const cv_out_tensor *a, const cv_out_tensor *b)
{
    const cv_producer *x = &a->prod, *y = &b->prod;
    return x->row_stride > 1 && x->src == y->src && x->scales == y->scales && x->kind == y->kind &&
           x->src_type == y->src_type && x->cols == y->cols && x->row_stride == y->row_stride &&
           x->src_rows == y->src_rows && a->rows == b->rows && a->type == b->type &&
           x->row_offset / x->row_stride == y->row_offset / y->row_stride;
}

/* The file ranges chunk c reads: its rows' source rows, widened for a
 * strided producer to whole row groups, so stride siblings read the very
 * same bytes; c->src_row0 becomes the first row read. */
static void chunk_ranges(const cv_srcio *io, const cv_producer *p, chunk *c, cv_srange g[CV_RANGES])
{
    uint64_t first = cv_producer_src_row(p, c->r0), last = cv_producer_src_row(p, c->r0 + c->nrows - 1);
    if (p->row_stride > 1) {
        first -= p->row_offset % p->row_stride;
        last += p->row_stride - 1 - p->row_offset % p->row_stride;
        if (last >= p->src_rows)
            last = p->src_rows - 1;
    }
    const uint8_t *b[2], *e[2];
    int k = cv_producer_ranges(p, 0, 1, b, e); /* row 0: the row sizes, and where the data begins */
    uint64_t rb = (uint64_t)(e[0] - b[0]);
    const uint8_t *d = p->src->data;
    g[0] = file_range(io, p->src, d + first * rb, d + (last + 1) * rb);
    g[1] = (cv_srange){0, 0, 0};
    if (k > 1) {
        uint64_t sb = (uint64_t)(e[1] - b[1]);
        const uint8_t *sd = p->scales->data;
        g[1] = file_range(io, p->scales, sd + first * sb, sd + (last + 1) * sb);
    }
    c->src_row0 = first;
}

/* Cut the tensors into chunks. With a srcio, the tensors are taken in the
 * order of their source bytes in the files (each shard then read nearly
 * front to back, and hashed in the same pass: srcio.h), every chunk's input
 * ranges are recorded, and a chunk's input is bounded like its output. */
static int build_schedule(pipe_state *s, const cv_out_tensor *t, size_t n, size_t chunk_bytes, const cv_srcio *io,
                          size_t *buf_bytes, uint32_t *max_sub)
{
    size_t cap = 0;
    *buf_bytes = 0;
    *max_sub = 1;
    s->scratch_floats = 32;
    src_key *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++) {
        order[i] = (src_key){0, i, 0};
        if (io && t[i].rows) {
            const uint8_t *b[2], *e[2];
            cv_producer_ranges(&t[i].prod, 0, 1, b, e);
            cv_srange g = file_range(io, t[i].prod.src, b[0], e[0]);
            order[i].shard = g.shard;
            order[i].off = g.off;
        }
    }
    if (io)
        qsort(order, n, sizeof *order, by_source);
    for (size_t oi = 0, oj; oi < n; oi = oj) {
        /* stride siblings (GGUF's gate and up rows of one gate_up) are cut
         * alike and their chunks alternate, each pair reading the same whole
         * row groups: srcio reads them once (the second reads the first's buffer) */
        oj = oi + 1;
        while (io && oj < n && siblings(&t[order[oi].idx], &t[order[oj].idx]))
            oj++;
        size_t i = order[oi].idx;
        const cv_producer *p = &t[i].prod;
        uint64_t orow = gq_row_bytes(t[i].type, p->cols);
        uint64_t irow = t[i].rows ? cv_in_bytes(&t[i]) / t[i].rows : 0;
        if (orow == 0) {
            free(order);
            return -1;
        }
        if (p->cols > s->scratch_floats)
            s->scratch_floats = p->cols;
        uint64_t unit = orow > irow ? orow : irow;
        uint64_t sub_rows = SUB_BYTES / unit ? SUB_BYTES / unit : 1;
        /* a chunk's input spans row_stride source rows per output row */
        uint64_t span = io ? irow * p->row_stride : 0, big = orow > span ? orow : span;
        uint64_t per_chunk = chunk_bytes / (sub_rows * big);
        if (per_chunk == 0)
            per_chunk = 1;
        uint64_t chunk_rows = per_chunk * sub_rows;
        for (uint64_t r = 0; r < t[i].rows; r += chunk_rows) {
            for (size_t m = oi; m < oj; m++) {
                if (s->nchunks == cap) {
                    cap = cap ? cap * 2 : 256;
                    chunk *c = realloc(s->chunks, cap * sizeof *c);
                    cv_srange *g = io ? realloc(s->ranges, cap * CV_RANGES * sizeof *g) : NULL;
                    if (c)
                        s->chunks = c;
                    if (g)
                        s->ranges = g;
                    if (!c || (io && !g)) {
                        free(order);
                        return -1;
                    }
                }
                size_t ti = order[m].idx;
                const cv_producer *pm = &t[ti].prod;
                chunk *c = &s->chunks[s->nchunks];
                c->tensor = ti;
                c->r0 = r;
                c->nrows = t[ti].rows - r < chunk_rows ? t[ti].rows - r : chunk_rows;
                c->sub_rows = sub_rows;
                c->nsub = (uint32_t)((c->nrows + sub_rows - 1) / sub_rows);
                c->bytes = c->nrows * orow;
                c->src_row0 = cv_producer_src_row(pm, r);
                c->phase = 0; /* set after the sink's begin, when it borrows */
                c->group = m == oi ? (uint32_t)(oj - oi) : 0;
                if (c->bytes > *buf_bytes)
                    *buf_bytes = (size_t)c->bytes;
                if (c->nsub > *max_sub)
                    *max_sub = c->nsub;
                if (io)
                    chunk_ranges(io, pm, c, &s->ranges[s->nchunks * CV_RANGES]);
                s->nchunks++;
            }
        }
    }
    free(order);
    return 0;
}

static void add_stats(gq_stats *a, const gq_stats *b)
{
    a->blocks += b->blocks;
    a->inexact_blocks += b->inexact_blocks;
    a->sq_err += b->sq_err;
    a->sq_ref += b->sq_ref;
    a->values += b->values;
}

cv_pipe_status cv_pipeline_run(const cv_out_tensor *t, size_t n, const cv_sink *sink,
                               const cv_pipeline_opts *opts, cv_pipeline_result *res, char *err,
                               size_t errlen)
{
    cv_pipeline_result local;
    if (errlen)
        err[0] = 0;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    int threads = opts && opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    res->threads = threads;
    size_t chunk_bytes = opts && opts->chunk_bytes ? opts->chunk_bytes : DEFAULT_CHUNK;

    char tmp[256];
    for (size_t i = 0; i < n; i++) {
        if (!t[i].prod.src || (t[i].prod.kind == CV_SRC_MXFP4 && !t[i].prod.scales) ||
            !gq_traits_of(t[i].type) || !gq_row_bytes(t[i].type, t[i].prod.cols) ||
            cv_producer_check(&t[i].prod, t[i].rows, tmp, sizeof tmp)) {
            snprintf(err, errlen, "output tensor '%s': inconsistent producer", t[i].name);
            sink->abort(sink->ctx);
            return CV_PIPE_BAD_INPUT;
        }
        res->in_bytes += cv_in_bytes(&t[i]);
        res->out_bytes += cv_out_bytes(&t[i]);
    }

    pipe_state s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.avx = have_avx();
    s.page = sysconf(_SC_PAGESIZE);
    if (s.page <= 0)
        s.page = 4096;
    size_t buf_bytes;
    uint32_t max_sub;
    cv_pipe_status st = CV_PIPE_OK;
    cv_srcio *io = opts ? opts->io : NULL;
    if (build_schedule(&s, t, n, chunk_bytes, io, &buf_bytes, &max_sub)) {
        free(s.chunks);
        free(s.ranges);
        snprintf(err, errlen, "out of memory planning %zu tensors", n);
        sink->abort(sink->ctx);
        return CV_PIPE_NOMEM;
    }
    /* a borrowing sink writes from the slots with direct I/O: page-aligned
     * (huge pages where there are), and each chunk placed at its file
     * offset's phase within the page */
    const int borrow = sink->write_borrowed && sink->release && sink->offset;
    const size_t phase_align = (size_t)s.page > 4096 ? (size_t)s.page : 4096;
    s.nslots = borrow ? NSLOTS_BORROW : NSLOTS;
    s.sink = sink;
    s.hashing = borrow && sink->hash;
    const uint8_t want = s.hashing ? 2 : 1; /* what the sink waits for per sub-task */
    for (int i = 0; i < s.nslots; i++) {
        s.slots[i].buf = borrow ? gio_buf_alloc(buf_bytes + phase_align) : malloc(buf_bytes ? buf_bytes : 1);
        s.slots[i].sub_stats = calloc(max_sub, sizeof(gq_stats));
        s.slots[i].sub_done = calloc(max_sub, 1);
        if (!s.slots[i].buf || !s.slots[i].sub_stats || !s.slots[i].sub_done)
            st = CV_PIPE_NOMEM;
    }
    if (st == CV_PIPE_OK && sink->begin(sink->ctx)) {
        snprintf(err, errlen, "%s", sink->error(sink->ctx));
        st = CV_PIPE_SINK_ERROR;
    }
    for (size_t k = 0; borrow && st == CV_PIPE_OK && k < s.nchunks; k++) {
        chunk *c = &s.chunks[k];
        uint64_t at = sink->offset(sink->ctx, c->tensor);
        if (at != UINT64_MAX)
            c->phase = (uint32_t)((at + c->r0 * (c->nrows ? c->bytes / c->nrows : 0)) % phase_align);
    }
    if (st == CV_PIPE_OK && io && s.nchunks &&
        !(s.rd = cv_reader_start(io, s.ranges, s.nchunks, NIN, err, errlen)))
        st = CV_PIPE_NOMEM;

    pthread_t tids[256];
    int started = 0;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.work_cv, NULL);
    pthread_cond_init(&s.done_cv, NULL);
    if (st == CV_PIPE_OK) {
        for (; started < threads; started++)
            if (pthread_create(&tids[started], NULL, worker, &s))
                break;
        if (started == 0)
            st = CV_PIPE_NOMEM;
    }

    uint64_t done_bytes = 0;
    for (size_t k = 0; st == CV_PIPE_OK && k < s.nchunks; k++) {
        const chunk *c = &s.chunks[k];
        slot *sl = &s.slots[k % (size_t)s.nslots];
        if (!s.rd && k + 1 < s.nchunks) /* read ahead the chunk after this one */
            drop_pages(&s, &t[s.chunks[k + 1].tensor], s.chunks[k + 1].r0, s.chunks[k + 1].nrows,
                       MADV_WILLNEED);
        /* Each sub-task goes to the sink as soon as it and those before it
         * are done, while its bytes are still in the cache: the sink's hash
         * and copy then read them from there, not from memory. */
        const uint64_t orow = c->nrows ? c->bytes / c->nrows : 0;
        for (uint32_t j = 0; st == CV_PIPE_OK && j < c->nsub; j++) {
            pthread_mutex_lock(&s.mu);
            while (sl->sub_done[j] < want && !s.stop && !(opts && opts->cancel && *opts->cancel)) {
                /* wake up now and then to notice a signal */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000 * 1000;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&s.done_cv, &s.mu, &ts);
            }
            int ready = sl->sub_done[j] >= want;
            pthread_mutex_unlock(&s.mu);
            if (opts && opts->cancel && *opts->cancel) {
                st = CV_PIPE_CANCELLED;
            } else if (!ready && s.read_failed) {
                st = CV_PIPE_READ_ERROR; /* the message comes from cv_reader_finish */
            } else if (!ready && s.hash_failed) {
                snprintf(err, errlen, "%s", sink->error(sink->ctx));
                st = CV_PIPE_SINK_ERROR;
            } else if (!ready) {
                st = CV_PIPE_NOMEM; /* a worker could not get its scratch */
                snprintf(err, errlen, "out of memory in a worker");
            } else {
                uint64_t r = (uint64_t)j * c->sub_rows, nr = c->nrows - r < c->sub_rows ? c->nrows - r : c->sub_rows;
                const uint8_t *b = sl->buf + c->phase + r * orow;
                if ((borrow ? sink->write_borrowed : sink->write)(sink->ctx, c->tensor, b, (size_t)(nr * orow))) {
                    snprintf(err, errlen, "%s", sink->error(sink->ctx));
                    st = CV_PIPE_SINK_ERROR;
                }
            }
        }
        /* borrowed: start this chunk's writes now, and take back the slot
         * written two chunks ago (its writes are done or nearly: two
         * chunks stay in flight) for the chunk two ahead */
        size_t freed = k + 1;
        if (st == CV_PIPE_OK && borrow) {
            const slot *back = &s.slots[(k + 2) % (size_t)s.nslots];
            if (sink->release(sink->ctx, sl->buf, sl->buf + buf_bytes + phase_align, 0) ||
                (k >= 2 && sink->release(sink->ctx, back->buf, back->buf + buf_bytes + phase_align, 1))) {
                snprintf(err, errlen, "%s", sink->error(sink->ctx));
                st = CV_PIPE_SINK_ERROR;
            }
            freed = k >= 1 ? k - 1 : 0;
        }
        if (st != CV_PIPE_OK)
            break;
        const cv_out_tensor *ot = &t[c->tensor];
        for (uint32_t i = 0; i < c->nsub; i++)
            add_stats(&res->cls[ot->cls], &sl->sub_stats[i]);
        res->cls_bytes[ot->cls] += c->bytes;
        res->cls_values[ot->cls] += c->nrows * ot->prod.cols;
        if (c->r0 == 0)
            res->cls_tensors[ot->cls]++;
        done_bytes += c->bytes;
        pthread_mutex_lock(&s.mu);
        sl->done = 0;
        memset(sl->sub_done, 0, c->nsub);
        s.written = freed;
        pthread_cond_broadcast(&s.work_cv);
        pthread_mutex_unlock(&s.mu);
        if (opts && opts->progress)
            opts->progress(opts->progress_ctx, done_bytes, res->out_bytes);
    }

    pthread_mutex_lock(&s.mu);
    s.stop = 1;
    pthread_cond_broadcast(&s.work_cv);
    pthread_mutex_unlock(&s.mu);
    if (s.rd && st != CV_PIPE_OK)
        cv_reader_stop(s.rd); /* wakes workers waiting for input */
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (s.rd) {
        /* before the sink's finish: the wanted source hashes complete here */
        char why[700];
        if (cv_reader_finish(s.rd, st == CV_PIPE_OK, why, sizeof why) && (st == CV_PIPE_OK || st == CV_PIPE_READ_ERROR)) {
            snprintf(err, errlen, "%s", why);
            st = CV_PIPE_READ_ERROR;
        }
        s.rd = NULL;
    }
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.work_cv);
    pthread_cond_destroy(&s.done_cv);

    /* every slot back from the sink before it finishes, aborts or frees
     * (its writes may still read them), also after an error */
    for (int i = 0; borrow && i < s.nslots; i++)
        if (s.slots[i].buf && sink->release(sink->ctx, s.slots[i].buf, s.slots[i].buf + buf_bytes + phase_align, 1) &&
            st == CV_PIPE_OK) {
            snprintf(err, errlen, "%s", sink->error(sink->ctx));
            st = CV_PIPE_SINK_ERROR;
        }
    if (st == CV_PIPE_OK && opts && opts->cancel && *opts->cancel)
        st = CV_PIPE_CANCELLED;
    if (st == CV_PIPE_OK && sink->finish(sink->ctx)) {
        snprintf(err, errlen, "%s", sink->error(sink->ctx));
        st = CV_PIPE_SINK_ERROR;
        /* finish failed: the sink cleans up after itself */
    } else if (st != CV_PIPE_OK) {
        if (st == CV_PIPE_CANCELLED)
            snprintf(err, errlen, "interrupted");
        else if (st == CV_PIPE_NOMEM && !err[0])
            snprintf(err, errlen, "out of memory");
        sink->abort(sink->ctx);
    }
    for (int i = 0; i < s.nslots; i++) {
        if (borrow)
            gio_buf_free(s.slots[i].buf);
        else
            free(s.slots[i].buf);
        free(s.slots[i].sub_stats);
        free(s.slots[i].sub_done);
    }
    free(s.chunks);
    free(s.ranges);
    return st;
}
