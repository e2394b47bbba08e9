/* hub_parse.c - parsers for what the Hub server sends (see hub_parse.h).
 * Everything here is untrusted input: lengths are explicit, every field is
 * type-checked, and a listing that names an unsafe path is refused as a
 * whole (git itself cannot hold such names, so only a hostile or broken
 * server sends them). */
#include "hub_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

void hub_listing_free(hub_listing *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof *l);
}

int hub_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return s[n] == '\0';
}

int hub_path_is_safe(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n >= 4096 || p[0] == '/') return 0;
    const char *seg = p;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\' || (c && c < 0x20) || c == 0x7f) return 0;
        if (c == '/' || c == '\0') {
            size_t sl = (size_t)(p + i - seg);
            if (sl == 0) return 0;                               /* "a//b", trailing '/' */
            if (sl == 1 && seg[0] == '.') return 0;              /* "." */
            if (sl == 2 && seg[0] == '.' && seg[1] == '.') return 0; /* ".." */
            seg = p + i + 1;
        }
    }
    return 1;
}

static int name_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 96) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-') return 0;
        if (i + 1 < n && ((c == '-' && s[i + 1] == '-') || (c == '.' && s[i + 1] == '.'))) return 0;
    }
    return !(s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.');
}

int hub_repo_id_is_valid(const char *id)
{
    const char *slash = strchr(id, '/');
    if (!slash) return name_part_ok(id, strlen(id));
    if (strchr(slash + 1, '/')) return 0;
    return name_part_ok(id, (size_t)(slash - id)) && name_part_ok(slash + 1, strlen(slash + 1));
}

int hub_revision_is_valid(const char *rev)
{
    return strlen(rev) <= 255 && hub_path_is_safe(rev);
}

int hub_default_wanted(const char *p)
{
    static const char *const names[] = {"config.json", "generation_config.json", "model.safetensors.index.json",
                                        "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"};
    if (strchr(p, '/')) return 0; /* original/, metal/ and any other folder only when asked */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(p, names[i])) return 1;
    size_t n = strlen(p);
    return n > 12 && !strcmp(p + n - 12, ".safetensors");
}

/* JSON numbers arrive as doubles: accept only exact non-negative integers
 * below 2^53, the range a double represents without rounding. */
static int json_size(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

/* ---- JSON strings with an embedded NUL ----
 * cJSON decodes "evil\u0000.json" (or a raw 0 byte inside quotes) into a
 * C string that ends at the NUL, so the name read back is "evil". The only
 * way to see it is to compare each decoded string's strlen with the length
 * its literal decodes to. The literals are walked in document order, which
 * is the order of a pre-order walk of cJSON's tree (key, then value). */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static long hex4(const char *s, const char *end)
{
    if (end - s < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Decoded byte lengths (UTF-8, as cJSON writes them) of every string
 * literal in s[0, len), in order. Returns the count, or -1 (malformed or
 * out of memory: callers then refuse the document). */
static long literal_lengths(const char *s, size_t len, size_t **out)
{
    size_t n = 0, cap = 0;
    size_t *v = NULL;
    const char *p = s, *end = s + len;
    while (p < end) {
        if (*p++ != '"') continue;
        size_t dl = 0;
        for (;;) {
            if (p >= end) goto bad;
            char c = *p++;
            if (c == '"') break;
            if (c != '\\') { dl++; continue; }
            if (p >= end) goto bad;
            c = *p++;
            if (c != 'u') { dl++; continue; }
            long cp = hex4(p, end);
            if (cp < 0) goto bad;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair: one 4-byte character */
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u') goto bad;
                p += 6;
                dl += 4;
            } else {
                dl += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            size_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) goto bad;
            v = nv;
        }
        v[n++] = dl;
    }
    *out = v;
    return (long)n;
bad:
    free(v);
    return -1;
}

typedef struct {
    cJSON *root;
    const cJSON **bad;  /* items whose key or string value holds a NUL, in walk order */
    size_t n_bad, cap_bad;
    const char *nul_key; /* set by get() when it met one of them */
} pjson;

static int mark_nuls(pjson *j, const cJSON *node, int in_object, const size_t *lens, size_t nl, size_t *k)
{
    int bad = 0;
    if (in_object) {
        if (*k >= nl || !node->string) return -1;
        bad |= strlen(node->string) != lens[(*k)++];
    }
    if (cJSON_IsString(node)) {
        if (*k >= nl || !node->valuestring) return -1;
        bad |= strlen(node->valuestring) != lens[(*k)++];
    } else if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
        for (const cJSON *c = node->child; c; c = c->next)
            if (mark_nuls(j, c, cJSON_IsObject(node), lens, nl, k)) return -1;
    }
    if (bad) {
        if (j->n_bad == j->cap_bad) {
            size_t cap = j->cap_bad ? j->cap_bad * 2 : 8;
            const cJSON **nv = realloc(j->bad, cap * sizeof *nv);
            if (!nv) return -1;
            j->bad = nv;
            j->cap_bad = cap;
        }
        j->bad[j->n_bad++] = node;
    }
    return 0;
}

static void pjson_free(pjson *j)
{
    cJSON_Delete(j->root);
    free(j->bad);
    memset(j, 0, sizeof *j);
}

/* Parses and finds every key or string value with an embedded NUL.
 * Returns 0, or -1 (not JSON, or the check itself failed). */
static int pjson_parse(pjson *j, const char *json, size_t len)
{
    memset(j, 0, sizeof *j);
    const char *stop = NULL;
    j->root = cJSON_ParseWithLengthOpts(json, len, &stop, 0);
    if (!j->root) return -1;
    size_t used = stop && stop >= json && stop <= json + len ? (size_t)(stop - json) : len;
    size_t *lens = NULL, k = 0;
    long nl = literal_lengths(json, used, &lens);
    int rc = nl < 0 || mark_nuls(j, j->root, 0, lens, (size_t)nl, &k) || k != (size_t)nl ? -1 : 0;
    free(lens);
    if (rc) pjson_free(j);
    return rc;
}

static int pjson_is_bad(const pjson *j, const cJSON *item)
{
    for (size_t i = 0; i < j->n_bad; i++) /* almost always none */
        if (j->bad[i] == item) return 1;
    return 0;
}

/* obj[key], or NULL; an item with a NUL in its key or value is refused
 * (NULL, and j->nul_key says which key). */
static const cJSON *get(pjson *j, const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (it && pjson_is_bad(j, it)) {
        if (!j->nul_key) j->nul_key = key;
        return NULL;
    }
    return it;
}

static const char *json_str(pjson *j, const cJSON *obj, const char *key)
{
    const cJSON *it = get(j, obj, key);
    return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

static int set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg ? arg : "");
    return -1;
}

static int nul_err(const pjson *j, char *err, size_t errlen)
{
    return set_err(err, errlen,
                   "the server's listing has a NUL byte (\\u0000) inside a '%.40s' string, which no file name or "
                   "hash can hold; refusing to write anything from this listing",
                   j->nul_key);
}

/* Adds one file; the etag comes from the LFS sha256 when present (that is
 * what X-Linked-Etag says and what huggingface_hub names the blob), else
 * from the git blob id. */
static int add_entry(pjson *j, hub_listing *out, const char *path, const cJSON *size_j, const char *blob_id,
                     const cJSON *lfs, const char *lfs_key, char *err, size_t errlen)
{
    if (!hub_path_is_safe(path))
        return set_err(err, errlen, "the server listed an unsafe file name '%.200s' (absolute, '..', "
                       "backslash or empty segment); refusing to write anything from this listing", path);
    hub_entry e = {0};
    int have_size = json_size(size_j, &e.size) == 0;
    if (cJSON_IsObject(lfs)) {
        const char *sha = json_str(j, lfs, lfs_key);
        uint64_t lsize;
        const cJSON *lsize_j = get(j, lfs, "size");
        if (j->nul_key) return nul_err(j, err, errlen);
        if (!sha || strlen(sha) != 64 || !hub_is_hex(sha, 64))
            return set_err(err, errlen, "listing entry '%.200s' has an LFS pointer without a valid sha256", path);
        if (json_size(lsize_j, &lsize) == 0) {
            e.size = lsize;
            have_size = 1;
        }
        for (int i = 0; i < 64; i++) e.etag[i] = (char)tolower((unsigned char)sha[i]);
        e.is_lfs = 1;
    } else if (blob_id && strlen(blob_id) == 40 && hub_is_hex(blob_id, 40)) {
        for (int i = 0; i < 40; i++) e.etag[i] = (char)tolower((unsigned char)blob_id[i]);
    }
    if (!have_size || !e.etag[0]) out->incomplete = 1;
    if (!have_size) e.size = UINT64_MAX;
    for (size_t i = 0; i < out->n; i++)
        if (!strcmp(out->v[i].path, path)) return 0; /* a page repeated: keep the first */
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        hub_entry *v = realloc(out->v, cap * sizeof *v);
        if (!v) return set_err(err, errlen, "out of memory%s", "");
        out->v = v;
        out->cap = cap;
    }
    e.path = strdup(path);
    if (!e.path) return set_err(err, errlen, "out of memory%s", "");
    out->v[out->n++] = e;
    return 0;
}

int hub_parse_repo_info(const char *json, size_t len, hub_listing *out, char *err, size_t errlen)
{
    pjson j;
    if (pjson_parse(&j, json, len) || !cJSON_IsObject(j.root)) {
        pjson_free(&j);
        return set_err(err, errlen, "the hub's repo info is not a JSON object%s", "");
    }
    int rc = 0;
    const char *sha = json_str(&j, j.root, "sha");
    if (sha && strlen(sha) == 40 && hub_is_hex(sha, 40)) {
        for (int i = 0; i < 40; i++) out->commit[i] = (char)tolower((unsigned char)sha[i]);
        out->commit[40] = 0;
    } else {
        rc = j.nul_key ? nul_err(&j, err, errlen) : set_err(err, errlen, "the hub's repo info has no valid commit 'sha'%s", "");
    }
    const cJSON *sib = rc ? NULL : get(&j, j.root, "siblings");
    if (!rc && j.nul_key) rc = nul_err(&j, err, errlen);
    if (!rc && !cJSON_IsArray(sib)) rc = set_err(err, errlen, "the hub's repo info has no 'siblings' list%s", "");
    const cJSON *s;
    if (!rc) cJSON_ArrayForEach(s, sib) {
        if (pjson_is_bad(&j, s)) { j.nul_key = "siblings"; rc = nul_err(&j, err, errlen); break; }
        const char *name = json_str(&j, s, "rfilename");
        const cJSON *size_j = get(&j, s, "size"), *lfs = get(&j, s, "lfs");
        const char *blob_id = json_str(&j, s, "blobId");
        if (j.nul_key) { rc = nul_err(&j, err, errlen); break; }
        if (!name) { rc = set_err(err, errlen, "a sibling in the repo info has no 'rfilename'%s", ""); break; }
        rc = add_entry(&j, out, name, size_j, blob_id, lfs, "sha256", err, errlen);
        if (rc) break;
    }
    pjson_free(&j);
    return rc;
}

int hub_parse_tree_page(const char *json, size_t len, hub_listing *out, char *err, size_t errlen)
{
    pjson j;
    if (pjson_parse(&j, json, len) || !cJSON_IsArray(j.root)) {
        pjson_free(&j);
        return set_err(err, errlen, "the hub's tree listing is not a JSON array%s", "");
    }
    int rc = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, j.root) {
        if (pjson_is_bad(&j, s)) { j.nul_key = "tree"; rc = nul_err(&j, err, errlen); break; }
        const char *type = json_str(&j, s, "type"), *path = json_str(&j, s, "path");
        const cJSON *size_j = get(&j, s, "size"), *lfs = get(&j, s, "lfs");
        const char *oid = json_str(&j, s, "oid");
        if (j.nul_key) { rc = nul_err(&j, err, errlen); break; }
        if (!type || !path) { rc = set_err(err, errlen, "a tree entry lacks 'type' or 'path'%s", ""); break; }
        if (strcmp(type, "file")) {
            if (!hub_path_is_safe(path)) {
                rc = set_err(err, errlen, "the server listed an unsafe folder name '%.200s'; refusing", path);
                break;
            }
            continue;
        }
        rc = add_entry(&j, out, path, size_j, oid, lfs, "oid", err, errlen);
        if (rc) break;
    }
    pjson_free(&j);
    return rc;
}

int hub_json_string_list(const char *json, size_t len, const char *object_key, char ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    pjson j;
    if (pjson_parse(&j, json, len)) return -1;
    const cJSON *obj = get(&j, j.root, object_key), *e;
    int rc = j.nul_key ? -1 : 0;
    if (rc) obj = NULL;
    char **v = NULL;
    size_t n = 0;
    cJSON_ArrayForEach(e, obj) {
        if (!cJSON_IsString(e)) continue;
        if (pjson_is_bad(&j, e)) { rc = -1; break; }
        char **nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv || !(nv[n] = strdup(e->valuestring))) { v = nv ? nv : v; rc = -1; break; }
        v = nv;
        n++;
    }
    pjson_free(&j);
    if (rc) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v);
        return -1;
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* ---- checks of a whole listing ---- */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Is prefix[0, n) one of the sorted paths exactly? */
static int has_exact(const char *const *sorted, size_t count, const char *prefix, size_t n)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = sorted[mid];
        int c = strncmp(prefix, s, n);
        if (c == 0) c = s[n] ? -1 : 0; /* s is longer: prefix sorts before it */
        if (c == 0) return 1;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return 0;
}

int hub_path_is_bookkeeping(const char *p)
{
    static const char bk[] = ".cache/huggingface/";
    /* .cache and .cache/huggingface would block the folder; anything below it is ours */
    return !strcmp(p, ".cache") || !strcmp(p, ".cache/huggingface") || !strncmp(p, bk, sizeof bk - 1);
}

int hub_listing_check(const hub_listing *l, int local_dir, char *err, size_t errlen)
{
    if (local_dir)
        for (size_t i = 0; i < l->n; i++)
            if (hub_path_is_bookkeeping(l->v[i].path))
                return set_err(err, errlen,
                               "the server listed '%.200s', which would overwrite --local-dir's own bookkeeping "
                               "(.cache/huggingface/); refusing to write anything from this listing",
                               l->v[i].path);
    if (l->n < 2) return 0;
    const char **sorted = malloc(l->n * sizeof *sorted);
    if (!sorted) return set_err(err, errlen, "out of memory%s", "");
    for (size_t i = 0; i < l->n; i++) sorted[i] = l->v[i].path;
    qsort(sorted, l->n, sizeof *sorted, cmp_str_ptr);
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *p = sorted[i];
        for (const char *s = strchr(p, '/'); s && !rc; s = strchr(s + 1, '/'))
            if (has_exact(sorted, l->n, p, (size_t)(s - p))) {
                char folder[256];
                snprintf(folder, sizeof folder, "%.*s", (int)(s - p) > 200 ? 200 : (int)(s - p), p);
                rc = set_err(err, errlen,
                             "the server listed both a file '%s' and files inside a folder of that name; a git "
                             "repository cannot hold both, refusing to write anything from this listing",
                             folder);
            }
    }
    free(sorted);
    return rc;
}

int hub_url_redact(const char *url, char *out, size_t outlen)
{
    if (!outlen) return -1;
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i; /* the last '@' ends the userinfo */
    int n = at ? snprintf(out, outlen, "%.*s***%s", (int)(auth - url), url, at)
               : snprintf(out, outlen, "%s", url);
    return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

/* Link: <url>; rel="next", <url2>; rel="prev". Parameters may come in any
 * order, rel may be quoted or not and may list several relation types. */
int hub_link_next(const char *v, size_t len, char *out, size_t outlen)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        if (i >= len || v[i] != '<') return 0;
        size_t us = ++i;
        while (i < len && v[i] != '>') i++;
        if (i >= len) return 0;
        size_t ue = i++;
        int is_next = 0;
        /* parameters up to the next ',' outside quotes */
        while (i < len && v[i] != ',') {
            if (v[i] == ';' || v[i] == ' ' || v[i] == '\t') { i++; continue; }
            size_t ks = i;
            while (i < len && v[i] != '=' && v[i] != ';' && v[i] != ',') i++;
            size_t ke = i;
            while (ke > ks && (v[ke - 1] == ' ' || v[ke - 1] == '\t')) ke--;
            size_t vs = i, ve = i;
            if (i < len && v[i] == '=') {
                i++;
                while (i < len && (v[i] == ' ' || v[i] == '\t')) i++;
                if (i < len && v[i] == '"') {
                    vs = ++i;
                    while (i < len && v[i] != '"') i++;
                    ve = i;
                    if (i < len) i++;
                } else {
                    vs = i;
                    while (i < len && v[i] != ';' && v[i] != ',') i++;
                    ve = i;
                    while (ve > vs && (v[ve - 1] == ' ' || v[ve - 1] == '\t')) ve--;
                }
            }
            if (ke - ks == 3 && !strncasecmp(v + ks, "rel", 3)) {
                /* space-separated relation types */
                size_t t = vs;
                while (t < ve) {
                    while (t < ve && v[t] == ' ') t++;
                    size_t ts = t;
                    while (t < ve && v[t] != ' ') t++;
                    if (t - ts == 4 && !strncasecmp(v + ts, "next", 4)) is_next = 1;
                }
            }
        }
        if (is_next) {
            size_t n = ue - us;
            if (n == 0 || n >= outlen || memchr(v + us, '\0', n)) return 0;
            memcpy(out, v + us, n);
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

int hub_parse_u64(const char *v, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        uint64_t d = (uint64_t)(v[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

static size_t span_until(const char *v, size_t i, size_t len, char stop)
{
    while (i < len && v[i] != stop) i++;
    return i;
}

int hub_parse_content_range(const char *v, size_t len, uint64_t *first, uint64_t *last, uint64_t *total)
{
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
    size_t i = 0;
    while (i < len && v[i] == ' ') i++;
    if (len - i < 6 || strncasecmp(v + i, "bytes ", 6)) return -1;
    i += 6;
    size_t dash = span_until(v, i, len, '-');
    size_t slash = span_until(v, dash, len, '/');
    if (dash >= len || slash >= len) return -1;
    if (hub_parse_u64(v + i, dash - i, first) || hub_parse_u64(v + dash + 1, slash - dash - 1, last)) return -1;
    if (*last < *first) return -1;
    if (len - slash - 1 == 1 && v[slash + 1] == '*') {
        *total = UINT64_MAX;
        return 0;
    }
    if (hub_parse_u64(v + slash + 1, len - slash - 1, total)) return -1;
    return *last < *total ? 0 : -1;
}

long hub_parse_retry_after(const char *v, size_t len, long now)
{
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' || v[len - 1] == '\n')) len--;
    while (len && (*v == ' ' || *v == '\t')) { v++; len--; }
    uint64_t secs;
    if (hub_parse_u64(v, len, &secs) == 0) return secs > 3600 ? 3600 : (long)secs;
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    char buf[64];
    if (len >= sizeof buf) return -1;
    memcpy(buf, v, len);
    buf[len] = 0;
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wd[4], mon[4], tz[4];
    int day, year, hh, mm, ss;
    if (sscanf(buf, "%3s, %d %3s %d %d:%d:%d %3s", wd, &day, mon, &year, &hh, &mm, &ss, tz) != 8) return -1;
    int m = -1;
    for (int k = 0; k < 12; k++)
        if (!strcmp(mon, mons[k])) m = k;
    if (m < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60)
        return -1;
    /* days from civil (proleptic Gregorian), avoiding timegm for portability */
    long y = year - (m < 2), mo = m + 1;
    long era = y / 400, yoe = y - era * 400;
    long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = era * 146097 + doe - 719468;
    long t = days * 86400 + hh * 3600 + mm * 60 + ss;
    long d = t - now;
    return d < 0 ? 0 : d > 3600 ? 3600 : d;
}

int hub_etag_normalize(const char *v, size_t len, char *out, size_t outlen)
{
    while (len && (*v == ' ' || *v == '\t')) { v++; len--; }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' || v[len - 1] == '\n')) len--;
    if (len >= 2 && v[0] == 'W' && v[1] == '/') { v += 2; len -= 2; }
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') { v++; len -= 2; }
    if ((len != 40 && len != 64) || outlen <= len) return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)v[i])) return -1;
        out[i] = (char)tolower((unsigned char)v[i]);
    }
    out[len] = 0;
    return 0;
}
