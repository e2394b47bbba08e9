/* gio_out.c - see gio_out.h for the promise. */
#include "gio_out.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gio_err.h"
#include "gio_stream.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

/* ---- the registry a signal handler reads ----
 * Fixed slots holding the temporaries' names by value (a handler must never
 * follow a pointer that another thread may be freeing). A slot's state is
 * written last when claimed and first when released, with lock-free
 * atomics, so a handler sees either a complete name or a free slot. */
enum { SLOT_FREE, SLOT_CLAIMED, SLOT_WRITING, SLOT_PUBLISHED };
#define GIO_SLOTS 32
#define GIO_NAME_MAX 4096
static struct {
    atomic_int state;
    char name[GIO_NAME_MAX];
} g_slots[GIO_SLOTS];
/* Outputs this process has published: a writer may be freed right after
 * its commit (the GGUF sink does so), but the run has still succeeded. */
static atomic_int g_published;

/* A free slot now holding tmp, or -1 (name too long, or all taken). */
static int slot_claim(const char *tmp)
{
    if (strlen(tmp) >= GIO_NAME_MAX) return -1;
    for (int i = 0; i < GIO_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (atomic_compare_exchange_strong(&g_slots[i].state, &expect, SLOT_CLAIMED)) {
            memcpy(g_slots[i].name, tmp, strlen(tmp) + 1);
            atomic_store(&g_slots[i].state, SLOT_WRITING);
            return i;
        }
    }
    return -1;
}

int gio_out_signal_cleanup(void)
{
    for (int i = 0; i < GIO_SLOTS; i++)
        if (atomic_load(&g_slots[i].state) == SLOT_WRITING) unlink(g_slots[i].name);
    return atomic_load(&g_published) > 0;
}

/* ---- primitives ---- */

int gio_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const unsigned char *p = buf;
    while (len) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;   /* macOS caps at INT_MAX */
        ssize_t n = pwrite(fd, p, chunk, off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int gio_sync_fd(int fd)
{
#ifdef F_FULLFSYNC
    /* fsync on macOS does not flush the drive's cache; F_FULLFSYNC does. */
    if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
#endif
    while (fsync(fd) != 0) {
        if (errno != EINTR) return -1;
    }
    return 0;
}

/* dirname into buf ("." when path has no slash, "/" for "/x"). */
static int dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return snprintf(buf, len, ".") < (int)len ? 0 : -1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n);
    buf[n] = 0;
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = gio_sync_fd(fd);
    if (rc && (errno == EINVAL || errno == ENOTSUP || errno == EBADF)) rc = 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int gio_sync_dir_of(const char *path)
{
    char dir[GIO_NAME_MAX];
    if (dir_of(path, dir, sizeof dir)) return -1;
    return sync_dir(dir);
}

int gio_publish(int fd, const char *partial, const char *final_path)
{
    if (gio_sync_fd(fd) || rename(partial, final_path)) return -1;
    return gio_sync_dir_of(final_path) ? 1 : 0;
}

int gio_open_partial(const char *path, int flags, mode_t mode, struct stat *st)
{
    int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
    if (fd < 0) return -1;
    struct stat s;
    if (fstat(fd, &s) || !S_ISREG(s.st_mode) || s.st_nlink != 1) {
        int e = fstat(fd, &s) ? errno : EINVAL;
        close(fd);
        errno = e;
        return -1;
    }
    /* back to blocking I/O (no effect on regular files, but honest) */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (st) *st = s;
    return fd;
}

/* ---- the writer ---- */

struct gio_out {
    char *path, *tmp, *dir;
    int fd, overwrite, slot;           /* slot: -1 when not registered */
    int published;
    int done;                          /* commit was called */
    volatile sig_atomic_t *cancel;
    gio_stream *st;                    /* bulk writes (gio_out_write); NULL until the first */
    int no_stream;                     /* the stream could not be made: plain pwrite */
};

/* Remove "BASE.tmp.<digits>" files in dir whose flock is free (their writer
 * died). Returns -1 with errno EBUSY if one is locked: another process is
 * writing the same PATH right now (busy gets its name). */
static int remove_stale(const char *dir, const char *base, char *busy, size_t busylen)
{
    DIR *d = opendir(dir);
    if (!d) return 0;   /* creating the temporary will report the real problem */
    size_t bl = strlen(base);
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp.", 5) != 0) continue;
        const char *pid = n + bl + 5;
        size_t k = 0;
        while (pid[k] >= '0' && pid[k] <= '9') k++;
        if (k == 0 || pid[k]) continue;
        char full[GIO_NAME_MAX];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, n) >= sizeof full) continue;
        /* O_NONBLOCK: a FIFO planted under that name must not hang us */
        int fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                unlink(full);
            } else if (errno == EWOULDBLOCK) {
                snprintf(busy, busylen, "%s", full);
                rc = -1;
            }
        }
        close(fd);   /* also drops our lock */
    }
    closedir(d);
    if (rc) errno = EBUSY;
    return rc;
}

/* The directory's flock serialises "look for a live writer, then create
 * ours" between processes, so that of two conversions started at the same
 * instant exactly one goes ahead. Best effort: a file system without flock
 * on directories, or a lock held for long by someone else, only reopens the
 * (harmless) race in which the loser fails at commit instead. */
static int lock_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    for (int i = 0; i < 200; i++) {   /* 2 s */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

static void release(gio_out *o)
{
    if (o->slot >= 0) atomic_store(&g_slots[o->slot].state, SLOT_FREE);
    o->slot = -1;
}

gio_out *gio_out_create(const char *path, int overwrite, char *err, size_t errlen)
{
    gio_out *o = calloc(1, sizeof *o);
    if (!o || !path || !*path) {
        int e = o ? EINVAL : ENOMEM;
        gio_errf(err, errlen, "%s: %s", path ? path : "(null)", o ? "empty output path" : "out of memory");
        free(o);
        errno = e;
        return NULL;
    }
    o->fd = -1;
    o->slot = -1;
    o->overwrite = overwrite;
    o->path = strdup(path);
    o->dir = malloc(strlen(path) + 2);
    size_t tl = strlen(path) + 32;
    o->tmp = malloc(tl);
    if (!o->path || !o->dir || !o->tmp || dir_of(path, o->dir, strlen(path) + 2)) {
        gio_errf(err, errlen, "%s: out of memory", path);
        gio_out_free(o);
        errno = ENOMEM;
        return NULL;
    }
    snprintf(o->tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int e = 0, dfd = -1;
    struct stat st;
    char busy[GIO_NAME_MAX];
    if (!*base) {
        gio_errf(err, errlen, "%s: output path names a directory, not a file", path);
        e = EINVAL;
    } else if (lstat(path, &st) == 0 && !overwrite) {
        gio_errf(err, errlen, "%s already exists; refusing to overwrite it (remove it, or allow overwriting, e.g. --force)",
                 path);
        e = EEXIST;
    } else if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        gio_errf(err, errlen, "%s exists and is not a regular file; refusing to replace it", path);
        e = EEXIST;
    } else {
        dfd = lock_dir(o->dir);
        if (remove_stale(o->dir, base, busy, sizeof busy) != 0) {
            gio_errf(err, errlen, "%s: another process is writing it right now (%s is locked); wait for it to "
                     "finish or choose another output", path, busy);
            e = EBUSY;
        } else {
            /* registered before the file exists: a signal handler never
             * misses it. With every slot taken (more simultaneous outputs
             * than any tool here has) it goes unregistered: a signal may then
             * leave it, and the next writer of PATH removes it as stale. */
            o->slot = slot_claim(o->tmp);
        }
    }
    for (int attempt = 0; !e && attempt < 3; attempt++) {
        o->fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (o->fd < 0) {
            e = errno;
            gio_errf(err, errlen, "%s: cannot create the temporary file %s: %s", path, o->tmp, strerror(e));
            break;
        }
        /* Lock before anything else; if a concurrent stale-cleaner unlinked
         * the fresh file in between, the inode check notices and we retry. */
        struct stat a, b;
        if (flock(o->fd, LOCK_EX | LOCK_NB) == 0 && fstat(o->fd, &a) == 0 && stat(o->tmp, &b) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            break;
        close(o->fd);
        o->fd = -1;
        if (attempt == 2) {
            gio_errf(err, errlen, "%s: cannot create and lock the temporary file %s", path, o->tmp);
            e = EBUSY;
        }
    }
    if (dfd >= 0) close(dfd);   /* drops the directory lock */
    if (e) {
        if (o->fd < 0) {        /* the name is not ours to unlink: it may belong to someone else */
            release(o);
            free(o->tmp);
            o->tmp = NULL;
        }
        gio_out_free(o);
        errno = e;
        return NULL;
    }
    return o;
}

int gio_out_fd(const gio_out *o) { return o->fd; }

/* The one write path: through the stream (made at the first write), or
 * plain pwrite when it could not be made (no memory or no thread for it:
 * still correct, only slower). borrowed: the stream may write from buf
 * itself until gio_out_release; pwrite is done with it at return. */
static int write_out(gio_out *o, const void *buf, size_t len, uint64_t off, int borrowed)
{
    if (o->fd < 0 || o->done) {
        errno = EBADF;
        return -1;
    }
    if (!o->st && !o->no_stream && !(o->st = gio_stream_open(o->fd, o->tmp)))
        o->no_stream = 1;
    if (!o->st)
        return gio_pwrite_all(o->fd, buf, len, (off_t)off);
    return borrowed ? gio_stream_write_borrowed(o->st, buf, len, off) : gio_stream_write(o->st, buf, len, off);
}

int gio_out_write(gio_out *o, const void *buf, size_t len, uint64_t off) { return write_out(o, buf, len, off, 0); }

int gio_out_write_borrowed(gio_out *o, const void *buf, size_t len, uint64_t off)
{
    return write_out(o, buf, len, off, 1);
}

int gio_out_release(gio_out *o, const void *lo, const void *hi, int wait)
{
    return o->st ? gio_stream_release(o->st, lo, hi, wait) : 0;
}

int gio_out_reserve(gio_out *o, uint64_t size)
{
    if (gio_reserve(o->fd, size))
        return -1;
    return ftruncate(o->fd, (off_t)size) ? -1 : 0;
}
const char *gio_out_path(const gio_out *o) { return o->path; }
const char *gio_out_temp_path(const gio_out *o) { return o->tmp; }
const char *gio_out_dir(const gio_out *o) { return o->dir; }
void gio_out_set_cancel(gio_out *o, volatile sig_atomic_t *flag) { o->cancel = flag; }
int gio_out_published(const gio_out *o) { return o->published; }

/* A commit that fails before the move: remove the temporary, keep errno. */
static int drop(gio_out *o, int e)
{
    gio_stream_free(o->st);
    o->st = NULL;
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    unlink(o->tmp);
    release(o);
    errno = e;
    return -1;
}

static void mark_published(gio_out *o)
{
    if (o->published) return;
    o->published = 1;
    if (o->slot >= 0) atomic_store(&g_slots[o->slot].state, SLOT_PUBLISHED);
    atomic_fetch_add(&g_published, 1);
}

int gio_out_commit(gio_out *o, char *err, size_t errlen)
{
    if (o->done || o->fd < 0) {
        gio_errf(err, errlen, "%s: commit called twice", o->path);
        errno = EINVAL;
        return -1;
    }
    o->done = 1;
    if (o->st) {
        /* every block on the disk before the fsync that makes it durable */
        if (gio_stream_flush(o->st)) {
            int e = errno;
            gio_errf(err, errlen, "%s: write failed: %s%s", o->tmp, strerror(e),
                     e == ENOSPC ? " (free some space or choose another output directory)" : "");
            return drop(o, e);
        }
        gio_stream_free(o->st);
        o->st = NULL;
    }
    if (gio_sync_fd(o->fd)) {
        int e = errno;
        gio_errf(err, errlen, "%s: fsync failed: %s", o->tmp, strerror(e));
        return drop(o, e);
    }
    if (o->cancel && *o->cancel) {
        gio_errf(err, errlen, "%s: interrupted before it was moved into place; temporary removed", o->path);
        return drop(o, EINTR);
    }
    if (o->overwrite) {
        if (rename(o->tmp, o->path)) {
            int e = errno;
            gio_errf(err, errlen, "%s: cannot move %s into place: %s", o->path, o->tmp, strerror(e));
            return drop(o, e);
        }
    } else if (link(o->tmp, o->path) == 0) {
        /* link() fails atomically if PATH appeared meanwhile, where rename
         * would silently replace it. Published from here on: marked before
         * the old name goes, so a signal in between sees a success. */
        mark_published(o);
        unlink(o->tmp);
    } else {
        struct stat st;
        int e = errno;
        if (e == EEXIST || lstat(o->path, &st) == 0) {
            gio_errf(err, errlen, "%s appeared while it was being written; refusing to overwrite it (use --force "
                     "to replace it)", o->path);
            return drop(o, EEXIST);
        }
        /* no hard links on this file system: check-then-rename */
        if (rename(o->tmp, o->path)) {
            e = errno;
            gio_errf(err, errlen, "%s: cannot move %s into place: %s", o->path, o->tmp, strerror(e));
            return drop(o, e);
        }
    }
    mark_published(o);
    close(o->fd);   /* releases the lock; the temporary's name is gone already */
    o->fd = -1;
    if (sync_dir(o->dir)) {
        /* PATH is complete and in place; only its durability across a power
         * cut is in doubt. Report it, but never remove the good file. */
        int e = errno;
        gio_errf(err, errlen, "%s: written, but fsync of directory %s failed: %s", o->path, o->dir, strerror(e));
        errno = e;
        return 1;
    }
    return 0;
}

void gio_out_free(gio_out *o)
{
    if (!o) return;
    int published = gio_out_published(o);
    /* An unpublished temporary is unlinked before its slot is released: a
     * second signal in between (waiting for the stream's writes can take a
     * while) must still find it registered. The handler unlinking it a
     * second time is harmless: the name carries our pid, no one else's file. */
    if (o->tmp && !published && !o->done) unlink(o->tmp);
    gio_stream_free(o->st);   /* waits for its writes in flight */
    if (o->fd >= 0) close(o->fd);
    release(o);
    free(o->path);
    free(o->tmp);
    free(o->dir);
    free(o);
}

int gio_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen)
{
    gio_out *o = NULL;
    /* another thread or process writing the same small file: wait a little */
    for (int i = 0; i < 200 && !(o = gio_out_create(path, 1, err, errlen)) && errno == EBUSY; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!o) return -1;
    int rc = 0;
    if (fchmod(o->fd, mode) || gio_pwrite_all(o->fd, data, len, 0)) {
        int e = errno;
        gio_errf(err, errlen, "%s: cannot write %s: %s", path, o->tmp, strerror(e));
        gio_out_free(o);
        errno = e;
        return -1;
    }
    rc = gio_out_commit(o, err, errlen);
    int e = errno;
    gio_out_free(o);
    errno = e;
    return rc < 0 ? -1 : 0;
}
