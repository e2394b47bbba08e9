/* gptoss_writer.c - writes a .gptoss file so that PATH either does not
 * change or holds a complete, fsynced, verified-layout file.
 *
 * How: everything goes to the crash-safe temporary of gio_out.h (which
 * owns the temporary's name, lock, stale-temporary cleanup, fsync, rename
 * and directory fsync), laid out and preallocated up front (so "no space"
 * comes before hours of work); tensors are streamed in declaration order
 * with a running XXH3 per tensor; finish rewrites the header with the real
 * hashes (fixed-width hex, so the header length cannot change) and commits. */
#include "gptoss_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "gio_err.h"
#include "gio_out.h"

typedef struct {
    char *name;
    gq_type type;
    int ndim;
    uint64_t shape[GF_MAX_DIMS];
    uint64_t offset, size, xxh3, written;
    uint64_t hashed;   /* bytes given to gf_writer_hash */
    int done;
    int prehashed;     /* written with gf_writer_write_hashed: xxh3 is gf_writer_hash's */
} wtensor;

typedef struct {
    char *name;
    uint8_t *data;
    uint64_t offset, size, xxh3;
} wblob;

enum { W_DECLARE, W_WRITING, W_DONE, W_FAILED };
#define NO_TENSOR ((size_t)-1)
#define GFW_SLICE ((size_t)1 << 20)

struct gf_writer {
    char *path;
    gio_out *out;      /* the temporary; NULL once removed */
    int fd, state, errnum;
    cJSON *meta;
    char *hparams_json;
    wtensor *t;
    size_t nt, cap_t;
    wblob *b;
    size_t nb, cap_b;
    uint64_t header_len, data_offset, total;
    size_t cur;        /* the tensor being written, NO_TENSOR between tensors */
    XXH3_state_t *xs;
    size_t hcur;       /* the tensor gf_writer_hash is in, NO_TENSOR between tensors */
    XXH3_state_t *hs;  /* its state (gf_writer_hash may run on another thread than the writes) */
    char err[640];
    char herr[320];    /* gf_writer_hash's misuse: it changes nothing else (another thread writes) */
    int hash_open;     /* between begin and finish: what gf_writer_hash checks (state may change under it) */
};

/* ---- failure handling: one place that records, cleans up and poisons ---- */

static void drop_temp(gf_writer *w)
{
    gio_out_free(w->out);   /* removes the temporary unless it was published */
    w->out = NULL;
    w->fd = -1;
}

static const char *tmp_name(const gf_writer *w) { return w->out ? gio_out_temp_path(w->out) : w->path; }

static int fail(gf_writer *w, int errnum, const char *fmt, ...)
{
    if (w->state == W_FAILED) return -1;   /* keep the first, root-cause message */
    va_list ap;
    va_start(ap, fmt);
    gio_verrf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->errnum = errnum ? errnum : EIO;
    w->state = W_FAILED;
    drop_temp(w);
    errno = w->errnum;
    return -1;
}

/* API misuse fails like an I/O error (temporary removed, writer poisoned):
 * a file declared or written differently from what the caller meant is
 * never worth keeping. */
#define MISUSE(w, ...) fail((w), EINVAL, __VA_ARGS__)

/* Everything goes through gio_out_write's stream (large O_DIRECT blocks),
 * the header included: bytes written by two paths must not share a page. */
static int pwrite_all(gf_writer *w, const void *buf, size_t len, uint64_t off)
{
    return gio_out_write(w->out, buf, len, off);
}

/* ---- create / declare ---- */

gf_writer *gf_writer_create(const char *path, int overwrite, char *err, size_t errlen)
{
    gf_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->fd = -1;
        w->path = path ? strdup(path) : NULL;
        w->xs = XXH3_createState();
        w->hs = XXH3_createState();
        w->hcur = NO_TENSOR;
    }
    if (!w || !w->xs || !w->hs || (path && !w->path)) {
        gio_errf(err, errlen, "%s: out of memory", path ? path : "(null)");
        gf_writer_abort(w);
        errno = ENOMEM;
        return NULL;
    }
    /* refusal of an existing PATH, stale temporaries, a concurrent writer:
     * all gio_out's (errno EEXIST / EBUSY / the open's) */
    w->out = gio_out_create(path, overwrite, err, errlen);
    if (!w->out) {
        int e = errno;
        gf_writer_abort(w);
        errno = e;
        return NULL;
    }
    w->fd = gio_out_fd(w->out);
    return w;
}

void gf_writer_set_cancel(gf_writer *w, volatile sig_atomic_t *flag)
{
    if (w->out) gio_out_set_cancel(w->out, flag);
}

int gf_writer_set_meta(gf_writer *w, const char *meta_json)
{
    /* After begin the metadata may still change, but only into a text of
     * the same length (fixed-width values such as placeholder hashes):
     * the header is rewritten in place by finish, which checks that. */
    if (w->state != W_DECLARE && w->state != W_WRITING)
        return MISUSE(w, "%s: set_meta after finish or a failure", w->path);
    cJSON *m = meta_json ? cJSON_Parse(meta_json) : NULL;
    if (!cJSON_IsObject(m)) {
        cJSON_Delete(m);
        return MISUSE(w, "%s: metadata is not a JSON object", w->path);
    }
    static const char *const reserved[] = {"format", "version", "tensors", "blobs"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(m, reserved[i])) {
            cJSON_Delete(m);
            return MISUSE(w, "%s: metadata must not contain the reserved key \"%s\"", w->path, reserved[i]);
        }
    }
    static const char *const needed[] = {"quant", "provenance"};
    for (size_t i = 0; i < 2; i++) {
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, needed[i]))) {
            cJSON_Delete(m);
            return MISUSE(w, "%s: metadata needs a \"%s\" object", w->path, needed[i]);
        }
    }
    gf_hparams hp;
    char why[256];
    if (gfl_hparams_from_cjson(cJSON_GetObjectItemCaseSensitive(m, "hparams"), &hp, why, sizeof why)) {
        cJSON_Delete(m);
        return MISUSE(w, "%s: metadata: %s", w->path, why);
    }
    /* hparams are written in canonical form (fixed key order and number
     * formatting), whatever the caller's text looked like. */
    char buf[8192];
    int n = gf_hparams_to_json(&hp, buf, sizeof buf);
    if (n < 0) {
        cJSON_Delete(m);
        return MISUSE(w, "%s: hparams do not fit in the header", w->path);
    }
    free(w->hparams_json);
    cJSON_Delete(w->meta);
    w->hparams_json = strdup(buf);
    w->meta = m;
    if (!w->hparams_json) return fail(w, ENOMEM, "%s: out of memory", w->path);
    return 0;
}

static int name_taken(const gf_writer *w, const char *name, int blob)
{
    if (blob) {
        for (size_t i = 0; i < w->nb; i++)
            if (strcmp(w->b[i].name, name) == 0) return 1;
    } else {
        for (size_t i = 0; i < w->nt; i++)
            if (strcmp(w->t[i].name, name) == 0) return 1;
    }
    return 0;
}

int gf_writer_add_tensor(gf_writer *w, const char *name, gq_type type, int ndim, const uint64_t *shape)
{
    if (w->state != W_DECLARE) return MISUSE(w, "%s: add_tensor after begin", w->path);
    if (!name || !gfl_name_ok(name))
        return MISUSE(w, "%s: tensor name \"%.100s\" is not 1..%d characters of [A-Za-z0-9._-]", w->path,
                      name ? name : "", GF_MAX_NAME);
    if (name_taken(w, name, 0)) return MISUSE(w, "%s: tensor \"%s\" declared twice", w->path, name);
    wtensor t = {0};
    t.type = type;
    t.ndim = ndim;
    char why[160];
    if (ndim >= 1 && ndim <= GF_MAX_DIMS) memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    if (gfl_tensor_bytes(type, ndim, t.shape, &t.size, why, sizeof why))
        return MISUSE(w, "%s: tensor \"%s\": %s", w->path, name, why);
    if (w->nt == w->cap_t) {
        size_t nc = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = realloc(w->t, nc * sizeof *nt);
        if (!nt) return fail(w, ENOMEM, "%s: out of memory", w->path);
        w->t = nt;
        w->cap_t = nc;
    }
    t.name = strdup(name);
    if (!t.name) return fail(w, ENOMEM, "%s: out of memory", w->path);
    w->t[w->nt] = t;
    return (int)w->nt++;
}

int gf_writer_add_blob(gf_writer *w, const char *name, const void *data, size_t len)
{
    if (w->state != W_DECLARE) return MISUSE(w, "%s: add_blob after begin", w->path);
    if (!name || !gfl_name_ok(name))
        return MISUSE(w, "%s: blob name \"%.100s\" is not 1..%d characters of [A-Za-z0-9._-]", w->path,
                      name ? name : "", GF_MAX_NAME);
    if (name_taken(w, name, 1)) return MISUSE(w, "%s: blob \"%s\" declared twice", w->path, name);
    if (len && !data) return MISUSE(w, "%s: blob \"%s\" has no data", w->path, name);
    if (w->nb == w->cap_b) {
        size_t nc = w->cap_b ? w->cap_b * 2 : 8;
        wblob *nb = realloc(w->b, nc * sizeof *nb);
        if (!nb) return fail(w, ENOMEM, "%s: out of memory", w->path);
        w->b = nb;
        w->cap_b = nc;
    }
    wblob b = {0};
    b.name = strdup(name);
    b.data = malloc(len ? len : 1);
    if (!b.name || !b.data) {
        free(b.name);
        free(b.data);
        return fail(w, ENOMEM, "%s: out of memory for blob \"%s\" (%zu bytes)", w->path, name, len);
    }
    if (len) memcpy(b.data, data, len);
    b.size = len;
    b.xxh3 = XXH3_64bits(b.data, len);
    w->b[w->nb] = b;
    return (int)w->nb++;
}

/* ---- header text ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_add(strbuf *s, const char *text, size_t n)
{
    if (s->oom) return;
    if (s->cap - s->len <= n) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc - s->len <= n) nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) {
            s->oom = 1;
            return;
        }
        s->p = np;
        s->cap = nc;
    }
    memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = 0;
}

static void sb_printf(strbuf *s, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        s->oom = 1;
        return;
    }
    sb_add(s, tmp, (size_t)n);
}

static void sb_json(strbuf *s, const cJSON *item)
{
    char *txt = cJSON_PrintUnformatted(item);
    if (!txt) {
        s->oom = 1;
        return;
    }
    sb_add(s, txt, strlen(txt));
    cJSON_free(txt);
}

/* The header, one directory entry per line so that `inspect` output reads
 * well and diffs well. Names are [A-Za-z0-9._-] so they need no escaping;
 * other keys go through cJSON's printer. Deterministic: same declarations
 * and metadata give the same bytes. */
/* Returned with GF_PREAMBLE_BYTES of room in front (for the preamble, so
 * that both go out in one write); *len counts the text only. */
static char *build_header(const gf_writer *w, size_t *len)
{
    strbuf s = {0};
    char hex[17];
    static const char room[GF_PREAMBLE_BYTES];
    sb_add(&s, room, sizeof room);
    sb_printf(&s, "{\"format\":\"gptoss\",\"version\":%u,\n\"hparams\":", GF_VERSION);
    sb_add(&s, w->hparams_json, strlen(w->hparams_json));
    sb_add(&s, ",\n\"quant\":", 10);
    sb_json(&s, cJSON_GetObjectItemCaseSensitive(w->meta, "quant"));
    sb_add(&s, ",\n\"provenance\":", 15);
    sb_json(&s, cJSON_GetObjectItemCaseSensitive(w->meta, "provenance"));
    for (const cJSON *it = w->meta->child; it; it = it->next) {
        if (!strcmp(it->string, "hparams") || !strcmp(it->string, "quant") || !strcmp(it->string, "provenance"))
            continue;
        cJSON *key = cJSON_CreateString(it->string);
        sb_add(&s, ",\n", 2);
        sb_json(&s, key);
        sb_add(&s, ":", 1);
        sb_json(&s, it);
        cJSON_Delete(key);
    }
    sb_add(&s, ",\n\"tensors\":[", 13);
    for (size_t i = 0; i < w->nt; i++) {
        const wtensor *t = &w->t[i];
        sb_printf(&s, "%s\n{\"name\":\"%s\",\"type\":\"%s\",\"shape\":[", i ? "," : "", t->name, gfl_type_name(t->type));
        for (int d = 0; d < t->ndim; d++) sb_printf(&s, "%s%llu", d ? "," : "", (unsigned long long)t->shape[d]);
        gfl_hex16(t->xxh3, hex);
        sb_printf(&s, "],\"offset\":%llu,\"size\":%llu,\"xxh3\":\"%s\"}", (unsigned long long)t->offset,
                  (unsigned long long)t->size, hex);
    }
    sb_add(&s, "\n],\n\"blobs\":[", 13);
    for (size_t i = 0; i < w->nb; i++) {
        const wblob *b = &w->b[i];
        gfl_hex16(b->xxh3, hex);
        sb_printf(&s, "%s\n{\"name\":\"%s\",\"offset\":%llu,\"size\":%llu,\"xxh3\":\"%s\"}", i ? "," : "", b->name,
                  (unsigned long long)b->offset, (unsigned long long)b->size, hex);
    }
    sb_add(&s, "\n]}\n", 4);
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    *len = s.len - GF_PREAMBLE_BYTES;
    return s.p;
}

/* hdr: GF_PREAMBLE_BYTES of room, then the header text; one write. */
static int write_preamble_and_header(gf_writer *w, char *hdr)
{
    uint8_t *pre = (uint8_t *)hdr;
    const char *text = hdr + GF_PREAMBLE_BYTES;
    uint64_t fields[3] = {w->header_len, XXH3_64bits(text, (size_t)w->header_len), w->data_offset};
    memcpy(pre, GF_MAGIC, 8);
    uint32_t v32[2] = {GF_VERSION, 0};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++) pre[8 + 4 * k + i] = (uint8_t)(v32[k] >> (8 * i));
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++) pre[16 + 8 * k + i] = (uint8_t)(fields[k] >> (8 * i));
    if (pwrite_all(w, hdr, GF_PREAMBLE_BYTES + (size_t)w->header_len, 0))
        return fail(w, errno, "%s: cannot write the header: %s", tmp_name(w), strerror(errno));
    return 0;
}

/* ---- begin / write / finish ---- */

static int preallocate(gf_writer *w)
{
    /* the blocks reserved now (fallocate / F_PREALLOCATE; a file system
     * without it gets a sparse file) and the final size set */
#if !defined(__linux__)
    struct statvfs vfs;
    if (fstatvfs(w->fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < w->total)
        return fail(w, ENOSPC, "%s: not enough space for %llu bytes in %s (%llu free); free some space or choose "
                    "another output directory", w->path, (unsigned long long)w->total, gio_out_dir(w->out),
                    (unsigned long long)vfs.f_bavail * vfs.f_frsize);
#endif
    if (gio_out_reserve(w->out, w->total) != 0) {
        int e = errno;
        if (e == ENOSPC || e == EFBIG || e == EDQUOT)
            return fail(w, e, "%s: not enough space for %llu bytes in %s (%s); free some space or choose another "
                        "output directory", w->path, (unsigned long long)w->total, gio_out_dir(w->out), strerror(e));
        return fail(w, e, "%s: cannot preallocate %llu bytes: %s", tmp_name(w), (unsigned long long)w->total,
                    strerror(e));
    }
    return 0;
}

int gf_writer_begin(gf_writer *w)
{
    if (w->state != W_DECLARE) return MISUSE(w, "%s: begin called twice or after a failure", w->path);
    if (!w->meta) return MISUSE(w, "%s: begin before set_meta", w->path);
    /* The header length does not depend on the offsets' values only if we
     * fix them first: lay out with a provisional data_offset, then iterate
     * until the header (whose text contains the offsets) fits. Converges in
     * a step or two: offsets only grow by GF_ALIGN multiples. */
    size_t hlen = 0;
    char *hdr = NULL;
    uint64_t data_offset = GF_ALIGN;
    for (int iter = 0; iter < 16; iter++) {
        uint64_t at = data_offset;
        for (size_t i = 0; i < w->nb; i++) {
            w->b[i].offset = at;
            at = gfl_align_up(at + w->b[i].size);
        }
        for (size_t i = 0; i < w->nt; i++) {
            w->t[i].offset = at;
            if (at > GFL_MAX_JSON_INT - w->t[i].size) return MISUSE(w, "%s: total size overflows", w->path);
            at = gfl_align_up(at + w->t[i].size);
        }
        w->total = at;
        free(hdr);
        hdr = build_header(w, &hlen);
        if (!hdr) return fail(w, ENOMEM, "%s: out of memory building the header", w->path);
        uint64_t need = gfl_align_up(GF_PREAMBLE_BYTES + (uint64_t)hlen);
        if (need <= data_offset) break;
        data_offset = need;
    }
    if (hlen > GF_MAX_HEADER || gfl_align_up(GF_PREAMBLE_BYTES + (uint64_t)hlen) > data_offset) {
        free(hdr);
        return MISUSE(w, "%s: header of %zu bytes is too large (limit %u)", w->path, hlen, GF_MAX_HEADER);
    }
    if (gfl_utf8_bad_at((const uint8_t *)hdr + GF_PREAMBLE_BYTES, hlen) != hlen) {
        free(hdr);
        return MISUSE(w, "%s: metadata is not valid UTF-8", w->path);
    }
    w->header_len = hlen;
    w->data_offset = data_offset;
    if (preallocate(w) || write_preamble_and_header(w, hdr)) {
        free(hdr);
        return -1;
    }
    free(hdr);
    for (size_t i = 0; i < w->nb; i++) {
        if (pwrite_all(w, w->b[i].data, (size_t)w->b[i].size, w->b[i].offset))
            return fail(w, errno, "%s: cannot write blob \"%s\": %s", tmp_name(w), w->b[i].name, strerror(errno));
        free(w->b[i].data);   /* hashed and written: no need to keep a 28 MB tokenizer */
        w->b[i].data = NULL;
    }
    w->state = W_WRITING;
    w->cur = NO_TENSOR;
    w->hash_open = 1;
    return 0;
}

/* mode: 0 copy and hash, 1 borrow and hash, 2 borrow, hashed by gf_writer_hash */
static int write_tensor(gf_writer *w, size_t i, const void *buf, size_t len, int mode)
{
    const int borrowed = mode >= 1, hashed = mode == 2;
    if (w->state != W_WRITING) return MISUSE(w, "%s: write outside begin..finish", w->path);
    if (i >= w->nt) return MISUSE(w, "%s: write to tensor %zu, only %zu declared", w->path, i, w->nt);
    wtensor *t = &w->t[i];
    if (t->done) return MISUSE(w, "%s: tensor \"%s\" is already complete", w->path, t->name);
    if (w->cur != NO_TENSOR && w->cur != i) {
        const wtensor *c = &w->t[w->cur];
        return MISUSE(w, "%s: tensor \"%s\" written before \"%s\" is complete (%llu of %llu bytes)", w->path,
                      t->name, c->name, (unsigned long long)c->written, (unsigned long long)c->size);
    }
    if (len > t->size - t->written)
        return MISUSE(w, "%s: %zu bytes would run past the end of tensor \"%s\" (%llu of %llu written)", w->path,
                      len, t->name, (unsigned long long)t->written, (unsigned long long)t->size);
    if (w->cur == NO_TENSOR) {
        w->cur = i;
        t->prehashed = hashed;
        XXH3_64bits_reset(w->xs);
    }
    if (t->prehashed != hashed)
        return MISUSE(w, "%s: tensor \"%s\" written both with and without gf_writer_hash", w->path, t->name);
    if (hashed && t->hashed - t->written < len)
        return MISUSE(w, "%s: tensor \"%s\": %zu bytes written before gf_writer_hash saw them (%llu of %llu hashed)",
                      w->path, t->name, len, (unsigned long long)t->hashed, (unsigned long long)t->written);
    /* Hash and write in slices that fit in the cache: the hash pulls a
     * slice from memory, the copy into the output stream then hits the
     * cache, so a 32 MiB chunk is read from DRAM once, not twice. */
    const uint8_t *p = buf;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < GFW_SLICE ? len - done : GFW_SLICE;
        if (!hashed)
            XXH3_64bits_update(w->xs, p + done, n);
        uint64_t at = t->offset + t->written + done;
        if (borrowed ? gio_out_write_borrowed(w->out, p + done, n, at) : pwrite_all(w, p + done, n, at)) {
            int e = errno;
            return fail(w, e, "%s: writing tensor \"%s\" failed: %s%s", tmp_name(w), t->name, strerror(e),
                        e == ENOSPC ? " (free some space or choose another output directory)" : "");
        }
        done += n;
    }
    t->written += len;
    if (t->written == t->size) {
        if (!hashed)
            t->xxh3 = XXH3_64bits_digest(w->xs); /* else gf_writer_hash set it (hashed == size) */
        t->done = 1;
        w->cur = NO_TENSOR;
    }
    return 0;
}

int gf_writer_write(gf_writer *w, size_t i, const void *buf, size_t len)
{
    return write_tensor(w, i, buf, len, 0);
}

int gf_writer_write_borrowed(gf_writer *w, size_t i, const void *buf, size_t len)
{
    return write_tensor(w, i, buf, len, 1);
}

int gf_writer_write_hashed(gf_writer *w, size_t i, const void *buf, size_t len)
{
    return write_tensor(w, i, buf, len, 2);
}

int gf_writer_hash(gf_writer *w, size_t i, const void *buf, size_t len)
{
    /* hash_open and the sizes are fixed between begin and finish, so
     * reading them here races with nothing (state may turn to failed on the
     * writing thread); only hcur, hs, herr and the tensors' hashed and (at
     * the end) xxh3 are written, and the caller orders those before the
     * writes that check them */
    const char *why = NULL;
    wtensor *t = i < w->nt ? &w->t[i] : NULL;
    if (!w->hash_open || !t)
        why = "hash outside begin..finish, or of an undeclared tensor";
    else if (w->hcur != NO_TENSOR && w->hcur != i)
        why = "hash of a tensor before the previous one was complete";
    else if (len > t->size - t->hashed)
        why = "hash past the end of a tensor";
    if (why) {
        snprintf(w->herr, sizeof w->herr, "%s: %s (tensor %zu)", w->path, why, i);
        errno = EINVAL;
        return -1;
    }
    if (w->hcur == NO_TENSOR) {
        w->hcur = i;
        XXH3_64bits_reset(w->hs);
    }
    XXH3_64bits_update(w->hs, buf, len);
    t->hashed += len;
    if (t->hashed == t->size) {
        t->xxh3 = XXH3_64bits_digest(w->hs);
        w->hcur = NO_TENSOR;
    }
    return 0;
}

int gf_writer_release(gf_writer *w, const void *lo, const void *hi, int wait)
{
    if (!w->out)
        return 0;
    if (gio_out_release(w->out, lo, hi, wait) && w->state == W_WRITING)
        return fail(w, errno, "%s: writing tensor data failed: %s", tmp_name(w), strerror(errno));
    return 0;
}

uint64_t gf_writer_tensor_offset(const gf_writer *w, size_t i)
{
    return w->state == W_WRITING && i < w->nt ? w->t[i].offset : UINT64_MAX;
}

int gf_writer_finish(gf_writer *w)
{
    w->hash_open = 0;
    if (w->state != W_WRITING) return MISUSE(w, "%s: finish without a successful begin", w->path);
    for (size_t i = 0; i < w->nt; i++) {
        wtensor *t = &w->t[i];
        if (!t->done && t->size == 0) {   /* nothing to write: complete as declared */
            t->xxh3 = XXH3_64bits(NULL, 0);
            t->done = 1;
        }
        if (!t->done)
            return MISUSE(w, "%s: tensor \"%s\" is incomplete (%llu of %llu bytes) at finish", w->path, t->name,
                          (unsigned long long)t->written, (unsigned long long)t->size);
    }
    size_t hlen;
    char *hdr = build_header(w, &hlen);
    if (!hdr) return fail(w, ENOMEM, "%s: out of memory building the header", w->path);
    if (hlen != w->header_len) {   /* only a set_meta after begin can change it */
        free(hdr);
        return MISUSE(w, "%s: the header changed length after begin (%zu vs %llu bytes): metadata set "
                      "after begin must keep its length", w->path, hlen, (unsigned long long)w->header_len);
    }
    int rc = write_preamble_and_header(w, hdr);
    free(hdr);
    if (rc) return -1;
    char why[sizeof w->err];
    rc = gio_out_commit(w->out, why, sizeof why);
    if (rc < 0) return fail(w, errno, "%s", why);
    w->fd = -1;
    w->state = W_DONE;
    if (rc > 0) {
        /* PATH is complete and in place; only its durability across a power
         * cut is in doubt: reported, but the good file stays. */
        w->errnum = errno;
        snprintf(w->err, sizeof w->err, "%s", why);
        return -1;
    }
    return 0;
}

void gf_writer_abort(gf_writer *w)
{
    if (!w) return;
    drop_temp(w);   /* removes the temporary unless finish published it */
    for (size_t i = 0; i < w->nt; i++) free(w->t[i].name);
    for (size_t i = 0; i < w->nb; i++) {
        free(w->b[i].name);
        free(w->b[i].data);
    }
    free(w->t);
    free(w->b);
    cJSON_Delete(w->meta);
    free(w->hparams_json);
    if (w->xs) XXH3_freeState(w->xs);
    if (w->hs) XXH3_freeState(w->hs);
    free(w->path);
    free(w);
}

const char *gf_writer_error(const gf_writer *w) { return w->err[0] ? w->err : w->herr[0] ? w->herr : "no error"; }
int gf_writer_errno(const gf_writer *w) { return w->errnum; }
const char *gf_writer_temp_path(const gf_writer *w) { return w->out ? gio_out_temp_path(w->out) : NULL; }
uint64_t gf_writer_total_size(const gf_writer *w) { return w->total; }
