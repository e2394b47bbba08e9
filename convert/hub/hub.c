/* hub.c - fetch a repository: resolve the revision to a commit once, list
 * and select files, check disk space, download what is missing, link the
 * snapshot (see hub.h). The offline path reads only the cache. */
#include "hub.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gio_read.h"
#include "hub_auth.h"
#include "hub_cache.h"
#include "hub_download.h"
#include "hub_http.h"
#include "hub_parse.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "hub_interrupted must be lock-free to be set from a signal handler");

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    hub_interrupted = 1;
    errno = saved;
}

void hub_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking flock() wait must end too */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* --include replaces the default selection; --exclude then removes. Globs
 * use fnmatch without FNM_PATHNAME, so '*' also crosses '/', as in
 * huggingface_hub's allow_patterns. */
static int selected(const hub_fetch_opts *o, const char *path)
{
    int want = 0;
    if (o->n_include) {
        for (size_t i = 0; i < o->n_include && !want; i++) want = !fnmatch(o->include[i], path, 0);
    } else {
        want = hub_default_wanted(path);
    }
    for (size_t i = 0; i < o->n_exclude && want; i++)
        if (!fnmatch(o->exclude[i], path, 0)) want = 0;
    return want;
}

void hub_fetch_result_free(hub_fetch_result *r)
{
    for (size_t i = 0; i < r->n_files; i++) free(r->files[i].path);
    free(r->files);
    free(r->snapshot_dir);
    memset(r, 0, sizeof *r);
}

static int add_result_file(hub_fetch_result *r, const char *path, uint64_t size, int downloaded)
{
    hub_fetched_file *v = realloc(r->files, (r->n_files + 1) * sizeof *v);
    if (!v) return -1;
    r->files = v;
    v[r->n_files].path = strdup(path);
    if (!v[r->n_files].path) return -1;
    v[r->n_files].size = size;
    v[r->n_files].downloaded = downloaded;
    r->n_files++;
    r->bytes_total += size;
    return 0;
}

/* ---- offline: the cache only ---- */

typedef struct {
    char **v;
    size_t n;
} strlist;

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static int strlist_add(strlist *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) return -1;
    l->v = v;
    if (!(v[l->n] = strdup(s))) return -1;
    l->n++;
    return 0;
}

/* Files (symlinks that resolve, or plain files) below dir, repo-relative. */
static void walk(const char *dir, const char *rel, strlist *out, int depth)
{
    if (depth > 16) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".cache")))
            continue;
        char full[8192], r[4096];
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        struct stat st;
        if (stat(full, &st)) continue; /* dangling symlink: its blob is gone, so the file is missing */
        if (S_ISDIR(st.st_mode)) walk(full, r, out, depth + 1);
        else if (S_ISREG(st.st_mode)) strlist_add(out, r);
    }
    closedir(d);
}

static int has(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return 1;
    return 0;
}

/* What the default selection must contain: config, tokenizer, and every
 * shard the index names (or a single model.safetensors). */
static void required_files(const char *snap, const strlist *present, strlist *req)
{
    strlist_add(req, "config.json");
    strlist_add(req, "tokenizer.json");
    char path[8192];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", snap);
    size_t n = 0;
    char *buf = gio_read_file(path, 64u << 20, &n, NULL, 0); /* refuses a FIFO instead of hanging on it */
    if (!buf && errno != EFBIG) {
        if (!has(present, "model.safetensors")) {
            int any = 0;
            for (size_t i = 0; i < present->n; i++) any |= hub_default_wanted(present->v[i]) &&
                                                          strstr(present->v[i], ".safetensors") &&
                                                          !strstr(present->v[i], ".index.json");
            if (!any) strlist_add(req, "model.safetensors.index.json");
        }
        return;
    }
    char **names = NULL;
    size_t nn = 0;
    /* a shard name with a NUL in it would read as a shorter one: such an index names nothing we trust */
    if (buf && n > 0 && !hub_json_string_list(buf, n, "weight_map", &names, &nn)) {
        for (size_t i = 0; i < nn; i++)
            if (hub_path_is_safe(names[i]) && !has(req, names[i])) strlist_add(req, names[i]);
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(buf);
}

static hub_status fetch_offline(const hub_fetch_opts *o, const hub_cache *hc, const char *rev, hub_fetch_result *r,
                         char *err, size_t errlen)
{
    r->offline = 1;
    char commit[41] = "";
    if (!hc->local_dir) {
        if (strlen(rev) == 40 && hub_is_hex(rev, 40)) {
            memcpy(commit, rev, 41);
        } else if (hub_ref_read(hc, rev, commit)) {
            snprintf(err, errlen,
                     "HF_HUB_OFFLINE is set, and revision '%s' of %s is not in the cache (no %s/refs/%s): run once "
                     "without HF_HUB_OFFLINE=1 to download it",
                     rev, o->repo_id, hc->repo_dir, rev);
            return HUB_ERR_OFFLINE;
        }
    }
    memcpy(r->commit, commit, 41);
    r->snapshot_dir = hub_snapshot_dir(hc, commit);
    if (!r->snapshot_dir) { snprintf(err, errlen, "out of memory"); return HUB_ERR_INTERNAL; }
    strlist present = {0}, req = {0}, missing = {0};
    walk(r->snapshot_dir, "", &present, 0);
    if (!o->n_include) required_files(r->snapshot_dir, &present, &req);
    for (size_t i = 0; i < req.n; i++)
        if (!has(&present, req.v[i]) && selected(o, req.v[i])) strlist_add(&missing, req.v[i]);
    size_t nsel = 0;
    for (size_t i = 0; i < present.n; i++) {
        if (!selected(o, present.v[i])) continue;
        nsel++;
        char full[8192];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", r->snapshot_dir, present.v[i]);
        if (!stat(full, &st)) add_result_file(r, present.v[i], (uint64_t)st.st_size, 0);
    }
    hub_status rc = HUB_OK;
    if (missing.n || !nsel) {
        size_t l = (size_t)snprintf(err, errlen, "HF_HUB_OFFLINE is set, and the cached snapshot %s of %s lacks ",
                                    r->snapshot_dir, o->repo_id);
        if (!missing.n) l += (size_t)snprintf(err + l, l < errlen ? errlen - l : 0, "every selected file");
        for (size_t i = 0; i < missing.n && l < errlen; i++)
            l += (size_t)snprintf(err + l, errlen - l, "%s%s", i ? ", " : "", missing.v[i]);
        if (l < errlen) snprintf(err + l, errlen - l, ": run once without HF_HUB_OFFLINE=1 to download them");
        rc = HUB_ERR_OFFLINE;
    }
    strlist_free(&present);
    strlist_free(&req);
    strlist_free(&missing);
    return rc;
}

/* ---- online ---- */

static hub_status get_listing(hub_client *c, CURL *easy, const char *repo, const char *rev, int local_dir,
                              hub_listing *l, char *err, size_t errlen)
{
    char rev_esc[1024], url[4096];
    if (hub_url_escape(rev, 0, rev_esc, sizeof rev_esc)) { snprintf(err, errlen, "revision too long"); return HUB_ERR_USAGE; }
    if (snprintf(url, sizeof url, "%s/api/models/%s/revision/%s?blobs=true", c->endpoint, repo, rev_esc) >= (int)sizeof url) {
        snprintf(err, errlen, "HF_ENDPOINT is too long");
        return HUB_ERR_USAGE;
    }
    hub_buf b = {NULL, 0, 0, 256u << 20};
    hub_headers h;
    hub_what what = {repo, rev, NULL};
    hub_status rc = hub_http_get_small(c, easy, url, &b, &h, &what, err, errlen);
    if (!rc && hub_parse_repo_info(b.data, b.len, l, err, errlen)) rc = HUB_ERR_BAD_LISTING;
    if (!rc && l->incomplete) {
        /* the siblings lack sizes or blob ids: the tree API has them, page by page */
        hub_listing t = {0};
        memcpy(t.commit, l->commit, sizeof t.commit);
        snprintf(url, sizeof url, "%s/api/models/%s/tree/%s?recursive=true", c->endpoint, repo, l->commit);
        for (int page = 0; !rc && url[0]; page++) {
            if (page >= 10000) { snprintf(err, errlen, "the tree listing does not end"); rc = HUB_ERR_NETWORK; break; }
            b.len = 0;
            rc = hub_http_get_small(c, easy, url, &b, &h, &what, err, errlen);
            if (!rc && hub_parse_tree_page(b.data, b.len, &t, err, errlen)) rc = HUB_ERR_BAD_LISTING;
            if (!rc && h.link_next[0] && !hub_same_origin(h.link_next, c->endpoint)) {
                snprintf(err, errlen, "the tree listing's next page points to another host; refusing");
                rc = HUB_ERR_NETWORK;
            }
            if (!rc) snprintf(url, sizeof url, "%s", h.link_next);
        }
        if (!rc) {
            t.incomplete = 0;
            for (size_t i = 0; i < t.n; i++) t.incomplete |= t.v[i].size == UINT64_MAX || !t.v[i].etag[0];
            hub_listing_free(l);
            *l = t;
        } else {
            hub_listing_free(&t);
        }
    }
    /* the whole listing is known: refuse it now, before the first byte, if it cannot be laid out */
    if (!rc && hub_listing_check(l, local_dir, err, errlen)) rc = HUB_ERR_BAD_LISTING;
    free(b.data);
    return rc;
}

/* The last resort for a file the listings describe badly: the resolve
 * URL's own metadata headers (HEAD, not following the CDN redirect). */
static hub_status head_metadata(hub_client *c, CURL *easy, const char *url, hub_entry *e, const hub_what *what,
                                char *err, size_t errlen)
{
    for (int attempt = 1;; attempt++) {
        hub_headers h;
        hub_xfer r = hub_http_once(c, easy, url, 2, UINT64_MAX, UINT64_MAX, NULL, NULL, &h, what, err, errlen);
        if (r == HUB_X_OK) {
            if (!h.linked_etag[0] || !h.has_size) {
                snprintf(err, errlen, "the hub gave no etag or size for %s", e->path);
                return HUB_ERR_NETWORK;
            }
            memcpy(e->etag, h.linked_etag, sizeof e->etag);
            e->is_lfs = strlen(e->etag) == 64;
            e->size = h.linked_size;
            return HUB_OK;
        }
        if (r == HUB_X_ABORTED) {
            hub_status st = hub_stop_reason(c, err, errlen);
            return st != HUB_OK ? st : HUB_ERR_INTERRUPTED;
        }
        if (r == HUB_X_FATAL) return hub_http_fatal_status(c, &h);
        if (attempt >= c->max_attempts) return HUB_ERR_NETWORK;
        if (hub_backoff(c, attempt, h.retry_after)) {
            hub_status st = hub_stop_reason(c, err, errlen);
            return st != HUB_OK ? st : HUB_ERR_INTERRUPTED;
        }
    }
}

static int by_size_desc(const void *a, const void *b)
{
    const hub_item *x = a, *y = b;
    return x->e->size < y->e->size ? 1 : x->e->size > y->e->size ? -1 : strcmp(x->e->path, y->e->path);
}

static hub_status fetch_online(const hub_fetch_opts *o, const hub_cache *hc, const char *rev, hub_fetch_result *r,
                               char *err, size_t errlen)
{
    hub_client c;
    if (hub_client_init(&c, o->timeout_s, err, errlen)) return HUB_ERR_USAGE;
    CURL *easy = hub_easy_new(&c);
    hub_listing l = {0};
    hub_item *items = NULL;
    size_t n = 0;
    hub_status rc = easy ? HUB_OK : HUB_ERR_INTERNAL;
    if (rc) snprintf(err, errlen, "cannot create a curl handle");
    if (!rc) rc = get_listing(&c, easy, o->repo_id, rev, hc->local_dir != NULL, &l, err, errlen);
    if (!rc) {
        memcpy(r->commit, l.commit, sizeof r->commit);
        r->snapshot_dir = hub_snapshot_dir(hc, l.commit);
        items = calloc(l.n ? l.n : 1, sizeof *items);
        if (!r->snapshot_dir || !items) { rc = HUB_ERR_INTERNAL; snprintf(err, errlen, "out of memory"); }
    }
    hub_what what = {o->repo_id, rev, NULL};
    for (size_t i = 0; !rc && i < l.n; i++) {
        hub_entry *e = &l.v[i];
        if (!selected(o, e->path)) continue;
        char path_esc[12288], url[16384];
        if (hub_url_escape(e->path, 1, path_esc, sizeof path_esc)) {
            snprintf(err, errlen, "the server listed a file name too long to request: '%.200s'", e->path);
            rc = HUB_ERR_BAD_LISTING;
            break;
        }
        snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", c.endpoint, o->repo_id, l.commit, path_esc);
        what.file = e->path;
        if ((e->size == UINT64_MAX || !e->etag[0]) && (rc = head_metadata(&c, easy, url, e, &what, err, errlen)))
            break;
        hub_item *it = &items[n++];
        it->e = e;
        if (!(it->url = strdup(url)) || hub_paths_for(hc, e, &it->paths)) {
            snprintf(err, errlen, "out of memory");
            rc = HUB_ERR_INTERNAL;
            break;
        }
        it->state = hub_is_present(hc, e, &it->paths) ? HUB_ITEM_PRESENT : HUB_ITEM_PENDING;
        /* two paths with the same content share one blob: download it once, link it twice */
        for (size_t j = 0; !hc->local_dir && j + 1 < n; j++)
            if (!strcmp(items[j].e->etag, e->etag)) it->state = HUB_ITEM_PRESENT;
    }
    if (!rc && n == 0) {
        snprintf(err, errlen, "no file of %s at %s matches the selection%s", o->repo_id, rev,
                 o->n_include ? " (check --include/--exclude)" : " (is this a safetensors checkpoint? use --include)");
        rc = HUB_ERR_USAGE;
    }
    /* refs/<rev> as huggingface_hub writes it: only for names, not for a commit itself */
    if (!rc && !hc->local_dir && strcmp(rev, l.commit) && hub_ref_write(hc, rev, l.commit)) {
        snprintf(err, errlen, "cannot write %s/refs/%s: %s", hc->repo_dir, rev, strerror(errno));
        rc = HUB_ERR_IO;
    }
    if (!rc) { /* fail before the first byte, not at 95% */
        uint64_t need = 0, free_b = 0;
        for (size_t i = 0; i < n; i++) {
            if (items[i].state != HUB_ITEM_PENDING) continue;
            struct stat st;
            uint64_t have = 0;
            if (!stat(items[i].paths.part_path, &st) && (uint64_t)st.st_size <= items[i].e->size) have = (uint64_t)st.st_size;
            if (!stat(items[i].paths.chunk_path, &st)) have = 0; /* sparse, full size: counts nothing */
            need += items[i].e->size - have;
        }
        const char *where = hc->local_dir ? hc->local_dir : hc->repo_dir;
        if (need && !hub_free_bytes(where, &free_b) && free_b < need + (64u << 20)) {
            snprintf(err, errlen,
                     "not enough disk space under %s: %.2f GB to download, %.2f GB free; free some space or point "
                     "HF_HUB_CACHE (or --local-dir) at a bigger disk",
                     where, (double)need / 1e9, (double)free_b / 1e9);
            rc = HUB_ERR_IO;
        }
    }
    if (!rc) {
        qsort(items, n, sizeof *items, by_size_desc); /* big files first: their chunks fill the connections */
        hub_dl_opts d = {o->connections, o->chunk_size, o->progress, o->repo_id, rev, hc, l.commit};
        rc = hub_download_all(&c, items, n, &d, err, errlen);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        if (hub_publish(hc, l.commit, items[i].e, &items[i].paths)) {
            snprintf(err, errlen, "cannot link %s into %s: %s", items[i].e->path, r->snapshot_dir, strerror(errno));
            rc = HUB_ERR_IO;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!rc) add_result_file(r, items[i].e->path, items[i].e->size, items[i].state == HUB_ITEM_DOWNLOADED);
        r->bytes_fetched += items[i].bytes_fetched;
        free(items[i].url);
        hub_paths_free(&items[i].paths);
    }
    free(items);
    hub_listing_free(&l);
    r->requests = atomic_load(&c.requests);
    if (easy) curl_easy_cleanup(easy);
    hub_client_free(&c);
    return rc;
}

hub_status hub_fetch(const hub_fetch_opts *o, hub_fetch_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    double t0 = wall_s();
    const char *rev = o->revision ? o->revision : "main";
    char rev_lc[41];
    if (strlen(rev) == 40 && hub_is_hex(rev, 40)) { /* a commit: one spelling, so no refs/<COMMIT> */
        for (int i = 0; i < 41; i++) rev_lc[i] = (char)(rev[i] >= 'A' && rev[i] <= 'F' ? rev[i] + 32 : rev[i]);
        rev = rev_lc;
    }
    if (!hub_repo_id_is_valid(o->repo_id)) {
        snprintf(err, errlen, "'%s' is not a repository id: expected ORG/NAME, e.g. openai/gpt-oss-20b", o->repo_id);
        return HUB_ERR_USAGE;
    }
    if (!hub_revision_is_valid(rev)) {
        snprintf(err, errlen, "'%s' is not a usable revision name", rev);
        return HUB_ERR_USAGE;
    }
    hub_cache hc;
    if (hub_cache_init(&hc, o->repo_id, o->local_dir, o->cache_dir, err, errlen)) return HUB_ERR_IO;
    hub_status rc = env_true("HF_HUB_OFFLINE") ? fetch_offline(o, &hc, rev, r, err, errlen)
                                        : fetch_online(o, &hc, rev, r, err, errlen);
    hub_cache_free(&hc);
    r->seconds = wall_s() - t0;
    return rc;
}

int hub_looks_like_repo_id(const char *src)
{
    struct stat st;
    return strchr(src, '/') && hub_repo_id_is_valid(src) && stat(src, &st) != 0;
}
