/* tokenizer_tables.c - the bottom layer of the tokenizer: hashing, lookups
 * in the loaded tables, id arrays and UTF-8 character lengths. It calls
 * nothing else of the tokenizer; the encoder (tokenizer_encode.c) and the
 * loader (tokenizer.c) are built on it (see tokenizer_impl.h). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "tokenizer_impl.h"

uint64_t tok_hash_bytes(const void *p, size_t len)
{
    return XXH3_64bits(p, len);
}

void tok_ids_free(tok_ids *v)
{
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

int tok_ids_push(tok_ids *v, int32_t id)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        int32_t *ni = realloc(v->ids, nc * sizeof *ni);
        if (!ni) return -1;
        v->ids = ni;
        v->cap = nc;
    }
    v->ids[v->n++] = id;
    return 0;
}

int tok_utf8_char_len(const unsigned char *s, size_t avail)
{
    if (avail == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) { n = 3; lo = 0xA0; }          /* no overlongs */
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) { n = 3; hi = 0x9F; }          /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) { n = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) { n = 4; hi = 0x8F; }          /* <= U+10FFFF */
    else return 0;
    if (avail < (size_t)n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return n;
}

int32_t tok_strmap_get(const tok_tokenizer *t, const tok_strmap *m, const char *s, size_t len)
{
    return tok_strmap_get_h(t, m, s, len, tok_hash_bytes(s, len));
}

int32_t tok_strmap_get_h(const tok_tokenizer *t, const tok_strmap *m, const char *s, size_t len, uint64_t h)
{
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        tok_slot sl = m->slots[i];
        if (!sl.id1) return -1;
        if (sl.hash == (uint32_t)h) {
            tok_span sp = t->span[sl.id1 - 1];
            if (sp.len == len && !memcmp(t->pool + sp.off, s, len)) return (int32_t)(sl.id1 - 1);
        }
    }
}
