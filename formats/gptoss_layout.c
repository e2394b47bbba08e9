/* gptoss_layout.c - the shared .gptoss rules: names, types, sizes, hex. */
#include "gptoss_layout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int gfl_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || n >= GF_MAX_NAME) return 0;
    }
    return n > 0;
}

int gfl_type_by_name(const char *s, gq_type *out)
{
    for (int t = 0; t < GQ_TYPE_COUNT; t++) {
        const gq_traits *tr = gq_traits_of((gq_type)t);
        if (tr && tr->name && strcmp(tr->name, s) == 0) {
            *out = (gq_type)t;
            return 1;
        }
    }
    return 0;
}

const char *gfl_type_name(gq_type t)
{
    const gq_traits *tr = gq_traits_of(t);
    return tr ? tr->name : NULL;
}

uint64_t gfl_align_up(uint64_t x)
{
    if (x > UINT64_MAX - (GF_ALIGN - 1)) return 0;
    return (x + GF_ALIGN - 1) / GF_ALIGN * GF_ALIGN;
}

int gfl_tensor_bytes(gq_type type, int ndim, const uint64_t *shape, uint64_t *out, char *why, size_t whylen)
{
    const gq_traits *tr = gq_traits_of(type);
    if (!tr || tr->block_values <= 0 || tr->block_bytes <= 0) {
        snprintf(why, whylen, "unknown type %d", (int)type);
        return -1;
    }
    if (ndim < 1 || ndim > GF_MAX_DIMS) {
        snprintf(why, whylen, "%d dimensions (1..%d allowed)", ndim, GF_MAX_DIMS);
        return -1;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0 || shape[d] > GFL_MAX_JSON_INT) {
            snprintf(why, whylen, "dimension %d is %llu (1..2^53-1 allowed)", d, (unsigned long long)shape[d]);
            return -1;
        }
    }
    uint64_t row = shape[ndim - 1];
    if (row % (uint64_t)tr->block_values) {
        snprintf(why, whylen, "row length %llu is not a multiple of %s's block of %d values",
                 (unsigned long long)row, tr->name, tr->block_values);
        return -1;
    }
    /* bytes = rows * (row / block_values) * block_bytes, checked at each step */
    uint64_t total = row / (uint64_t)tr->block_values;
    if (total > UINT64_MAX / (uint64_t)tr->block_bytes) goto overflow;
    total *= (uint64_t)tr->block_bytes;
    for (int d = 0; d < ndim - 1; d++) {
        if (total > UINT64_MAX / shape[d]) goto overflow;
        total *= shape[d];
    }
    if (total > GFL_MAX_JSON_INT) goto overflow;
    *out = total;
    return 0;
overflow:
    snprintf(why, whylen, "byte size overflows (shape too large)");
    return -1;
}

void gfl_hex16(uint64_t v, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 15];
        v >>= 4;
    }
    out[16] = 0;
}

int gfl_parse_hex16(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else return 0;      /* also stops at a NUL: shorter strings fail */
        v = v << 4 | d;
    }
    if (s[16]) return 0;
    *out = v;
    return 1;
}

int gfl_json_uint(const cJSON *item, uint64_t max, uint64_t *out)
{
    if (!cJSON_IsNumber(item)) return 0;
    if (max > GFL_MAX_JSON_INT) max = GFL_MAX_JSON_INT;
    double d = item->valuedouble;
    if (!(d >= 0) || d > (double)max || d != floor(d)) return 0;
    uint64_t v = (uint64_t)d;
    if (v > max) return 0;
    *out = v;
    return 1;
}

/* Strict UTF-8 (no overlongs, no surrogates, no NUL): the header is text
 * that inspect prints and other engines parse. Returns the offset of the
 * first bad byte, or len if all good. */
size_t gfl_utf8_bad_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c == 0) return i;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return i;
        if (len - i <= n) return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += n + 1;
    }
    return len;
}

