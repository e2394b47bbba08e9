/* hub_cache.c - the huggingface_hub cache layout (see hub_cache.h). */
#include "hub_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "gio_out.h"
#include "gio_read.h"
#include "hub_auth.h"

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static char *fmt(const char *f, const char *a, const char *b, const char *c)
{
    int n = snprintf(NULL, 0, f, a, b, c);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p) snprintf(p, (size_t)n + 1, f, a, b, c);
    return p;
}

int hub_cache_init(hub_cache *hc, const char *repo_id, const char *local_dir, const char *cache_dir, char *err,
                   size_t errlen)
{
    memset(hc, 0, sizeof *hc);
    const char *root = cache_dir ? cache_dir : getenv("HF_HUB_CACHE");
    if (!cache_dir && (!root || !*root)) root = getenv("HUGGINGFACE_HUB_CACHE");
    char home[4096];
    if (root && *root) {
        hc->hub_root = strdup(root);
    } else {
        if (hub_hf_home(home, sizeof home)) {
            snprintf(err, errlen, "cannot place the cache: set HF_HOME or HF_HUB_CACHE (HOME is not set)");
            return -1;
        }
        hc->hub_root = path_join(home, "hub");
    }
    /* models--ORG--NAME: the repo id is validated, so "/" is its only separator */
    char folder[512] = "models--";
    size_t o = strlen(folder);
    for (const char *s = repo_id; *s && o + 3 < sizeof folder; s++) {
        if (*s == '/') { folder[o++] = '-'; folder[o++] = '-'; }
        else folder[o++] = *s;
    }
    folder[o] = 0;
    hc->repo_dir = hc->hub_root ? path_join(hc->hub_root, folder) : NULL;
    hc->lock_dir = hc->hub_root ? fmt("%s/.locks/%s%s", hc->hub_root, folder, "") : NULL;
    if (local_dir) hc->local_dir = strdup(local_dir);
    if (!hc->repo_dir || !hc->lock_dir || (local_dir && !hc->local_dir)) {
        snprintf(err, errlen, "out of memory");
        hub_cache_free(hc);
        return -1;
    }
    return 0;
}

void hub_cache_free(hub_cache *hc)
{
    free(hc->hub_root);
    free(hc->repo_dir);
    free(hc->lock_dir);
    free(hc->local_dir);
    memset(hc, 0, sizeof *hc);
}

int hub_paths_for(const hub_cache *hc, const hub_entry *e, hub_paths *p)
{
    memset(p, 0, sizeof *p);
    if (hc->local_dir) {
        char *meta_dir = path_join(hc->local_dir, ".cache/huggingface/download");
        if (!meta_dir) return -1;
        p->final_path = path_join(hc->local_dir, e->path);
        p->part_path = fmt("%s/%s.%s.incomplete", meta_dir, e->path, e->etag);
        p->chunk_path = fmt("%s/%s.%s.gq-chunks.incomplete", meta_dir, e->path, e->etag);
        p->state_path = fmt("%s/%s.%s.gq-chunks.state", meta_dir, e->path, e->etag);
        p->lock_path = fmt("%s/%s.lock%s", meta_dir, e->path, "");
        p->meta_path = fmt("%s/%s.metadata%s", meta_dir, e->path, "");
        free(meta_dir);
        if (!p->meta_path) { hub_paths_free(p); return -1; }
    } else {
        p->final_path = fmt("%s/blobs/%s%s", hc->repo_dir, e->etag, "");
        p->part_path = fmt("%s/blobs/%s.incomplete%s", hc->repo_dir, e->etag, "");
        p->chunk_path = fmt("%s/blobs/%s.gq-chunks.incomplete%s", hc->repo_dir, e->etag, "");
        p->state_path = fmt("%s/blobs/%s.gq-chunks.state%s", hc->repo_dir, e->etag, "");
        p->lock_path = fmt("%s/%s.lock%s", hc->lock_dir, e->etag, "");
    }
    if (!p->final_path || !p->part_path || !p->chunk_path || !p->state_path || !p->lock_path) {
        hub_paths_free(p);
        return -1;
    }
    return 0;
}

void hub_paths_free(hub_paths *p)
{
    free(p->final_path);
    free(p->part_path);
    free(p->chunk_path);
    free(p->state_path);
    free(p->lock_path);
    free(p->meta_path);
    memset(p, 0, sizeof *p);
}

int hub_ref_read(const hub_cache *hc, const char *revision, char commit[41])
{
    char *path = fmt("%s/refs/%s%s", hc->repo_dir, revision, "");
    if (!path) return -1;
    size_t n = 0;
    char *buf = gio_read_file(path, 4096, &n, NULL, 0); /* never hangs on a FIFO */
    free(path);
    if (!buf) return -1;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
    buf[n] = 0;
    int ok = n == 40 && hub_is_hex(buf, 40);
    if (ok) memcpy(commit, buf, 41);
    free(buf);
    return ok ? 0 : -1;
}

/* refs and local-dir metadata: the project's one crash-safe small-file
 * writer (private O_EXCL temporary, fsync, rename, directory fsync). One at
 * a time: the download workers finish files concurrently, and the writer
 * registers each temporary in a small fixed table (for its signal cleanup)
 * that dozens of connections must not exhaust. */
static int write_atomic(const char *path, const char *data, size_t n)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    if (hub_mkdir_parents(path)) return -1;
    pthread_mutex_lock(&mu);
    int rc = gio_write_file_atomic(path, data, n, 0644, NULL, 0);
    int e = errno;
    pthread_mutex_unlock(&mu);
    errno = e;
    return rc;
}

int hub_ref_write(const hub_cache *hc, const char *revision, const char *commit)
{
    char *path = fmt("%s/refs/%s%s", hc->repo_dir, revision, "");
    if (!path) return -1;
    int rc = write_atomic(path, commit, strlen(commit)); /* huggingface_hub writes no newline */
    free(path);
    return rc;
}

char *hub_snapshot_dir(const hub_cache *hc, const char *commit)
{
    if (hc->local_dir) return strdup(hc->local_dir);
    return fmt("%s/snapshots/%s%s", hc->repo_dir, commit, "");
}

int hub_mkdir_parents(const char *path)
{
    char buf[8192];
    size_t n = strlen(path);
    if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = 0;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    return 0;
}

int hub_publish(const hub_cache *hc, const char *commit, const hub_entry *e, const hub_paths *p)
{
    if (hc->local_dir) {
        char meta[256];
        int n = snprintf(meta, sizeof meta, "%s\n%s\n%.3f\n", commit, e->etag, (double)time(NULL));
        return write_atomic(p->meta_path, meta, (size_t)n);
    }
    char *link = fmt("%s/snapshots/%s/%s", hc->repo_dir, commit, e->path);
    if (!link) return -1;
    /* ../ once per folder below snapshots/<commit>/, plus two for snapshots/<commit> */
    size_t ups = 2;
    for (const char *s = e->path; *s; s++) ups += *s == '/';
    char target[4096];
    size_t o = 0;
    for (size_t i = 0; i < ups && o + 3 < sizeof target; i++) { memcpy(target + o, "../", 3); o += 3; }
    snprintf(target + o, sizeof target - o, "blobs/%s", e->etag);
    char cur[4096];
    ssize_t cl = readlink(link, cur, sizeof cur - 1);
    int rc = 0;
    if (cl >= 0 && (cur[cl] = 0, !strcmp(cur, target))) goto out;
    rc = -1;
    if (hub_mkdir_parents(link)) goto out;
    char *tmp = fmt("%s.gq-link.tmp%s%s", link, "", "");
    if (!tmp) goto out;
    unlink(tmp);
    if (!symlink(target, tmp) && !rename(tmp, link)) rc = 0;
    else unlink(tmp);
    free(tmp);
out:
    free(link);
    return rc;
}

int hub_is_present(const hub_cache *hc, const hub_entry *e, const hub_paths *p)
{
    struct stat st;
    if (stat(p->final_path, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->size) return 0;
    if (!hc->local_dir) return 1;
    size_t n = 0;
    char *meta = gio_read_file(p->meta_path, 4096, &n, NULL, 0);
    if (!meta) return 0;
    /* commit \n etag \n time */
    char *line2 = memchr(meta, '\n', n);
    int ok = 0;
    if (line2) {
        line2++;
        line2[strcspn(line2, "\r\n")] = 0;
        ok = strlen(line2) == strlen(e->etag) && !strcmp(line2, e->etag);
    }
    free(meta);
    return ok;
}

int hub_free_bytes(const char *path, uint64_t *out)
{
    const char *fake = getenv("GQ_HUB_FREE_BYTES");
    if (fake && *fake) {
        *out = strtoull(fake, NULL, 10);
        return 0;
    }
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", path);
    struct statvfs sv;
    for (;;) {
        if (!statvfs(buf, &sv)) break;
        char *slash = strrchr(buf, '/');
        if (!slash) { if (statvfs(".", &sv)) return -1; break; }
        if (slash == buf) { if (statvfs("/", &sv)) return -1; break; }
        *slash = 0;
    }
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    return 0;
}

int hub_lock(const char *path, void (*waiting)(void *ctx), int (*stop)(void *ctx), void *ctx)
{
    if (hub_mkdir_parents(path)) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    /* flock, like Python's filelock: huggingface_hub and we exclude each other */
    for (int told = 0;; told = 1) {
        if (!flock(fd, LOCK_EX | LOCK_NB)) return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) break;
        if (!told && waiting) waiting(ctx);
        if (stop && stop(ctx)) { errno = EINTR; break; }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

void hub_unlock(int fd)
{
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}
