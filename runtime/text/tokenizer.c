/* tokenizer.c - loading tokenizer.json into hash tables, id <-> bytes
 * lookups, and decoding (batch and streaming). Encoding is in
 * tokenizer_encode.c, which the loader sets up (tokenizer_encode.h) and
 * which never calls back here: both sit on tokenizer_tables.c.
 *
 * Tokens are stored as raw bytes, not as the byte-level "GPT-2 unicode"
 * strings of the file: the ByteLevel step is a bijection between bytes and
 * 256 code points, so looking up raw bytes is the same as looking up the
 * mapped string, and it spares the encoder a mapping pass and the decoder an
 * unmapping pass. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "gio_err.h"
#include "gio_read.h"
#include "gptoss_format.h"
#include "json_nul.h"
#include "tokenizer_encode.h"
#include "tokenizer_impl.h"

#define TOK_MAX_IDS (1 << 24) /* sanity bound: 16M ids */

#define set_err gio_errf /* the project's one error-message helper (gio_err.h) */

/* ---- byte-level alphabet: GPT-2's bytes_to_unicode ---- */

static int cp_to_byte[324]; /* code point -> byte, -1 if not in the alphabet */
static pthread_once_t byte_tables_once = PTHREAD_ONCE_INIT; /* two threads may load tokenizers at once */

static void byte_tables_fill(void)
{
    for (int i = 0; i < 324; i++) cp_to_byte[i] = -1;
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        int cp = printable ? b : 256 + extra++;
        cp_to_byte[cp] = b;
    }
}

static void byte_tables_init(void)
{
    pthread_once(&byte_tables_once, byte_tables_fill);
}

/* Unmaps a byte-level string into out (at most len bytes). Returns the byte
 * count, or -1 if it holds a character outside the alphabet. */
static long unmap_bytelevel(const char *s, size_t len, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        int n = tok_utf8_char_len(u + i, len - i);
        if (n == 0) return -1;
        unsigned cp = u[i];
        if (n == 2) cp = ((u[i] & 0x1Fu) << 6) | (u[i + 1] & 0x3Fu);
        else if (n > 2) return -1; /* the alphabet stops at U+0143 */
        if (cp >= 324 || cp_to_byte[cp] < 0) return -1;
        out[o++] = (char)cp_to_byte[cp];
        i += (size_t)n;
    }
    return (long)o;
}

/* ---- hash tables ---- */

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

static int strmap_init(tok_strmap *m, size_t n)
{
    size_t cap = pow2_at_least(n * 2 + 1);
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    return m->slots ? 0 : -1;
}

static void strmap_free(tok_strmap *m)
{
    free(m->slots);
}

static const char *id_bytes(const tok_tokenizer *t, int32_t id)
{
    return t->pool + t->span[id].off;
}

/* Inserts id under its pool bytes; an existing entry with equal bytes is
 * replaced (the later one wins, as when HF builds its maps). */
static void strmap_put(tok_tokenizer *t, tok_strmap *m, int32_t id)
{
    const char *s = id_bytes(t, id);
    size_t len = t->span[id].len;
    uint64_t h = tok_hash_bytes(s, len);
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        uint32_t v = m->slots[i].id1;
        if (!v || (m->slots[i].hash == (uint32_t)h && t->span[v - 1].len == len &&
                   !memcmp(id_bytes(t, (int32_t)(v - 1)), s, len))) {
            m->slots[i].id1 = (uint32_t)id + 1;
            m->slots[i].hash = (uint32_t)h;
            return;
        }
    }
}

static void mergemap_put(tok_mergemap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t merged)
{
    uint64_t key = ((uint64_t)a << 32) | b, h = tok_merge_hash(key), bit = h >> (64 - TOK_FILTER_BITS);
    m->filter[bit >> 6] |= 1ull << (bit & 63);
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        if (m->e[i].key == UINT64_MAX || m->e[i].key == key) {
            m->e[i] = (tok_merge){key, rank, merged};
            return;
        }
    }
}

/* ---- JSON loading ---- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jtrue(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Finds the Split regex (or none) in pre_tokenizer; -1 on an unsupported shape. */
static int parse_pretokenizer(const cJSON *pt, const char **pattern, char *err, size_t errlen, const char *what)
{
    *pattern = NULL;
    if (!pt || cJSON_IsNull(pt)) return 0;
    const cJSON *items = pt;
    int single = 1;
    const char *type = jstr(pt, "type");
    if (type && !strcmp(type, "Sequence")) {
        items = cJSON_GetObjectItemCaseSensitive(pt, "pretokenizers");
        if (!cJSON_IsArray(items)) goto bad;
        single = 0;
    }
    int n = single ? 1 : cJSON_GetArraySize(items);
    int seen_split = 0, seen_bl = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *p = single ? items : cJSON_GetArrayItem(items, i);
        const char *pty = jstr(p, "type");
        if (pty && !strcmp(pty, "Split") && !seen_split && !seen_bl) {
            const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
            const char *re = pat ? jstr(pat, "Regex") : NULL;
            const char *beh = jstr(p, "behavior");
            if (!re || !beh || strcmp(beh, "Isolated") || jtrue(p, "invert")) goto bad;
            *pattern = re;
            seen_split = 1;
        } else if (pty && !strcmp(pty, "ByteLevel") && !seen_bl) {
            if (jtrue(p, "use_regex") || jtrue(p, "add_prefix_space")) goto bad;
            seen_bl = 1;
        } else {
            goto bad;
        }
    }
    return 0;
bad:
    set_err(err, errlen,
            "%s: unsupported pre_tokenizer (supported: Split{Regex, Isolated} followed by "
            "ByteLevel{use_regex:false, add_prefix_space:false}, as in gpt-oss's tokenizer.json)",
            what);
    return -1;
}

/* Merge parts: [a, b] or "a b". Writes pointers to the two strings. */
static int merge_parts(const cJSON *m, const char **a, size_t *alen, const char **b, size_t *blen)
{
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2) {
        const cJSON *x = cJSON_GetArrayItem(m, 0), *y = cJSON_GetArrayItem(m, 1);
        if (!cJSON_IsString(x) || !cJSON_IsString(y)) return -1;
        *a = x->valuestring, *alen = strlen(x->valuestring);
        *b = y->valuestring, *blen = strlen(y->valuestring);
        return 0;
    }
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' ')) return -1;
        *a = s, *alen = (size_t)(sp - s);
        *b = sp + 1, *blen = strlen(sp + 1);
        return 0;
    }
    return -1;
}

static int load_tables(tok_tokenizer *t, const cJSON *root, const char *what, char *err, size_t errlen)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *mtype = model ? jstr(model, "type") : NULL;
    if (!cJSON_IsObject(model) || (mtype && strcmp(mtype, "BPE"))) {
        set_err(err, errlen, "%s: model.type is '%s'; only BPE tokenizers are supported", what,
                mtype ? mtype : "(missing)");
        return -1;
    }
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm)) {
        set_err(err, errlen, "%s: a normalizer is set; gpt-oss has none and none is supported", what);
        return -1;
    }
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if ((dropout && !cJSON_IsNull(dropout)) || jstr(model, "continuing_subword_prefix") ||
        jstr(model, "end_of_word_suffix") || jtrue(model, "byte_fallback")) {
        set_err(err, errlen, "%s: BPE options dropout/continuing_subword_prefix/end_of_word_suffix/"
                "byte_fallback are not supported", what);
        return -1;
    }
    t->ignore_merges = jtrue(model, "ignore_merges");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges) || (added && !cJSON_IsArray(added))) {
        set_err(err, errlen, "%s: model.vocab (object), model.merges (array) or added_tokens (array) "
                "missing or of the wrong type: is this a Hugging Face tokenizer.json?", what);
        return -1;
    }

    /* Pass 1: the id range and the pool size. */
    long long max_id = -1;
    size_t pool_need = 0, n_vocab = 0, n_added = 0;
    for (const cJSON *v = vocab->child; v; v = v->next) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= TOK_MAX_IDS ||
            v->valuedouble != (double)(int)v->valuedouble) {
            set_err(err, errlen, "%s: vocab entry '%.40s' has a bad id", what, v->string);
            return -1;
        }
        if (v->valueint > max_id) max_id = v->valueint;
        pool_need += strlen(v->string) + 1;
        n_vocab++;
    }
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const char *content = jstr(a, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= TOK_MAX_IDS || !content ||
            !*content) {
            set_err(err, errlen, "%s: added_tokens entry without a valid id/content", what);
            return -1;
        }
        if (jtrue(a, "lstrip") || jtrue(a, "rstrip") || jtrue(a, "single_word")) {
            set_err(err, errlen, "%s: added token '%s' uses lstrip/rstrip/single_word, not supported",
                    what, content);
            return -1;
        }
        if (id->valueint > max_id) max_id = id->valueint;
        pool_need += strlen(content) + 1;
        n_added++;
    }
    if (max_id < 0) {
        set_err(err, errlen, "%s: empty vocabulary", what);
        return -1;
    }
    t->n_ids = (int32_t)(max_id + 1);
    if (pool_need >= UINT32_MAX) {
        set_err(err, errlen, "%s: the vocabulary holds over 4 GB of token text", what);
        return -1;
    }
    t->pool = malloc(pool_need + 1);
    t->span = calloc((size_t)t->n_ids, sizeof *t->span);
    t->id_flags = calloc((size_t)t->n_ids, 1);
    if (!t->pool || !t->span || !t->id_flags || strmap_init(&t->vocab, n_vocab) ||
        strmap_init(&t->added, n_added)) {
        set_err(err, errlen, "%s: out of memory loading the tokenizer", what);
        return -1;
    }

    /* Pass 2: vocabulary. */
    byte_tables_init();
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    for (const cJSON *v = vocab->child; v; v = v->next) {
        int32_t id = v->valueint;
        size_t slen = strlen(v->string);
        if (t->id_flags[id]) {
            set_err(err, errlen, "%s: id %d appears twice in model.vocab", what, (int)id);
            return -1;
        }
        char *dst = t->pool + t->pool_len;
        long n = unmap_bytelevel(v->string, slen, dst);
        int mappable = n >= 0;
        if (!mappable) { /* not reachable by BPE; decodes as its own text */
            memcpy(dst, v->string, slen);
            n = (long)slen;
        }
        t->span[id] = (tok_span){(uint32_t)t->pool_len, (uint32_t)n};
        t->id_flags[id] = TOK_F_PRESENT;
        t->pool_len += (size_t)n;
        if (mappable) {
            strmap_put(t, &t->vocab, id);
            if (n == 1) t->byte_id[(unsigned char)dst[0]] = id;
        }
    }
    /* Added tokens: their content is plain text, not byte-level mapped. */
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        int32_t id = cJSON_GetObjectItemCaseSensitive(a, "id")->valueint;
        const char *content = jstr(a, "content");
        size_t len = strlen(content);
        if ((t->id_flags[id] & TOK_F_PRESENT) &&
            (t->span[id].len != len || memcmp(id_bytes(t, id), content, len))) {
            set_err(err, errlen, "%s: added token '%s' reuses id %d of a different token", what, content,
                    (int)id);
            return -1;
        }
        memcpy(t->pool + t->pool_len, content, len);
        t->span[id] = (tok_span){(uint32_t)t->pool_len, (uint32_t)len};
        t->id_flags[id] = TOK_F_PRESENT | TOK_F_ADDED | (jtrue(a, "special") ? TOK_F_SPECIAL : 0);
        t->pool_len += len;
        strmap_put(t, &t->added, id);
        t->added_first[(unsigned char)content[0]] = 1;
        int k = 0;
        while (k < t->n_added_lens && t->added_lens[k] != len) k++;
        if (k == t->n_added_lens) {
            if (k == (int)(sizeof t->added_lens / sizeof t->added_lens[0])) {
                set_err(err, errlen, "%s: too many distinct added-token lengths", what);
                return -1;
            }
            t->added_lens[t->n_added_lens++] = (uint32_t)len;
        }
    }
    for (int i = 1; i < t->n_added_lens; i++) /* longest first: leftmost-longest matching */
        for (int j = i; j > 0 && t->added_lens[j] > t->added_lens[j - 1]; j--) {
            uint32_t x = t->added_lens[j];
            t->added_lens[j] = t->added_lens[j - 1];
            t->added_lens[j - 1] = x;
        }
    /* the streaming decoder's window (TOK_STREAM_MAX_OUT) must hold any token */
    size_t max_token_len = 0;
    for (int32_t id = 0; id < t->n_ids; id++)
        if (t->span[id].len > max_token_len) max_token_len = t->span[id].len;
    if (max_token_len + 4 > TOK_STREAM_MAX_OUT) {
        set_err(err, errlen, "%s: a token is %zu bytes long; at most %d are supported", what,
                max_token_len, TOK_STREAM_MAX_OUT - 4);
        return -1;
    }

    /* Merges: rank = position in the list. */
    size_t n_merges = (size_t)cJSON_GetArraySize(merges);
    size_t cap = pow2_at_least(n_merges * 2 + 1);
    t->merges.e = malloc(cap * sizeof *t->merges.e);
    t->merges.mask = cap - 1;
    t->merges.filter = calloc((size_t)1 << (TOK_FILTER_BITS - 6), sizeof *t->merges.filter);
    char *tmp = NULL;
    size_t tmp_cap = 0;
    if (!t->merges.e || !t->merges.filter) {
        set_err(err, errlen, "%s: out of memory loading merges", what);
        return -1;
    }
    for (size_t i = 0; i < cap; i++) t->merges.e[i].key = UINT64_MAX;
    uint32_t rank = 0;
    for (const cJSON *m = merges->child; m; m = m->next, rank++) {
        const char *a, *b;
        size_t alen, blen;
        if (merge_parts(m, &a, &alen, &b, &blen) != 0) {
            free(tmp);
            set_err(err, errlen, "%s: merge #%u is not a pair of token strings", what, (unsigned)rank);
            return -1;
        }
        if (alen + blen + 1 > tmp_cap) { /* unmapping never grows a string */
            tmp_cap = 2 * (alen + blen + 1);
            char *nt = realloc(tmp, tmp_cap);
            if (!nt) { free(tmp); set_err(err, errlen, "%s: out of memory", what); return -1; }
            tmp = nt;
        }
        long na = unmap_bytelevel(a, alen, tmp);
        long nb = na < 0 ? -1 : unmap_bytelevel(b, blen, tmp + na);
        int32_t ia = na < 0 ? -1 : tok_strmap_get(t, &t->vocab, tmp, (size_t)na);
        int32_t ib = nb < 0 ? -1 : tok_strmap_get(t, &t->vocab, tmp + na, (size_t)nb);
        int32_t ir = ia < 0 || ib < 0 ? -1 : tok_strmap_get(t, &t->vocab, tmp, (size_t)(na + nb));
        if (ir < 0) {
            free(tmp);
            set_err(err, errlen, "%s: merge #%u ('%.*s' + '%.*s') uses a token missing from "
                    "model.vocab", what, (unsigned)rank, (int)alen, a, (int)blen, b);
            return -1;
        }
        mergemap_put(&t->merges, (uint32_t)ia, (uint32_t)ib, rank, (uint32_t)ir);
    }
    free(tmp);
    return 0;
}

tok_tokenizer *tok_load_json(const char *json, size_t len, const char *what, char *err, size_t errlen)
{
    if (!what) what = "tokenizer.json";
    long long nul = gq_json_nul_string(json, len);
    if (nul >= 0) { /* cJSON would cut the token (or pattern) short at the NUL: a different tokenizer */
        set_err(err, errlen, "%s: the string at byte %lld holds a NUL character (\\u0000), which no token, "
                "merge or pattern of a supported tokenizer.json has", what, nul);
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        set_err(err, errlen, "%s: not valid JSON (a Hugging Face tokenizer.json is expected)", what);
        return NULL;
    }
    return tok_load_cjson(root, what, err, errlen);
}

tok_tokenizer *tok_load_cjson(cJSON *root, const char *what, char *err, size_t errlen)
{
    tok_tokenizer *t = calloc(1, sizeof *t);
    const char *pattern = NULL;
    if (!t) {
        set_err(err, errlen, "%s: out of memory", what);
    } else if (load_tables(t, root, what, err, errlen) == 0 &&
               parse_pretokenizer(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &pattern, err,
                                  errlen, what) == 0 &&
               tok_encoder_init(t, pattern, what, err, errlen) == 0) {
        cJSON_Delete(root);
        return t;
    }
    cJSON_Delete(root);
    tok_free(t);
    return NULL;
}

tok_tokenizer *tok_load_file(const char *path, char *err, size_t errlen)
{
    /* peek at the magic first: a .gptoss file is many GB and is mapped by
     * gf_open, never read whole */
    unsigned char magic[8];
    FILE *f = gio_fopen_read(path, err, errlen); /* a FIFO is refused, not waited on */
    if (!f) return NULL;
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    tok_tokenizer *t = NULL;
    if (got == sizeof magic && !memcmp(magic, GF_MAGIC, sizeof magic)) {
        char gerr[512];
        gf_file *g = gf_open(path, gerr, sizeof gerr);
        if (!g) {
            set_err(err, errlen, "%s", gerr);
            return NULL;
        }
        const gf_blob *b = gf_find_blob(g, "tokenizer.json");
        if (!b || !b->data) {
            set_err(err, errlen, "%s: this .gptoss file has no tokenizer.json blob; re-convert it with "
                    "a current gptoss-convert or pass the model's tokenizer.json instead", path);
        } else {
            char what[1024];
            snprintf(what, sizeof what, "%s (blob tokenizer.json)", path);
            t = tok_load_json(b->data, (size_t)b->size, what, err, errlen);
        }
        gf_close(g);
        return t;
    }
    if (got >= 4 && !memcmp(magic, "GGUF", 4)) /* tokenizer_gguf.c: the tokenizer.ggml.* arrays */
        return tok_load_gguf_file(path, err, errlen);
    size_t len = 0;
    char *buf = gio_read_file(path, 0, &len, err, errlen);
    if (!buf) return NULL;
    t = tok_load_json(buf, len, path, err, errlen);
    free(buf);
    return t;
}

void tok_free(tok_tokenizer *t)
{
    if (!t) return;
    tok_encoder_free(t);
    free(t->pool);
    free(t->span);
    free(t->id_flags);
    strmap_free(&t->vocab);
    strmap_free(&t->added);
    free(t->merges.e);
    free(t->merges.filter);
    free(t);
}

/* ---- lookups ---- */

int32_t tok_n_ids(const tok_tokenizer *t) { return t->n_ids; }

const char *tok_token_bytes(const tok_tokenizer *t, int32_t id, size_t *len)
{
    if (id < 0 || id >= t->n_ids || !(t->id_flags[id] & TOK_F_PRESENT)) return NULL;
    if (len) *len = t->span[id].len;
    return id_bytes(t, id);
}

int32_t tok_token_id(const tok_tokenizer *t, const char *s, size_t len)
{
    int32_t id = tok_strmap_get(t, &t->added, s, len);
    return id >= 0 ? id : tok_strmap_get(t, &t->vocab, s, len);
}

int32_t tok_special_id(const tok_tokenizer *t, const char *name)
{
    return tok_strmap_get(t, &t->added, name, strlen(name));
}

int tok_is_special(const tok_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n_ids && (t->id_flags[id] & TOK_F_SPECIAL);
}

/* ---- decoding ---- */

char *tok_decode(const tok_tokenizer *t, const int32_t *ids, size_t n, size_t *len, size_t *bad_index)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        if (!tok_token_bytes(t, ids[i], &l)) {
            if (bad_index) *bad_index = i;
            return NULL;
        }
        total += l;
    }
    char *out = malloc(total + 1);
    if (!out) {
        if (bad_index) *bad_index = (size_t)-1;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + o, id_bytes(t, ids[i]), t->span[ids[i]].len);
        o += t->span[ids[i]].len;
    }
    out[o] = 0;
    *len = o;
    return out;
}

void tok_stream_init(tok_stream *s)
{
    s->n_held = 0;
}

/* Could bytes p[0..n) (n < 4) still grow into a well-formed character? */
static int utf8_prefix_ok(const unsigned char *p, int n)
{
    unsigned char probe[4] = {p[0], 0x80, 0x80, 0x80};
    for (int i = 1; i < n; i++) probe[i] = p[i];
    /* complete the prefix with the smallest continuation bytes allowed */
    for (int fill = 0x80; fill <= 0xBF; fill += 0x10) {
        for (int i = n; i < 4; i++) probe[i] = (unsigned char)fill;
        int need = tok_utf8_char_len(probe, 4);
        if (need > n) return 1;
    }
    return 0;
}

static int stream_emit(tok_stream *s, const unsigned char *in, size_t n, char *out, size_t cap, int final)
{
    /* held bytes first, then the new ones, through one small window */
    unsigned char buf[TOK_STREAM_MAX_OUT + 4];
    size_t m = 0;
    for (int i = 0; i < s->n_held; i++) buf[m++] = s->held[i];
    if (n) memcpy(buf + m, in, n);
    m += n;
    size_t i = 0, o = 0;
    s->n_held = 0;
    while (i < m) {
        int cl = tok_utf8_char_len(buf + i, m - i);
        if (cl == 0 && !final && m - i < 4 && utf8_prefix_ok(buf + i, (int)(m - i))) {
            /* an unfinished character at the end: hold it back */
            memcpy(s->held, buf + i, m - i);
            s->n_held = (int)(m - i);
            break;
        }
        size_t step = cl ? (size_t)cl : 1; /* invalid byte: pass it through */
        if (o + step > cap) return -1;
        memcpy(out + o, buf + i, step);
        o += step;
        i += step;
    }
    return (int)o;
}

int tok_stream_push(tok_stream *s, const tok_tokenizer *t, int32_t id, char *out, size_t cap)
{
    size_t len;
    const char *b = tok_token_bytes(t, id, &len);
    if (!b) return -1;
    return stream_emit(s, (const unsigned char *)b, len, out, cap, 0);
}

int tok_stream_flush(tok_stream *s, char *out, size_t cap)
{
    return stream_emit(s, NULL, 0, out, cap, 1);
}
