/* provenance.c - see provenance.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gio_read.h"
#include "provenance.h"

void cv_provenance_init(cv_provenance *p)
{
    memset(p, 0, sizeof *p);
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return s[n] == 0;
}

const char *cv_sha256_from_name(int from)
{
    return from == CV_SHA256_BLOB_NAME ? "hf-cache-blob-name"
           : from == CV_SHA256_LOCAL_DIR ? "hf-local-dir-metadata"
                                         : "computed";
}

/* A folder made by huggingface_hub's (or our) --local-dir download keeps, per
 * file, ROOT/.cache/huggingface/download/NAME.metadata = "commit\netag\ntime\n"
 * (huggingface_hub's LocalDownloadFileMetadata; time is when the record was
 * written, a float in seconds). For an LFS file the etag is the sha256 of
 * its content (64 hex; other files' etags are git sha1s, 40 hex). The record
 * is taken only while it is fresh, by huggingface_hub's own rule (it then
 * trusts the record rather than re-hashing): the file was not modified
 * after the record was written. Its rule is mtime - 1 <= time with the
 * fractional mtime; whole seconds here (st_mtime <= time) are as strict or
 * stricter, and portable. Anything else (no record, stale, unreadable, not
 * 64 hex): 0, and the file is hashed. */
static int sha256_from_local_dir(const char *path, const char *name, const struct stat *st, char out[65])
{
    size_t lp = strlen(path), ln = strlen(name);
    if (ln == 0 || lp <= ln || path[lp - ln - 1] != '/' || strcmp(path + lp - ln, name))
        return 0;
    char meta[PATH_MAX];
    if (snprintf(meta, sizeof meta, "%.*s.cache/huggingface/download/%s.metadata", (int)(lp - ln), path, name) >=
        (int)sizeof meta)
        return 0;
    size_t len = 0;
    char *txt = gio_read_file(meta, 4096, &len, NULL, 0); /* never hangs on a FIFO */
    if (!txt)
        return 0;
    int ok = 0;
    char *l2 = memchr(txt, '\n', len);
    char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    if (l3 && l3 - (l2 + 1) == 64) {
        *l3 = 0;
        char *end = NULL;
        double when = strtod(l3 + 1, &end);
        ok = is_hex(l2 + 1, 64) && end != l3 + 1 && (*end == '\n' || *end == 0) && (double)st->st_mtime <= when;
        if (ok)
            memcpy(out, l2 + 1, 65);
    }
    free(txt);
    return ok;
}

int cv_provenance_add(cv_provenance *p, const char *path, const char *name, char *err, size_t errlen)
{
    struct stat st;
    errno = 0;
    if (stat(path, &st) || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a regular file");
        return -1;
    }
    cv_source_file *f = realloc(p->files, (p->n + 1) * sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->files = f;
    f = &p->files[p->n];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    f->path = strdup(path);
    if (!f->name || !f->path) {
        free(f->name);
        free(f->path);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->n++;
    f->size = (uint64_t)st.st_size;
    f->shard = -1;
    /* HF cache: snapshots/<commit>/<file> -> ../../blobs/<sha256> for LFS files. */
    char real[PATH_MAX];
    if (realpath(path, real)) {
        const char *base = strrchr(real, '/');
        base = base ? base + 1 : real;
        if (base - real >= 7 && !strncmp(base - 7, "/blobs/", 7) && strlen(base) == 64 && is_hex(base, 64)) {
            memcpy(f->sha256, base, 65);
            f->from = CV_SHA256_BLOB_NAME;
        }
    }
    if (!f->sha256[0] && sha256_from_local_dir(path, name, &st, f->sha256))
        f->from = CV_SHA256_LOCAL_DIR;
    return 0;
}

void cv_provenance_locate(cv_provenance *p, const char *dir)
{
    char abs[PATH_MAX];
    if (!realpath(dir, abs) && snprintf(abs, sizeof abs, "%s", dir) >= (int)sizeof abs)
        return;
    /* realpath keeps the snapshot directory (only files there are links). */
    const char *m = strstr(abs, "/models--");
    const char *s = m ? strstr(m, "/snapshots/") : NULL;
    if (!m || !s)
        return;
    const char *org = m + 9, *sep = strstr(org, "--");
    if (!sep || sep > s)
        return;
    const char *commit = s + 11, *end = strchr(commit, '/');
    size_t clen = end ? (size_t)(end - commit) : strlen(commit);
    if (clen == 0 || clen >= sizeof p->commit)
        return;
    snprintf(p->repo_id, sizeof p->repo_id, "%.*s/%.*s", (int)(sep - org), org, (int)(s - sep - 2), sep + 2);
    memcpy(p->commit, commit, clen);
    p->commit[clen] = 0;
}

/* Hash PATH; gives up (ECANCELED) as soon as *stop becomes non-zero, so that
 * an interrupted or failed conversion does not wait for 13 GB of hashing. */
static int sha256_file_until(const char *path, char out[65], const atomic_int *stop)
{
    int fd = gio_open_read(path, NULL, 0); /* never blocks on a FIFO */
    if (fd < 0)
        return -1;
#if defined(POSIX_FADV_SEQUENTIAL) && defined(__linux__)
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t cap = (size_t)4 << 20;
    unsigned char *buf = malloc(cap);
    int rc = -1;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto done;
    for (;;) {
        if (stop && atomic_load(stop)) {
            errno = ECANCELED;
            goto done;
        }
        ssize_t r = read(fd, buf, cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto done;
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto done;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    rc = 0;
done:
    {
        int e = errno;
        EVP_MD_CTX_free(ctx);
        free(buf);
        close(fd);
        errno = e;
    }
    return rc;
}

/* Hashing threads take the next unhashed file; large shards then hash in
 * parallel (on a warm page cache the work is CPU-bound). */
static void *hash_thread(void *arg)
{
    cv_provenance *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        int stop = p->failed;
        pthread_mutex_unlock(&p->mu);
        if (stop || i >= p->n)
            break;
        if (p->files[i].sha256[0] || p->files[i].claimed)
            continue;
        char hex[65];
        if (sha256_file_until(p->files[i].path, hex, &p->cancel)) {
            pthread_mutex_lock(&p->mu);
            snprintf(p->err, sizeof p->err, "%s: cannot hash: %s", p->files[i].path, strerror(errno));
            p->failed = 1;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        memcpy(p->files[i].sha256, hex, sizeof hex);
    }
    return NULL;
}

int cv_provenance_start(cv_provenance *p)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int want = ncpu > 0 ? (int)ncpu : 1;
    if (want > CV_HASH_THREADS)
        want = CV_HASH_THREADS;
    pthread_mutex_init(&p->mu, NULL);
    p->next = 0;
    p->running = 0;
    for (int i = 0; i < want; i++)
        if (pthread_create(&p->threads[p->running], NULL, hash_thread, p) == 0)
            p->running++;
    if (p->running == 0) {
        hash_thread(p); /* no thread: hash now */
        return p->failed ? -1 : 0;
    }
    return 0; /* failures are reported by cv_provenance_wait */
}

static void join_all(cv_provenance *p)
{
    for (int i = 0; i < p->running; i++)
        pthread_join(p->threads[i], NULL);
    if (p->running)
        pthread_mutex_destroy(&p->mu);
    p->running = 0;
}

int cv_provenance_wait(cv_provenance *p, char *err, size_t errlen)
{
    join_all(p);
    if (p->failed) {
        snprintf(err, errlen, "%s", p->err);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++)
        if (!p->files[i].sha256[0]) {
            snprintf(err, errlen, "%s: not hashed", p->files[i].path);
            return -1;
        }
    return 0;
}

void cv_provenance_free(cv_provenance *p)
{
    atomic_store(&p->cancel, 1); /* nobody will read the hashes now */
    join_all(p);
    for (size_t i = 0; i < p->n; i++) {
        free(p->files[i].name);
        free(p->files[i].path);
    }
    free(p->files);
    p->files = NULL;
    p->n = 0;
}
