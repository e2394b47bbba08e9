/* ppl_ref.c - read and write the perplexity reference file (see ppl_ref.h). */
#include "ppl_ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gio_read.h"

#define HDR 48u

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

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

void ppl_ref_free(ppl_ref *r)
{
    free(r->ids);
    free(r->logp);
    free(r->nll);
    r->ids = NULL;
    r->logp = NULL;
    r->nll = NULL;
}

int ppl_ref_parse(const void *bufp, size_t len, const char *what, ppl_ref *out, char *err, size_t errlen)
{
    const uint8_t *buf = bufp;
    memset(out, 0, sizeof *out);
    if (len < HDR || memcmp(buf, "GQPPLREF", 8) != 0) {
        snprintf(err, errlen, "%s: not a ppl reference file (make one with gptoss-run ppl --save-ref)", what);
        return -1;
    }
    if (rd32(buf + 8) != 1) {
        snprintf(err, errlen, "%s: reference file version %u is not supported (re-create it)", what, rd32(buf + 8));
        return -1;
    }
    out->k = rd32(buf + 12);
    out->vocab = rd32(buf + 16);
    out->ctx = rd32(buf + 20);
    out->n_tokens = rd32(buf + 24);
    out->tokens_crc = rd32(buf + 28);
    out->n_scored = rd64(buf + 32);
    uint64_t clen = rd64(buf + 40);
    size_t rec = 8 * (size_t)out->k + 4;
    if (out->k < 1 || out->k > PPL_REF_MAX_K || out->vocab < out->k || out->n_scored > out->n_tokens ||
        clen != len - HDR) {
        snprintf(err, errlen, "%s: corrupt reference header (k %u, vocab %u, %llu scored of %u tokens, body %llu of %zu bytes)",
                 what, out->k, out->vocab, (unsigned long long)out->n_scored, out->n_tokens,
                 (unsigned long long)clen, len - HDR);
        return -1;
    }
    size_t n = (size_t)out->n_scored, raw_len = n * rec;
    /* zlib cannot expand more than ~1032:1: a body too small for the
     * records it claims is corrupt, and we must not allocate for it */
    if (raw_len / 1032 > clen + 64) {
        snprintf(err, errlen, "%s: corrupt reference: %llu records cannot fit in a %llu-byte body", what,
                 (unsigned long long)out->n_scored, (unsigned long long)clen);
        return -1;
    }
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    out->ids = malloc((n ? n : 1) * out->k * sizeof *out->ids);
    out->logp = malloc((n ? n : 1) * out->k * sizeof *out->logp);
    out->nll = malloc((n ? n : 1) * sizeof *out->nll);
    if (!raw || !out->ids || !out->logp || !out->nll) {
        free(raw);
        ppl_ref_free(out);
        snprintf(err, errlen, "%s: out of memory", what);
        return -1;
    }
    uLongf got = (uLongf)raw_len;
    int zr = uncompress(raw, &got, buf + HDR, (uLong)clen);
    if (zr != Z_OK || got != raw_len) {
        free(raw);
        ppl_ref_free(out);
        snprintf(err, errlen, "%s: corrupt or truncated reference body (zlib: %s)", what,
                 zr == Z_OK ? "wrong length" : zError(zr));
        return -1;
    }
    for (size_t t = 0; t < n; t++) {
        const uint8_t *r = raw + t * rec;
        for (uint32_t j = 0; j < out->k; j++) {
            uint32_t id = rd32(r + 4 * j), lb = rd32(r + 4 * (out->k + j));
            float lp;
            memcpy(&lp, &lb, 4);
            if (id >= out->vocab || !(lp <= 0.0f) || (j && lp > out->logp[t * out->k + j - 1])) {
                free(raw);
                ppl_ref_free(out);
                snprintf(err, errlen, "%s: corrupt record %zu (id or log-probability out of range)", what, t);
                return -1;
            }
            out->ids[t * out->k + j] = id;
            out->logp[t * out->k + j] = lp;
        }
        /* the k ids are k different tokens: a repeated id would count its
         * probability twice and shift the KL divergence (k <= 64, so the
         * pairwise check costs at most 2016 compares a record) */
        const uint32_t *ids = out->ids + t * out->k;
        for (uint32_t j = 1; j < out->k; j++)
            for (uint32_t i = 0; i < j; i++)
                if (ids[i] == ids[j]) {
                    free(raw);
                    snprintf(err, errlen, "%s: corrupt record %zu of %zu: id %u appears twice in its top %u "
                             "(entries %u and %u); a reference lists k different tokens", what, t, n, ids[j],
                             out->k, i, j);
                    ppl_ref_free(out);
                    return -1;
                }
        uint32_t nb = rd32(r + 8 * out->k);
        memcpy(&out->nll[t], &nb, 4);
        if (!(out->nll[t] >= 0.0f) || out->nll[t] > 1e4f) {
            free(raw);
            ppl_ref_free(out);
            snprintf(err, errlen, "%s: corrupt record %zu (NLL out of range)", what, t);
            return -1;
        }
    }
    free(raw);
    return 0;
}

int ppl_ref_load(const char *path, ppl_ref *out, char *err, size_t errlen)
{
    size_t len = 0;
    uint8_t *buf = (uint8_t *)gio_read_file(path, 0, &len, err, errlen); /* refuses a FIFO */
    if (!buf)
        return -1;
    int rc = ppl_ref_parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

int ppl_ref_save(const char *path, const ppl_ref *r, char *err, size_t errlen)
{
    size_t n = (size_t)r->n_scored, rec = 8 * (size_t)r->k + 4, raw_len = n * rec;
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    uLongf clen = compressBound((uLong)raw_len);
    uint8_t *out = malloc(HDR + clen);
    if (!raw || !out) {
        free(raw);
        free(out);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t t = 0; t < n; t++) {
        uint8_t *p = raw + t * rec;
        for (uint32_t j = 0; j < r->k; j++) {
            uint32_t lb;
            memcpy(&lb, &r->logp[t * r->k + j], 4);
            wr32(p + 4 * j, r->ids[t * r->k + j]);
            wr32(p + 4 * (r->k + j), lb);
        }
        uint32_t nb;
        memcpy(&nb, &r->nll[t], 4);
        wr32(p + 8 * r->k, nb);
    }
    int zr = compress2(out + HDR, &clen, raw, (uLong)raw_len, 6);
    free(raw);
    if (zr != Z_OK) {
        free(out);
        snprintf(err, errlen, "%s: zlib failed (%s)", path, zError(zr));
        return -1;
    }
    memcpy(out, "GQPPLREF", 8);
    wr32(out + 8, 1);
    wr32(out + 12, r->k);
    wr32(out + 16, r->vocab);
    wr32(out + 20, r->ctx);
    wr32(out + 24, r->n_tokens);
    wr32(out + 28, r->tokens_crc);
    wr64(out + 32, r->n_scored);
    wr64(out + 40, clen);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(out, 1, HDR + clen, f) == HDR + clen;
    if (f && fclose(f) != 0)
        ok = 0;
    free(out);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write reference: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
