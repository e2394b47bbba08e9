/* gguf_read.c - the GGUF reader: maps a file and validates all of it
 * before handing anything out (see gguf.h).
 *
 * Every count read from the file is first bounded by the bytes that remain
 * (a KV needs at least 13 bytes, a tensor info 32, a string 8), so a hostile
 * count can neither overflow an allocation size nor make us allocate more
 * than a few times the file. The tensor-offset rule is ggml's: each offset
 * must equal the running sum of its predecessors' sizes, each padded to the
 * alignment; a file llama.cpp would refuse is refused here too. */
#include "file_map.h"
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gguf_file {
    const uint8_t *base;
    size_t len;
    void *map;                   /* non-NULL when we own a mapping */
    uint32_t version, align;
    uint64_t data_off;
    gguf_kv *kv;
    uint64_t **str_off;          /* per KV: element offsets of a string array */
    size_t n_kv;
    gguf_tensor *t;
    size_t n_t;
};

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t errlen;
    const char *what;            /* file name for messages */
} cur;

static int bad(cur *c, const char *msg)
{
    snprintf(c->err, c->errlen, "%s: not a valid GGUF file: %s at byte %zu", c->what, msg, c->pos);
    return -1;
}

static int take(cur *c, size_t n, const uint8_t **out)
{
    if (n > c->len - c->pos) return bad(c, "truncated");
    *out = c->p + c->pos;
    c->pos += n;
    return 0;
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int rd_u32(cur *c, uint32_t *v)
{
    const uint8_t *b;
    if (take(c, 4, &b)) return -1;
    *v = (uint32_t)le(b, 4);
    return 0;
}

static int rd_u64(cur *c, uint64_t *v)
{
    const uint8_t *b;
    if (take(c, 8, &b)) return -1;
    *v = le(b, 8);
    return 0;
}

static int rd_str(cur *c, const uint8_t **s, uint64_t *n)
{
    if (rd_u64(c, n)) return -1;
    if (*n > c->len - c->pos) return bad(c, "string length past the end");
    return take(c, (size_t)*n, s);
}

static char *dup_n(const uint8_t *s, uint64_t n)
{
    char *d = malloc((size_t)n + 1);
    if (d) {
        memcpy(d, s, (size_t)n);
        d[n] = 0;
    }
    return d;
}

static int scalar_bytes(uint32_t t)
{
    switch (t) {
    case GGUF_VT_UINT8: case GGUF_VT_INT8: case GGUF_VT_BOOL: return 1;
    case GGUF_VT_UINT16: case GGUF_VT_INT16: return 2;
    case GGUF_VT_UINT32: case GGUF_VT_INT32: case GGUF_VT_FLOAT32: return 4;
    case GGUF_VT_UINT64: case GGUF_VT_INT64: case GGUF_VT_FLOAT64: return 8;
    default: return 0;
    }
}

static int parse_kv(cur *c, gguf_kv *kv, uint64_t **offs)
{
    const uint8_t *s;
    uint64_t n;
    if (rd_str(c, &s, &n)) return -1;
    if (n == 0 || n > 65535) return bad(c, "KV key length out of range");
    if (memchr(s, 0, (size_t)n)) return bad(c, "KV key holds a NUL byte");
    if (!(kv->key = dup_n(s, n))) return bad(c, "out of memory");
    if (rd_u32(c, &kv->type)) return -1;
    size_t start = c->pos;
    int sb = scalar_bytes(kv->type);
    if (sb) {
        if (take(c, (size_t)sb, &s)) return -1;
    } else if (kv->type == GGUF_VT_STRING) {
        if (rd_str(c, &s, &n)) return -1;
    } else if (kv->type == GGUF_VT_ARRAY) {
        if (rd_u32(c, &kv->arr_type) || rd_u64(c, &kv->arr_n)) return -1;
        size_t rest = c->len - c->pos;
        int eb = scalar_bytes(kv->arr_type);
        if (eb) {
            if (kv->arr_n > rest / (size_t)eb) return bad(c, "array count past the end");
            if (take(c, (size_t)kv->arr_n * (size_t)eb, &s)) return -1;
        } else if (kv->arr_type == GGUF_VT_STRING) {
            if (kv->arr_n > rest / 8) return bad(c, "string array count past the end");
            uint64_t *o = malloc(((size_t)kv->arr_n + 1) * sizeof *o);
            if (!o) return bad(c, "out of memory");
            *offs = o;
            for (uint64_t i = 0; i < kv->arr_n; i++) {
                o[i] = c->pos;
                if (rd_str(c, &s, &n)) return -1;
            }
        } else {
            return bad(c, "array of an unsupported element type");
        }
    } else {
        return bad(c, "unknown KV value type");
    }
    kv->val = c->p + start;
    kv->val_len = c->pos - start;
    return 0;
}

static void free_file(gguf_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_kv; i++) {
        free((char *)f->kv[i].key);
        if (f->str_off) free(f->str_off[i]);
    }
    for (size_t i = 0; i < f->n_t; i++) free((char *)f->t[i].name);
    free(f->kv);
    free(f->str_off);
    free(f->t);
    if (f->map) munmap(f->map, f->len);
    free(f);
}

static gguf_file *parse(gguf_file *f, const char *what, char *err, size_t errlen)
{
    cur c = {f->base, f->len, 0, err, errlen, what};
    uint64_t n_t, n_kv;
    if (f->len < 4 || memcmp(f->base, GGUF_MAGIC, 4)) {
        snprintf(err, errlen, "%s: not a GGUF file (no \"GGUF\" magic)", what);
        goto fail;
    }
    c.pos = 4;
    if (rd_u32(&c, &f->version)) goto fail;
    if (f->version != 2 && f->version != 3) {
        snprintf(err, errlen, "%s: GGUF version %u is not supported (2 and 3 are)", what, f->version);
        goto fail;
    }
    if (rd_u64(&c, &n_t) || rd_u64(&c, &n_kv)) goto fail;
    if (n_kv > (c.len - c.pos) / 13) { bad(&c, "KV count larger than the file"); goto fail; }
    if (!(f->kv = calloc((size_t)n_kv + 1, sizeof *f->kv)) ||
        !(f->str_off = calloc((size_t)n_kv + 1, sizeof *f->str_off))) {
        bad(&c, "out of memory");
        goto fail;
    }
    f->align = GGUF_DEFAULT_ALIGN;
    for (uint64_t i = 0; i < n_kv; i++) {
        f->n_kv = (size_t)i + 1;
        if (parse_kv(&c, &f->kv[i], &f->str_off[i])) goto fail;
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(f->kv[j].key, f->kv[i].key)) { bad(&c, "duplicate KV key"); goto fail; }
        if (!strcmp(f->kv[i].key, "general.alignment")) {
            uint64_t a;
            if (f->kv[i].type != GGUF_VT_UINT32 || gguf_get_uint(&f->kv[i], &a) || a == 0 || (a & (a - 1)) ||
                a > (1u << 30)) {
                bad(&c, "general.alignment is not a u32 power of two");
                goto fail;
            }
            f->align = (uint32_t)a;
        }
    }
    if (n_t > (c.len - c.pos) / 32) { bad(&c, "tensor count larger than the file"); goto fail; }
    if (!(f->t = calloc((size_t)n_t + 1, sizeof *f->t))) { bad(&c, "out of memory"); goto fail; }
    for (uint64_t i = 0; i < n_t; i++) {
        gguf_tensor *t = &f->t[i];
        const uint8_t *s;
        uint64_t n;
        f->n_t = (size_t)i + 1;
        if (rd_str(&c, &s, &n)) goto fail;
        if (n == 0 || n >= GGUF_MAX_NAME || memchr(s, 0, (size_t)n)) { bad(&c, "tensor name empty, too long or with NUL"); goto fail; }
        if (!(t->name = dup_n(s, n))) { bad(&c, "out of memory"); goto fail; }
        if (rd_u32(&c, &t->n_dims)) goto fail;
        if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) { bad(&c, "tensor n_dims not in 1..4"); goto fail; }
        for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            uint64_t v;
            if (rd_u64(&c, &v)) goto fail;
            if (v > (uint64_t)INT64_MAX) { bad(&c, "negative tensor dimension"); goto fail; }
            t->ne[d] = (int64_t)v;
        }
        if (rd_u32(&c, &t->type) || rd_u64(&c, &t->offset)) goto fail;
        if (!gguf_type_info(t->type)) {
            snprintf(err, errlen, "%s: tensor '%s' has ggml type %u, which this reader does not know", what,
                     t->name, t->type);
            goto fail;
        }
        t->size = gguf_tensor_bytes(t->type, (int)t->n_dims, t->ne);
        if (t->size == UINT64_MAX) {
            snprintf(err, errlen, "%s: tensor '%s': row length %lld is not a multiple of the %s block, or the size overflows",
                     what, t->name, (long long)t->ne[0], gguf_type_info(t->type)->name);
            goto fail;
        }
        for (uint64_t j = 0; j < i; j++)
            if (!strcmp(f->t[j].name, t->name)) { bad(&c, "duplicate tensor name"); goto fail; }
    }
    /* data start and ggml's offset rule */
    uint64_t pos = c.pos;
    f->data_off = (pos + f->align - 1) / f->align * f->align;
    uint64_t expect = 0;
    for (size_t i = 0; i < f->n_t; i++) {
        gguf_tensor *t = &f->t[i];
        if (t->offset != expect) {
            snprintf(err, errlen, "%s: tensor '%s' has offset %llu, expected %llu (sizes padded to %u)", what,
                     t->name, (unsigned long long)t->offset, (unsigned long long)expect, f->align);
            goto fail;
        }
        if (f->data_off > f->len || t->offset > f->len - f->data_off || t->size > f->len - f->data_off - t->offset) {
            snprintf(err, errlen, "%s: tensor '%s' (%llu bytes at %llu) lies past the end of the file (%zu bytes): "
                     "the file is truncated", what, t->name, (unsigned long long)t->size,
                     (unsigned long long)(f->data_off + t->offset), f->len);
            goto fail;
        }
        t->data = f->base + f->data_off + t->offset;
        expect = (t->offset + t->size + f->align - 1) / f->align * f->align;
    }
    return f;
fail:
    free_file(f);
    return NULL;
}

gguf_file *gguf_open_memory(const void *buf, size_t len, char *err, size_t errlen)
{
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->base = buf;
    f->len = len;
    return parse(f, "(memory)", err, errlen);
}

gguf_file *gguf_open(const char *path, char *err, size_t errlen)
{
    fm_map m;
    if (fm_map_file(path, 24, "too small to be a GGUF file (a 24-byte header comes first)", &m, err, errlen))
        return NULL;
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) {
        fm_unmap(&m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->base = m.base;
    f->map = m.base;
    f->len = m.len;
    return parse(f, path, err, errlen);
}

void gguf_close(gguf_file *f) { free_file(f); }

uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint32_t gguf_alignment(const gguf_file *f) { return f->align; }
uint64_t gguf_data_offset(const gguf_file *f) { return f->data_off; }
uint64_t gguf_file_size(const gguf_file *f) { return f->len; }
size_t gguf_kv_count(const gguf_file *f) { return f->n_kv; }
const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i) { return i < f->n_kv ? &f->kv[i] : NULL; }
size_t gguf_tensor_count(const gguf_file *f) { return f->n_t; }
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i) { return i < f->n_t ? &f->t[i] : NULL; }

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_kv; i++)
        if (!strcmp(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_t; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

/* A scalar of type t at p, as unsigned (neg: -1) or double. */
static int scalar_u(uint32_t t, const uint8_t *p, uint64_t *out)
{
    uint64_t v = le(p, scalar_bytes(t) ? scalar_bytes(t) : 1);
    switch (t) {
    case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64: case GGUF_VT_BOOL:
        *out = v;
        return 0;
    case GGUF_VT_INT8: if (v & 0x80) return -1; *out = v; return 0;
    case GGUF_VT_INT16: if (v & 0x8000) return -1; *out = v; return 0;
    case GGUF_VT_INT32: if (v & 0x80000000u) return -1; *out = v; return 0;
    case GGUF_VT_INT64: if (v >> 63) return -1; *out = v; return 0;
    default: return -1;
    }
}

static double scalar_d(uint32_t t, const uint8_t *p)
{
    uint64_t v = le(p, scalar_bytes(t));
    switch (t) {
    case GGUF_VT_INT8: return (int8_t)v;
    case GGUF_VT_INT16: return (int16_t)v;
    case GGUF_VT_INT32: return (int32_t)v;
    case GGUF_VT_INT64: return (double)(int64_t)v;
    case GGUF_VT_FLOAT32: { uint32_t u = (uint32_t)v; float x; memcpy(&x, &u, 4); return x; }
    case GGUF_VT_FLOAT64: { double x; memcpy(&x, &v, 8); return x; }
    default: return (double)v;
    }
}

int gguf_get_uint(const gguf_kv *kv, uint64_t *out)
{
    if (!kv || !scalar_bytes(kv->type) || kv->type == GGUF_VT_FLOAT32 || kv->type == GGUF_VT_FLOAT64) return -1;
    return scalar_u(kv->type, kv->val, out);
}

int gguf_get_f32(const gguf_kv *kv, float *out)
{
    if (!kv || (kv->type != GGUF_VT_FLOAT32 && kv->type != GGUF_VT_FLOAT64)) return -1;
    *out = (float)scalar_d(kv->type, kv->val);
    return 0;
}

int gguf_get_str(const gguf_kv *kv, const char **s, size_t *len)
{
    if (!kv || kv->type != GGUF_VT_STRING) return -1;
    *len = (size_t)le(kv->val, 8);
    *s = (const char *)kv->val + 8;
    return 0;
}

int gguf_arr_str(const gguf_file *f, const gguf_kv *kv, uint64_t i, const char **s, size_t *len)
{
    if (!kv || kv->type != GGUF_VT_ARRAY || kv->arr_type != GGUF_VT_STRING || i >= kv->arr_n) return -1;
    size_t k = (size_t)(kv - f->kv);
    if (k >= f->n_kv || !f->str_off[k]) return -1;
    const uint8_t *p = f->base + f->str_off[k][i];
    *len = (size_t)le(p, 8);
    *s = (const char *)p + 8;
    return 0;
}

int gguf_arr_num(const gguf_kv *kv, uint64_t i, double *out)
{
    if (!kv || kv->type != GGUF_VT_ARRAY || i >= kv->arr_n) return -1;
    int eb = scalar_bytes(kv->arr_type);
    if (!eb) return -1;
    *out = scalar_d(kv->arr_type, kv->val + 12 + i * (uint64_t)eb);
    return 0;
}
