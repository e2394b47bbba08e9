/* hub_download.c - the download engine (see hub_download.h).
 *
 * Shape: `connections` worker threads, each with its own curl easy handle
 * (so keep-alive works per worker), take work from one shared list: first
 * "open this file" (lock, resume state), then its chunks. A file's last
 * worker out verifies and publishes it. One hasher thread follows the
 * finished prefix of every open file, reading it back from the page cache,
 * so hashing runs beside the transfers instead of in their write path, and
 * a file is hashed almost completely by the time its last byte lands; the
 * pages it has read back leave the page cache. Moving one range over HTTP
 * into the partial file is hub_transfer.c's (the state both share: hub_dl.h).
 *
 * Locks, in the order they may nest: hash_mu -> engine mu -> file mu.
 * hash_mu also guards fd and ch[] replacement, so the hasher never reads a
 * file being reset.
 */
#include "hub_download.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gio_out.h"
#include "gio_stream.h"
#include "hub_chunks.h"
#include "hub_dl.h"
#include "hub_progress.h"

void hub_dl_wake_hasher(engine *g)
{
    pthread_mutex_lock(&g->hmu);
    g->hpending = 1;
    pthread_cond_signal(&g->hcv);
    pthread_mutex_unlock(&g->hmu);
}

double hub_dl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void hub_dl_fail(engine *g, int code, const char *fmt, const char *a, const char *b)
{
    pthread_mutex_lock(&g->mu);
    if (!g->err_code) {
        g->err_code = code;
        snprintf(g->err, sizeof g->err, fmt, a, b ? b : "");
    }
    atomic_store(&g->stop, 1);
    atomic_store(&g->c->cancel, 1);
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

int hub_dl_save_state(dfile *f) /* f->mu held */
{
    f->last_save = hub_dl_now();
    return hub_chunks_save(f->it->paths.state_path, f->it->e->size, f->ch, f->nch);
}

/* ---- hashing ---- */

int hub_dl_hash_reset(dfile *f) /* hash_mu held */
{
    const hub_entry *e = f->it->e;
    f->hashed = f->dropped = 0;
    int ok = EVP_DigestInit_ex(f->md, e->is_lfs ? EVP_sha256() : EVP_sha1(), NULL);
    if (ok && !e->is_lfs) {
        /* a git blob id is sha1("blob <size>\0" + content) */
        char hdr[40];
        int n = snprintf(hdr, sizeof hdr, "blob %" PRIu64, e->size);
        ok = EVP_DigestUpdate(f->md, hdr, (size_t)n + 1);
    }
    return ok ? 0 : -1;
}

static uint64_t frontier(const dfile *f) /* f->mu held */
{
    uint64_t fr = 0;
    for (size_t i = 0; i < f->nch; i++) {
        fr = f->ch[i].start + f->ch[i].done;
        if (f->ch[i].done < f->ch[i].end - f->ch[i].start) break;
    }
    return fr;
}

/* Hashes the finished prefix not hashed yet, reading it back (page cache). */
static int hash_advance_locked(dfile *f) /* hash_mu held */
{
    if (f->fd < 0 || !f->md) return 0;
    size_t cap = 4u << 20;
    char *buf = malloc(cap);
    if (!buf) return -1;
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        uint64_t fr = frontier(f);
        pthread_mutex_unlock(&f->mu);
        if (f->hashed >= fr) break;
        size_t want = fr - f->hashed > cap ? cap : (size_t)(fr - f->hashed);
        ssize_t r = pread(f->fd, buf, want, (off_t)f->hashed);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { rc = -1; break; }
        EVP_DigestUpdate(f->md, buf, (size_t)r);
        f->hashed += (uint64_t)r;
    }
    free(buf);
    /* Hashed and on its way to the disk: out of the page cache, so a 13 GB
     * fetch leaves no 13 GB of cache (and dirty pages) behind. Waits for the
     * write-back of those pages first; on this thread, not a transfer's. */
    uint64_t to = f->hashed & ~(uint64_t)((1u << 20) - 1);
    if (to >= f->dropped + WRITEBACK_STEP) {
        gio_drop_written(f->fd, f->dropped, to - f->dropped);
        f->dropped = to;
    }
    return rc;
}

static int hash_advance(dfile *f, int wait)
{
    if (wait) pthread_mutex_lock(&f->hash_mu);
    else if (pthread_mutex_trylock(&f->hash_mu)) return 0;
    int rc = hash_advance_locked(f);
    pthread_mutex_unlock(&f->hash_mu);
    return rc;
}

static void *hasher(void *arg)
{
    engine *g = arg;
    pthread_mutex_lock(&g->hmu);
    while (!g->hquit) {
        if (!g->hpending) {
            pthread_cond_wait(&g->hcv, &g->hmu);
            continue;
        }
        g->hpending = 0;
        pthread_mutex_unlock(&g->hmu);
        for (size_t i = 0; i < g->n; i++) {
            pthread_mutex_lock(&g->mu);
            int open = g->f[i].phase == PH_OPEN;
            pthread_mutex_unlock(&g->mu);
            if (open) hash_advance(&g->f[i], 0); /* busy (finalizing / resetting): skip */
        }
        pthread_mutex_lock(&g->hmu);
    }
    pthread_mutex_unlock(&g->hmu);
    return NULL;
}

/* ---- opening a file: lock, then resume state or a fresh start ---- */

static void waiting_msg(void *ctx)
{
    dfile *f = ctx;
    fprintf(stderr, "fetch: another process is downloading %s; waiting for it (lock %s)\n", f->it->e->path,
            f->it->paths.lock_path);
}

static int setup_transfer_locked(engine *g, dfile *f, int fresh);

static int lock_stop(void *ctx)
{
    const dfile *f = ctx;
    return hub_interrupted || atomic_load(&f->g->stop) || hub_deadline_passed(f->g->c);
}

/* Opens a partial file with the crash-safe writer's primitive: O_NOFOLLOW,
 * and what was opened must be a regular file with one link. Returns the
 * fd, -1 (errno), or -2 when the path is a symlink, a hard link or a
 * special file (ELOOP / EINVAL; EMLINK is FreeBSD's O_NOFOLLOW answer). */
static int open_partial(const char *path, int flags)
{
    int fd = gio_open_partial(path, flags, 0644, NULL);
    if (fd < 0 && (errno == ELOOP || errno == EINVAL || errno == EMLINK)) return -2;
    return fd;
}

/* hub_dl_fail() for a partial file that is a symlink, a FIFO or a hard link: we
 * never make those, and writing through one would write somewhere else. */
static void fail_open(engine *g, const char *path, int rc)
{
    if (rc == -2)
        hub_dl_fail(g, HUB_ERR_IO, "%s is not a plain file of ours (a symbolic link, hard link or special file): fetch "
             "never creates one there and does not write through it; remove it%s and run again", path,
             " (after checking what it points to)");
    else
        hub_dl_fail(g, HUB_ERR_IO, "cannot open %s: %s", path, strerror(errno));
}

/* Full size at once: its size is how a later run recognises a chunked
 * partial. On Linux the blocks are reserved too (no ENOSPC at 90%, and the
 * parallel chunks do not fragment the file); elsewhere it is sparse. */
static int preallocate(int fd, uint64_t size)
{
    if (ftruncate(fd, (off_t)size)) return -1;
    return gio_reserve(fd, size); /* fails only for no space (or an I/O error) */
}

/* Sets up fd, ch[] and the hash. fresh: discard any partial data. */
static int setup_transfer(engine *g, dfile *f, int fresh)
{
    pthread_mutex_lock(&f->hash_mu);
    int rc = setup_transfer_locked(g, f, fresh);
    pthread_mutex_unlock(&f->hash_mu);
    hub_dl_wake_hasher(g); /* a resumed prefix gets hashed beside the new transfers */
    return rc;
}

static int setup_transfer_locked(engine *g, dfile *f, int fresh)
{
    const hub_item *it = f->it;
    const hub_entry *e = it->e;
    const hub_paths *p = &it->paths;
    pthread_mutex_lock(&f->mu);
    free(f->ch);
    f->ch = NULL;
    f->nch = 0;
    pthread_mutex_unlock(&f->mu);
    f->chunked = 0;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (hub_mkdir_parents(p->part_path) || hub_mkdir_parents(p->final_path)) {
        hub_dl_fail(g, HUB_ERR_IO, "cannot create the folder for %s: %s", p->part_path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fresh) {
        unlink(p->state_path);
        unlink(p->chunk_path);
        unlink(p->part_path);
    } else if (!stat(p->chunk_path, &st) && (uint64_t)st.st_size == e->size &&
               (f->ch = hub_chunks_load(p->state_path, e->size, &f->nch))) {
        f->fd = open_partial(p->chunk_path, O_RDWR);
        if (f->fd == -2) {
            fail_open(g, p->chunk_path, -2);
            f->fd = -1;
            return -1;
        }
        if (f->fd >= 0) f->chunked = 1;
    }
    if (!f->chunked) {
        free(f->ch);
        f->ch = NULL;
        unlink(p->state_path);
        unlink(p->chunk_path);
        int split = g->o->connections > 1 && e->size > g->o->chunk_size && !f->no_range &&
                    (stat(p->part_path, &st) || st.st_size == 0);
        if (!(f->ch = hub_chunks_plan(e->size, g->o->chunk_size, split, &f->nch))) {
            hub_dl_fail(g, HUB_ERR_INTERNAL, "out of memory%s%s", "", "");
            return -1;
        }
        if (split) {
            f->chunked = 1;
            /* unlinked just above: O_EXCL makes sure the file written is the one created here */
            f->fd = open_partial(p->chunk_path, O_RDWR | O_CREAT | O_EXCL);
            if (f->fd < 0 || preallocate(f->fd, e->size) || hub_dl_save_state(f)) {
                if (f->fd < 0) f->fd = -1;
                hub_dl_fail(g, HUB_ERR_IO, "cannot create %s: %s", p->chunk_path, strerror(errno));
                return -1;
            }
        } else {
            f->fd = open_partial(p->part_path, O_RDWR | O_CREAT);
            if (f->fd < 0 || fstat(f->fd, &st)) {
                fail_open(g, p->part_path, f->fd < 0 ? f->fd : -1);
                if (f->fd >= 0) close(f->fd);
                f->fd = -1;
                return -1;
            }
            uint64_t have = (uint64_t)st.st_size;
            if (have > e->size) { /* not ours, or another file's: start over */
                if (ftruncate(f->fd, 0)) { hub_dl_fail(g, HUB_ERR_IO, "cannot truncate %s: %s", p->part_path, strerror(errno)); return -1; }
                have = 0;
            }
            /* the blocks reserved, the size left alone (it says how much is done) */
            if (gio_reserve(f->fd, e->size)) {
                hub_dl_fail(g, HUB_ERR_IO, "cannot reserve space for %s: %s", p->part_path, strerror(errno));
                return -1;
            }
            f->ch[0].done = have;
        }
    }
    hub_chunks_reset_states(f->ch, f->nch);
    atomic_fetch_add(&f->gen, 1);
    if (hub_dl_hash_reset(f)) {
        hub_dl_fail(g, HUB_ERR_INTERNAL, "cannot start a hash for %s", e->path, NULL);
        return -1;
    }
    return 0;
}

/* Returns 0: open with work to do; 1: already complete; -1: failed. */
static int open_file(engine *g, dfile *f)
{
    hub_item *it = f->it;
    f->lock_fd = hub_lock(it->paths.lock_path, waiting_msg, lock_stop, f);
    if (f->lock_fd < 0) {
        int lock_errno = errno;
        char why[512];
        hub_status st = hub_stop_reason(g->c, why, sizeof why);
        errno = lock_errno;
        if (errno == EINTR || st != HUB_OK) {
            if (st != HUB_OK) hub_dl_fail(g, st, "%s%s", why, "");
            return -1;
        }
        hub_dl_fail(g, HUB_ERR_IO, "cannot take the lock %s: %s", it->paths.lock_path, strerror(errno));
        return -1;
    }
    if (hub_is_present(g->o->cache, it->e, &it->paths)) { /* finished by the process we waited for */
        hub_unlock(f->lock_fd);
        f->lock_fd = -1;
        it->state = HUB_ITEM_PRESENT;
        return 1;
    }
    if (!(f->md = EVP_MD_CTX_new())) { hub_dl_fail(g, HUB_ERR_INTERNAL, "out of memory%s%s", "", ""); return -1; }
    return setup_transfer(g, f, 0) ? -1 : 0;
}

/* ---- verification and publication ---- */

/* Returns 0 published, 1 to download again, -1 failed. Engine mutex NOT held. */
static int finalize(engine *g, dfile *f)
{
    hub_item *it = f->it;
    const hub_entry *e = it->e;
    const hub_paths *p = &it->paths;
    const char *part = f->chunked ? p->chunk_path : p->part_path;
    if (hash_advance(f, 1) || f->hashed != e->size) {
        hub_dl_fail(g, HUB_ERR_IO, "cannot read back %s: %s", part, strerror(errno));
        return -1;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(f->md, md, &mdlen);
    char got[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < mdlen; i++) snprintf(got + 2 * i, 3, "%02x", md[i]);
    if (strcmp(got, e->etag)) {
        const char *kind = e->is_lfs ? "sha256" : "git blob sha1";
        unlink(p->chunk_path);
        unlink(p->state_path);
        unlink(p->part_path);
        if (f->verify_failures++ == 0) {
            fprintf(stderr, "fetch: %s: %s mismatch (expected %s, got %s); deleted it, downloading once more\n",
                    e->path, kind, e->etag, got);
            return setup_transfer(g, f, 1) ? -1 : 1;
        }
        char msg[300];
        snprintf(msg, sizeof msg, "%s mismatch twice: expected %s, got %s", kind, e->etag, got);
        hub_dl_fail(g, HUB_ERR_INTEGRITY, "%s: %s; the partial data was deleted (the server or a proxy is corrupting the file)",
             e->path, msg);
        return -1;
    }
    struct stat st;
    if (fstat(f->fd, &st) || (uint64_t)st.st_size != e->size) {
        hub_dl_fail(g, HUB_ERR_IO, "%s: the partial file %s has the wrong size", e->path, part);
        return -1;
    }
    /* durable before visible (fsync, rename, directory fsync): a crash must never leave a short blob
     * under its final name. 1 = moved, only the directory fsync failed: the blob is complete. */
    if (gio_publish(f->fd, part, p->final_path) < 0) {
        hub_dl_fail(g, HUB_ERR_IO, "cannot move the finished download to %s: %s", p->final_path, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&f->hash_mu);
    gio_drop_written(f->fd, f->dropped, e->size - f->dropped); /* fsynced: just dropped */
    close(f->fd);
    f->fd = -1;
    pthread_mutex_unlock(&f->hash_mu);
    unlink(p->state_path);
    /* published while still locked, so a waiting process finds it complete */
    if (hub_publish(g->o->cache, g->o->commit, e, p)) {
        hub_dl_fail(g, HUB_ERR_IO, "cannot link %s into the snapshot: %s", e->path, strerror(errno));
        return -1;
    }
    hub_unlock(f->lock_fd);
    f->lock_fd = -1;
    it->state = HUB_ITEM_DOWNLOADED;
    return 0;
}

/* ---- the workers ---- */

static int file_complete(const dfile *f)
{
    for (size_t i = 0; i < f->nch; i++)
        if (f->ch[i].state != HUB_CH_DONE) return 0;
    return 1;
}

/* Called with the engine mutex held, when the file is complete or must restart. */
static void settle(engine *g, dfile *f)
{
    if (f->active || f->phase != PH_OPEN) return;
    if (atomic_load(&f->restart_pending)) {
        f->phase = PH_BUSY;
        pthread_mutex_unlock(&g->mu);
        fprintf(stderr, "fetch: %s: the server ignored a Range request; restarting the file as one transfer\n",
                f->it->e->path);
        f->no_range = 1;
        int rc = setup_transfer(g, f, 1);
        pthread_mutex_lock(&g->mu);
        atomic_store(&f->restart_pending, 0);
        f->phase = rc ? PH_DONE : PH_OPEN;
        return;
    }
    if (!file_complete(f)) return;
    f->phase = PH_BUSY;
    pthread_mutex_unlock(&g->mu);
    int rc = finalize(g, f);
    pthread_mutex_lock(&g->mu);
    f->phase = rc == 1 ? PH_OPEN : PH_DONE;
    if (rc < 0) f->it->state = HUB_ITEM_FAILED;
}

static void *worker(void *arg)
{
    engine *g = arg;
    CURL *easy = hub_easy_new(g->c);
    char *wbuf = malloc(WRITE_BUF);
    pthread_mutex_lock(&g->mu);
    if ((!easy || !wbuf) && !g->err_code) {
        g->err_code = HUB_ERR_INTERNAL;
        snprintf(g->err, sizeof g->err, "cannot create a curl handle");
        atomic_store(&g->stop, 1);
    }
    while (!atomic_load(&g->stop) && !hub_interrupted) {
        dfile *pick = NULL;
        chunk *pc = NULL;
        int all_done = 1;
        for (size_t i = 0; i < g->n && !pick; i++) {
            dfile *f = &g->f[i];
            if (f->phase == PH_DONE) continue;
            all_done = 0;
            if (f->phase == PH_NEW) { pick = f; break; }
            if (f->phase != PH_OPEN || atomic_load(&f->restart_pending)) continue;
            for (size_t k = 0; k < f->nch; k++)
                if (f->ch[k].state == HUB_CH_PENDING) { pick = f; pc = &f->ch[k]; break; }
        }
        if (all_done) break;
        if (!pick) {
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        if (!pc) { /* open it */
            pick->phase = PH_BUSY;
            pthread_mutex_unlock(&g->mu);
            int rc = open_file(g, pick);
            pthread_mutex_lock(&g->mu);
            pick->phase = rc == 0 ? PH_OPEN : PH_DONE;
            if (rc == 0) settle(g, pick); /* a resumed file may be complete already */
            pthread_cond_broadcast(&g->cv);
            continue;
        }
        pc->state = HUB_CH_ACTIVE;
        pick->active++;
        unsigned gen = atomic_load(&pick->gen);
        pthread_mutex_unlock(&g->mu);
        int rc = hub_dl_run_range(g, pick, pc, gen, easy, wbuf);
        if (rc == 0) hub_dl_wake_hasher(g);
        pthread_mutex_lock(&g->mu);
        pick->active--;
        if (atomic_load(&pick->gen) == gen) {
            pc->state = rc == 0 ? HUB_CH_DONE : HUB_CH_PENDING;
            if (pick->chunked && rc == 0) {
                pthread_mutex_lock(&pick->mu);
                hub_dl_save_state(pick);
                pthread_mutex_unlock(&pick->mu);
            }
        }
        if (!atomic_load(&g->stop)) settle(g, pick);
        pthread_cond_broadcast(&g->cv);
    }
    g->running--;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (easy) curl_easy_cleanup(easy);
    free(wbuf);
    return NULL;
}

hub_status hub_download_all(hub_client *c, hub_item *items, size_t n, const hub_dl_opts *o, char *err, size_t errlen)
{
    engine g;
    memset(&g, 0, sizeof g);
    g.c = c;
    g.o = o;
    g.n = n;
    g.f = calloc(n ? n : 1, sizeof *g.f);
    if (!g.f) { snprintf(err, errlen, "out of memory"); return HUB_ERR_INTERNAL; }
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    uint64_t total = 0, base = 0;
    for (size_t i = 0; i < n; i++) {
        dfile *f = &g.f[i];
        f->it = &items[i];
        f->g = &g;
        f->fd = f->lock_fd = -1;
        f->phase = items[i].state == HUB_ITEM_PENDING ? PH_NEW : PH_DONE;
        pthread_mutex_init(&f->mu, NULL);
        pthread_mutex_init(&f->hash_mu, NULL);
        if (f->phase == PH_NEW) {
            total += items[i].e->size;
            struct stat st; /* what earlier runs left, for an honest progress figure */
            if (!stat(items[i].paths.part_path, &st) && (uint64_t)st.st_size <= items[i].e->size)
                base += (uint64_t)st.st_size;
        }
    }
    pthread_mutex_init(&g.hmu, NULL);
    pthread_cond_init(&g.hcv, NULL);
    pthread_t hth;
    int have_hasher = !pthread_create(&hth, NULL, hasher, &g);
    int nt = o->connections < 1 ? 1 : o->connections;
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int started = 0;
    for (int i = 0; th && i < nt; i++) {
        pthread_mutex_lock(&g.mu);
        g.running++;
        pthread_mutex_unlock(&g.mu);
        if (pthread_create(&th[i], NULL, worker, &g)) {
            pthread_mutex_lock(&g.mu);
            g.running--;
            pthread_mutex_unlock(&g.mu);
            break;
        }
        started++;
    }
    hub_progress pr;
    hub_progress_start(&pr, total, base);
    pthread_mutex_lock(&g.mu);
    while (g.running > 0) {
        if (o->progress) {
            pthread_mutex_unlock(&g.mu);
            hub_progress_draw(&pr, base + atomic_load(&g.bytes), stderr);
            pthread_mutex_lock(&g.mu);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&g.cv, &g.mu, &ts);
    }
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    free(th);
    pthread_mutex_lock(&g.hmu);
    g.hquit = 1;
    pthread_cond_signal(&g.hcv);
    pthread_mutex_unlock(&g.hmu);
    if (have_hasher) pthread_join(hth, NULL);
    pthread_mutex_destroy(&g.hmu);
    pthread_cond_destroy(&g.hcv);
    if (o->progress) {
        hub_progress_draw(&pr, base + atomic_load(&g.bytes), stderr);
        fputc('\n', stderr);
    }
    hub_status rc = (hub_status)g.err_code;
    if (!rc && started == 0) { rc = HUB_ERR_INTERNAL; snprintf(g.err, sizeof g.err, "cannot start download threads"); }
    if (!rc && (hub_interrupted || atomic_load(&c->timed_out))) rc = hub_stop_reason(c, g.err, sizeof g.err);
    if (!rc)
        for (size_t i = 0; i < n; i++)
            if (items[i].state == HUB_ITEM_PENDING || items[i].state == HUB_ITEM_FAILED) {
                rc = HUB_ERR_INTERNAL;
                snprintf(g.err, sizeof g.err, "%s was not downloaded", items[i].e->path);
                break;
            }
    if (rc == HUB_ERR_INTERRUPTED || rc == HUB_ERR_TIMEOUT) hub_stop_reason(c, g.err, sizeof g.err);
    if (rc) snprintf(err, errlen, "%s", g.err);
    for (size_t i = 0; i < n; i++) {
        dfile *f = &g.f[i];
        struct stat st;
        /* an empty sequential partial (opened, then the run stopped) is worth nothing to a resume */
        if (f->fd >= 0 && !f->chunked && !fstat(f->fd, &st) && st.st_size == 0) unlink(f->it->paths.part_path);
        if (f->fd >= 0) close(f->fd);
        hub_unlock(f->lock_fd);
        if (f->md) EVP_MD_CTX_free(f->md);
        items[i].bytes_fetched = atomic_load(&f->fetched);
        free(f->ch);
        pthread_mutex_destroy(&f->mu);
        pthread_mutex_destroy(&f->hash_mu);
    }
    free(g.f);
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
    return rc;
}
