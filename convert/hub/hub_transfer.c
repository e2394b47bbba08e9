/* hub_transfer.c - one byte range of one file over HTTP into its partial
 * file (see hub_dl.h): curl's callbacks gathered into WRITE_BUF writes at the
 * range's end, the range's progress counted only once written, write-back
 * started every WRITEBACK_STEP so the fsync before publishing finds little
 * left and dirty pages never pile up (the hasher drops the pages once it has
 * read them back: hub_download.c), the answers checked (a 206 for the range
 * asked; a 200 to a Range request restarts the file), transient failures
 * retried with back-off, a trickling server abandoned. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gio_stream.h"
#include "hub_dl.h"

typedef struct {
    engine *g;
    dfile *f;
    chunk *c;
    unsigned gen;
    uint64_t req_from;
    int first, restart, fatal;
    uint64_t progress;
    char *buf;                 /* received, not yet written: curl hands over <= 16 KiB at a time */
    size_t blen, bcap;
    char err[512];
} sink_ctx;

/* Writes the buffered bytes at the chunk's end and only then counts them as
 * done (the progress file must never claim unwritten bytes). */
static int flush(sink_ctx *s)
{
    dfile *f = s->f;
    size_t n = s->blen;
    if (!n) return 0;
    uint64_t off = s->c->start + s->c->done;
    for (size_t w = 0; w < n;) {
        ssize_t r = pwrite(f->fd, s->buf + w, n - w, (off_t)(off + w));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            snprintf(s->err, sizeof s->err, "cannot write the partial file: %s%s", strerror(errno),
                     errno == ENOSPC ? " (disk full: free some space and run the same command again to resume)" : "");
            s->fatal = 2;
            s->blen = 0;
            return -1;
        }
        w += (size_t)r;
    }
    s->blen = 0;
    pthread_mutex_lock(&f->mu);
    s->c->done += n;
    if (f->chunked && hub_dl_now() - f->last_save > 0.5) hub_dl_save_state(f);
    pthread_mutex_unlock(&f->mu);
    if ((s->progress & ~(uint64_t)((4u << 20) - 1)) != ((s->progress + n) & ~(uint64_t)((4u << 20) - 1)))
        hub_dl_wake_hasher(s->g); /* every 4 MiB */
    if (s->c->done - s->c->flushed >= WRITEBACK_STEP) {
        gio_writeback_start(f->fd, s->c->start + s->c->flushed, s->c->done - s->c->flushed);
        s->c->flushed = s->c->done;
    }
    atomic_fetch_add(&s->g->bytes, n);
    s->progress += n;
    atomic_fetch_add(&f->fetched, n);
    return 0;
}

static int sink(void *p, const hub_headers *h, const char *data, size_t n)
{
    sink_ctx *s = p;
    dfile *f = s->f;
    const hub_entry *e = f->it->e;
    if (atomic_load(&f->gen) != s->gen || atomic_load(&f->restart_pending)) { s->restart = 1; return -1; }
    if (atomic_load(&s->g->stop)) return -1;
    if (s->first) {
        s->first = 0;
        if (h->status == 206) {
            if (!h->has_content_range || h->cr_first != s->req_from ||
                (h->cr_total != UINT64_MAX && h->cr_total != e->size)) {
                snprintf(s->err, sizeof s->err, "the server answered a different byte range than asked for");
                s->fatal = 1;
                return -1;
            }
        } else {
            if (h->has_size == 1 && h->linked_size != e->size) {
                snprintf(s->err, sizeof s->err, "the server sends %" PRIu64 " bytes, the listing says %" PRIu64,
                         h->linked_size, e->size);
                s->fatal = 1;
                return -1;
            }
            if (s->req_from != UINT64_MAX) {
                if (f->chunked) { /* everyone stops; the file restarts as one plain transfer */
                    atomic_store(&f->restart_pending, 1);
                    s->restart = 1;
                    return -1;
                }
                fprintf(stderr, "fetch: %s: the server ignored the Range request; restarting the file\n", e->path);
                pthread_mutex_lock(&f->hash_mu);
                pthread_mutex_lock(&f->mu);
                s->c->done = 0;
                s->c->flushed = 0;
                pthread_mutex_unlock(&f->mu);
                int bad = ftruncate(f->fd, 0) || hub_dl_hash_reset(f);
                pthread_mutex_unlock(&f->hash_mu);
                if (bad) {
                    snprintf(s->err, sizeof s->err, "cannot truncate the partial file: %s", strerror(errno));
                    s->fatal = 1;
                    return -1;
                }
            }
        }
    }
    uint64_t off = s->c->start + s->c->done + s->blen;
    if (n > s->c->end - off) {
        snprintf(s->err, sizeof s->err, "the server sends more than the listed %" PRIu64 " bytes", e->size);
        s->fatal = 1;
        return -1;
    }
    if (s->blen + n > s->bcap && flush(s)) return -1;
    while (n) {
        size_t k = n < s->bcap - s->blen ? n : s->bcap - s->blen;
        memcpy(s->buf + s->blen, data, k);
        s->blen += k;
        data += k;
        n -= k;
        if (n && flush(s)) return -1;
    }
    return 0;
}

int hub_dl_run_range(engine *g, dfile *f, chunk *c, unsigned gen, CURL *easy, char *wbuf)
{
    const hub_entry *e = f->it->e;
    hub_what what = {g->o->repo, g->o->revision, e->path};
    char err[1024];
    for (int attempt = 0;;) {
        uint64_t from = c->start + c->done;
        if (from >= c->end) return 0;
        double t0 = hub_dl_now();
        sink_ctx s = {g, f, c, gen, (f->chunked || from > 0) ? from : UINT64_MAX, 1, 0, 0, 0, wbuf, 0, WRITE_BUF, ""};
        hub_headers h;
        hub_xfer r = hub_http_once(g->c, easy, f->it->url, 0, s.req_from, f->chunked ? c->end - 1 : UINT64_MAX,
                                   sink, &s, &h, &what, err, sizeof err);
        if (flush(&s)) r = HUB_X_ABORTED; /* what arrived is kept, whatever happened next */
        if (r == HUB_X_OK) {
            if (c->start + c->done == c->end) return 0;
            snprintf(err, sizeof err, "the body ended early, at byte %" PRIu64 " of %" PRIu64, c->start + c->done,
                     e->size);
            r = HUB_X_RETRY;
        }
        if (r == HUB_X_ABORTED) {
            if (s.fatal) {
                hub_dl_fail(g, s.fatal == 2 ? HUB_ERR_IO : HUB_ERR_NETWORK, "%s: %s", e->path, s.err);
                return -1;
            }
            char why[512];
            hub_status st = hub_stop_reason(g->c, why, sizeof why);
            if (st != HUB_OK) hub_dl_fail(g, st, "%s%s", why, "");
            return 1;
        }
        if (r == HUB_X_FATAL) {
            hub_dl_fail(g, hub_http_fatal_status(g->c, &h), "%s: %s", e->path, err);
            return -1;
        }
        /* A flaky but moving transfer keeps going; one that crawled below the
         * low-speed limit (a trickling server) uses up an attempt like a
         * failure, or it would reconnect forever. */
        double dt = hub_dl_now() - t0;
        if (s.progress && (double)s.progress >= (double)g->c->low_speed_bps * dt) attempt = 0;
        if (++attempt >= g->c->max_attempts) {
            size_t l = strlen(err);
            snprintf(err + l, sizeof err - l, " (gave up after %d attempts that made little or no progress)",
                     attempt);
            hub_dl_fail(g, HUB_ERR_NETWORK, "%s: %s", e->path, err);
            return -1;
        }
        if (hub_backoff(g->c, attempt, h.retry_after)) {
            char why[512];
            hub_status st = hub_stop_reason(g->c, why, sizeof why);
            hub_dl_fail(g, st != HUB_OK ? st : HUB_ERR_INTERRUPTED, "%s%s", why, "");
            return 1;
        }
    }
}

