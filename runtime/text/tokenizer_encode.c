/* tokenizer_encode.c - text -> ids: added-token split, UTF-8 segmentation,
 * the Split pre-tokenizer (PCRE2) and BPE by merge rank.
 *
 * Why PCRE2 and not a hand-written pre-tokenizer: the regex is data (it comes
 * from tokenizer.json), PCRE2's JIT runs it at tens of MB/s, and a hand-written
 * scanner would have to be proven identical on every Unicode property edge.
 *
 * The one rewrite: HF tokenizers runs the pattern with Oniguruma, where \s is
 * the Unicode White_Space property. PCRE2 (UCP) also counts U+180E MONGOLIAN
 * VOWEL SEPARATOR as \s (it stopped being a space in Unicode 6.3), so every \s
 * and \S is replaced by the explicit White_Space class below before compiling.
 * (JavaScript's \s differs from both: it adds U+FEFF and drops U+0085.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_encode.h"
#include "tokenizer_impl.h"

#define TOK_WS_CLASS "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}" \
                     "\\x{202F}\\x{205F}\\x{3000}"
#define CACHE_SLOTS (1u << 15)
#define CACHE_MAX_KEY 128
#define TOK_MAX_WORD ((size_t)1 << 30)
/* PCRE2 limits, set explicitly so that every build behaves the same (the
 * library's defaults are build options): per match attempt, a base that is
 * PCRE2's usual default plus a budget linear in the text still ahead. A sane
 * pre-tokenizer regex needs a few steps per byte it consumes; a pattern that
 * backtracks catastrophically needs exponentially many and hits the limit
 * within tens of milliseconds. tokenizer.h states the same numbers. */
#define TOK_MATCH_LIMIT_BASE 10000000u
#define TOK_MATCH_LIMIT_PER_BYTE 64u

/* Copies PATTERN with \s / \S spelled out as White_Space. NULL on malloc
 * failure or a \S inside a character class (no single-class spelling). */
static char *rewrite_whitespace(const char *pat)
{
    size_t n = strlen(pat), cap = n * 8 + 64, o = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    int in_class = 0, class_start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = pat[i];
        if (o + sizeof TOK_WS_CLASS + 8 > cap) {
            cap *= 2;
            char *no = realloc(out, cap);
            if (!no) { free(out); return NULL; }
            out = no;
        }
        if (c == '\\' && i + 1 < n) {
            char d = pat[++i];
            if (d == 's' || d == 'S') {
                if (in_class && d == 'S') { free(out); return NULL; }
                const char *open = in_class ? "" : d == 's' ? "[" : "[^";
                const char *close = in_class ? "" : "]";
                o += (size_t)sprintf(out + o, "%s%s%s", open, TOK_WS_CLASS, close);
            } else {
                out[o++] = c;
                out[o++] = d;
            }
            class_start = 0;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            class_start = 1;
        } else if (in_class && c == '^' && class_start == 1 && pat[i - 1] == '[') {
            class_start = 2; /* a ']' right after "[^" is still a literal */
        } else if (in_class && c == ']' && !class_start) {
            in_class = 0;
        } else {
            class_start = 0;
        }
        out[o++] = c;
    }
    out[o] = 0;
    return out;
}

int tok_encoder_init(tok_tokenizer *t, const char *pattern, const char *what, char *err, size_t errlen)
{
    snprintf(t->what, sizeof t->what, "%s", what);
    t->cache.mask = CACHE_SLOTS - 1;
    t->cache.hash = calloc(CACHE_SLOTS, sizeof *t->cache.hash);
    t->cache.key_off = malloc(CACHE_SLOTS * sizeof *t->cache.key_off);
    t->cache.key_len = malloc(CACHE_SLOTS * sizeof *t->cache.key_len);
    t->cache.ids_off = malloc(CACHE_SLOTS * sizeof *t->cache.ids_off);
    t->cache.ids_n = malloc(CACHE_SLOTS * sizeof *t->cache.ids_n);
    if (!t->cache.hash || !t->cache.key_off || !t->cache.key_len || !t->cache.ids_off || !t->cache.ids_n) {
        snprintf(err, errlen, "out of memory creating the tokenizer cache");
        return -1;
    }
    if (!pattern) return 0;
    char *pat = rewrite_whitespace(pattern);
    if (!pat) {
        snprintf(err, errlen, "%s: pre_tokenizer regex uses \\S inside a character class, "
                 "which this tokenizer cannot translate to HF's \\s semantics", what);
        return -1;
    }
    int code;
    PCRE2_SIZE off;
    t->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    free(pat);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "%s: pre_tokenizer regex does not compile (PCRE2: %s)", what,
                 (const char *)msg);
        return -1;
    }
    t->re_jit = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
    t->md = pcre2_match_data_create_from_pattern(t->re, NULL);
    t->mctx = pcre2_match_context_create(NULL);
    if (!t->md || !t->mctx) {
        snprintf(err, errlen, "out of memory creating PCRE2 match data");
        return -1;
    }
    return 0;
}

void tok_encoder_free(tok_tokenizer *t)
{
    if (t->mctx) pcre2_match_context_free(t->mctx);
    if (t->md) pcre2_match_data_free(t->md);
    if (t->re) pcre2_code_free(t->re);
    free(t->cache.hash);
    free(t->cache.key_off);
    free(t->cache.key_len);
    free(t->cache.ids_off);
    free(t->cache.ids_n);
    free(t->cache.keys);
    free(t->cache.ids);
    free(t->work.sym);
    free(t->work.prev);
    free(t->work.next);
    free(t->work.heap);
}

/* ---- output ---- */

/* tok_ids_push with the common case inlined: the encoder appends every id here. */
static inline int push_id(tok_ids *out, int32_t id)
{
    if (out->n < out->cap) {
        out->ids[out->n++] = id;
        return 0;
    }
    return tok_ids_push(out, id);
}

/* ---- word cache ---- */

static int cache_get(tok_tokenizer *t, const char *s, size_t len, uint64_t h, tok_ids *out)
{
    tok_cache *c = &t->cache;
    for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
        if (!c->hash[i]) return 0;
        if (c->hash[i] == h && c->key_len[i] == len && !memcmp(c->keys + c->key_off[i], s, len)) {
            for (uint32_t k = 0; k < c->ids_n[i]; k++)
                if (push_id(out, c->ids[c->ids_off[i] + k])) return -1;
            return 1;
        }
    }
}

static void cache_put(tok_tokenizer *t, const char *s, size_t len, uint64_t h, const int32_t *ids, size_t n)
{
    tok_cache *c = &t->cache;
    if (c->used >= CACHE_SLOTS / 2) { /* full: start over rather than evict */
        memset(c->hash, 0, CACHE_SLOTS * sizeof *c->hash);
        c->used = c->keys_len = c->ids_len = 0;
    }
    if (c->keys_len + len > c->keys_cap) {
        size_t nc = c->keys_cap ? c->keys_cap * 2 : 65536;
        char *nk = realloc(c->keys, nc);
        if (!nk) return; /* the cache is optional */
        c->keys = nk;
        c->keys_cap = nc;
    }
    if (c->ids_len + n > c->ids_cap) {
        size_t nc = c->ids_cap ? c->ids_cap * 2 : 65536;
        int32_t *ni = realloc(c->ids, nc * sizeof *ni);
        if (!ni) return;
        c->ids = ni;
        c->ids_cap = nc;
    }
    size_t i = (size_t)h & c->mask;
    while (c->hash[i]) i = (i + 1) & c->mask;
    c->hash[i] = h;
    c->key_off[i] = (uint32_t)c->keys_len;
    c->key_len[i] = (uint32_t)len;
    c->ids_off[i] = (uint32_t)c->ids_len;
    c->ids_n[i] = (uint32_t)n;
    memcpy(c->keys + c->keys_len, s, len);
    c->keys_len += len;
    memcpy(c->ids + c->ids_len, ids, n * sizeof *ids);
    c->ids_len += n;
    c->used++;
}

/* ---- BPE ---- */

static int merge_lookup(const tok_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *merged)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b, h = tok_merge_hash(key);
    const tok_mergemap *m = &t->merges;
    if (!tok_filter_test(m->filter, h)) return 0; /* certainly no merge */
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        tok_merge e = m->e[i];
        if (e.key == key) {
            *rank = e.rank;
            *merged = (int32_t)e.merged;
            return 1;
        }
        if (e.key == UINT64_MAX) return 0;
    }
}

static void heap_push(tok_qmerge *heap, size_t *n, tok_qmerge v)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p].key <= v.key) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = v;
}

static tok_qmerge heap_pop(tok_qmerge *heap, size_t *n)
{
    tok_qmerge top = heap[0], last = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap[c + 1].key < heap[c].key) c++;
        if (heap[c].key >= last.key) break;
        heap[i] = heap[c];
        i = c;
    }
    if (*n) heap[i] = last;
    return top;
}

static int work_reserve(tok_work *w, size_t n)
{
    if (n <= w->cap) return 0;
    size_t nc = n < 64 ? 64 : n * 2;
    int32_t *a = realloc(w->sym, nc * sizeof *a);
    if (a) w->sym = a;
    int32_t *b = realloc(w->prev, nc * sizeof *b);
    if (b) w->prev = b;
    int32_t *c = realloc(w->next, nc * sizeof *c);
    if (c) w->next = c;
    tok_qmerge *d = realloc(w->heap, 3 * nc * sizeof *d);
    if (d) w->heap = d;
    if (!a || !b || !c || !d) return -1;
    w->cap = nc;
    return 0;
}

static void push_pair(const tok_tokenizer *t, tok_work *w, size_t *hn, int32_t pos)
{
    uint32_t rank;
    int32_t merged;
    int32_t nx = w->next[pos];
    if (nx >= 0 && merge_lookup(t, w->sym[pos], w->sym[nx], &rank, &merged))
        heap_push(w->heap, hn,
                  (tok_qmerge){((uint64_t)rank << 32) | (uint32_t)pos, w->sym[pos], w->sym[nx], merged});
}

/* One pre-token (raw bytes) -> ids, the way HF's BPE model does it: the
 * whole word if it is a vocabulary token (ignore_merges), else start from
 * single bytes and apply the lowest-ranked applicable merge (leftmost on a
 * tie) until none applies. A heap keeps long words O(n log n). */
static int bpe_word(tok_tokenizer *t, const char *s, size_t len, tok_ids *out)
{
    if (len == 0) return 0;
    uint64_t h = tok_hash_bytes(s, len);
    if (t->ignore_merges) {
        int32_t id = tok_strmap_get_h(t, &t->vocab, s, len, h);
        if (id >= 0) return push_id(out, id);
    }
    h |= 1; /* the cache's key: never 0, which marks an empty slot */
    if (len <= CACHE_MAX_KEY) {
        int r = cache_get(t, s, len, h, out);
        if (r) return r < 0 ? -1 : 0;
    }
    tok_work *w = &t->work;
    if (len > TOK_MAX_WORD) return -1; /* positions are int32 and the heap holds 3 per byte */
    if (work_reserve(w, len)) return -1;
    int32_t m = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t id = t->byte_id[(unsigned char)s[i]];
        if (id < 0) continue; /* no token for this byte and no unk: HF drops it */
        w->sym[m] = id;
        w->prev[m] = m - 1;
        w->next[m] = m + 1;
        m++;
    }
    if (m == 0) return 0;
    w->next[m - 1] = -1;
    size_t hn = 0;
    for (int32_t i = 0; i + 1 < m; i++) push_pair(t, w, &hn, i);
    while (hn) {
        tok_qmerge top = heap_pop(w->heap, &hn);
        int32_t pos = (int32_t)(uint32_t)top.key, nx = w->next[pos];
        /* stale if either side changed since it was queued (HF checks that
         * the pair still merges to the same token: the same test, since a
         * symbol that changes only grows) */
        if (nx < 0 || w->sym[pos] != top.left || w->sym[nx] != top.right) continue;
        w->sym[pos] = top.merged;
        w->sym[nx] = -1;
        w->next[pos] = w->next[nx];
        if (w->next[pos] >= 0) w->prev[w->next[pos]] = pos;
        if (w->prev[pos] >= 0) push_pair(t, w, &hn, w->prev[pos]);
        push_pair(t, w, &hn, pos);
    }
    size_t first = out->n;
    for (int32_t i = 0; i >= 0; i = w->next[i])
        if (push_id(out, w->sym[i])) return -1;
    if (len <= CACHE_MAX_KEY) cache_put(t, s, len, h, out->ids + first, out->n - first);
    return 0;
}

/* ---- pre-tokenization ---- */

/* Records why PCRE2 gave up at S (a position in the text being encoded). */
static int regex_failed(tok_tokenizer *t, int rc, const char *s, uint32_t limit)
{
    size_t at = (size_t)(s - t->text0);
    const char *why;
    char buf[160];
    switch (rc) {
    case PCRE2_ERROR_MATCHLIMIT:
        snprintf(buf, sizeof buf, "PCRE2 match limit (%lu steps) exceeded", (unsigned long)limit);
        why = buf;
        break;
    case PCRE2_ERROR_DEPTHLIMIT:
        snprintf(buf, sizeof buf, "PCRE2 depth limit (%lu) exceeded", (unsigned long)limit);
        why = buf;
        break;
    case PCRE2_ERROR_HEAPLIMIT: why = "PCRE2 heap limit exceeded"; break;
    case PCRE2_ERROR_JIT_STACKLIMIT: why = "PCRE2 JIT stack limit (32 KiB) exceeded"; break;
    case PCRE2_ERROR_NOMEMORY:
        snprintf(t->error, sizeof t->error, "out of memory matching the pre_tokenizer regex of %s", t->what);
        return TOK_ENCODE_NOMEM;
    default: {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof msg);
        snprintf(buf, sizeof buf, "PCRE2 error %d (%s)", rc, (const char *)msg);
        why = buf;
    }
    }
    snprintf(t->error, sizeof t->error,
             "%s: the pre_tokenizer regex gave up searching from byte %zu of the text: %s; the pattern backtracks "
             "catastrophically on this input (fix or replace the tokenizer file)",
             t->what, at, why);
    return TOK_ENCODE_REGEX;
}

/* Well-formed UTF-8 text: Split matches and the gaps between them are the
 * pre-tokens (behaviour "Isolated"). */
static int encode_valid(tok_tokenizer *t, const char *s, size_t len, tok_ids *out)
{
    if (!t->re) return bpe_word(t, s, len, out);
    size_t pos = 0, last = 0;
    while (pos <= len) {
        uint64_t limit = TOK_MATCH_LIMIT_BASE + (uint64_t)TOK_MATCH_LIMIT_PER_BYTE * (len - pos);
        uint32_t lim32 = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
        pcre2_set_match_limit(t->mctx, lim32);
        pcre2_set_depth_limit(t->mctx, lim32); /* the interpreter's backtracking depth (JIT ignores it) */
        int rc = t->re_jit ? pcre2_jit_match(t->re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, t->md, t->mctx)
                           : pcre2_match(t->re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, t->md, t->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return regex_failed(t, rc, s + pos, lim32);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
        size_t ms = ov[0], me = ov[1];
        if (ms > last && bpe_word(t, s + last, ms - last, out)) return -1;
        if (me > ms && bpe_word(t, s + ms, me - ms, out)) return -1;
        last = me;
        if (me == ms) { /* empty match: step over one character */
            if (me >= len) break;
            int cl = tok_utf8_char_len((const unsigned char *)s + me, len - me);
            pos = me + (size_t)(cl ? cl : 1);
        } else {
            pos = me;
        }
    }
    if (last < len) return bpe_word(t, s + last, len - last, out);
    return 0;
}

/* Any bytes: maximal well-formed runs go through the regex; every other byte
 * is a pre-token of its own (see tokenizer.h). */
static int encode_bytes(tok_tokenizer *t, const char *s, size_t len, tok_ids *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int cl = tok_utf8_char_len(u + i, len - i);
        if (cl) {
            i += (size_t)cl;
            continue;
        }
        int rc;
        if (i > start && (rc = encode_valid(t, s + start, i - start, out))) return rc;
        if (bpe_word(t, s + i, 1, out)) return -1;
        start = ++i;
    }
    if (i > start) return encode_valid(t, s + start, i - start, out);
    return 0;
}

/* Leftmost-longest added token in s[from..len) (special ones only when
 * parse_special). Returns its start or len if none. */
static size_t find_added(const tok_tokenizer *t, const char *s, size_t len, size_t from, int parse_special,
                         size_t *mlen, int32_t *mid)
{
    for (size_t p = from; p < len; p++) {
        if (!t->added_first[(unsigned char)s[p]]) continue;
        for (int k = 0; k < t->n_added_lens; k++) {
            size_t l = t->added_lens[k];
            if (l > len - p) continue;
            int32_t id = tok_strmap_get(t, &t->added, s + p, l);
            if (id < 0 || (!parse_special && (t->id_flags[id] & TOK_F_SPECIAL))) continue;
            *mlen = l;
            *mid = id;
            return p;
        }
    }
    return len;
}

static int encode_text(tok_tokenizer *t, const char *text, size_t len, int parse_special, tok_ids *out)
{
    size_t pos = 0;
    while (pos < len) {
        size_t mlen = 0;
        int32_t mid = -1;
        size_t at = t->n_added_lens ? find_added(t, text, len, pos, parse_special, &mlen, &mid) : len;
        int rc;
        if (at > pos && (rc = encode_bytes(t, text + pos, at - pos, out))) return rc;
        if (at == len) break;
        if (push_id(out, mid)) return -1;
        pos = at + mlen;
    }
    return 0;
}

int tok_encode(tok_tokenizer *t, const char *text, size_t len, int parse_special, tok_ids *out)
{
    t->error[0] = 0;
    t->text0 = text;
    int rc = encode_text(t, text, len, parse_special, out);
    if (rc == TOK_ENCODE_NOMEM && !t->error[0])
        snprintf(t->error, sizeof t->error, "%s: out of memory while encoding (or one pre-token over 1 GiB)",
                 t->what);
    t->text0 = NULL;
    return rc < 0 ? rc : 0;
}

const char *tok_encode_error(const tok_tokenizer *t)
{
    return t->error;
}
