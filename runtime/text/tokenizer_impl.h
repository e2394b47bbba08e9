/* tokenizer_impl.h - the tokenizer's internal tables. Not part of the API.
 *
 * The tokenizer's files depend on each other one way only:
 *
 *   tokenizer.c (load, lookups, decode)
 *     -> tokenizer_encode.c (text -> ids; set up by the loader through
 *        tokenizer_encode.h, never calling back into the loader)
 *     -> tokenizer_tables.c (this header's functions: hashing, table
 *        lookups, id arrays, UTF-8 lengths; calls nothing above it).
 *
 * The struct is filled by the loader and read by the encoder; only the
 * encoder's own fields (regex, match state, cache, scratch) are written
 * while encoding. */
#ifndef GQ_TOKENIZER_IMPL_H
#define GQ_TOKENIZER_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "tokenizer.h"

#define TOK_F_PRESENT 1u
#define TOK_F_ADDED 2u
#define TOK_F_SPECIAL 4u

/* The tables are arrays of small structs rather than parallel arrays: a
 * probe then touches one cache line, which matters because BPE on rare words
 * is bound by the latency of these random lookups (tables of 2-16 MB). */

/* bytes -> id, open addressing; a slot holds id + 1 (0 = empty) and the
 * hash's low 32 bits; the key bytes are the id's span in the pool. */
typedef struct {
    uint32_t id1;
    uint32_t hash;
} tok_slot;

typedef struct {
    tok_slot *slots;
    size_t mask; /* capacity - 1, capacity a power of two */
} tok_strmap;

/* (left id, right id) -> (rank, merged id). */
typedef struct {
    uint64_t key; /* (left << 32) | right; UINT64_MAX = empty */
    uint32_t rank;
    uint32_t merged;
} tok_merge;

/* filter: one bit per hash value (top TOK_FILTER_BITS bits of the pair's
 * hash), set for every merge. Most pairs of a rare word have no merge; the
 * 1 MB filter (cache resident) answers that for ~95% of them without a probe
 * of the 16 MB table, whose misses go to DRAM. */
#define TOK_FILTER_BITS 23

typedef struct {
    tok_merge *e;
    size_t mask;
    uint64_t *filter;
} tok_mergemap;

static inline uint64_t tok_merge_hash(uint64_t key)
{
    key ^= key >> 31;
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ (key >> 29);
}

static inline int tok_filter_test(const uint64_t *f, uint64_t h)
{
    uint64_t bit = h >> (64 - TOK_FILTER_BITS);
    return (int)((f[bit >> 6] >> (bit & 63)) & 1);
}

/* A token's bytes: pool[off .. off + len). */
typedef struct {
    uint32_t off, len;
} tok_span;

/* A queued merge: ordered by key = (rank << 32) | position; left/right are
 * the pair's ids when queued, so a stale entry is recognised without a
 * second lookup (a symbol only ever grows, so its id never comes back). */
typedef struct {
    uint64_t key;
    int32_t left, right, merged;
} tok_qmerge;

/* Word cache: pre-token bytes -> ids, cleared wholesale when full. */
typedef struct {
    uint64_t *hash;    /* 0 = empty */
    uint32_t *key_off, *key_len, *ids_off, *ids_n;
    size_t mask, used;
    char *keys;
    size_t keys_len, keys_cap;
    int32_t *ids;
    size_t ids_len, ids_cap;
} tok_cache;

/* Scratch space of one BPE word, grown on demand. */
typedef struct {
    int32_t *sym;
    int32_t *prev, *next;
    tok_qmerge *heap; /* a min-heap on key */
    size_t cap;     /* symbols the arrays hold (heap: 3x) */
} tok_work;

struct tok_tokenizer {
    char *pool; /* every token's bytes */
    size_t pool_len;
    int32_t n_ids;
    tok_span *span; /* per id: its bytes in the pool */
    uint8_t *id_flags;

    tok_strmap vocab;  /* model vocabulary */
    tok_strmap added;  /* added tokens by content */
    uint8_t added_first[256]; /* 1 if some added token starts with this byte */
    uint32_t added_lens[64];  /* distinct added-token lengths, longest first */
    int n_added_lens;

    tok_mergemap merges;
    int32_t byte_id[256]; /* model token of each single byte, -1 if none */
    int ignore_merges;

    pcre2_code *re; /* NULL: no Split (the whole text is one pre-token) */
    int re_jit;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* explicit match/depth limits (tokenizer_encode.c) */
    const char *text0;         /* start of the text tok_encode is working on */
    char what[192];            /* the tokenizer's name, for tok_encode_error */
    char error[512];           /* why the last tok_encode failed */

    tok_cache cache;
    tok_work work;
};

/* ---- tokenizer_tables.c ---- */

uint64_t tok_hash_bytes(const void *p, size_t len);
/* Lookup in a strmap; -1 if absent. */
int32_t tok_strmap_get(const tok_tokenizer *t, const tok_strmap *m, const char *s, size_t len);
/* The same with the key's tok_hash_bytes already computed. */
int32_t tok_strmap_get_h(const tok_tokenizer *t, const tok_strmap *m, const char *s, size_t len, uint64_t h);

/* tok_load_json after parsing: builds a tokenizer from a tokenizer.json
 * tree (takes ownership of root, which is deleted). tokenizer_gguf.c feeds
 * it the tree it builds from a GGUF's tokenizer.ggml.* arrays. */
struct cJSON;
tok_tokenizer *tok_load_cjson(struct cJSON *root, const char *what, char *err, size_t errlen);

#endif
