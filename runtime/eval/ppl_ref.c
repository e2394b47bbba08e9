/* ppl_ref.c - read and write the perplexity reference file (see ppl_ref.h). */
#include "ppl_ref.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "gio_out.h"
#include "gio_read.h"

#define HDR1 48u
#define HDR2 88u
#define IN_CHUNK 65536u
#define MAX_VOCAB (1u << 24)

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static float rdf(const uint8_t *p) { uint32_t b = rd32(p); float f; memcpy(&f, &b, 4); return f; }
static void wrf(uint8_t *p, float f) { uint32_t b; memcpy(&b, &f, 4); wr32(p, b); }

uint32_t ppl_ids_crc(const int32_t *ids, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4];
        wr32(b, (uint32_t)ids[i]);
        c = crc32(c, b, 4);
    }
    return (uint32_t)c;
}

/* ---- the 16-bit code (ppl_ref.h) ---- */

uint16_t ppl_ref_encode(double logp)
{
    double x = -logp;
    if (!(x >= 0x1p-21))
        return 0;                 /* also NaN: the writer never sees one (the run fails first) */
    if (x >= 2048.0)
        return 0xFFFF;
    int E;
    double m = frexp(x, &E);      /* x = m 2^E, m in [0.5, 1) */
    int e = E - 1;
    long q = lround((2 * m - 1) * 2048.0);
    if (q == 2048) {
        q = 0;
        e++;
    }
    if (e > 10)
        return 0xFFFF;
    return (uint16_t)((unsigned)(e + 21) << 11 | (unsigned)q);
}

float ppl_ref_decode(uint16_t c)
{
    if (c == 0)
        return 0.0f;
    int e = (int)(c >> 11) - 21;
    double x = ldexp(1.0 + (double)(c & 2047u) / 2048.0, e);
    return (float)-x;
}

/* ---- reading ---- */

struct ppl_ref_rows {
    z_stream zs;
    int zinit;
    FILE *f;                      /* file source, or */
    const uint8_t *mem;           /* memory source */
    uint64_t left;                /* compressed bytes not yet handed to zlib */
    uint64_t done;                /* rows delivered */
    uint8_t *row;                 /* vocab * 2 bytes */
    uint8_t in[IN_CHUNK];
    char what[512];
};

void ppl_ref_free(ppl_ref *r)
{
    free(r->ids);
    free(r->logp);
    free(r->nll);
    free(r->top1);
    if (r->rows) {
        if (r->rows->zinit)
            inflateEnd(&r->rows->zs);
        if (r->rows->f)
            fclose(r->rows->f);
        free(r->rows->row);
        free(r->rows);
    }
    r->ids = NULL;
    r->logp = NULL;
    r->nll = NULL;
    r->top1 = NULL;
    r->rows = NULL;
}

static int fail(ppl_ref *out, char *err, size_t errlen, const char *fmt, const char *what, const char *detail)
{
    ppl_ref_free(out);
    snprintf(err, errlen, fmt, what, detail);
    return -1;
}

/* Header fields; *rows_len / *rec_len: the sections' lengths; *hdr: header size. */
static int parse_header(const uint8_t *buf, size_t avail, uint64_t file_len, const char *what, ppl_ref *out,
                        uint64_t *rows_len, uint64_t *rec_len, uint32_t *hdr, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (avail < HDR1 || memcmp(buf, "GQPPLREF", 8) != 0) {
        snprintf(err, errlen, "%s: not a ppl reference file (make one with gptoss-run ppl --save-ref)", what);
        return -1;
    }
    out->version = rd32(buf + 8);
    if (out->version == 1) {
        out->kind = PPL_REF_TOPK;
        out->k = rd32(buf + 12);
        out->vocab = rd32(buf + 16);
        out->ctx = rd32(buf + 20);
        out->n_tokens = rd32(buf + 24);
        out->tokens_crc = rd32(buf + 28);
        out->n_scored = rd64(buf + 32);
        *rows_len = 0;
        *rec_len = rd64(buf + 40);
        *hdr = HDR1;
    } else if (out->version == 2 && avail >= HDR2) {
        out->kind = rd32(buf + 12);
        out->k = rd32(buf + 16);
        out->vocab = rd32(buf + 20);
        out->ctx = rd32(buf + 24);
        out->n_tokens = rd32(buf + 28);
        out->tokens_crc = rd32(buf + 32);
        out->n_scored = rd64(buf + 40);
        out->model_digest = rd64(buf + 48);
        out->tok_digest = rd64(buf + 56);
        out->file_digest = rd64(buf + 64);
        *rows_len = rd64(buf + 72);
        *rec_len = rd64(buf + 80);
        *hdr = HDR2;
        if (rd32(buf + 36) != 0 || (out->kind != PPL_REF_FULL && out->kind != PPL_REF_TOPK)) {
            snprintf(err, errlen, "%s: corrupt reference header (kind %u)", what, out->kind);
            return -1;
        }
    } else {
        snprintf(err, errlen, "%s: reference file version %u is not supported (re-create it with this gptoss-run)",
                 what, out->version);
        return -1;
    }
    int full = out->kind == PPL_REF_FULL;
    int bad = out->vocab < 1 || out->vocab > MAX_VOCAB || out->n_scored > out->n_tokens ||
              (full ? out->k != 0 || *rows_len == 0 : out->k < 1 || out->k > PPL_REF_MAX_K || out->vocab < out->k ||
                                                          *rows_len != 0) ||
              *rows_len > file_len || *rec_len > file_len || *hdr + *rows_len + *rec_len != file_len;
    if (bad) {
        snprintf(err, errlen, "%s: corrupt reference header (k %u, vocab %u, %llu scored of %u tokens, sections %llu + "
                 "%llu of %llu bytes)", what, out->k, out->vocab, (unsigned long long)out->n_scored, out->n_tokens,
                 (unsigned long long)*rows_len, (unsigned long long)*rec_len,
                 (unsigned long long)(file_len - (file_len < *hdr ? 0 : *hdr)));
        return -1;
    }
    /* zlib cannot expand more than ~1032:1: sections too small for what
     * they claim are corrupt, and we must not allocate for them */
    size_t n = (size_t)out->n_scored;
    uint64_t rec_raw = (uint64_t)n * (full ? 8u : 8u * out->k + 4u);
    if (rec_raw / 1032 > *rec_len + 64 || (full && (uint64_t)n * out->vocab * 2 / 1032 > *rows_len + 64)) {
        snprintf(err, errlen, "%s: corrupt reference: %llu records cannot fit in %llu + %llu bytes", what,
                 (unsigned long long)out->n_scored, (unsigned long long)*rows_len, (unsigned long long)*rec_len);
        return -1;
    }
    return 0;
}

/* The records section (already in memory). */
static int parse_records(const uint8_t *body, uint64_t clen, const char *what, ppl_ref *out, char *err, size_t errlen)
{
    int full = out->kind == PPL_REF_FULL;
    size_t n = (size_t)out->n_scored, k = out->k, rec = full ? 8 : 8 * k + 4, raw_len = n * rec;
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    out->nll = malloc((n ? n : 1) * sizeof *out->nll);
    out->top1 = malloc((n ? n : 1) * sizeof *out->top1);
    if (!full) {
        out->ids = malloc((n ? n : 1) * k * sizeof *out->ids);
        out->logp = malloc((n ? n : 1) * k * sizeof *out->logp);
    }
    if (!raw || !out->nll || !out->top1 || (!full && (!out->ids || !out->logp))) {
        free(raw);
        return fail(out, err, errlen, "%s: out of memory%s", what, "");
    }
    uLongf got = (uLongf)raw_len;
    int zr = uncompress(raw, &got, body, (uLong)clen);
    if (zr != Z_OK || got != raw_len) {
        free(raw);
        return fail(out, err, errlen, "%s: corrupt or truncated reference records (zlib: %s)", what,
                    zr == Z_OK ? "wrong length" : zError(zr));
    }
    char msg[256];
    for (size_t t = 0; t < n; t++) {
        const uint8_t *r = raw + t * rec;
        if (full) {
            out->nll[t] = rdf(r);
            out->top1[t] = rd32(r + 4);
            if (out->top1[t] >= out->vocab) {
                snprintf(msg, sizeof msg, " (record %zu: argmax id %u outside the vocabulary)", t, out->top1[t]);
                free(raw);
                return fail(out, err, errlen, "%s: corrupt reference%s", what, msg);
            }
        } else {
            for (size_t j = 0; j < k; j++) {
                uint32_t id = rd32(r + 4 * j);
                float lp = rdf(r + 4 * (k + j));
                if (id >= out->vocab || !(lp <= 0.0f) || (j && lp > out->logp[t * k + j - 1])) {
                    snprintf(msg, sizeof msg, " %zu (id or log-probability out of range)", t);
                    free(raw);
                    return fail(out, err, errlen, "%s: corrupt record%s", what, msg);
                }
                out->ids[t * k + j] = id;
                out->logp[t * k + j] = lp;
            }
            /* the k ids are k different tokens: a repeated id would count
             * its probability twice and shift the KL divergence */
            const uint32_t *ids = out->ids + t * k;
            for (size_t j = 1; j < k; j++)
                for (size_t i = 0; i < j; i++)
                    if (ids[i] == ids[j]) {
                        snprintf(msg, sizeof msg, " %zu of %zu: id %u appears twice in its top %zu (entries %zu and "
                                 "%zu); a reference lists k different tokens", t, n, ids[j], k, i, j);
                        free(raw);
                        return fail(out, err, errlen, "%s: corrupt record%s", what, msg);
                    }
            out->nll[t] = rdf(r + 8 * k);
            out->top1[t] = ids[0];
        }
        if (!(out->nll[t] >= 0.0f) || out->nll[t] > 1e4f) {
            snprintf(msg, sizeof msg, " %zu (NLL out of range)", t);
            free(raw);
            return fail(out, err, errlen, "%s: corrupt record%s", what, msg);
        }
    }
    free(raw);
    return 0;
}

static int rows_init(ppl_ref *out, FILE *f, const uint8_t *mem, uint64_t len, const char *what, char *err,
                     size_t errlen)
{
    ppl_ref_rows *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->row = malloc((size_t)out->vocab * 2))) {
        free(rs);
        if (f)
            fclose(f);
        return fail(out, err, errlen, "%s: out of memory%s", what, "");
    }
    out->rows = rs;
    rs->f = f;
    rs->mem = mem;
    rs->left = len;
    snprintf(rs->what, sizeof rs->what, "%s", what);
    if (inflateInit(&rs->zs) != Z_OK)
        return fail(out, err, errlen, "%s: zlib init failed%s", what, "");
    rs->zinit = 1;
    return 0;
}

int ppl_ref_next_row(ppl_ref *r, float *logp, char *err, size_t errlen)
{
    ppl_ref_rows *rs = r->rows;
    if (!rs || rs->done >= r->n_scored) {
        snprintf(err, errlen, "%s: no full-vocabulary row left in the reference", rs ? rs->what : "reference");
        return -1;
    }
    size_t want = (size_t)r->vocab * 2;
    rs->zs.next_out = rs->row;
    rs->zs.avail_out = (uInt)want;
    while (rs->zs.avail_out > 0) {
        if (rs->zs.avail_in == 0 && rs->left > 0) {
            size_t take = rs->left < IN_CHUNK ? (size_t)rs->left : IN_CHUNK;
            if (rs->mem) {
                rs->zs.next_in = (Bytef *)(uintptr_t)rs->mem;
                rs->mem += take;
            } else {
                if (fread(rs->in, 1, take, rs->f) != take) {
                    snprintf(err, errlen, "%s: read error in the reference rows: %s", rs->what, strerror(errno));
                    return -1;
                }
                rs->zs.next_in = rs->in;
            }
            rs->zs.avail_in = (uInt)take;
            rs->left -= take;
        }
        int zr = inflate(&rs->zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END && rs->zs.avail_out > 0)
            zr = Z_DATA_ERROR;
        if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && rs->left > 0)) {
            snprintf(err, errlen, "%s: corrupt or truncated reference row %llu (zlib: %s)", rs->what,
                     (unsigned long long)rs->done, zr == Z_BUF_ERROR ? "truncated" : zError(zr));
            return -1;
        }
    }
    uint16_t best = 0xFFFF;
    for (uint32_t i = 0; i < r->vocab; i++) {
        uint16_t c = (uint16_t)(rs->row[2 * i] | rs->row[2 * i + 1] << 8);
        best = c < best ? c : best;
        logp[i] = ppl_ref_decode(c);
    }
    uint32_t a = r->top1[rs->done];
    if ((uint16_t)(rs->row[2 * a] | rs->row[2 * a + 1] << 8) != best) {
        snprintf(err, errlen, "%s: corrupt reference row %llu: its argmax id %u is not among the row's largest",
                 rs->what, (unsigned long long)rs->done, a);
        return -1;
    }
    rs->done++;
    return 0;
}

int ppl_ref_rows_done(ppl_ref *r, char *err, size_t errlen)
{
    ppl_ref_rows *rs = r->rows;
    if (!rs)
        return 0;
    uint8_t b;
    rs->zs.next_out = &b;
    rs->zs.avail_out = 1;
    int zr = inflate(&rs->zs, Z_FINISH);
    if (rs->done != r->n_scored || zr != Z_STREAM_END || rs->zs.avail_in != 0 || rs->left != 0) {
        snprintf(err, errlen, "%s: the reference rows do not end after row %llu (trailing or missing data)", rs->what,
                 (unsigned long long)rs->done);
        return -1;
    }
    return 0;
}

int ppl_ref_parse(const void *bufp, size_t len, const char *what, ppl_ref *out, char *err, size_t errlen)
{
    const uint8_t *buf = bufp;
    uint64_t rows_len, rec_len;
    uint32_t hdr;
    if (parse_header(buf, len, len, what, out, &rows_len, &rec_len, &hdr, err, errlen) != 0)
        return -1;
    if (parse_records(buf + hdr + rows_len, rec_len, what, out, err, errlen) != 0)
        return -1;
    if (out->kind == PPL_REF_FULL)
        return rows_init(out, NULL, buf + hdr, rows_len, what, err, errlen);
    return 0;
}

int ppl_ref_load(const char *path, ppl_ref *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, errno && stat(path, &st) != 0 ? strerror(errno) : "not a regular file");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    uint8_t h[HDR2];
    size_t got = f ? fread(h, 1, sizeof h, f) : 0;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    uint64_t rows_len, rec_len;
    uint32_t hdr;
    if (parse_header(h, got, (uint64_t)st.st_size, path, out, &rows_len, &rec_len, &hdr, err, errlen) != 0) {
        fclose(f);
        return -1;
    }
    uint8_t *rec = malloc(rec_len ? (size_t)rec_len : 1);
    int ok = rec && fseeko(f, (off_t)(hdr + rows_len), SEEK_SET) == 0 && fread(rec, 1, (size_t)rec_len, f) == rec_len;
    if (!ok) {
        free(rec);
        fclose(f);
        snprintf(err, errlen, "%s: cannot read the reference records: %s", path, rec ? "short read" : "out of memory");
        return -1;
    }
    int rc = parse_records(rec, rec_len, path, out, err, errlen);
    free(rec);
    if (rc != 0 || out->kind != PPL_REF_FULL) {
        fclose(f);
        return rc;
    }
    if (fseeko(f, (off_t)hdr, SEEK_SET) != 0) {
        fclose(f);
        return fail(out, err, errlen, "%s: cannot seek: %s", path, strerror(errno));
    }
    return rows_init(out, f, NULL, rows_len, path, err, errlen);
}

/* ---- writing ---- */

struct ppl_ref_writer {
    gio_out *o;
    int fd;
    uint64_t off;                 /* next byte to write */
    z_stream zs;
    int zinit;
    uint64_t rows;
    uint8_t *row;
    size_t row_cap;
    uint8_t out[IN_CHUNK];
};

ppl_ref_writer *ppl_ref_writer_open(const char *path, int overwrite, char *err, size_t errlen)
{
    ppl_ref_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    w->o = gio_out_create(path, overwrite, err, errlen);
    if (!w->o) {
        int e = errno;
        if (e == EEXIST)
            snprintf(err, errlen, "%s exists: --save-ref does not overwrite a reference (add --force, or choose "
                     "another name)", path);
        free(w);
        errno = e;
        return NULL;
    }
    w->fd = gio_out_fd(w->o);
    w->off = HDR2;
    if (deflateInit(&w->zs, 1) != Z_OK) {
        gio_out_free(w->o);
        free(w);
        snprintf(err, errlen, "%s: zlib init failed", path);
        return NULL;
    }
    w->zinit = 1;
    return w;
}

static int w_deflate(ppl_ref_writer *w, int flush, char *err, size_t errlen)
{
    int zr;
    do {
        w->zs.next_out = w->out;
        w->zs.avail_out = sizeof w->out;
        zr = deflate(&w->zs, flush);
        size_t have = sizeof w->out - w->zs.avail_out;
        if (have && gio_pwrite_all(w->fd, w->out, have, (off_t)w->off) != 0) {
            snprintf(err, errlen, "%s: cannot write the reference: %s", gio_out_path(w->o), strerror(errno));
            return -1;
        }
        w->off += have;
    } while (w->zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return 0;
}

int ppl_ref_writer_row(ppl_ref_writer *w, const double *logp, uint32_t vocab, char *err, size_t errlen)
{
    if (w->row_cap < (size_t)vocab * 2) {
        free(w->row);
        if (!(w->row = malloc((size_t)vocab * 2))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        w->row_cap = (size_t)vocab * 2;
    }
    /* code d = max - l >= 0, not -l: a constant shift cancels in the
     * softmax, and the relative precision then follows the distance from
     * the row's largest entry (a flat row is kept to 2^-21, not 2^-12 |l|) */
    double mx = logp[0];
    for (uint32_t i = 1; i < vocab; i++)
        mx = logp[i] > mx ? logp[i] : mx;
    for (uint32_t i = 0; i < vocab; i++) {
        uint16_t c = ppl_ref_encode(logp[i] - mx);
        w->row[2 * i] = (uint8_t)c;
        w->row[2 * i + 1] = (uint8_t)(c >> 8);
    }
    w->zs.next_in = w->row;
    w->zs.avail_in = (uInt)vocab * 2;
    w->rows++;
    return w_deflate(w, Z_NO_FLUSH, err, errlen);
}

int ppl_ref_writer_finish(ppl_ref_writer *w, const ppl_ref *r, char *err, size_t errlen)
{
    const char *path = gio_out_path(w->o);
    int full = r->kind == PPL_REF_FULL;
    uint64_t rows_len = 0;
    if (full) {
        if (w->rows != r->n_scored) {
            snprintf(err, errlen, "%s: %llu rows written for %llu scored tokens (internal error)", path,
                     (unsigned long long)w->rows, (unsigned long long)r->n_scored);
            return -1;
        }
        w->zs.avail_in = 0;
        if (w_deflate(w, Z_FINISH, err, errlen) != 0)
            return -1;
        rows_len = w->off - HDR2;
    } else {
        w->off = HDR2;
    }
    size_t n = (size_t)r->n_scored, k = full ? 0 : r->k, rec = full ? 8 : 8 * k + 4, raw_len = n * rec;
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    uLongf clen = compressBound((uLong)raw_len);
    uint8_t *body = malloc(clen);
    if (!raw || !body) {
        free(raw);
        free(body);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t t = 0; t < n; t++) {
        uint8_t *p = raw + t * rec;
        if (full) {
            wrf(p, r->nll[t]);
            wr32(p + 4, r->top1[t]);
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            wr32(p + 4 * j, r->ids[t * k + j]);
            wrf(p + 4 * (k + j), r->logp[t * k + j]);
        }
        wrf(p + 8 * k, r->nll[t]);
    }
    int zr = compress2(body, &clen, raw, (uLong)raw_len, 6);
    free(raw);
    uint8_t h[HDR2] = {0};
    memcpy(h, "GQPPLREF", 8);
    wr32(h + 8, 2);
    wr32(h + 12, full ? PPL_REF_FULL : PPL_REF_TOPK);
    wr32(h + 16, (uint32_t)k);
    wr32(h + 20, r->vocab);
    wr32(h + 24, r->ctx);
    wr32(h + 28, r->n_tokens);
    wr32(h + 32, r->tokens_crc);
    wr64(h + 40, r->n_scored);
    wr64(h + 48, r->model_digest);
    wr64(h + 56, r->tok_digest);
    wr64(h + 64, r->file_digest);
    wr64(h + 72, rows_len);
    wr64(h + 80, clen);
    int bad = zr != Z_OK || gio_pwrite_all(w->fd, body, clen, (off_t)w->off) != 0 ||
              gio_pwrite_all(w->fd, h, HDR2, 0) != 0;
    free(body);
    if (bad) {
        snprintf(err, errlen, "%s: cannot write the reference: %s", path, zr != Z_OK ? zError(zr) : strerror(errno));
        return -1;
    }
    return gio_out_commit(w->o, err, errlen) < 0 ? -1 : 0;
}

void ppl_ref_writer_free(ppl_ref_writer *w)
{
    if (!w)
        return;
    if (w->zinit)
        deflateEnd(&w->zs);
    gio_out_free(w->o);
    free(w->row);
    free(w);
}

int ppl_ref_save(const char *path, const ppl_ref *r, int overwrite, char *err, size_t errlen)
{
    ppl_ref_writer *w = ppl_ref_writer_open(path, overwrite, err, errlen);
    if (!w)
        return -1;
    int rc = ppl_ref_writer_finish(w, r, err, errlen);
    ppl_ref_writer_free(w);
    return rc;
}
