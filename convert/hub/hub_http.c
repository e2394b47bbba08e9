/* hub_http.c - a request to the Hub with redirects followed by hand and
 * every answer classified (see hub_http.h). */
#include "hub_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hub_auth.h"
#include "hub_parse.h"

atomic_int hub_interrupted;

static long env_long(const char *name, long def, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) return def;
    return x;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A URL as it may be printed: without user:password@. */
static const char *shown(const char *url, char *buf, size_t len)
{
    hub_url_redact(url, buf, len);
    return buf;
}

int hub_client_init(hub_client *c, double timeout_s, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    const char *ep = getenv("HF_ENDPOINT");
    if (!ep || !*ep) ep = "https://huggingface.co";
    char red[512];
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
        snprintf(err, errlen, "HF_ENDPOINT='%.200s' is not an http:// or https:// URL", shown(ep, red, sizeof red));
        return -1;
    }
    /* the endpoint is a prefix of every URL we build: a query or fragment would swallow the rest */
    if (strpbrk(ep, "?#") || strlen(ep) > 2000) {
        snprintf(err, errlen, "HF_ENDPOINT='%.200s' must be a base URL (scheme, host, optional port and path; no "
                 "'?' or '#'), e.g. https://huggingface.co or https://mirror.example/hf", shown(ep, red, sizeof red));
        return -1;
    }
    c->endpoint = strdup(ep);
    if (!c->endpoint) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = strlen(c->endpoint);
    while (n > 8 && c->endpoint[n - 1] == '/') c->endpoint[--n] = 0;
    c->token = hub_token_lookup();
    c->connect_timeout_s = 10;
    c->low_speed_bps = 1024;
    c->timeout_s = timeout_s > 0 ? timeout_s : 0;
    c->deadline = timeout_s > 0 ? mono_s() + timeout_s : 0;
    atomic_init(&c->timed_out, 0);
    c->stall_s = env_long("GQ_HUB_STALL_SECONDS", 30, 1, 3600);
    c->max_attempts = (int)env_long("GQ_HUB_RETRIES", 5, 0, 100) + 1;
    c->backoff_ms = env_long("GQ_HUB_BACKOFF_MS", 1000, 0, 60000);
    atomic_init(&c->requests, 0);
    atomic_init(&c->cancel, 0);
    return 0;
}

void hub_client_free(hub_client *c)
{
    free(c->endpoint);
    hub_token_free(c->token);
    c->endpoint = c->token = NULL;
}

int hub_url_escape(const char *s, int keep_slash, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                   ch == '.' || ch == '_' || ch == '~' || (keep_slash && ch == '/');
        if (o + (keep ? 1 : 3) >= outlen) return -1;
        if (keep) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = 0;
    return 0;
}

int hub_deadline_passed(hub_client *c)
{
    if (atomic_load(&c->timed_out)) return 1;
    if (c->deadline <= 0 || mono_s() < c->deadline) return 0;
    atomic_store(&c->timed_out, 1);
    return 1;
}

hub_status hub_stop_reason(hub_client *c, char *err, size_t errlen)
{
    if (hub_deadline_passed(c)) {
        snprintf(err, errlen,
                 "gave up: the --timeout of %g s %s (partial data is kept: run the same command again to resume)",
                 c->timeout_s,
                 atomic_load(&c->timed_out) == 2 ? "would pass during the wait the server asked for" : "has passed");
        return HUB_ERR_TIMEOUT;
    }
    if (hub_interrupted) {
        snprintf(err, errlen, "interrupted; run the same command again to resume");
        return HUB_ERR_INTERRUPTED;
    }
    return HUB_OK;
}

static int xfer_cb(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    hub_client *c = p;
    (void)dt; (void)dn; (void)ut; (void)un;
    return hub_interrupted || atomic_load(&c->cancel) || hub_deadline_passed(c) ? 1 : 0;
}

CURL *hub_easy_new(hub_client *c)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* by hand: see follow loop */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, c->low_speed_bps);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->stall_s);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "gptoss-convert/" GPTOSS_VERSION);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xfer_cb);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
    return e;
}

typedef struct {
    hub_headers *h;
    hub_body_fn fn;
    void *ctx;
    int aborted_by_sink;
} xfer;

static void copy_trim(char *dst, size_t dstlen, const char *v, size_t n)
{
    if (n >= dstlen) n = dstlen - 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) /* printable only: these end up in messages */
        dst[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    dst[o] = 0;
}

static size_t header_cb(char *buf, size_t sz, size_t nitems, void *p)
{
    xfer *x = p;
    hub_headers *h = x->h;
    size_t n = sz * nitems, len = n;
    while (len && (buf[len - 1] == '\r' || buf[len - 1] == '\n')) len--;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* a new answer (after 1xx or a redirect hop): forget the old headers */
        memset(h, 0, sizeof *h);
        h->retry_after = -1;
        const char *sp = memchr(buf, ' ', len);
        uint64_t st;
        if (sp && (size_t)(buf + len - sp) >= 4 && !hub_parse_u64(sp + 1, 3, &st)) h->status = (long)st;
        return n;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon) return n;
    size_t klen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = (size_t)(buf + len - v);
    while (vlen && (*v == ' ' || *v == '\t')) { v++; vlen--; }
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
#define IS(name) (klen == sizeof(name) - 1 && !strncasecmp(buf, name, klen))
    char tmp[65];
    uint64_t u;
    if (IS("X-Error-Code")) copy_trim(h->error_code, sizeof h->error_code, v, vlen);
    else if (IS("X-Error-Message")) copy_trim(h->error_message, sizeof h->error_message, v, vlen);
    else if (IS("X-Repo-Commit")) {
        if (vlen == 40) {
            memcpy(tmp, v, 40);
            tmp[40] = 0;
            if (hub_is_hex(tmp, 40)) memcpy(h->repo_commit, tmp, 41);
        }
    } else if (IS("X-Linked-Etag")) {
        hub_etag_normalize(v, vlen, h->linked_etag, sizeof h->linked_etag);
    } else if (IS("ETag")) {
        if (!h->linked_etag[0]) hub_etag_normalize(v, vlen, h->linked_etag, sizeof h->linked_etag);
    } else if (IS("X-Linked-Size")) {
        if (!hub_parse_u64(v, vlen, &u)) { h->linked_size = u; h->has_size = 2; }
    } else if (IS("Content-Length")) {
        if (h->has_size != 2 && !hub_parse_u64(v, vlen, &u)) { h->linked_size = u; h->has_size = 1; }
    } else if (IS("Content-Range")) {
        h->has_content_range = !hub_parse_content_range(v, vlen, &h->cr_first, &h->cr_last, &h->cr_total);
    } else if (IS("Retry-After")) {
        h->retry_after = hub_parse_retry_after(v, vlen, (long)time(NULL));
    } else if (IS("Link")) {
        if (!hub_link_next(v, vlen, h->link_next, sizeof h->link_next)) h->link_next[0] = 0;
    }
#undef IS
    return n;
}

static size_t write_cb(char *data, size_t sz, size_t nitems, void *p)
{
    xfer *x = p;
    size_t n = sz * nitems;
    if (x->h->status < 200 || x->h->status > 299) return n; /* redirect / error body: not ours */
    if (x->fn && x->fn(x->ctx, x->h, data, n)) {
        x->aborted_by_sink = 1;
        return 0;
    }
    return n;
}

static int is_retriable_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* The message a person can act on, from the status and X-Error-Code. */
static void describe_http_error(const hub_client *c, const hub_headers *h, const hub_what *w, const char *url,
                                char *err, size_t errlen)
{
    const char *repo = w && w->repo ? w->repo : "?";
    const char *rev = w && w->revision ? w->revision : "main";
    const char *ec = h->error_code;
    char ep[512], u[512];
    shown(c->endpoint, ep, sizeof ep);
    shown(url, u, sizeof u);
    if (!strcmp(ec, "GatedRepo") || (h->status == 403 && strstr(h->error_message, "gated")))
        snprintf(err, errlen,
                 "%s is a gated repository and %s: accept its terms on %s/%s while logged in, then set HF_TOKEN to "
                 "a token of that account and retry",
                 repo, c->token ? "this token's user has no access yet" : "no token was sent", ep, repo);
    else if (h->status == 401 && c->token && strstr(h->error_message, "Invalid credentials"))
        snprintf(err, errlen,
                 "the hub rejected the token (invalid or expired): fix HF_TOKEN / HUGGING_FACE_HUB_TOKEN / "
                 "$HF_HOME/token, or unset it for public repos");
    else if (!strcmp(ec, "RevisionNotFound"))
        snprintf(err, errlen, "revision '%s' does not exist in %s: check --revision (a branch, tag or commit hash)",
                 rev, repo);
    else if ((!strcmp(ec, "EntryNotFound") || h->status == 404) && !(w && w->file) && strcmp(ec, "RepoNotFound"))
        /* a 404 for the API itself, not for a file: the endpoint is wrong (a mirror's path prefix missing or
           extra), not the repo */
        snprintf(err, errlen,
                 "HTTP %ld from %.300s%s%s: the server has no Hub API there; check HF_ENDPOINT (now %s; a mirror "
                 "may need its path prefix, e.g. https://host/prefix)",
                 h->status, u, h->error_message[0] ? ": " : "", h->error_message, ep);
    else if (!strcmp(ec, "EntryNotFound") || (h->status == 404 && w && w->file && strcmp(ec, "RepoNotFound")))
        snprintf(err, errlen, "file '%s' does not exist in %s at revision %s", w && w->file ? w->file : "?", repo,
                 rev);
    else if (!strcmp(ec, "RepoNotFound") || h->status == 401 || h->status == 404)
        snprintf(err, errlen,
                 "repository %s not found at %s, or it is private or gated and %s: check the name, and for a private "
                 "or gated repo set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) to a token with access",
                 repo, ep, c->token ? "the token sent has no access" : "no token was sent");
    else if (h->status == 403)
        snprintf(err, errlen, "access to %s is forbidden (HTTP 403%s%s)%s", repo, h->error_message[0] ? ": " : "",
                 h->error_message, c->token ? "" : "; set HF_TOKEN if the repo needs a login");
    else if (h->status == 429)
        /* said when the first 429 arrives: the caller adds how many attempts, if it gives up */
        snprintf(err, errlen,
                 "the hub is rate-limiting us (HTTP 429): wait a few minutes; authenticated requests (HF_TOKEN) get "
                 "higher limits");
    else
        snprintf(err, errlen, "HTTP %ld from %.300s%s%s", h->status, u, h->error_message[0] ? ": " : "",
                 h->error_message);
}

hub_status hub_http_fatal_status(const hub_client *c, const hub_headers *h)
{
    const char *ec = h->error_code;
    if (!strcmp(ec, "GatedRepo") || h->status == 403 || (h->status == 401 && c->token && strstr(h->error_message, "Invalid credentials")))
        return HUB_ERR_AUTH;
    if (!strcmp(ec, "RepoNotFound") || !strcmp(ec, "RevisionNotFound") || !strcmp(ec, "EntryNotFound") ||
        h->status == 401 || h->status == 404)
        return HUB_ERR_NOT_FOUND;
    return HUB_ERR_NETWORK;
}

hub_xfer hub_http_once(hub_client *c, CURL *e, const char *url, int head, uint64_t range_from,
                         uint64_t range_to, hub_body_fn fn, void *ctx, hub_headers *h, const hub_what *what,
                         char *err, size_t errlen)
{
    char cur[8192], range[64] = "";
    if (snprintf(cur, sizeof cur, "%s", url) >= (int)sizeof cur) {
        snprintf(err, errlen, "URL too long");
        return HUB_X_FATAL;
    }
    if (range_from != UINT64_MAX) {
        if (range_to == UINT64_MAX)
            snprintf(range, sizeof range, "%llu-", (unsigned long long)range_from);
        else
            snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)range_from, (unsigned long long)range_to);
    }
    char auth[8300];
    if (c->token && snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token) >= (int)sizeof auth) {
        snprintf(err, errlen, "the token is too long");
        return HUB_X_FATAL;
    }
    xfer x = {h, fn, ctx, 0};
    for (int hop = 0; hop <= 10; hop++) {
        memset(h, 0, sizeof *h);
        h->retry_after = -1;
        struct curl_slist *hdrs = NULL;
        /* the token goes only to the hub's own origin: never to a CDN host or port */
        if (c->token && hub_same_origin(cur, c->endpoint)) hdrs = curl_slist_append(hdrs, auth);
        curl_easy_setopt(e, CURLOPT_URL, cur);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L);
        if (!head) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_RANGE, range[0] ? range : NULL);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
        if (c->deadline > 0) { /* the progress callback checks it too; this also bounds connecting */
            double left = c->deadline - mono_s();
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left > 0 ? (long)(left * 1000) + 1 : 1L);
        }
        atomic_fetch_add(&c->requests, 1);
        CURLcode rc = curl_easy_perform(e);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        if (hdrs) {
            /* scrub our copy of the header; curl has its own request buffer */
            for (struct curl_slist *s = hdrs; s; s = s->next) memset(s->data, 0, strlen(s->data));
            curl_slist_free_all(hdrs);
        }
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (status) h->status = status;
        if (x.aborted_by_sink) return HUB_X_ABORTED;
        if (rc == CURLE_ABORTED_BY_CALLBACK || hub_interrupted || atomic_load(&c->cancel) || hub_deadline_passed(c)) {
            if (hub_stop_reason(c, err, errlen) == HUB_OK) snprintf(err, errlen, "stopped");
            return HUB_X_ABORTED;
        }
        char u[512];
        shown(cur, u, sizeof u);
        if (rc != CURLE_OK) {
            snprintf(err, errlen, "%s (%.300s)", curl_easy_strerror(rc), u);
            switch (rc) {
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_UNSUPPORTED_PROTOCOL:
            case CURLE_URL_MALFORMAT:
            case CURLE_PEER_FAILED_VERIFICATION:
                return HUB_X_FATAL;
            default:
                return HUB_X_RETRY; /* resets, time-outs, stalls, truncated bodies */
            }
        }
        if (status >= 300 && status < 400 && status != 304) {
            char *loc = NULL;
            curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc); /* already resolved against cur */
            if (!loc || !*loc) {
                snprintf(err, errlen, "HTTP %ld without a Location from %.300s", status, u);
                return HUB_X_FATAL;
            }
            if (head == 2 && !hub_same_origin(loc, cur)) return HUB_X_OK; /* metadata is on this answer */
            if (strncmp(loc, "http://", 7) && strncmp(loc, "https://", 8)) {
                snprintf(err, errlen, "redirect to a non-HTTP URL refused");
                return HUB_X_FATAL;
            }
            if (snprintf(cur, sizeof cur, "%s", loc) >= (int)sizeof cur) {
                snprintf(err, errlen, "redirect URL too long");
                return HUB_X_FATAL;
            }
            continue;
        }
        if (status >= 200 && status < 300) return HUB_X_OK;
        describe_http_error(c, h, what, cur, err, errlen);
        return is_retriable_status(status) ? HUB_X_RETRY : HUB_X_FATAL;
    }
    char u[512];
    snprintf(err, errlen, "more than 10 redirects from %.300s", shown(url, u, sizeof u));
    return HUB_X_FATAL;
}

int hub_backoff(hub_client *c, int attempt, long retry_after)
{
    long ms;
    if (retry_after >= 0) {
        ms = retry_after * 1000;
    } else {
        ms = c->backoff_ms;
        for (int i = 1; i < attempt && ms < 30000; i++) ms *= 2;
        if (ms > 30000) ms = 30000;
    }
    if (c->deadline > 0 && mono_s() + ms / 1000.0 >= c->deadline) {
        atomic_store(&c->timed_out, 2); /* waiting would only end at the deadline: stop now */
        return -1;
    }
    while (ms > 0) {
        if (hub_interrupted || atomic_load(&c->cancel) || hub_deadline_passed(c)) return -1;
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return hub_interrupted || hub_deadline_passed(c) ? -1 : 0;
}

static int buf_sink(void *ctx, const hub_headers *h, const char *data, size_t n)
{
    hub_buf *b = ctx;
    if (b->len + n > b->max) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

/* After a failed back-off: why, keeping what the server had said. */
static hub_status stopped_while_waiting(hub_client *c, char *err, size_t errlen)
{
    char was[1024];
    snprintf(was, sizeof was, "%s", err);
    hub_status st = hub_stop_reason(c, err, errlen);
    if (st == HUB_OK) st = HUB_ERR_INTERRUPTED; /* cancelled by a failure elsewhere */
    size_t l = strlen(err);
    if (was[0] && l < errlen) snprintf(err + l, errlen - l, " (while waiting to retry after: %s)", was);
    return st;
}

hub_status hub_http_get_small(hub_client *c, CURL *e, const char *url, hub_buf *out, hub_headers *h,
                              const hub_what *what, char *err, size_t errlen)
{
    for (int attempt = 1;; attempt++) {
        out->len = 0;
        hub_xfer r = hub_http_once(c, e, url, 0, UINT64_MAX, UINT64_MAX, buf_sink, out, h, what, err, errlen);
        if (r == HUB_X_OK) {
            if (!out->data && !buf_sink(out, h, "", 0)) return HUB_OK;
            if (!out->data) snprintf(err, errlen, "out of memory");
            return out->data ? HUB_OK : HUB_ERR_INTERNAL;
        }
        if (r == HUB_X_ABORTED) {
            hub_status st = hub_stop_reason(c, err, errlen);
            if (st != HUB_OK) return st;
            char u[512];
            snprintf(err, errlen, "the answer from %.300s is larger than %zu bytes", shown(url, u, sizeof u), out->max);
            return HUB_ERR_NETWORK;
        }
        if (r == HUB_X_FATAL || attempt >= c->max_attempts) {
            if (r == HUB_X_RETRY) {
                size_t l = strlen(err);
                snprintf(err + l, errlen - l, " (gave up after %d attempts)", attempt);
                return HUB_ERR_NETWORK;
            }
            return hub_http_fatal_status(c, h);
        }
        if (hub_backoff(c, attempt, h->retry_after)) return stopped_while_waiting(c, err, errlen);
    }
}
