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

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(j) && j->valuestring ? j->valuestring : NULL;
}

static int set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg ? arg : "");
    return -1;
}

/* Adds one file; the etag comes from the LFS sha256 when present (that is
 * what X-Linked-Etag says and what huggingface_hub names the blob), else
 * from the git blob id. */
static int add_entry(hub_listing *out, const char *path, const cJSON *size_j, const char *blob_id,
                     const cJSON *lfs, const char *lfs_key, char *err, size_t errlen)
{
    if (!hub_path_is_safe(path))
        return set_err(err, errlen, "the server listed an unsafe file name '%.200s' (absolute, '..', "
                       "backslash or empty segment); refusing to write anything from this listing", path);
    hub_entry e = {0};
    int have_size = json_size(size_j, &e.size) == 0;
    if (cJSON_IsObject(lfs)) {
        const char *sha = json_str(lfs, lfs_key);
        uint64_t lsize;
        if (!sha || strlen(sha) != 64 || !hub_is_hex(sha, 64))
            return set_err(err, errlen, "listing entry '%.200s' has an LFS pointer without a valid sha256", path);
        if (json_size(cJSON_GetObjectItemCaseSensitive(lfs, "size"), &lsize) == 0) {
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
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return set_err(err, errlen, "the hub's repo info is not a JSON object%s", "");
    }
    int rc = 0;
    const char *sha = json_str(root, "sha");
    if (sha && strlen(sha) == 40 && hub_is_hex(sha, 40)) {
        for (int i = 0; i < 40; i++) out->commit[i] = (char)tolower((unsigned char)sha[i]);
        out->commit[40] = 0;
    } else {
        rc = set_err(err, errlen, "the hub's repo info has no valid commit 'sha'%s", "");
    }
    const cJSON *sib = cJSON_GetObjectItemCaseSensitive(root, "siblings");
    if (!rc && !cJSON_IsArray(sib)) rc = set_err(err, errlen, "the hub's repo info has no 'siblings' list%s", "");
    const cJSON *s;
    if (!rc) cJSON_ArrayForEach(s, sib) {
        const char *name = json_str(s, "rfilename");
        if (!name) { rc = set_err(err, errlen, "a sibling in the repo info has no 'rfilename'%s", ""); break; }
        rc = add_entry(out, name, cJSON_GetObjectItemCaseSensitive(s, "size"), json_str(s, "blobId"),
                       cJSON_GetObjectItemCaseSensitive(s, "lfs"), "sha256", err, errlen);
        if (rc) break;
    }
    cJSON_Delete(root);
    return rc;
}

int hub_parse_tree_page(const char *json, size_t len, hub_listing *out, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return set_err(err, errlen, "the hub's tree listing is not a JSON array%s", "");
    }
    int rc = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, root) {
        const char *type = json_str(s, "type"), *path = json_str(s, "path");
        if (!type || !path) { rc = set_err(err, errlen, "a tree entry lacks 'type' or 'path'%s", ""); break; }
        if (strcmp(type, "file")) {
            if (!hub_path_is_safe(path)) {
                rc = set_err(err, errlen, "the server listed an unsafe folder name '%.200s'; refusing", path);
                break;
            }
            continue;
        }
        rc = add_entry(out, path, cJSON_GetObjectItemCaseSensitive(s, "size"), json_str(s, "oid"),
                       cJSON_GetObjectItemCaseSensitive(s, "lfs"), "oid", err, errlen);
        if (rc) break;
    }
    cJSON_Delete(root);
    return rc;
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
