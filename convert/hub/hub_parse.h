/* hub_parse.h - everything the Hub client reads from the server's bytes,
 * without any network code: the repo-info and tree listings (JSON), the
 * Link / Content-Range / Retry-After / ETag header values, and the checks
 * that decide whether a file name from the server may touch our disk.
 *
 * Promise: every function here takes untrusted input with an explicit
 * length, never reads past it, never crashes, and either returns a fully
 * validated result or an error message. A JSON string the server sends
 * with an embedded NUL (\u0000, or a raw 0 byte) is refused, never read
 * as the shorter C string cJSON hands back. Fuzzed by tests/hub/fuzz_hub_*.c.
 */
#ifndef GQ_HUB_PARSE_H
#define GQ_HUB_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* One file of a repo at one commit. */
typedef struct {
    char *path;       /* repo-relative, passed hub_path_is_safe() */
    uint64_t size;    /* bytes */
    char etag[65];    /* cache blob name: sha256 (LFS, 64 hex) or git blob sha1 (40 hex); "" if unknown */
    int is_lfs;       /* etag is the sha256 of the content */
} hub_entry;

typedef struct {
    char commit[41];  /* 40 lowercase hex, "" if the answer had none */
    hub_entry *v;
    size_t n, cap;
    int incomplete;   /* some sibling lacked size / blob id: ask the tree API */
} hub_listing;

void hub_listing_free(hub_listing *l);

/* GET /api/models/{repo}/revision/{rev}?blobs=true. Appends the siblings.
 * Returns 0, or -1 with err filled (malformed JSON, unsafe file name...). */
int hub_parse_repo_info(const char *json, size_t len, hub_listing *out, char *err, size_t errlen);

/* One page of GET /api/models/{repo}/tree/{rev}?recursive=true: appends
 * the entries of type "file". Returns 0 or -1 with err. */
int hub_parse_tree_page(const char *json, size_t len, hub_listing *out, char *err, size_t errlen);

/* The checks that need the whole listing (every tree page), made before
 * anything is downloaded: no path is both a file and a folder of other
 * files ("a" and "a/b": git cannot hold both, and one would overwrite or
 * block the other); with local_dir, nothing hub_path_is_bookkeeping()
 * names. Returns 0 or -1 with err. */
int hub_listing_check(const hub_listing *l, int local_dir, char *err, size_t errlen);

/* ".cache", ".cache/huggingface" or anything below ".cache/huggingface/":
 * where --local-dir keeps its own metadata, locks and partial files. */
int hub_path_is_bookkeeping(const char *path);

/* The string values of the object json[object_key] (e.g. a safetensors
 * index's "weight_map"), malloc'd. Returns 0, or -1 when the JSON is
 * malformed, or the key or a value holds a NUL. */
int hub_json_string_list(const char *json, size_t len, const char *object_key, char ***out, size_t *n);

/* url with its userinfo (user:password@ of the authority) replaced by
 * "***", for printing. Returns 0, or -1 when out is too small (out then
 * holds nothing that was in the userinfo). */
int hub_url_redact(const char *url, char *out, size_t outlen);

/* The URL of rel="next" in a Link header value (RFC 8288), copied into out.
 * Returns 1 when found and it fits, 0 otherwise. */
int hub_link_next(const char *value, size_t len, char *out, size_t outlen);

/* "bytes FIRST-LAST/TOTAL" (TOTAL may be "*": *total = UINT64_MAX).
 * Returns 0 or -1 when malformed or LAST < FIRST. */
int hub_parse_content_range(const char *value, size_t len, uint64_t *first, uint64_t *last, uint64_t *total);

/* Retry-After: delta-seconds or an HTTP-date (then relative to now).
 * Returns seconds (>= 0, capped at 3600) or -1 when unparseable. */
long hub_parse_retry_after(const char *value, size_t len, long now);

/* Strips a leading W/ and surrounding quotes; lowercases hex.
 * Returns 0 and out holds a 40- or 64-hex etag, else -1. */
int hub_etag_normalize(const char *value, size_t len, char *out, size_t outlen);

/* Decimal u64 without sign or junk. Returns 0 or -1. */
int hub_parse_u64(const char *value, size_t len, uint64_t *out);

/* A repo-relative path that is safe to join onto a directory: not empty,
 * no leading '/', no backslash, no NUL/control bytes, no empty, "." or ".."
 * segment, under 4096 bytes. */
int hub_path_is_safe(const char *path);

/* ORG/NAME or NAME with [A-Za-z0-9._-], no "--" and no ".." (the cache
 * folder name models--ORG--NAME must map back uniquely). */
int hub_repo_id_is_valid(const char *repo_id);

/* A revision name usable as refs/<rev>: hub_path_is_safe and <= 255 bytes. */
int hub_revision_is_valid(const char *rev);

/* n hex digits exactly. */
int hub_is_hex(const char *s, size_t n);

/* The default selection: what conversion needs, at the repo root only. */
int hub_default_wanted(const char *path);

#endif
