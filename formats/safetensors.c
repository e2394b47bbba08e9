/* safetensors.c - one safetensors file: map it, validate its header, expose
 * its tensors zero-copy. Sharded checkpoints and directories are in
 * safetensors_index.c.
 *
 * File layout (https://github.com/huggingface/safetensors): u64 LE header
 * length N, N bytes of JSON, then the data area. The JSON maps each tensor
 * name to {"dtype", "shape", "data_offsets": [begin, end]} with offsets
 * relative to the data area, plus an optional "__metadata__" object of
 * strings. Nothing here trusts the file: every number is checked to be a
 * non-negative integer, every product and sum is overflow-checked, and data
 * ranges must lie inside the data area without overlapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "file_map.h"
#include "json_nul.h"
#include "safetensors_internal.h"

/* Hugging Face's reader refuses headers above 100 MB; real ones are < 1 MB. */
#define ST_MAX_HEADER (100u * 1000u * 1000u)
/* JSON numbers arrive as doubles: integers above 2^53 are not exact. */
#define ST_MAX_JSON_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},
    [ST_U16] = {"U16", 2},   [ST_I16] = {"I16", 2}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_U32] = {"U32", 4}, [ST_I32] = {"I32", 4},
    [ST_F32] = {"F32", 4},   [ST_U64] = {"U64", 8}, [ST_I64] = {"I64", 8},
    [ST_F64] = {"F64", 8},   [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(st_dtype t)
{
    return (int)t >= 0 && t < ST_DTYPE_COUNT ? dtypes[t].name : "?";
}

size_t st_dtype_size(st_dtype t)
{
    return (int)t >= 0 && t < ST_DTYPE_COUNT ? dtypes[t].size : 0;
}

int st__fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

st_checkpoint *st__new(void)
{
    return calloc(1, sizeof(st_checkpoint));
}

static int push_shard(st_checkpoint *ck, const char *path, const uint8_t *base, size_t len, int mapped,
                      char *err, size_t errlen)
{
    if (ck->nshards == ck->cap_shards) {
        size_t cap = ck->cap_shards ? ck->cap_shards * 2 : 4;
        st_shard *s = realloc(ck->shards, cap * sizeof *s);
        if (!s)
            return st__fail(err, errlen, "%s: out of memory", path);
        ck->shards = s;
        ck->cap_shards = cap;
    }
    char *p = malloc(strlen(path) + 1);
    if (!p)
        return st__fail(err, errlen, "%s: out of memory", path);
    strcpy(p, path);
    ck->shards[ck->nshards] = (st_shard){p, base, len, mapped};
    return (int)ck->nshards++;
}

int st__add_memory(st_checkpoint *ck, const void *buf, size_t len, const char *label, char *err, size_t errlen)
{
    return push_shard(ck, label ? label : "(memory)", buf, len, 0, err, errlen);
}

int st__add_file(st_checkpoint *ck, const char *path, char *err, size_t errlen)
{
    fm_map m;
    if (fm_map_file(path, 8, "too small to be safetensors (an 8-byte header length comes first); "
                             "the download is probably incomplete", &m, err, errlen))
        return -1;
    void *base = m.base;
    size_t len = m.len;
    int idx = push_shard(ck, path, base, len, 1, err, errlen);
    if (idx < 0)
        fm_unmap(&m);
    return idx;
}

/* A JSON number that is an exact non-negative integer (<= 2^53). */
static int json_uint(const cJSON *n, uint64_t *out)
{
    if (!cJSON_IsNumber(n))
        return 0;
    double d = n->valuedouble;
    if (!(d >= 0.0) || d > ST_MAX_JSON_INT || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static int push_tensor(st_checkpoint *ck, const st_tensor *t)
{
    if (ck->ntensors == ck->cap_tensors) {
        size_t cap = ck->cap_tensors ? ck->cap_tensors * 2 : 64;
        st_tensor *n = realloc(ck->tensors, cap * sizeof *n);
        if (!n)
            return -1;
        ck->tensors = n;
        ck->cap_tensors = cap;
    }
    ck->tensors[ck->ntensors++] = *t;
    return 0;
}

/* One tensor entry; on success appends it with data pointing into the shard. */
static int parse_entry(st_checkpoint *ck, size_t si, const cJSON *e, const uint8_t *data, uint64_t data_len,
                       char *err, size_t errlen)
{
    const char *file = ck->shards[si].path, *name = e->string;
    if (!name[0])
        return st__fail(err, errlen, "%s: a tensor has an empty name", file);
    if (!cJSON_IsObject(e))
        return st__fail(err, errlen, "%s: tensor '%s': entry is not a JSON object", file, name);
    const cJSON *dt = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *k = e->child; k; k = k->next) {
        const cJSON **slot = strcmp(k->string, "dtype") == 0          ? &dt
                             : strcmp(k->string, "shape") == 0        ? &shape
                             : strcmp(k->string, "data_offsets") == 0 ? &offs
                                                                      : NULL;
        if (!slot)
            return st__fail(err, errlen, "%s: tensor '%s': unexpected key '%s'", file, name, k->string);
        if (*slot)
            return st__fail(err, errlen, "%s: tensor '%s': key '%s' appears twice", file, name, k->string);
        *slot = k;
    }
    if (!dt || !shape || !offs)
        return st__fail(err, errlen, "%s: tensor '%s': missing '%s'", file, name,
                        !dt ? "dtype" : !shape ? "shape" : "data_offsets");

    st_tensor t;
    memset(&t, 0, sizeof t);
    t.shard = (int)si;
    if (!cJSON_IsString(dt))
        return st__fail(err, errlen, "%s: tensor '%s': dtype is not a string", file, name);
    int found = 0;
    for (int i = 0; i < ST_DTYPE_COUNT && !found; i++)
        if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
            t.dtype = (st_dtype)i;
            found = 1;
        }
    if (!found)
        return st__fail(err, errlen,
                        "%s: tensor '%s': unknown dtype '%.32s' (known: BOOL U8 I8 U16 I16 F16 BF16 U32 I32 F32 "
                        "U64 I64 F64 F8_E4M3 F8_E5M2)",
                        file, name, dt->valuestring);

    if (!cJSON_IsArray(shape))
        return st__fail(err, errlen, "%s: tensor '%s': shape is not an array", file, name);
    uint64_t count = 1;
    int overflow = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        if (t.ndim == ST_MAX_DIMS)
            return st__fail(err, errlen, "%s: tensor '%s': shape has more than %d dimensions", file, name,
                            ST_MAX_DIMS);
        uint64_t v;
        if (!json_uint(d, &v))
            return st__fail(err, errlen, "%s: tensor '%s': shape entry %d is not a non-negative integer", file,
                            name, t.ndim);
        t.shape[t.ndim++] = v;
        if (v && count > UINT64_MAX / v)
            overflow = 1;
        count *= v;                   /* only meaningful when !overflow */
    }
    for (int i = 0; i < t.ndim; i++)
        if (t.shape[i] == 0)
            overflow = 0, count = 0;  /* any zero dimension: no elements */
    size_t es = dtypes[t.dtype].size;
    if (overflow || count > UINT64_MAX / es)
        return st__fail(err, errlen, "%s: tensor '%s': shape is too large (element count overflows)", file, name);
    t.nbytes = count * es;

    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &begin) ||
        !json_uint(offs->child->next, &end))
        return st__fail(err, errlen,
                        "%s: tensor '%s': data_offsets must be two non-negative integers [begin, end]", file, name);
    if (end < begin)
        return st__fail(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] end before begin", file, name,
                        (unsigned long long)begin, (unsigned long long)end);
    if (end > data_len)
        return st__fail(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] end past the data area (%llu bytes)",
                        file, name, (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)data_len);
    if (end - begin != t.nbytes) {
        char dims[200];
        size_t at = 0;
        dims[0] = 0;
        for (int i = 0; i < t.ndim && at < sizeof dims; i++)
            at += (size_t)snprintf(dims + at, sizeof dims - at, "%s%llu", i ? ", " : "",
                                   (unsigned long long)t.shape[i]);
        return st__fail(err, errlen,
                        "%s: tensor '%s': shape [%s] of %s needs %llu bytes but data_offsets [%llu, %llu] hold %llu",
                        file, name, dims, dtypes[t.dtype].name, (unsigned long long)t.nbytes,
                        (unsigned long long)begin, (unsigned long long)end, (unsigned long long)(end - begin));
    }
    t.data = data + begin;
    char *nm = malloc(strlen(name) + 1);
    if (!nm)
        return st__fail(err, errlen, "%s: out of memory", file);
    strcpy(nm, name);
    t.name = nm;
    if (push_tensor(ck, &t) != 0) {
        free(nm);
        return st__fail(err, errlen, "%s: out of memory", file);
    }
    return 0;
}

static int by_offset(const void *a, const void *b)
{
    const uint8_t *x = (*(const st_tensor *const *)a)->data, *y = (*(const st_tensor *const *)b)->data;
    return x < y ? -1 : x > y ? 1 : 0;
}

static int check_overlap(st_checkpoint *ck, size_t si, size_t first, const uint8_t *data, char *err, size_t errlen)
{
    size_t n = ck->ntensors - first;
    if (n < 2)
        return 0;
    const st_tensor **v = malloc(n * sizeof *v);
    if (!v)
        return st__fail(err, errlen, "%s: out of memory", ck->shards[si].path);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ck->tensors[first + i].nbytes)    /* empty ranges overlap nothing */
            v[m++] = &ck->tensors[first + i];
    qsort(v, m, sizeof *v, by_offset);
    int rc = 0;
    for (size_t i = 1; i < m && rc == 0; i++) {
        const st_tensor *a = v[i - 1], *b = v[i];
        const uint8_t *ad = a->data, *bd = b->data;
        if (bd < ad + a->nbytes) {
            unsigned long long ab = (unsigned long long)(ad - data), bb = (unsigned long long)(bd - data);
            rc = st__fail(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' [%llu, %llu]",
                          ck->shards[si].path, b->name, bb, bb + (unsigned long long)b->nbytes, a->name, ab,
                          ab + (unsigned long long)a->nbytes);
        }
    }
    free(v);
    return rc;
}

int st__parse_shard(st_checkpoint *ck, size_t si, char *err, size_t errlen)
{
    const st_shard *sh = &ck->shards[si];
    const char *file = sh->path;
    const uint8_t *b = sh->base;
    if (sh->len < 8)
        return st__fail(err, errlen,
                        "%s: file is %zu bytes, too small to be safetensors (an 8-byte header length comes first)",
                        file, sh->len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    if (n > sh->len - 8)
        return st__fail(err, errlen,
                        "%s: header length %llu runs past the end of the file (%zu bytes): truncated or not a "
                        "safetensors file",
                        file, (unsigned long long)n, sh->len);
    if (n > ST_MAX_HEADER)
        return st__fail(err, errlen, "%s: header length %llu is above the 100 MB limit", file,
                        (unsigned long long)n);
    if (n < 2 || b[8] != '{')
        return st__fail(err, errlen, "%s: header does not start with a JSON object ('{')", file);

    const char *hdr = (const char *)b + 8, *end = NULL;
    long long nul = gq_json_nul_string(hdr, (size_t)n);
    if (nul >= 0) /* cJSON would cut "lm_head.weight\u0000x" to "lm_head.weight" */
        return st__fail(err, errlen,
                        "%s: header string at byte %lld holds a NUL character (\\u0000); tensor names and "
                        "dtypes must not: the file is corrupt or hostile",
                        file, nul);
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &end, 0);
    if (!root) {
        size_t at = end && end >= hdr && end <= hdr + n ? (size_t)(end - hdr) : 0;
        return st__fail(err, errlen, "%s: header is not valid JSON (error near byte %zu of %llu)", file, at,
                        (unsigned long long)n);
    }
    int rc = 0;
    /* the writer pads the header with spaces to align the data area */
    for (const char *p = end; p < hdr + n && rc == 0; p++)
        if (!(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            rc = st__fail(err, errlen, "%s: header has bytes after the JSON object (at byte %zu of %llu)", file,
                          (size_t)(p - hdr), (unsigned long long)n);
    if (rc == 0 && !cJSON_IsObject(root))
        rc = st__fail(err, errlen, "%s: header is not a JSON object", file);

    const uint8_t *data = b + 8 + n;
    uint64_t data_len = (uint64_t)(sh->len - 8 - n);
    size_t first = ck->ntensors;
    int seen_meta = 0;
    for (const cJSON *e = rc == 0 ? root->child : NULL; e && rc == 0; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta++)
                rc = st__fail(err, errlen, "%s: __metadata__ appears twice", file);
            else if (!cJSON_IsObject(e))
                rc = st__fail(err, errlen, "%s: __metadata__ is not a JSON object", file);
            for (const cJSON *m = e->child; m && rc == 0; m = m->next)
                if (!cJSON_IsString(m))
                    rc = st__fail(err, errlen, "%s: __metadata__ value '%s' is not a string", file, m->string);
            continue;
        }
        rc = parse_entry(ck, si, e, data, data_len, err, errlen);
    }
    cJSON_Delete(root);
    if (rc == 0)
        rc = check_overlap(ck, si, first, data, err, errlen);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

int st__finish(st_checkpoint *ck, char *err, size_t errlen)
{
    if (ck->ntensors > 1)
        qsort(ck->tensors, ck->ntensors, sizeof *ck->tensors, by_name);
    for (size_t i = 1; i < ck->ntensors; i++) {
        const st_tensor *a = &ck->tensors[i - 1], *b = &ck->tensors[i];
        if (strcmp(a->name, b->name) == 0) {
            if (a->shard == b->shard)
                return st__fail(err, errlen, "%s: tensor '%s' appears twice", ck->shards[a->shard].path, a->name);
            return st__fail(err, errlen, "tensor '%s' appears in two shards: %s and %s", a->name,
                            ck->shards[a->shard].path, ck->shards[b->shard].path);
        }
    }
    return 0;
}

void st_close(st_checkpoint *ck)
{
    if (!ck)
        return;
    for (size_t i = 0; i < ck->ntensors; i++)
        free((char *)ck->tensors[i].name);
    for (size_t i = 0; i < ck->nshards; i++) {
        if (ck->shards[i].mapped)
            munmap((void *)ck->shards[i].base, ck->shards[i].len);
        free(ck->shards[i].path);
    }
    free(ck->tensors);
    free(ck->shards);
    free(ck);
}

st_checkpoint *st_open_memory(const void *buf, size_t len, const char *label, char *err, size_t errlen)
{
    st_checkpoint *ck = st__new();
    if (!ck) {
        st__fail(err, errlen, "%s: out of memory", label ? label : "(memory)");
        return NULL;
    }
    if (st__add_memory(ck, buf, len, label, err, errlen) < 0 || st__parse_shard(ck, 0, err, errlen) != 0 ||
        st__finish(ck, err, errlen) != 0) {
        st_close(ck);
        return NULL;
    }
    return ck;
}

size_t st_count(const st_checkpoint *ck)
{
    return ck ? ck->ntensors : 0;
}

const st_tensor *st_at(const st_checkpoint *ck, size_t i)
{
    return ck && i < ck->ntensors ? &ck->tensors[i] : NULL;
}

const st_tensor *st_find(const st_checkpoint *ck, const char *name)
{
    if (!ck || !name || !ck->ntensors)
        return NULL;
    st_tensor key;
    memset(&key, 0, sizeof key);
    key.name = name;
    return bsearch(&key, ck->tensors, ck->ntensors, sizeof key, by_name);
}

size_t st_shard_count(const st_checkpoint *ck)
{
    return ck ? ck->nshards : 0;
}

const char *st_shard_path(const st_checkpoint *ck, size_t i)
{
    return ck && i < ck->nshards ? ck->shards[i].path : NULL;
}

uint64_t st_tensor_file_offset(const st_checkpoint *ck, const st_tensor *t)
{
    return (uint64_t)((const uint8_t *)t->data - ck->shards[t->shard].base);
}

int st_shard_is_file(const st_checkpoint *ck, size_t i)
{
    return i < ck->nshards && ck->shards[i].mapped;
}
