/* hub_http.h - one HTTP exchange with the Hub (or the CDN it redirects to)
 * over a libcurl easy handle, and the policy around it.
 *
 * Promises:
 *  - redirects are followed here, by hand (at most 10), so that the token
 *    goes only to URLs with the endpoint's origin (scheme, host, port);
 *  - the headers the Hub protocol uses are parsed into hub_headers, from
 *    the final answer only;
 *  - body bytes reach the caller's sink only for a 2xx final answer; error
 *    bodies are dropped;
 *  - every answer is classified: ok, retriable (408/429/5xx, resets,
 *    time-outs, stalls; with the server's Retry-After) or fatal (with a
 *    message a person can act on, from X-Error-Code);
 *  - no message carries the token or a URL's userinfo (user:password@);
 *  - with a deadline (--timeout), every transfer, back-off and lock wait
 *    ends when it passes.
 */
#ifndef GQ_HUB_HTTP_H
#define GQ_HUB_HTTP_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hub_status.h"

typedef struct {
    char *endpoint;          /* $HF_ENDPOINT or https://huggingface.co, no trailing '/' */
    char *token;             /* NULL when none */
    long connect_timeout_s;  /* 10 */
    long low_speed_bps;      /* "slow": below this many bytes/s (1024) */
    long stall_s;            /* abort a transfer slower than low_speed_bps for this long ($GQ_HUB_STALL_SECONDS, 30) */
    int max_attempts;        /* per request / per chunk ($GQ_HUB_RETRIES + 1, default 6) */
    long backoff_ms;         /* first back-off ($GQ_HUB_BACKOFF_MS, 1000), doubling, capped at 30 s */
    double timeout_s;        /* the overall deadline's length (--timeout), 0 = none */
    double deadline;         /* CLOCK_MONOTONIC seconds when everything stops, 0 = none */
    atomic_int timed_out;    /* set once the deadline has passed */
    atomic_long requests;    /* every HTTP exchange, redirect hops included */
    atomic_int cancel;       /* set: transfers in flight stop (an error elsewhere ended the run) */
} hub_client;

/* Reads the environment into c; timeout_s > 0 sets the overall deadline
 * from now. Returns 0 or -1 (HF_ENDPOINT not http(s), out of memory). */
int hub_client_init(hub_client *c, double timeout_s, char *err, size_t errlen);
void hub_client_free(hub_client *c);

/* 1 once the deadline has passed (and c->timed_out is then set). */
int hub_deadline_passed(hub_client *c);

/* Why transfers were told to stop: HUB_ERR_TIMEOUT (deadline) or
 * HUB_ERR_INTERRUPTED (signal), with a message in err; HUB_OK if neither. */
hub_status hub_stop_reason(hub_client *c, char *err, size_t errlen);


typedef struct {
    long status;
    char error_code[64];       /* X-Error-Code */
    char error_message[256];   /* X-Error-Message */
    char repo_commit[41];      /* X-Repo-Commit (validated hex) */
    char linked_etag[65];      /* X-Linked-Etag, else ETag (normalized) */
    uint64_t linked_size;      /* X-Linked-Size, else Content-Length */
    int has_size;
    uint64_t cr_first, cr_last, cr_total; /* Content-Range */
    int has_content_range;
    long retry_after;          /* seconds, -1 when absent */
    char link_next[2048];      /* Link rel="next", "" when absent */
} hub_headers;

/* The status of a fatal HTTP answer: HUB_ERR_NOT_FOUND (repo, revision or
 * file missing, or private without a token), HUB_ERR_AUTH (token rejected,
 * gated), else HUB_ERR_NETWORK. */
hub_status hub_http_fatal_status(const hub_client *c, const hub_headers *h);

/* How one exchange ended (hub_status says how a whole operation did). */
typedef enum { HUB_X_OK, HUB_X_RETRY, HUB_X_FATAL, HUB_X_ABORTED } hub_xfer;

/* Receives the body of a 2xx answer; return -1 to abort the transfer. */
typedef int (*hub_body_fn)(void *ctx, const hub_headers *h, const char *data, size_t n);

/* What a request is about, for error messages. */
typedef struct {
    const char *repo, *revision, *file;
} hub_what;

/* One request. range_from == UINT64_MAX: no Range; range_to == UINT64_MAX:
 * open-ended. On HUB_X_RETRY/HUB_X_FATAL err says what happened. */
/* head: 0 GET, 1 HEAD, 2 HEAD that stops at a redirect to another origin
 * (the Hub's own metadata headers are on that answer, not on the CDN's). */
hub_xfer hub_http_once(hub_client *c, CURL *easy, const char *url, int head, uint64_t range_from,
                         uint64_t range_to, hub_body_fn fn, void *ctx, hub_headers *h, const hub_what *what,
                         char *err, size_t errlen);

/* GET a JSON (or any small) body with retries, at most max_bytes.
 * Returns HUB_OK, or another hub_status with err filled. */
typedef struct {
    char *data;
    size_t len, cap, max;
} hub_buf;
hub_status hub_http_get_small(hub_client *c, CURL *easy, const char *url, hub_buf *out, hub_headers *h,
                       const hub_what *what, char *err, size_t errlen);

/* Sleeps before retry number attempt (1-based): Retry-After when the server
 * gave one, else backoff_ms * 2^(attempt-1), capped. Returns -1 if
 * interrupted meanwhile, or at once when the wait would pass the deadline
 * (hub_stop_reason() says which). */
int hub_backoff(hub_client *c, int attempt, long retry_after);

/* A fresh easy handle with the options every request shares. */
CURL *hub_easy_new(hub_client *c);

/* Percent-encodes s (unreserved characters kept, '/' kept when keep_slash).
 * Returns 0 or -1 when out is too small. */
int hub_url_escape(const char *s, int keep_slash, char *out, size_t outlen);

/* Set by the SIGINT/SIGTERM handler: every transfer stops promptly. */
extern atomic_int hub_interrupted; /* lock-free, so safe to set from a signal handler (C11 7.14.1) */

#endif
