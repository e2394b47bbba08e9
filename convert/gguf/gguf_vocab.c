/* gguf_vocab.c - tokenizer.json -> GGUF tokenizer arrays (see gguf_vocab.h). */
#include "gguf_vocab.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5 };

typedef struct {
    const char **text;   /* by id; NULL = undefined */
    int32_t *type;
    int n;
} vocab_tab;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Token name of a tokenizer_config entry: "x" or {"content": "x"}. */
static const char *token_name(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(c)) return c->valuestring;
    }
    return NULL;
}

static int find_id(const vocab_tab *v, const char *s)
{
    if (!s) return -1;
    /* added tokens are at the end of the vocabulary: search backwards */
    for (int i = v->n - 1; i >= 0; i--)
        if (v->text[i] && !strcmp(v->text[i], s)) return i;
    return -1;
}

static int write_merges(gguf_writer *w, const cJSON *merges, const char *label, char *err, size_t errlen)
{
    int n = cJSON_GetArraySize(merges);
    if (gguf_kv_arr_str_begin(w, "tokenizer.ggml.merges", (uint64_t)n)) goto werr;
    char *buf = NULL;
    size_t cap = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        const char *a, *b;
        if (cJSON_IsString(m)) {
            /* already "a b" */
            if (gguf_kv_arr_str_add(w, m->valuestring, strlen(m->valuestring))) { free(buf); goto werr; }
            continue;
        }
        if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != 2 || !cJSON_IsString(cJSON_GetArrayItem(m, 0)) ||
            !cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
            free(buf);
            snprintf(err, errlen, "%s: model.merges entries must be \"a b\" or [\"a\", \"b\"]", label);
            return -1;
        }
        a = cJSON_GetArrayItem(m, 0)->valuestring;
        b = cJSON_GetArrayItem(m, 1)->valuestring;
        /* llama.cpp splits at the first space after byte 0: a part holding a
         * space would be split wrongly (byte-level BPE never has one) */
        if (strchr(a + (a[0] ? 1 : 0), ' ') || strchr(b, ' ')) {
            free(buf);
            snprintf(err, errlen, "%s: merge '%s' + '%s' holds a space, which GGUF merges cannot express", label, a,
                     b);
            return -1;
        }
        size_t la = strlen(a), lb = strlen(b);
        if (la + lb + 2 > cap) {
            cap = (la + lb + 2) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); snprintf(err, errlen, "out of memory"); return -1; }
            buf = nb;
        }
        memcpy(buf, a, la);
        buf[la] = ' ';
        memcpy(buf + la + 1, b, lb);
        if (gguf_kv_arr_str_add(w, buf, la + 1 + lb)) { free(buf); goto werr; }
    }
    free(buf);
    return 0;
werr:
    snprintf(err, errlen, "%s", gguf_writer_error(w));
    return -1;
}

int gg_vocab_write(gguf_writer *w, const gg_vocab_src *src, const char *label, char *err, size_t errlen)
{
    int rc = -1;
    cJSON *tok = NULL, *cfg = NULL;
    vocab_tab v = {0};
    char **pads = NULL;
    const char **sorted = NULL;

    if (src->vocab <= 0) {
        snprintf(err, errlen, "%s: vocab_size %d is not positive", label, src->vocab);
        return -1;
    }
    tok = cJSON_ParseWithLength(src->tokenizer_json, src->tokenizer_json_len);
    if (!tok) {
        snprintf(err, errlen, "%s: not valid JSON", label);
        goto out;
    }
    if (src->tokenizer_config_json) cfg = cJSON_ParseWithLength(src->tokenizer_config_json, src->tokenizer_config_len);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsString(mtype) || strcmp(mtype->valuestring, "BPE") || !cJSON_IsObject(vocab) ||
        !cJSON_IsArray(merges)) {
        snprintf(err, errlen, "%s: expected a BPE model with model.vocab and model.merges (gpt-oss's tokenizer.json)",
                 label);
        goto out;
    }
    v.n = src->vocab;
    v.text = calloc((size_t)v.n, sizeof *v.text);
    v.type = calloc((size_t)v.n, sizeof *v.type);
    pads = calloc((size_t)v.n, sizeof *pads);
    sorted = calloc((size_t)v.n, sizeof *sorted);
    if (!v.text || !v.type || !pads || !sorted) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= v.n || e->valuedouble != (int)e->valuedouble) {
            snprintf(err, errlen, "%s: token '%s' has id %g, outside 0..%d (vocab_size from config.json)", label,
                     e->string, e->valuedouble, v.n - 1);
            goto out;
        }
        int id = (int)e->valuedouble;
        if (v.text[id]) {
            snprintf(err, errlen, "%s: id %d is given to both '%s' and '%s'", label, id, v.text[id], e->string);
            goto out;
        }
        v.text[id] = e->string;
        v.type[id] = TT_NORMAL;
    }
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(e, "special");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(content) || id->valuedouble < 0 || id->valuedouble >= v.n) {
            snprintf(err, errlen, "%s: an added token has no content or an id outside 0..%d", label, v.n - 1);
            goto out;
        }
        int i = (int)id->valuedouble;
        if (v.text[i] && strcmp(v.text[i], content->valuestring)) {
            snprintf(err, errlen, "%s: id %d is both '%s' and added token '%s'", label, i, v.text[i],
                     content->valuestring);
            goto out;
        }
        v.text[i] = content->valuestring;
        v.type[i] = cJSON_IsTrue(special) ? TT_CONTROL : TT_USER;
    }
    for (int i = 0; i < v.n; i++) {
        if (v.text[i]) continue;
        char tmp[32];
        snprintf(tmp, sizeof tmp, "[PAD%d]", i);
        if (!(pads[i] = strdup(tmp))) { snprintf(err, errlen, "out of memory"); goto out; }
        v.text[i] = pads[i];
        v.type[i] = TT_UNUSED;
    }
    /* llama.cpp maps text -> id and asserts the map is as large as the list */
    memcpy(sorted, v.text, (size_t)v.n * sizeof *sorted);
    qsort(sorted, (size_t)v.n, sizeof *sorted, cmp_str);
    for (int i = 1; i < v.n; i++)
        if (!strcmp(sorted[i - 1], sorted[i]) || !sorted[i][0]) {
            snprintf(err, errlen, "%s: token text '%s' is empty or used by two ids; llama.cpp cannot load that", label,
                     sorted[i]);
            goto out;
        }

    int bos = find_id(&v, token_name(cfg, "bos_token"));
    int eos = find_id(&v, token_name(cfg, "eos_token"));
    int pad = find_id(&v, token_name(cfg, "pad_token"));
    if (bos < 0) bos = src->bos_id;
    if (eos < 0) eos = src->eos_id;
    if (pad < 0) pad = src->pad_id;

    if (gguf_kv_str(w, "tokenizer.ggml.model", "gpt2") || gguf_kv_str(w, "tokenizer.ggml.pre", "gpt-4o") ||
        gguf_kv_arr_str_begin(w, "tokenizer.ggml.tokens", (uint64_t)v.n))
        goto werr;
    for (int i = 0; i < v.n; i++)
        if (gguf_kv_arr_str_add(w, v.text[i], strlen(v.text[i]))) goto werr;
    if (gguf_kv_arr(w, "tokenizer.ggml.token_type", GGUF_VT_INT32, v.type, (uint64_t)v.n)) goto werr;
    if (write_merges(w, merges, label, err, errlen)) goto out;
    if (bos >= 0 && bos < v.n && gguf_kv_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos)) goto werr;
    if (eos >= 0 && eos < v.n && gguf_kv_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos)) goto werr;
    if (pad >= 0 && pad < v.n && gguf_kv_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad)) goto werr;
    if (gguf_kv_bool(w, "tokenizer.ggml.add_bos_token", 0) || gguf_kv_bool(w, "tokenizer.ggml.add_eos_token", 0))
        goto werr;
    const char *tmpl = src->chat_template;
    size_t tlen = src->chat_template_len;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
    if (!tmpl && cJSON_IsString(ct) && ct->valuestring[0]) {
        tmpl = ct->valuestring;
        tlen = strlen(tmpl);
    }
    if (tmpl && gguf_kv_strn(w, "tokenizer.chat_template", tmpl, tlen)) goto werr;
    rc = 0;
    goto out;
werr:
    snprintf(err, errlen, "%s", gguf_writer_error(w));
out:
    if (pads)
        for (int i = 0; i < v.n; i++) free(pads[i]);
    free(pads);
    free(sorted);
    free(v.text);
    free(v.type);
    cJSON_Delete(tok);
    cJSON_Delete(cfg);
    return rc;
}
