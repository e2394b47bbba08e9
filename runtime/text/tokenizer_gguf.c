/* tokenizer_gguf.c - a tokenizer from a GGUF's tokenizer.ggml.* arrays (see
 * tok_load_gguf in tokenizer.h).
 *
 * The arrays are turned back into the tokenizer.json tree they were
 * exported from (convert/gguf/gguf_vocab.c writes the inverse) and handed
 * to the one loader, tok_load_cjson: a GGUF and its tokenizer.json cannot
 * load into two different tokenizers because there is one code path. What
 * the GGUF does not carry is fixed by its tokenizer.ggml.pre, which must be
 * "gpt-4o" (llama.cpp's name for o200k, the pre-tokenizer of gpt-oss): the
 * Split regex below is the one of gpt-oss's tokenizer.json, followed by
 * ByteLevel without its own regex, and BPE with ignore_merges (as HF's
 * file says; llama.cpp's o200k BPE reaches the same ids on this vocabulary). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gio_err.h"
#include "tokenizer_impl.h"

/* gpt-oss tokenizer.json's pre_tokenizer Split pattern (o200k_base). */
static const char O200K_REGEX[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|"
    "'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|"
    "'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* llama.cpp's token types (llama_token_type). */
enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5 };

/* A NUL-terminated copy of a GGUF string (tokens and merges are not
 * NUL-terminated in the file); NULL if it holds a NUL (no token of a
 * supported tokenizer does) or on out of memory. */
static char *dup_str(const char *s, size_t len)
{
    if (memchr(s, 0, len)) return NULL;
    char *d = malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

static int str_is(const gguf_kv *kv, const char *want)
{
    const char *s;
    size_t len;
    return gguf_get_str(kv, &s, &len) == 0 && len == strlen(want) && !memcmp(s, want, len);
}

tok_tokenizer *tok_load_gguf(const gguf_file *g, const char *what, char *err, size_t errlen)
{
    const gguf_kv *model = gguf_find_kv(g, "tokenizer.ggml.model"), *pre = gguf_find_kv(g, "tokenizer.ggml.pre");
    const gguf_kv *tokens = gguf_find_kv(g, "tokenizer.ggml.tokens");
    const gguf_kv *types = gguf_find_kv(g, "tokenizer.ggml.token_type");
    const gguf_kv *merges = gguf_find_kv(g, "tokenizer.ggml.merges");
    if (!model || !tokens || !merges) {
        gio_errf(err, errlen, "%s: no tokenizer.ggml.%s key: this GGUF carries no tokenizer (re-export it with "
                 "gptoss-convert, or pass the model's tokenizer.json)", what,
                 !model ? "model" : !tokens ? "tokens" : "merges");
        return NULL;
    }
    if (!str_is(model, "gpt2")) {
        gio_errf(err, errlen, "%s: tokenizer.ggml.model is not \"gpt2\" (byte-level BPE), the only tokenizer the "
                 "runtime runs (gpt-oss's)", what);
        return NULL;
    }
    if (!pre || !str_is(pre, "gpt-4o")) {
        gio_errf(err, errlen, "%s: tokenizer.ggml.pre is %s, not \"gpt-4o\" (o200k, gpt-oss's pre-tokenizer); the "
                 "runtime has no other", what, pre ? "another value" : "missing");
        return NULL;
    }
    if (tokens->type != GGUF_VT_ARRAY || tokens->arr_type != GGUF_VT_STRING || merges->type != GGUF_VT_ARRAY ||
        merges->arr_type != GGUF_VT_STRING ||
        (types && (types->type != GGUF_VT_ARRAY || types->arr_n != tokens->arr_n ||
                   (types->arr_type != GGUF_VT_INT32 && types->arr_type != GGUF_VT_UINT32)))) {
        gio_errf(err, errlen, "%s: tokenizer.ggml.tokens / merges must be string arrays and token_type an i32 "
                 "array as long as tokens", what);
        return NULL;
    }
    if (tokens->arr_n == 0 || tokens->arr_n > (1u << 24)) {
        gio_errf(err, errlen, "%s: tokenizer.ggml.tokens has %llu entries (1..16M expected)", what,
                 (unsigned long long)tokens->arr_n);
        return NULL;
    }
    cJSON *root = cJSON_CreateObject(), *bpe = cJSON_CreateObject(), *vocab = cJSON_CreateObject();
    cJSON *marr = cJSON_CreateArray(), *added = cJSON_CreateArray();
    cJSON *pt = cJSON_CreateObject(), *seq = cJSON_CreateArray(), *split = cJSON_CreateObject();
    cJSON *pat = cJSON_CreateObject(), *bl = cJSON_CreateObject();
    int ok = root && bpe && vocab && marr && added && pt && seq && split && pat && bl;
    /* attach everything at once so one cJSON_Delete(root) frees it all */
    if (ok) {
        cJSON_AddItemToObject(root, "model", bpe);
        cJSON_AddItemToObject(root, "added_tokens", added);
        cJSON_AddItemToObject(root, "pre_tokenizer", pt);
        cJSON_AddItemToObject(bpe, "vocab", vocab);
        cJSON_AddItemToObject(bpe, "merges", marr);
        cJSON_AddItemToObject(pt, "pretokenizers", seq);
        cJSON_AddItemToArray(seq, split);
        cJSON_AddItemToArray(seq, bl);
        cJSON_AddItemToObject(split, "pattern", pat);
    } else {
        cJSON_Delete(root), cJSON_Delete(bpe), cJSON_Delete(vocab), cJSON_Delete(marr), cJSON_Delete(added);
        cJSON_Delete(pt), cJSON_Delete(seq), cJSON_Delete(split), cJSON_Delete(pat), cJSON_Delete(bl);
        gio_errf(err, errlen, "%s: out of memory loading the tokenizer", what);
        return NULL;
    }
    ok = cJSON_AddStringToObject(bpe, "type", "BPE") && cJSON_AddTrueToObject(bpe, "ignore_merges") &&
         cJSON_AddStringToObject(pt, "type", "Sequence") && cJSON_AddStringToObject(split, "type", "Split") &&
         cJSON_AddStringToObject(pat, "Regex", O200K_REGEX) &&
         cJSON_AddStringToObject(split, "behavior", "Isolated") &&
         cJSON_AddStringToObject(bl, "type", "ByteLevel") && cJSON_AddFalseToObject(bl, "use_regex") &&
         cJSON_AddFalseToObject(bl, "add_prefix_space");
    for (uint64_t i = 0; ok && i < tokens->arr_n; i++) {
        const char *s;
        size_t len;
        double ty = TT_NORMAL;
        if (gguf_arr_str(g, tokens, i, &s, &len) || (types && gguf_arr_num(types, i, &ty))) {
            gio_errf(err, errlen, "%s: tokenizer.ggml.tokens[%llu] cannot be read", what, (unsigned long long)i);
            goto fail;
        }
        if (ty == TT_UNUSED) continue; /* a hole: an id the tokenizer does not define */
        if (ty != TT_NORMAL && ty != TT_CONTROL && ty != TT_USER) {
            gio_errf(err, errlen, "%s: token %llu has tokenizer.ggml.token_type %g; gpt-oss's byte-level BPE uses only "
                     "1 (normal), 3 (control), 4 (user) and 5 (unused)", what, (unsigned long long)i, ty);
            goto fail;
        }
        char *t = dup_str(s, len);
        if (!t || !*t) {
            gio_errf(err, errlen, "%s: token %llu is empty or holds a NUL byte", what, (unsigned long long)i);
            free(t);
            goto fail;
        }
        if (ty == TT_NORMAL) {
            ok = cJSON_AddNumberToObject(vocab, t, (double)i) != NULL;
        } else {
            cJSON *a = cJSON_CreateObject();
            ok = a && cJSON_AddNumberToObject(a, "id", (double)i) && cJSON_AddStringToObject(a, "content", t) &&
                 cJSON_AddBoolToObject(a, "special", ty == TT_CONTROL);
            if (a) cJSON_AddItemToArray(added, a);
        }
        free(t);
    }
    for (uint64_t i = 0; ok && i < merges->arr_n; i++) {
        const char *s;
        size_t len;
        if (gguf_arr_str(g, merges, i, &s, &len)) {
            gio_errf(err, errlen, "%s: tokenizer.ggml.merges[%llu] cannot be read", what, (unsigned long long)i);
            goto fail;
        }
        char *m = dup_str(s, len);
        ok = m && cJSON_AddItemToArray(marr, cJSON_CreateString(m));
        free(m);
    }
    if (!ok) {
        gio_errf(err, errlen, "%s: out of memory loading the tokenizer (or a NUL byte in a merge)", what);
        goto fail;
    }
    return tok_load_cjson(root, what, err, errlen);
fail:
    cJSON_Delete(root);
    return NULL;
}

tok_tokenizer *tok_load_gguf_file(const char *path, char *err, size_t errlen)
{
    gguf_file *g = gguf_open(path, err, errlen);
    if (!g) return NULL;
    tok_tokenizer *t = tok_load_gguf(g, path, err, errlen);
    gguf_close(g);
    return t;
}
