/* model_gguf.c - a gpt-oss GGUF (llama.cpp's "gpt-oss" architecture: our
 * gptoss-convert exports and llama.cpp's own) opened as a gm_model.
 *
 * The GGUF is translated into the canonical description model.c binds for
 * a .gptoss file: gf_hparams from the gpt-oss.* keys, and a table of
 * gf_tensor under the canonical names with row-major shapes (ggml's ne
 * reversed), whose bytes are the mapping's (zero copy) - except the expert
 * gate/up pair. GGUF stores them as two tensors (ffn_gate_exps = the even
 * rows of HF's interleaved gate_up, ffn_up_exps = the odd rows); the MoE
 * contract of kernels/backend.h is one [E][2I, D] weight with interleaved
 * rows, so they are re-interleaved here into model memory (m->owned): whole
 * rows of blocks are copied, no value changes, so every backend runs a GGUF
 * with the same kernels and bytes as the .gptoss of the same recipe.
 * docs/GGUF.md ("Running a GGUF") has the mapping and what is assumed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "model_impl.h"

#define NAME_LEN 64

typedef struct {
    gm_model *m;
    const gguf_file *g;
    char *names;            /* n_tab * NAME_LEN */
    size_t cap;
    char *err;
    size_t errlen;
    int failed;
} tr;

static void tfail(tr *t, const char *fmt, const char *a, const char *b)
{
    if (t->failed) return;
    t->failed = 1;
    int k = snprintf(t->err, t->errlen, "%s: ", t->m->path);
    if (k >= 0 && (size_t)k < t->errlen) snprintf(t->err + k, t->errlen - (size_t)k, fmt, a, b);
}

/* Our block format with the byte layout of a ggml type; -1 if none. */
static int gq_of_ggml(uint32_t ggml_type)
{
    for (int t = 0; t < GQ_TYPE_COUNT; t++)
        if (gguf_type_from_gq((gq_type)t) == (int)ggml_type) return t;
    return -1;
}

static gf_tensor *slot(tr *t, const char *canon)
{
    gm_model *m = t->m;
    if (m->n_tab == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        gf_tensor *nt = realloc(m->tab, cap * sizeof *nt);
        char *nn = nt ? realloc(t->names, cap * NAME_LEN) : NULL;
        if (nt) m->tab = nt;
        if (!nn) {
            tfail(t, "out of memory%s%s", "", "");
            return NULL;
        }
        t->names = nn;
        t->cap = cap;
    }
    gf_tensor *e = &m->tab[m->n_tab++];
    memset(e, 0, sizeof *e);
    snprintf(t->names + (m->n_tab - 1) * NAME_LEN, NAME_LEN, "%s", canon);
    return e;
}

/* The GGUF tensor GNAME as canonical CANON: its type must be one of ours,
 * its shape is ne reversed (model.c then checks it against the
 * hyper-parameters). */
static const gguf_tensor *plain(tr *t, const char *gname, const char *canon)
{
    if (t->failed) return NULL;
    const gguf_tensor *g = gguf_find_tensor(t->g, gname);
    if (!g) {
        tfail(t, "tensor '%s' is missing; the file is not a complete gpt-oss GGUF (llama.cpp's gpt-oss "
                 "layout, docs/GGUF.md)%s", gname, "");
        return NULL;
    }
    int q = gq_of_ggml(g->type);
    if (q < 0) {
        const gguf_type_desc *d = gguf_type_info(g->type);
        tfail(t, "tensor '%s' has ggml type %s, which the runtime cannot run (it runs f32, f16, bf16, q8_0, q4_0 "
                 "and mxfp4)", gname, d ? d->name : "?");
        return NULL;
    }
    gf_tensor *e = slot(t, canon);
    if (!e) return NULL;
    e->type = (gq_type)q;
    e->ndim = (int)g->n_dims;
    for (uint32_t d = 0; d < g->n_dims; d++) e->shape[d] = (uint64_t)g->ne[g->n_dims - 1 - d];
    e->size = g->size;
    e->data = g->data;
    return g;
}

/* ffn_gate_exps + ffn_up_exps (weights or biases) -> one canonical
 * exp_gate_up[_bias] with rows interleaved gate, up, gate, up... Pass 1
 * (dst NULL) only checks and adds up the bytes. */
static void gate_up(tr *t, int l, int bias, uint8_t **dst)
{
    char gn[NAME_LEN], un[NAME_LEN], cn[NAME_LEN];
    snprintf(gn, sizeof gn, "blk.%d.ffn_gate_exps.%s", l, bias ? "bias" : "weight");
    snprintf(un, sizeof un, "blk.%d.ffn_up_exps.%s", l, bias ? "bias" : "weight");
    snprintf(cn, sizeof cn, "blk.%d.exp_gate_up%s", l, bias ? "_bias" : "");
    const gguf_tensor *g = gguf_find_tensor(t->g, gn), *u = gguf_find_tensor(t->g, un);
    if (t->failed) return;
    if (!g || !u) {
        tfail(t, "tensor '%s' is missing; the file is not a complete gpt-oss GGUF (llama.cpp's gpt-oss "
                 "layout, docs/GGUF.md)%s", !g ? gn : un, "");
        return;
    }
    int same = g->type == u->type && g->n_dims == u->n_dims && g->n_dims >= 2;
    for (uint32_t d = 0; same && d < GGUF_MAX_DIMS; d++) same = g->ne[d] == u->ne[d];
    if (!same) {
        tfail(t, "tensors '%s' and '%s' differ in type or shape (or are not [E] x rows); the runtime pairs them "
                 "row by row", gn, un);
        return;
    }
    if (gq_of_ggml(g->type) < 0) {
        plain(t, gn, cn); /* the refusal naming the type */
        return;
    }
    if (!dst) return;
    gf_tensor *e = slot(t, cn);
    if (!e) return;
    /* rows: ne[1] per expert (weights) or 1 value each (biases: ne {I, E}) */
    uint64_t n_rows = 1;
    for (uint32_t d = 1; d < g->n_dims; d++) n_rows *= (uint64_t)g->ne[d];
    uint64_t rb = bias ? gq_row_bytes(GQ_F32, 1) : g->size / n_rows;
    if (bias) n_rows = g->size / rb;
    e->type = (gq_type)gq_of_ggml(g->type);
    e->ndim = (int)g->n_dims;
    for (uint32_t d = 0; d < g->n_dims; d++) e->shape[d] = (uint64_t)g->ne[g->n_dims - 1 - d];
    e->shape[g->n_dims - (bias ? 1 : 2)] *= 2;
    e->size = 2 * g->size;
    e->data = *dst;
    const uint8_t *gs = g->data, *us = u->data;
    for (uint64_t r = 0; r < n_rows; r++) {
        memcpy(*dst, gs + r * rb, rb);
        memcpy(*dst + rb, us + r * rb, rb);
        *dst += 2 * rb;
    }
}

static int kv_uint(const gguf_file *g, const char *key, int required, uint64_t dflt, uint64_t max, int *out,
                   char *err, size_t errlen, const char *path)
{
    const gguf_kv *kv = gguf_find_kv(g, key);
    uint64_t v = dflt;
    if (!kv && required) {
        snprintf(err, errlen, "%s: key %s is missing; a gpt-oss GGUF needs it (re-export with gptoss-convert, or "
                 "llama.cpp's convert_hf_to_gguf.py)", path, key);
        return -1;
    }
    if (kv && (gguf_get_uint(kv, &v) || v > max)) {
        snprintf(err, errlen, "%s: key %s must be an integer in 0..%llu", path, key, (unsigned long long)max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int kv_real(const gguf_file *g, const char *key, double dflt, double *out, char *err, size_t errlen,
                   const char *path)
{
    const gguf_kv *kv = gguf_find_kv(g, key);
    float f;
    if (!kv) {
        *out = dflt;
        return 0;
    }
    if (gguf_get_f32(kv, &f) || !(f == f)) {
        snprintf(err, errlen, "%s: key %s must be an f32 number", path, key);
        return -1;
    }
    *out = (double)f;
    return 0;
}

/* gf_hparams from the gpt-oss.* and tokenizer.ggml.* keys. What llama.cpp's
 * gpt-oss graph builds in is set as it does: sliding attention on even
 * layers, SwiGLU limit 7. rope_truncate 0: gpt-oss's config.json says
 * truncate false and the GGUF has no key for it (--numerics ggml rounds,
 * as llama.cpp does, through gm_use_ggml_rope). */
static int read_hparams(gm_model *m, char *err, size_t errlen)
{
    const gguf_file *g = m->gguf;
    const char *p = m->path;
    gf_hparams *hp = &m->hp;
    const gguf_kv *arch = gguf_find_kv(g, "general.architecture");
    const char *a = NULL;
    size_t alen = 0;
    if (!arch || gguf_get_str(arch, &a, &alen) || alen != 7 || memcmp(a, "gpt-oss", 7)) {
        snprintf(err, errlen, "%s: general.architecture is %s%.*s%s, not \"gpt-oss\": the runtime runs gpt-oss "
                 "models only", p, a ? "\"" : "", a ? (int)(alen > 40 ? 40 : alen) : 7, a ? a : "missing",
                 a ? "\"" : "");
        return -1;
    }
    const uint64_t BIG = 1u << 30;
    int key_len = 0, val_len = 0, ff = 0;
    double f;
    memset(hp, 0, sizeof *hp);
    if (kv_uint(g, "gpt-oss.block_count", 1, 0, GF_MAX_LAYERS, &hp->n_layers, err, errlen, p) ||
        kv_uint(g, "gpt-oss.context_length", 1, 0, BIG, &hp->max_ctx, err, errlen, p) ||
        kv_uint(g, "gpt-oss.embedding_length", 1, 0, BIG, &hp->hidden, err, errlen, p) ||
        kv_uint(g, "gpt-oss.feed_forward_length", 0, 0, BIG, &ff, err, errlen, p) ||
        kv_uint(g, "gpt-oss.expert_feed_forward_length", 0, (uint64_t)ff, BIG, &hp->intermediate, err, errlen, p) ||
        kv_uint(g, "gpt-oss.attention.head_count", 1, 0, 4096, &hp->n_heads, err, errlen, p) ||
        kv_uint(g, "gpt-oss.attention.head_count_kv", 0, (uint64_t)hp->n_heads, 4096, &hp->n_kv_heads, err, errlen,
                p) ||
        kv_uint(g, "gpt-oss.attention.key_length", 0,
                hp->n_heads ? (uint64_t)(hp->hidden / hp->n_heads) : 0, 4096, &key_len, err, errlen, p) ||
        kv_uint(g, "gpt-oss.attention.value_length", 0, (uint64_t)key_len, 4096, &val_len, err, errlen, p) ||
        kv_uint(g, "gpt-oss.attention.sliding_window", 1, 0, BIG, &hp->sliding_window, err, errlen, p) ||
        kv_uint(g, "gpt-oss.expert_count", 1, 0, 4096, &hp->n_experts, err, errlen, p) ||
        kv_uint(g, "gpt-oss.expert_used_count", 1, 0, 4096, &hp->n_experts_per_tok, err, errlen, p) ||
        kv_uint(g, "gpt-oss.rope.scaling.original_context_length", 0, 0, BIG, &hp->rope_orig_ctx, err, errlen, p))
        return -1;
    if (val_len != key_len) {
        snprintf(err, errlen, "%s: gpt-oss.attention.value_length %d differs from key_length %d; gpt-oss has one "
                 "head size", p, val_len, key_len);
        return -1;
    }
    hp->head_dim = key_len;
    if (kv_real(g, "gpt-oss.attention.layer_norm_rms_epsilon", 1e-5, &f, err, errlen, p)) return -1;
    hp->rms_eps = f;
    if (kv_real(g, "gpt-oss.rope.freq_base", 10000.0, &hp->rope_theta, err, errlen, p) ||
        kv_real(g, "gpt-oss.rope.scaling.factor", 1.0, &hp->rope_factor, err, errlen, p) ||
        kv_real(g, "gpt-oss.rope.scaling.yarn_beta_fast", 32.0, &hp->rope_beta_fast, err, errlen, p) ||
        kv_real(g, "gpt-oss.rope.scaling.yarn_beta_slow", 1.0, &hp->rope_beta_slow, err, errlen, p))
        return -1;
    const gguf_kv *st = gguf_find_kv(g, "gpt-oss.rope.scaling.type");
    const char *s = NULL;
    size_t slen = 0;
    if (st && (gguf_get_str(st, &s, &slen) || !((slen == 4 && !memcmp(s, "yarn", 4)) ||
                                                 (slen == 4 && !memcmp(s, "none", 4))))) {
        snprintf(err, errlen, "%s: gpt-oss.rope.scaling.type must be \"yarn\" (or \"none\")", p);
        return -1;
    }
    if (!st || !memcmp(s, "none", 4)) hp->rope_factor = 1.0;
    if (hp->rope_orig_ctx <= 0) hp->rope_orig_ctx = hp->max_ctx;
    hp->rope_truncate = 0;
    hp->swiglu_limit = 7.0;
    for (int l = 0; l < hp->n_layers && l < GF_MAX_LAYERS; l++) hp->layer_sliding[l] = l % 2 == 0;
    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    hp->vocab = emb && emb->n_dims == 2 && emb->ne[1] < (int64_t)BIG ? (int)emb->ne[1] : 0;
    /* end of sequence: the eos id, and (llama.cpp's end-of-generation set
     * for gpt-oss, = generation_config.json's eos_token_id) the control
     * tokens <|return|>, <|endoftext|> and <|call|> */
    uint64_t v;
    hp->bos_id = gguf_get_uint(gguf_find_kv(g, "tokenizer.ggml.bos_token_id"), &v) == 0 && v < BIG ? (int)v : -1;
    hp->pad_id = gguf_get_uint(gguf_find_kv(g, "tokenizer.ggml.padding_token_id"), &v) == 0 && v < BIG ? (int)v
                                                                                                         : -1;
    if (gguf_get_uint(gguf_find_kv(g, "tokenizer.ggml.eos_token_id"), &v) == 0 && v < BIG)
        hp->eos_ids[hp->n_eos++] = (int)v;
    const gguf_kv *toks = gguf_find_kv(g, "tokenizer.ggml.tokens");
    const gguf_kv *types = gguf_find_kv(g, "tokenizer.ggml.token_type");
    for (uint64_t i = 0; toks && types && types->arr_n == toks->arr_n && i < toks->arr_n; i++) {
        double ty;
        const char *ts;
        size_t tl;
        if (gguf_arr_num(types, i, &ty) || ty != 3 || gguf_arr_str(g, toks, i, &ts, &tl)) continue;
        static const char *const eog[] = {"<|return|>", "<|endoftext|>", "<|call|>"};
        for (size_t k = 0; k < sizeof eog / sizeof *eog; k++) {
            int dup = 0;
            for (int e = 0; e < hp->n_eos; e++) dup |= hp->eos_ids[e] == (int)i;
            if (tl == strlen(eog[k]) && !memcmp(ts, eog[k], tl) && !dup && hp->n_eos < GF_MAX_EOS)
                hp->eos_ids[hp->n_eos++] = (int)i;
        }
    }
    return 0;
}

static void translate(tr *t, uint8_t **owned)
{
    const gf_hparams *hp = &t->m->hp;
    char gn[NAME_LEN], cn[NAME_LEN];
    if (owned) {
        plain(t, "token_embd.weight", "embed");
        plain(t, "output_norm.weight", "norm");
        plain(t, "output.weight", "head");
    }
    static const char *const map[][2] = {
        {"attn_norm.weight", "attn_norm"},   {"attn_q.weight", "attn_q"},
        {"attn_q.bias", "attn_q_bias"},      {"attn_k.weight", "attn_k"},
        {"attn_k.bias", "attn_k_bias"},      {"attn_v.weight", "attn_v"},
        {"attn_v.bias", "attn_v_bias"},      {"attn_output.weight", "attn_out"},
        {"attn_output.bias", "attn_out_bias"}, {"attn_sinks.weight", "attn_sinks"},
        {"post_attention_norm.weight", "ffn_norm"}, {"ffn_gate_inp.weight", "router"},
        {"ffn_gate_inp.bias", "router_bias"}, {"ffn_down_exps.weight", "exp_down"},
        {"ffn_down_exps.bias", "exp_down_bias"},
    };
    for (int l = 0; l < hp->n_layers && !t->failed; l++) {
        for (size_t i = 0; owned && i < sizeof map / sizeof *map; i++) {
            snprintf(gn, sizeof gn, "blk.%d.%s", l, map[i][0]);
            snprintf(cn, sizeof cn, "blk.%d.%s", l, map[i][1]);
            plain(t, gn, cn);
        }
        gate_up(t, l, 0, owned);
        gate_up(t, l, 1, owned);
    }
}

gm_model *gm_open_gguf(const char *path, char *err, size_t errlen)
{
    gguf_file *g = gguf_open(path, err, errlen);
    return g ? gm_from_gguf(g, path, err, errlen) : NULL;
}

gm_model *gm_from_gguf(struct gguf_file *g, const char *path, char *err, size_t errlen)
{
    gm_model *m = calloc(1, sizeof *m);
    if (!m) {
        gguf_close(g);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    m->gguf = g;
    m->path = path;
    tr t = {m, g, NULL, 0, err, errlen, 0};
    if (read_hparams(m, err, errlen) != 0) goto fail;
    /* pass 1: check the gate/up pairs and size the model memory */
    translate(&t, NULL);
    uint64_t need = 0;
    for (int l = 0; !t.failed && l < m->hp.n_layers; l++)
        for (int bias = 0; bias < 2; bias++) {
            char n[NAME_LEN];
            snprintf(n, sizeof n, "blk.%d.ffn_gate_exps.%s", l, bias ? "bias" : "weight");
            need += 2 * gguf_find_tensor(g, n)->size;
        }
    if (t.failed) goto fail;
    if (need > SIZE_MAX || posix_memalign(&m->owned, 4096, need ? (size_t)need : 1) != 0) {
        m->owned = NULL;
        snprintf(err, errlen, "%s: out of memory for the %llu bytes of re-interleaved expert gate/up weights", path,
                 (unsigned long long)need);
        goto fail;
    }
    uint8_t *dst = m->owned;
    translate(&t, &dst);
    if (t.failed) goto fail;
    for (size_t i = 0; i < m->n_tab; i++) m->tab[i].name = t.names + i * NAME_LEN;
    m->tab_names = t.names; /* the weights' names: freed by gm_close */
    t.names = NULL;
    if (gm_bind(m, err, errlen) != 0) goto fail;
    return m;
fail:
    free(t.names);
    gm_close(m);
    return NULL;
}
