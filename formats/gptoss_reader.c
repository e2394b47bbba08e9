/* gptoss_reader.c - maps a .gptoss file and validates all of its structure
 * before handing out a single pointer (docs/FORMAT.md is the contract).
 *
 * The file is untrusted: every number from the preamble or the header is
 * range-checked with overflow-safe arithmetic, every payload must lie inside
 * the file on a 16 KiB boundary and overlap nothing, and every error names
 * the file and the entry so that a user knows what to re-convert. */
#include "file_map.h"
#include "gptoss_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gf_file {
    const uint8_t *base;
    uint64_t len;
    void *map;              /* NULL for gf_open_memory */
    size_t map_len;
    char *header;           /* NUL-terminated copy of the JSON */
    uint64_t header_len, data_offset;
    cJSON *root;            /* owns the name strings */
    gf_hparams hp;
    gf_tensor *tensors;
    size_t n_tensors;
    gf_blob *blobs;
    size_t n_blobs;
    size_t *tensor_by_name; /* indices sorted by name, for bsearch */
    size_t *blob_by_name;
};

#define FAIL(...) do { snprintf(msg, sizeof msg, __VA_ARGS__); goto fail; } while (0)

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

typedef struct {
    uint64_t offset, size;
    const char *kind, *name;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* qsort has no context argument in C11: sort (name, index) pairs instead. */
typedef struct {
    const char *name;
    size_t index;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static size_t *sort_names(const char *const *names, size_t n, const char **dup)
{
    named *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!tmp || !idx) { free(tmp); free(idx); return NULL; }
    for (size_t i = 0; i < n; i++) tmp[i] = (named){names[i], i};
    qsort(tmp, n, sizeof *tmp, cmp_named);
    *dup = NULL;
    for (size_t i = 0; i < n; i++) {
        idx[i] = tmp[i].index;
        if (i && !*dup && strcmp(tmp[i - 1].name, tmp[i].name) == 0) *dup = tmp[i].name;
    }
    free(tmp);
    return idx;
}

/* Common fields of a directory entry: name, offset, size, xxh3. */
static int parse_entry(const gf_file *f, const cJSON *e, const char *kind, size_t i, const char **name,
                       uint64_t *offset, uint64_t *size, uint64_t *hash, char *msg, size_t msglen)
{
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(e, "name");
    if (!cJSON_IsObject(e) || !cJSON_IsString(jn)) {
        snprintf(msg, msglen, "%s entry %zu has no \"name\" string", kind, i);
        return -1;
    }
    *name = jn->valuestring;
    if (!gfl_name_ok(*name)) {
        snprintf(msg, msglen, "%s entry %zu: name is not 1..%d characters of [A-Za-z0-9._-]", kind, i, GF_MAX_NAME);
        return -1;
    }
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "offset");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "size");
    const cJSON *jh = cJSON_GetObjectItemCaseSensitive(e, "xxh3");
    if (!gfl_json_uint(jo, GFL_MAX_JSON_INT, offset)) {
        snprintf(msg, msglen, "%s \"%s\": \"offset\" is missing or not an integer in 0..2^53-1", kind, *name);
        return -1;
    }
    if (!gfl_json_uint(js, GFL_MAX_JSON_INT, size)) {
        snprintf(msg, msglen, "%s \"%s\": \"size\" is missing or not an integer in 0..2^53-1", kind, *name);
        return -1;
    }
    if (!cJSON_IsString(jh) || !gfl_parse_hex16(jh->valuestring, hash)) {
        snprintf(msg, msglen, "%s \"%s\": \"xxh3\" is not 16 lowercase hex digits", kind, *name);
        return -1;
    }
    if (*offset % GF_ALIGN) {
        snprintf(msg, msglen, "%s \"%s\": offset %llu is not a multiple of %u", kind, *name,
                 (unsigned long long)*offset, GF_ALIGN);
        return -1;
    }
    if (*offset < f->data_offset) {
        snprintf(msg, msglen, "%s \"%s\": offset %llu is before data_offset %llu", kind, *name,
                 (unsigned long long)*offset, (unsigned long long)f->data_offset);
        return -1;
    }
    if (*offset > f->len || *size > f->len - *offset) {
        snprintf(msg, msglen, "%s \"%s\": bytes %llu..%llu lie outside the file (%llu bytes; truncated?)", kind,
                 *name, (unsigned long long)*offset, (unsigned long long)(*offset + *size),
                 (unsigned long long)f->len);
        return -1;
    }
    return 0;
}

static int parse_tensor(gf_file *f, const cJSON *e, size_t i, gf_tensor *t, char *msg, size_t msglen)
{
    if (parse_entry(f, e, "tensor", i, &t->name, &t->offset, &t->size, &t->xxh3, msg, msglen)) return -1;
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(e, "type");
    if (!cJSON_IsString(jt)) {
        snprintf(msg, msglen, "tensor \"%s\": \"type\" is missing", t->name);
        return -1;
    }
    if (!gfl_type_by_name(jt->valuestring, &t->type)) {
        snprintf(msg, msglen, "tensor \"%s\": unknown type \"%.40s\" (written by a newer converter? upgrade)",
                 t->name, jt->valuestring);
        return -1;
    }
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    int nd = cJSON_IsArray(js) ? cJSON_GetArraySize(js) : -1;
    if (nd < 1 || nd > GF_MAX_DIMS) {
        snprintf(msg, msglen, "tensor \"%s\": \"shape\" must be an array of 1..%d dimensions (has %d)", t->name,
                 GF_MAX_DIMS, nd);
        return -1;
    }
    t->ndim = nd;
    int d = 0;
    for (const cJSON *x = js->child; x; x = x->next, d++) {
        if (!gfl_json_uint(x, GFL_MAX_JSON_INT, &t->shape[d])) {
            snprintf(msg, msglen, "tensor \"%s\": shape[%d] is not an integer in 0..2^53-1", t->name, d);
            return -1;
        }
    }
    uint64_t want;
    char why[160];
    if (gfl_tensor_bytes(t->type, t->ndim, t->shape, &want, why, sizeof why)) {
        snprintf(msg, msglen, "tensor \"%s\": %s", t->name, why);
        return -1;
    }
    if (want != t->size) {
        snprintf(msg, msglen, "tensor \"%s\": size %llu does not match its shape and type %s (%llu bytes)", t->name,
                 (unsigned long long)t->size, jt->valuestring, (unsigned long long)want);
        return -1;
    }
    t->data = f->base + t->offset;
    return 0;
}

static gf_file *open_image(const uint8_t *base, uint64_t len, const char *who, char *err, size_t errlen)
{
    char msg[512];
    gf_file *f = calloc(1, sizeof *f);
    span *spans = NULL;
    const char **names = NULL;
    if (!f) {
        snprintf(err, errlen, "%s: out of memory", who);
        return NULL;
    }
    f->base = base;
    f->len = len;
    if (len < GF_PREAMBLE_BYTES)
        FAIL("file is %llu bytes, shorter than the %u-byte preamble (empty or truncated)",
             (unsigned long long)len, GF_PREAMBLE_BYTES);
    if (memcmp(base, GF_MAGIC, 8) != 0) FAIL("not a .gptoss file (bad magic; expected \"GPTOSS\\0\\0\")");
    uint32_t version = rd32(base + 8), flags = rd32(base + 12);
    if (version != GF_VERSION)
        FAIL("format version %u; this reader reads version %u (%s)", version, GF_VERSION,
             version > GF_VERSION ? "upgrade gptoss-convert/gptoss-run" : "damaged file; re-convert");
    if (flags != 0) FAIL("unknown flags 0x%08x in the preamble (written by a newer writer? upgrade)", flags);
    f->header_len = rd64(base + 16);
    uint64_t header_hash = rd64(base + 24);
    f->data_offset = rd64(base + 32);
    if (f->header_len < 2 || f->header_len > GF_MAX_HEADER)
        FAIL("header length %llu is outside 2..%u", (unsigned long long)f->header_len, GF_MAX_HEADER);
    if (f->header_len > len - GF_PREAMBLE_BYTES)
        FAIL("header (%llu bytes) runs past the end of the file (%llu bytes; truncated?)",
             (unsigned long long)f->header_len, (unsigned long long)len);
    uint64_t got_hash = XXH3_64bits(base + GF_PREAMBLE_BYTES, (size_t)f->header_len);
    if (got_hash != header_hash)
        FAIL("header checksum mismatch (stored %016llx, computed %016llx): the file is damaged; re-convert it",
             (unsigned long long)header_hash, (unsigned long long)got_hash);
    if (f->data_offset % GF_ALIGN || f->data_offset < GF_PREAMBLE_BYTES + f->header_len || f->data_offset > len)
        FAIL("data_offset %llu is not a multiple of %u between the header end %llu and the file end %llu",
             (unsigned long long)f->data_offset, GF_ALIGN,
             (unsigned long long)(GF_PREAMBLE_BYTES + f->header_len), (unsigned long long)len);
    if (len % GF_ALIGN)
        FAIL("file is %llu bytes, not a multiple of %u (truncated or damaged; re-convert it)",
             (unsigned long long)len, GF_ALIGN);

    const char *hdr = (const char *)base + GF_PREAMBLE_BYTES;
    size_t bad = gfl_utf8_bad_at((const uint8_t *)hdr, (size_t)f->header_len);
    if (bad != f->header_len) FAIL("header byte %zu is not valid UTF-8 (or is NUL)", bad);
    f->header = malloc((size_t)f->header_len + 1);
    if (!f->header) FAIL("out of memory for a %llu-byte header", (unsigned long long)f->header_len);
    memcpy(f->header, hdr, (size_t)f->header_len);
    f->header[f->header_len] = 0;
    const char *end = NULL;
    f->root = cJSON_ParseWithLengthOpts(f->header, (size_t)f->header_len, &end, 0);
    if (!f->root) FAIL("header is not valid JSON (near byte %ld)", end ? (long)(end - f->header) : -1L);
    while (end && *end && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
    if (end && *end) FAIL("header has trailing bytes after the JSON object (byte %ld)", (long)(end - f->header));
    if (!cJSON_IsObject(f->root)) FAIL("header is not a JSON object");
    const cJSON *jf = cJSON_GetObjectItemCaseSensitive(f->root, "format");
    if (!cJSON_IsString(jf) || strcmp(jf->valuestring, "gptoss") != 0) FAIL("header \"format\" is not \"gptoss\"");
    uint64_t hv;
    if (!gfl_json_uint(cJSON_GetObjectItemCaseSensitive(f->root, "version"), 1u << 30, &hv) || hv != version)
        FAIL("header \"version\" does not match the preamble's version %u", version);
    if (gfl_hparams_from_cjson(cJSON_GetObjectItemCaseSensitive(f->root, "hparams"), &f->hp, msg, sizeof msg))
        goto fail;
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f->root, "quant")))
        FAIL("header \"quant\" is missing or not an object");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f->root, "provenance")))
        FAIL("header \"provenance\" is missing or not an object");

    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(f->root, "tensors");
    const cJSON *jb = cJSON_GetObjectItemCaseSensitive(f->root, "blobs");
    if (!cJSON_IsArray(jt)) FAIL("header \"tensors\" is missing or not an array");
    if (!cJSON_IsArray(jb)) FAIL("header \"blobs\" is missing or not an array");
    f->n_tensors = (size_t)cJSON_GetArraySize(jt);
    f->n_blobs = (size_t)cJSON_GetArraySize(jb);
    size_t n_all = f->n_tensors + f->n_blobs;
    f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof *f->tensors);
    f->blobs = calloc(f->n_blobs ? f->n_blobs : 1, sizeof *f->blobs);
    spans = calloc(n_all ? n_all : 1, sizeof *spans);
    names = calloc(n_all ? n_all : 1, sizeof *names);
    if (!f->tensors || !f->blobs || !spans || !names) FAIL("out of memory for the directory");
    size_t i = 0;
    for (const cJSON *e = jt->child; e; e = e->next, i++) {
        if (parse_tensor(f, e, i, &f->tensors[i], msg, sizeof msg)) goto fail;
        spans[i] = (span){f->tensors[i].offset, f->tensors[i].size, "tensor", f->tensors[i].name};
        names[i] = f->tensors[i].name;
    }
    i = 0;
    for (const cJSON *e = jb->child; e; e = e->next, i++) {
        gf_blob *b = &f->blobs[i];
        if (parse_entry(f, e, "blob", i, &b->name, &b->offset, &b->size, &b->xxh3, msg, sizeof msg)) goto fail;
        b->data = base + b->offset;
        spans[f->n_tensors + i] = (span){b->offset, b->size, "blob", b->name};
        names[f->n_tensors + i] = b->name;
    }
    const char *dup;
    f->tensor_by_name = sort_names(names, f->n_tensors, &dup);
    if (!f->tensor_by_name) FAIL("out of memory");
    if (dup) FAIL("tensor \"%s\" appears twice", dup);
    f->blob_by_name = sort_names(names + f->n_tensors, f->n_blobs, &dup);
    if (!f->blob_by_name) FAIL("out of memory");
    if (dup) FAIL("blob \"%s\" appears twice", dup);
    /* Overlaps: sorted by offset, each payload must end before the next
     * starts. Empty payloads occupy nothing and cannot overlap. */
    qsort(spans, n_all, sizeof *spans, cmp_span);
    const span *prev = NULL;
    for (i = 0; i < n_all; i++) {
        if (spans[i].size == 0) continue;
        if (prev && spans[i].offset < prev->offset + prev->size)
            FAIL("%s \"%s\" (bytes %llu..%llu) overlaps %s \"%s\" (bytes %llu..%llu)", spans[i].kind, spans[i].name,
                 (unsigned long long)spans[i].offset, (unsigned long long)(spans[i].offset + spans[i].size),
                 prev->kind, prev->name, (unsigned long long)prev->offset,
                 (unsigned long long)(prev->offset + prev->size));
        prev = &spans[i];
    }
    free(spans);
    free(names);
    return f;
fail:
    snprintf(err, errlen, "%s: %s", who, msg);
    free(spans);
    free(names);
    gf_close(f);
    return NULL;
}

gf_file *gf_open_memory(const void *buf, size_t len, char *err, size_t errlen)
{
    return open_image(buf, len, "<memory>", err, errlen);
}

gf_file *gf_open(const char *path, char *err, size_t errlen)
{
    fm_map m;
    /* no minimum here: open_image explains a short file in its own terms */
    if (fm_map_file(path, 0, "", &m, err, errlen))
        return NULL;
    gf_file *f = open_image(m.base ? m.base : (const void *)"", m.len, path, err, errlen);
    if (!f) {
        fm_unmap(&m);
        return NULL;
    }
    f->map = m.base;
    f->map_len = m.len;
    return f;
}

void gf_close(gf_file *f)
{
    if (!f) return;
    if (f->map) munmap(f->map, f->map_len);
    cJSON_Delete(f->root);
    free(f->header);
    free(f->tensors);
    free(f->blobs);
    free(f->tensor_by_name);
    free(f->blob_by_name);
    free(f);
}

const gf_hparams *gf_get_hparams(const gf_file *f) { return &f->hp; }
size_t gf_tensor_count(const gf_file *f) { return f->n_tensors; }
size_t gf_blob_count(const gf_file *f) { return f->n_blobs; }
const char *gf_header_json(const gf_file *f) { return f->header; }
uint64_t gf_file_size(const gf_file *f) { return f->len; }

const gf_tensor *gf_tensor_at(const gf_file *f, size_t i)
{
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gf_blob *gf_blob_at(const gf_file *f, size_t i)
{
    return i < f->n_blobs ? &f->blobs[i] : NULL;
}

/* Binary search over indices sorted by name; names are reached through a
 * stride so one routine serves tensors and blobs. */
static const void *find(const size_t *idx, size_t n, const void *arr, size_t stride, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const void *el = (const char *)arr + idx[mid] * stride;
        int c = strcmp(*(const char *const *)el, name);  /* name is each struct's first member */
        if (c == 0) return el;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const gf_tensor *gf_find_tensor(const gf_file *f, const char *name)
{
    return name ? find(f->tensor_by_name, f->n_tensors, f->tensors, sizeof(gf_tensor), name) : NULL;
}

const gf_blob *gf_find_blob(const gf_file *f, const char *name)
{
    return name ? find(f->blob_by_name, f->n_blobs, f->blobs, sizeof(gf_blob), name) : NULL;
}

/* First non-zero byte in [from, to), or `to` if all zero. */
static uint64_t first_nonzero(const uint8_t *base, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++)
        if (base[i]) return i;
    return to;
}

size_t gf_verify(const gf_file *f, gf_mismatch_fn report, void *ctx)
{
    size_t bad = 0;
    size_t n_all = f->n_tensors + f->n_blobs;
    span *spans = malloc((n_all ? n_all : 1) * sizeof *spans);
    for (size_t i = 0; i < f->n_tensors; i++) {
        const gf_tensor *t = &f->tensors[i];
        uint64_t got = XXH3_64bits(t->data, (size_t)t->size);
        if (got != t->xxh3) {
            bad++;
            if (report) report(ctx, t->name, t->xxh3, got);
        }
        if (spans) spans[i] = (span){t->offset, t->size, "tensor", t->name};
    }
    for (size_t i = 0; i < f->n_blobs; i++) {
        const gf_blob *b = &f->blobs[i];
        uint64_t got = XXH3_64bits(b->data, (size_t)b->size);
        if (got != b->xxh3) {
            bad++;
            if (report) report(ctx, b->name, b->xxh3, got);
        }
        if (spans) spans[f->n_tensors + i] = (span){b->offset, b->size, "blob", b->name};
    }
    if (!spans) {  /* cannot check padding without memory: count that as a problem */
        if (report) report(ctx, "(out of memory: padding not checked)", 0, 0);
        return bad + 1;
    }
    /* Padding must be zero: a writer that leaks garbage there is not
     * deterministic, and non-zero padding means damage. */
    qsort(spans, n_all, sizeof *spans, cmp_span);
    uint64_t at = GF_PREAMBLE_BYTES + f->header_len;
    char label[GF_MAX_NAME + 32];
    snprintf(label, sizeof label, "padding after header");
    for (size_t i = 0; i <= n_all; i++) {
        uint64_t to = i < n_all ? spans[i].offset : f->len;
        if (i < n_all && spans[i].size == 0) continue;
        uint64_t nz = first_nonzero(f->base, at, to);
        if (nz < to) {
            bad++;
            if (report) report(ctx, label, 0, nz);
        }
        if (i < n_all) {
            at = spans[i].offset + spans[i].size;
            snprintf(label, sizeof label, "padding after %s", spans[i].name);
        }
    }
    free(spans);
    return bad;
}
