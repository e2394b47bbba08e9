/* gguf_write.c - the GGUF v3 writer (see gguf.h for what it promises).
 *
 * The header (KVs + tensor infos) is built in memory; it is small next to
 * the tensors (the 201k-token vocabulary and 446k merges are ~8 MB). At
 * begin the file's blocks are reserved and it is sized to its final length
 * (so every padding byte is a zero without writing it), the header is
 * written, and tensor bytes are then placed through gio_out_write's stream,
 * in any order the layout finds convenient. A byte
 * count per tensor is what finish checks: a missing chunk is an error, not
 * a silent hole of zeros. The file itself is gio_out.h's crash-safe
 * temporary (name, lock, stale cleanup, fsync, rename, directory fsync). */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gio_err.h"
#include "gio_out.h"

typedef struct {
    char name[GGUF_MAX_NAME];
    uint32_t type;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    uint64_t size, offset, written, cursor;
} wtensor;

struct gguf_writer {
    gio_out *out;                /* the temporary; NULL once removed or published */
    int fd, begun, failed;
    int errnum;                  /* errno of a failed write, for finish's caller */
    uint32_t align;
    uint8_t *kv;                 /* serialized KVs */
    size_t kv_len, kv_cap;
    uint64_t n_kv;
    char **keys;                 /* for the uniqueness check */
    size_t n_keys, keys_cap;
    uint64_t arr_left;           /* strings still owed to an open string array */
    wtensor *t;
    size_t n_t, t_cap;
    uint64_t data_off, file_size;
    char err[512];
};

static int fail(gguf_writer *w, const char *fmt, ...)
{
    if (!w->failed) {
        va_list ap;
        va_start(ap, fmt);
        gio_verrf(w->err, sizeof w->err, fmt, ap);
        va_end(ap);
    }
    w->failed = 1;
    return -1;
}

static int put(gguf_writer *w, const void *p, size_t n)
{
    if (w->kv_len + n < w->kv_len) return fail(w, "GGUF header too large");
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap < w->kv_len + n) {
            if (cap > SIZE_MAX / 2) return fail(w, "GGUF header too large");
            cap *= 2;
        }
        uint8_t *nb = realloc(w->kv, cap);
        if (!nb) return fail(w, "out of memory building the GGUF header");
        w->kv = nb;
        w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return 0;
}

/* Little-endian encoders (the format is LE whatever the host is). */
static int put_le(gguf_writer *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    return put(w, b, (size_t)bytes);
}

static int put_str(gguf_writer *w, const char *s, size_t len)
{
    if (put_le(w, len, 8)) return -1;
    return put(w, s, len);
}

static int start_kv(gguf_writer *w, const char *key, gguf_vtype vt)
{
    if (w->failed) return -1;
    if (w->begun) return fail(w, "GGUF KV '%s' added after begin", key);
    if (w->arr_left) return fail(w, "GGUF KV '%s' added while a string array is open", key);
    if (!key || !*key) return fail(w, "GGUF KV with an empty key");
    for (size_t i = 0; i < w->n_keys; i++)
        if (!strcmp(w->keys[i], key)) return fail(w, "duplicate GGUF KV '%s'", key);
    if (w->n_keys == w->keys_cap) {
        size_t cap = w->keys_cap ? w->keys_cap * 2 : 64;
        char **nk = realloc(w->keys, cap * sizeof *nk);
        if (!nk) return fail(w, "out of memory");
        w->keys = nk;
        w->keys_cap = cap;
    }
    if (!(w->keys[w->n_keys] = strdup(key))) return fail(w, "out of memory");
    w->n_keys++;
    w->n_kv++;
    if (put_str(w, key, strlen(key))) return -1;
    return put_le(w, (uint32_t)vt, 4);
}

int gguf_kv_u8(gguf_writer *w, const char *key, uint8_t v)
{
    return start_kv(w, key, GGUF_VT_UINT8) ? -1 : put_le(w, v, 1);
}
int gguf_kv_u32(gguf_writer *w, const char *key, uint32_t v)
{
    return start_kv(w, key, GGUF_VT_UINT32) ? -1 : put_le(w, v, 4);
}
int gguf_kv_i32(gguf_writer *w, const char *key, int32_t v)
{
    return start_kv(w, key, GGUF_VT_INT32) ? -1 : put_le(w, (uint32_t)v, 4);
}
int gguf_kv_u64(gguf_writer *w, const char *key, uint64_t v)
{
    return start_kv(w, key, GGUF_VT_UINT64) ? -1 : put_le(w, v, 8);
}
int gguf_kv_f32(gguf_writer *w, const char *key, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return start_kv(w, key, GGUF_VT_FLOAT32) ? -1 : put_le(w, u, 4);
}
int gguf_kv_bool(gguf_writer *w, const char *key, int v)
{
    return start_kv(w, key, GGUF_VT_BOOL) ? -1 : put_le(w, v ? 1 : 0, 1);
}
int gguf_kv_strn(gguf_writer *w, const char *key, const char *v, size_t len)
{
    return start_kv(w, key, GGUF_VT_STRING) ? -1 : put_str(w, v, len);
}
int gguf_kv_str(gguf_writer *w, const char *key, const char *v)
{
    return gguf_kv_strn(w, key, v, strlen(v));
}

static int scalar_size(gguf_vtype t)
{
    switch (t) {
    case GGUF_VT_UINT8: case GGUF_VT_INT8: case GGUF_VT_BOOL: return 1;
    case GGUF_VT_UINT16: case GGUF_VT_INT16: return 2;
    case GGUF_VT_UINT32: case GGUF_VT_INT32: case GGUF_VT_FLOAT32: return 4;
    case GGUF_VT_UINT64: case GGUF_VT_INT64: case GGUF_VT_FLOAT64: return 8;
    default: return 0;
    }
}

int gguf_kv_arr(gguf_writer *w, const char *key, gguf_vtype et, const void *data, uint64_t n)
{
    int es = scalar_size(et);
    if (!es) return fail(w, "GGUF array '%s': element type %d is not a scalar", key, (int)et);
    if (start_kv(w, key, GGUF_VT_ARRAY) || put_le(w, (uint32_t)et, 4) || put_le(w, n, 8)) return -1;
    const uint8_t *p = data;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = 0;
        /* read host-endian element, emit little-endian */
        switch (es) {
        case 1: v = p[i]; break;
        case 2: { uint16_t x; memcpy(&x, p + i * 2, 2); v = x; break; }
        case 4: { uint32_t x; memcpy(&x, p + i * 4, 4); v = x; break; }
        default: memcpy(&v, p + i * 8, 8); break;
        }
        if (put_le(w, v, es)) return -1;
    }
    return 0;
}

int gguf_kv_arr_str_begin(gguf_writer *w, const char *key, uint64_t n)
{
    if (start_kv(w, key, GGUF_VT_ARRAY) || put_le(w, GGUF_VT_STRING, 4) || put_le(w, n, 8)) return -1;
    w->arr_left = n;
    return 0;
}

int gguf_kv_arr_str_add(gguf_writer *w, const char *s, size_t len)
{
    if (w->failed) return -1;
    if (!w->arr_left) return fail(w, "GGUF string array: more elements than declared");
    w->arr_left--;
    return put_str(w, s, len);
}

gguf_writer *gguf_writer_create(const char *path, int overwrite, uint32_t align, char *err, size_t errlen)
{
    if (!align) align = GGUF_DEFAULT_ALIGN;
    if (align < 8 || (align & (align - 1)) || align > (1u << 30)) {
        gio_errf(err, errlen, "GGUF alignment %u is not a power of two in [8, 2^30]", align);
        errno = EINVAL;
        return NULL;
    }
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w) {
        gio_errf(err, errlen, "%s: out of memory", path);
        errno = ENOMEM;
        return NULL;
    }
    /* refusal of an existing PATH (EEXIST), a concurrent writer (EBUSY),
     * an uncreatable temporary (the open's errno): all gio_out's */
    w->out = gio_out_create(path, overwrite, err, errlen);
    if (!w->out) {
        int e = errno;
        free(w);
        errno = e;
        return NULL;
    }
    w->fd = gio_out_fd(w->out);
    w->align = align;
    return w;
}

void gguf_writer_set_cancel(gguf_writer *w, volatile sig_atomic_t *flag)
{
    if (w->out) gio_out_set_cancel(w->out, flag);
}

int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const int64_t *ne)
{
    if (w->failed) return -1;
    if (w->begun) return fail(w, "tensor '%s' declared after begin", name);
    size_t nl = strlen(name);
    if (!nl || nl >= GGUF_MAX_NAME) return fail(w, "tensor name '%s' must be 1..63 bytes", name);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return fail(w, "duplicate tensor '%s'", name);
    uint64_t size = gguf_tensor_bytes(type, n_dims, ne);
    if (size == UINT64_MAX)
        return fail(w, "tensor '%s': bad shape or type %u (row length must be a multiple of the block)", name, type);
    if (w->n_t == w->t_cap) {
        size_t cap = w->t_cap ? w->t_cap * 2 : 256;
        wtensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return fail(w, "out of memory");
        w->t = nt;
        w->t_cap = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, nl + 1);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < n_dims; d++) t->ne[d] = ne[d];
    t->size = size;
    return (int)w->n_t++;
}

uint64_t gguf_writer_tensor_bytes(const gguf_writer *w, size_t i) { return i < w->n_t ? w->t[i].size : 0; }
uint64_t gguf_writer_file_size(const gguf_writer *w) { return w->file_size; }
const char *gguf_writer_error(const gguf_writer *w) { return w->err; }

static uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Everything, the header included, through gio_out_write's stream (large
 * O_DIRECT blocks): bytes written by two paths must not share a page, and
 * with 32-byte alignment the header's last page holds tensor bytes. */
static int pwrite_all(gguf_writer *w, const void *buf, size_t len, uint64_t off)
{
    if (gio_out_write(w->out, buf, len, off) && (w->errnum = errno))
        return fail(w, "%s: write failed: %s", gio_out_temp_path(w->out), strerror(errno));
    return 0;
}

int gguf_writer_begin(gguf_writer *w)
{
    if (w->failed) return -1;
    if (w->begun) return fail(w, "begin called twice");
    if (w->arr_left) return fail(w, "a GGUF string array is missing %llu elements", (unsigned long long)w->arr_left);
    if (w->align != GGUF_DEFAULT_ALIGN) {
        int have = 0;
        for (size_t i = 0; i < w->n_keys; i++) have |= !strcmp(w->keys[i], "general.alignment");
        if (!have && gguf_kv_u32(w, "general.alignment", w->align)) return -1;
    }
    /* tensor offsets: each padded to the alignment, in declaration order */
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        off = pad_to(off + w->t[i].size, w->align);
    }
    /* header = fixed part + KVs + tensor infos, serialized after the KVs */
    for (size_t i = 0; i < w->n_t; i++) {
        wtensor *t = &w->t[i];
        if (put_str(w, t->name, strlen(t->name)) || put_le(w, (uint32_t)t->n_dims, 4)) return -1;
        for (int d = 0; d < t->n_dims; d++)
            if (put_le(w, (uint64_t)t->ne[d], 8)) return -1;
        if (put_le(w, t->type, 4) || put_le(w, t->offset, 8)) return -1;
    }
    uint8_t fixed[24];
    memcpy(fixed, GGUF_MAGIC, 4);
    for (int i = 0; i < 4; i++) fixed[4 + i] = (uint8_t)(GGUF_VERSION >> (8 * i));
    for (int i = 0; i < 8; i++) fixed[8 + i] = (uint8_t)((uint64_t)w->n_t >> (8 * i));
    for (int i = 0; i < 8; i++) fixed[16 + i] = (uint8_t)(w->n_kv >> (8 * i));
    w->data_off = pad_to(sizeof fixed + (uint64_t)w->kv_len, w->align);
    w->file_size = w->data_off + off;
    w->begun = 1;
    /* blocks reserved and size set first: "no space" now, not after the work */
    if (gio_out_reserve(w->out, w->file_size) != 0 && (w->errnum = errno))
        return fail(w, "%s: cannot reserve %llu bytes: %s%s", gio_out_temp_path(w->out),
                    (unsigned long long)w->file_size, strerror(errno),
                    errno == ENOSPC || errno == EDQUOT ? " (free some space or choose another output directory)" : "");
    if (pwrite_all(w, fixed, sizeof fixed, 0) || pwrite_all(w, w->kv, w->kv_len, sizeof fixed)) return -1;
    free(w->kv);
    w->kv = NULL;
    w->kv_len = w->kv_cap = 0;
    return 0;
}

static int write_at(gguf_writer *w, size_t i, uint64_t at, const void *buf, size_t len, int borrowed)
{
    if (w->failed) return -1;
    if (!w->begun) return fail(w, "tensor data written before begin");
    if (i >= w->n_t) return fail(w, "tensor index %zu out of range", i);
    wtensor *t = &w->t[i];
    if (at > t->size || len > t->size - at)
        return fail(w, "tensor '%s': write of %zu bytes at %llu passes its end (%llu bytes)", t->name, len,
                    (unsigned long long)at, (unsigned long long)t->size);
    uint64_t off = w->data_off + t->offset + at;
    if (!borrowed) {
        if (pwrite_all(w, buf, len, off)) return -1;
    } else if (gio_out_write_borrowed(w->out, buf, len, off) && (w->errnum = errno)) {
        return fail(w, "%s: write failed: %s", gio_out_temp_path(w->out), strerror(errno));
    }
    t->written += len;
    return 0;
}

int gguf_writer_write_at(gguf_writer *w, size_t i, uint64_t at, const void *buf, size_t len)
{
    return write_at(w, i, at, buf, len, 0);
}

int gguf_writer_write_borrowed(gguf_writer *w, size_t i, const void *buf, size_t len)
{
    if (i >= w->n_t) return fail(w, "tensor index %zu out of range", i);
    if (write_at(w, i, w->t[i].cursor, buf, len, 1)) return -1;
    w->t[i].cursor += len;
    return 0;
}

int gguf_writer_release(gguf_writer *w, const void *lo, const void *hi, int wait)
{
    if (gio_out_release(w->out, lo, hi, wait) && (w->errnum = errno))
        return fail(w, "%s: write failed: %s", gio_out_temp_path(w->out), strerror(errno));
    return 0;
}

uint64_t gguf_writer_tensor_offset(const gguf_writer *w, size_t i)
{
    return w->begun && i < w->n_t ? w->data_off + w->t[i].offset : UINT64_MAX;
}

int gguf_writer_write(gguf_writer *w, size_t i, const void *buf, size_t len)
{
    if (i >= w->n_t) return fail(w, "tensor index %zu out of range", i);
    if (gguf_writer_write_at(w, i, w->t[i].cursor, buf, len)) return -1;
    w->t[i].cursor += len;
    return 0;
}

static void free_writer(gguf_writer *w)
{
    for (size_t i = 0; i < w->n_keys; i++) free(w->keys[i]);
    free(w->keys);
    free(w->kv);
    free(w->t);
    gio_out_free(w->out);   /* removes the temporary unless it was published */
    free(w);
}

void gguf_writer_abort(gguf_writer *w)
{
    if (!w) return;
    free_writer(w);
}

int gguf_writer_finish(gguf_writer *w, char *err, size_t errlen)
{
    int rc = -1;
    if (!w->failed && !w->begun) fail(w, "finish called before begin");
    for (size_t i = 0; !w->failed && i < w->n_t; i++)
        if (w->t[i].written != w->t[i].size)
            fail(w, "tensor '%s': %llu of %llu bytes written", w->t[i].name,
                 (unsigned long long)w->t[i].written, (unsigned long long)w->t[i].size);
    if (w->failed)
        errno = w->errnum ? w->errnum : EINVAL;   /* never a stale EINTR */
    else {
        /* 1: published, only the directory fsync failed: PATH stays, the
         * caller hears about the durability doubt (like gf_writer_finish) */
        rc = gio_out_commit(w->out, w->err, sizeof w->err);
        if (rc > 0) rc = -1;
    }
    if (rc) snprintf(err, errlen, "%s", w->err);
    int e = errno;   /* the cause (ENOSPC...) for the caller, past the frees */
    free_writer(w);
    errno = e;
    return rc;
}
