/* plan_config.c - gf_hparams from config.json (HF keys) or original/config.json
 * (OpenAI's keys). Every value is range-checked: the config is untrusted. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_nul.h"
#include "plan.h"

typedef struct {
    const char *label;
    char *err;
    size_t errlen;
    int failed;
} cfg_ctx;

static const cJSON *key(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Integer key in [lo, hi]; `alt` is a second accepted name (may be NULL). */
static int get_int(cfg_ctx *c, const cJSON *o, const char *k, const char *alt, long lo, long hi,
                   int *out)
{
    if (c->failed)
        return -1;
    const cJSON *v = key(o, k);
    if (!v && alt)
        v = key(o, alt);
    if (!v || !cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        snprintf(c->err, c->errlen, "%s: key '%s' %s (expected an integer in [%ld, %ld])", c->label, k,
                 v ? "out of range or not an integer" : "missing", lo, hi);
        c->failed = 1;
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int get_num(cfg_ctx *c, const cJSON *o, const char *k, double lo, double hi, double dflt,
                   int required, double *out)
{
    if (c->failed)
        return -1;
    const cJSON *v = key(o, k);
    if (!v && !required) {
        *out = dflt;
        return 0;
    }
    if (!v || !cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
        snprintf(c->err, c->errlen, "%s: key '%s' %s (expected a number in [%g, %g])", c->label, k,
                 v ? "out of range" : "missing", lo, hi);
        c->failed = 1;
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* One id into ids[] unless already there; -1 if not a valid id or full. */
static int add_id(const cJSON *e, int vocab, int *ids, int *n, int max)
{
    if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= vocab ||
        e->valuedouble != floor(e->valuedouble))
        return -1;
    int id = (int)e->valuedouble;
    for (int i = 0; i < *n; i++)
        if (ids[i] == id)
            return 0;
    if (*n >= max)
        return -1;
    ids[(*n)++] = id;
    return 0;
}

/* eos ids: an int or a list of ints, read from O (the file LABEL). Returns
 * the count, 0 if absent, -1 bad. */
static int get_ids(cfg_ctx *c, const cJSON *o, const char *label, const char *k, int vocab, int *ids, int max)
{
    if (c->failed)
        return -1;
    const cJSON *v = o ? key(o, k) : NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    int n = 0, bad = 0;
    if (cJSON_IsArray(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, v) bad |= add_id(e, vocab, ids, &n, max);
    } else {
        bad = add_id(v, vocab, ids, &n, max);
    }
    if (!bad)
        return n;
    snprintf(c->err, c->errlen, "%s: key '%s' must be a token id or a list of at most %d ids below %d "
             "(vocab_size of %s)", label, k, max, vocab, c->label);
    c->failed = 1;
    return -1;
}

/* Token ids from generation_config.json (GEN, may be NULL) first, then from
 * CFG; each message names the file the bad value is in. */
static void token_ids(cfg_ctx *c, gf_hparams *hp, const cJSON *cfg, const char *cfg_label, const cJSON *gen,
                      const char *gen_label)
{
    int n = get_ids(c, gen, gen_label, "eos_token_id", hp->vocab, hp->eos_ids, GF_MAX_EOS);
    if (n == 0)
        n = get_ids(c, cfg, cfg_label, "eos_token_id", hp->vocab, hp->eos_ids, GF_MAX_EOS);
    hp->n_eos = n < 0 ? 0 : n;
    int one[1];
    hp->pad_id = get_ids(c, gen, gen_label, "pad_token_id", hp->vocab, one, 1) == 1 ? one[0]
               : get_ids(c, cfg, cfg_label, "pad_token_id", hp->vocab, one, 1) == 1 ? one[0] : -1;
    hp->bos_id = get_ids(c, gen, gen_label, "bos_token_id", hp->vocab, one, 1) == 1 ? one[0]
               : get_ids(c, cfg, cfg_label, "bos_token_id", hp->vocab, one, 1) == 1 ? one[0] : -1;
}

/* What the model math needs beyond each key's own range: RMSNorm divides by
 * sqrt(mean square + eps), so eps 0 divides by zero on an all-zero row; a
 * sliding layer with a window of 0 attends to nothing. */
static void check_numerics(cfg_ctx *c, const gf_hparams *hp)
{
    if (c->failed)
        return;
    if (!(hp->rms_eps > 0)) {
        snprintf(c->err, c->errlen, "%s: key 'rms_norm_eps' is %g; it must be above 0 (gpt-oss uses 1e-05)",
                 c->label, hp->rms_eps);
        c->failed = 1;
        return;
    }
    for (int i = 0; i < hp->n_layers; i++)
        if (hp->layer_sliding[i] && hp->sliding_window <= 0) {
            snprintf(c->err, c->errlen,
                     "%s: layer %d is a sliding_attention layer but key 'sliding_window' is %d; give the "
                     "window (gpt-oss: 128) or mark the layer full_attention",
                     c->label, i, hp->sliding_window);
            c->failed = 1;
            return;
        }
}

/* The keys both config layouts spell the same way. */
static void shape_keys(cfg_ctx *c, gf_hparams *hp, const cJSON *o)
{
    get_int(c, o, "hidden_size", NULL, 1, 1 << 20, &hp->hidden);
    get_int(c, o, "intermediate_size", NULL, 1, 1 << 20, &hp->intermediate);
    get_int(c, o, "num_attention_heads", NULL, 1, 4096, &hp->n_heads);
    get_int(c, o, "num_key_value_heads", NULL, 1, 4096, &hp->n_kv_heads);
    get_int(c, o, "head_dim", NULL, 2, 4096, &hp->head_dim);
    get_int(c, o, "vocab_size", NULL, 1, 1 << 24, &hp->vocab);
    get_int(c, o, "sliding_window", NULL, 0, 1 << 24, &hp->sliding_window);
}

static void hf_config(cfg_ctx *c, gf_hparams *hp, const cJSON *o)
{
    get_int(c, o, "num_hidden_layers", NULL, 1, GF_MAX_LAYERS, &hp->n_layers);
    get_int(c, o, "num_local_experts", "num_experts", 1, 4096, &hp->n_experts);
    get_int(c, o, "num_experts_per_tok", "experts_per_token", 1, 4096, &hp->n_experts_per_tok);
    shape_keys(c, hp, o);
    get_int(c, o, "max_position_embeddings", NULL, 1, 1 << 26, &hp->max_ctx);
    get_num(c, o, "rope_theta", 1, 1e12, 0, 1, &hp->rope_theta);
    get_num(c, o, "rms_norm_eps", 0, 1, 0, 1, &hp->rms_eps);
    get_num(c, o, "swiglu_limit", 0, 1e9, 0, 1, &hp->swiglu_limit);
    if (c->failed)
        return;

    const cJSON *rs = key(o, "rope_scaling");
    if (rs && !cJSON_IsNull(rs) && !cJSON_IsObject(rs)) {
        /* e.g. "rope_scaling": "yarn" would otherwise mean no YaRN at all */
        snprintf(c->err, c->errlen,
                 "%s: rope_scaling must be an object such as {\"rope_type\": \"yarn\", \"factor\": 32, "
                 "\"original_max_position_embeddings\": 4096} (or null for none), not a %s",
                 c->label, cJSON_IsString(rs) ? "string" : cJSON_IsNumber(rs) ? "number" : "non-object");
        c->failed = 1;
        return;
    }
    if (rs && cJSON_IsObject(rs)) {
        const cJSON *ty = key(rs, "rope_type");
        if (!ty)
            ty = key(rs, "type");
        if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "yarn")) {
            snprintf(c->err, c->errlen, "%s: rope_scaling type must be \"yarn\" (gpt-oss)", c->label);
            c->failed = 1;
            return;
        }
        get_num(c, rs, "factor", 1, 1e6, 0, 1, &hp->rope_factor);
        get_int(c, rs, "original_max_position_embeddings", NULL, 1, 1 << 26, &hp->rope_orig_ctx);
        get_num(c, rs, "beta_fast", 0, 1e6, 32, 0, &hp->rope_beta_fast);
        get_num(c, rs, "beta_slow", 0, 1e6, 1, 0, &hp->rope_beta_slow);
        const cJSON *tr = key(rs, "truncate");
        hp->rope_truncate = tr ? cJSON_IsTrue(tr) : 1; /* HF's default is truncate=true */
    } else {
        hp->rope_factor = 1;
        hp->rope_orig_ctx = hp->max_ctx;
        hp->rope_beta_fast = 32;
        hp->rope_beta_slow = 1;
        hp->rope_truncate = 1;
    }
    if (c->failed)
        return;

    const cJSON *lt = key(o, "layer_types");
    if (lt) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != hp->n_layers) {
            snprintf(c->err, c->errlen, "%s: layer_types must list %d entries", c->label, hp->n_layers);
            c->failed = 1;
            return;
        }
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, lt) {
            if (cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention"))
                hp->layer_sliding[i] = 1;
            else if (cJSON_IsString(e) && !strcmp(e->valuestring, "full_attention"))
                hp->layer_sliding[i] = 0;
            else {
                snprintf(c->err, c->errlen,
                         "%s: layer_types[%d] must be \"sliding_attention\" or \"full_attention\"",
                         c->label, i);
                c->failed = 1;
                return;
            }
            i++;
        }
    } else {
        for (int i = 0; i < hp->n_layers; i++) /* gpt-oss: even layers slide */
            hp->layer_sliding[i] = hp->sliding_window > 0 && i % 2 == 0;
    }
}

/* OpenAI's original/config.json: no max_position_embeddings, rms eps,
 * layer types or token ids; their reference code hard-codes eps 1e-5,
 * sliding on even layers, yarn without truncation, and a context of
 * initial_context_length * rope_scaling_factor. */
static void original_config(cfg_ctx *c, gf_hparams *hp, const cJSON *o)
{
    get_int(c, o, "num_hidden_layers", NULL, 1, GF_MAX_LAYERS, &hp->n_layers);
    get_int(c, o, "num_experts", NULL, 1, 4096, &hp->n_experts);
    get_int(c, o, "experts_per_token", NULL, 1, 4096, &hp->n_experts_per_tok);
    shape_keys(c, hp, o);
    get_int(c, o, "initial_context_length", NULL, 1, 1 << 26, &hp->rope_orig_ctx);
    get_num(c, o, "rope_theta", 1, 1e12, 0, 1, &hp->rope_theta);
    get_num(c, o, "rope_scaling_factor", 1, 1e6, 1, 0, &hp->rope_factor);
    get_num(c, o, "rope_ntk_alpha", 0, 1e6, 1, 0, &hp->rope_beta_slow);
    get_num(c, o, "rope_ntk_beta", 0, 1e6, 32, 0, &hp->rope_beta_fast);
    get_num(c, o, "swiglu_limit", 0, 1e9, 7, 0, &hp->swiglu_limit);
    get_num(c, o, "rms_norm_eps", 0, 1, 1e-5, 0, &hp->rms_eps);
    if (c->failed)
        return;
    double ctx = hp->rope_orig_ctx * hp->rope_factor;
    if (ctx > (1 << 26)) {
        snprintf(c->err, c->errlen, "%s: initial_context_length * rope_scaling_factor too large",
                 c->label);
        c->failed = 1;
        return;
    }
    hp->max_ctx = (int)ctx;
    hp->rope_truncate = 0;
    for (int i = 0; i < hp->n_layers; i++)
        hp->layer_sliding[i] = hp->sliding_window > 0 && i % 2 == 0;
}

/* Parses an optional input: NULL text -> NULL (absent); otherwise it must be
 * a JSON object without NUL characters in its strings. */
static int parse_input(cfg_ctx *c, cv_json_in in, cJSON **out)
{
    *out = NULL;
    if (!in.text)
        return 0;
    const char *label = in.label ? in.label : "(config)";
    long long nul = gq_json_nul_string(in.text, strlen(in.text));
    if (nul >= 0) { /* cJSON would cut "yarn\u0000x" to "yarn": refuse, do not guess */
        snprintf(c->err, c->errlen, "%s: the string at byte %lld holds a NUL character (\\u0000); no key or "
                 "value of this file may", label, nul);
        return -1;
    }
    *out = cJSON_Parse(in.text);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        snprintf(c->err, c->errlen, "%s: not a JSON object (truncated or edited by hand?): fix it or fetch "
                 "it again", label);
        return -1;
    }
    return 0;
}

int cv_hparams_from_json(gf_hparams *hp, cv_layout layout, cv_json_in config, cv_json_in gen, cv_json_in ids,
                         char *err, size_t errlen)
{
    memset(hp, 0, sizeof *hp);
    const char *label = config.label ? config.label : "config.json";
    cfg_ctx c = {label, err, errlen, 0};
    cJSON *o = NULL, *g = NULL, *i = NULL;
    if (!config.text) {
        snprintf(err, errlen, "%s: missing", label);
        return -1;
    }
    if (parse_input(&c, config, &o) || parse_input(&c, gen, &g) || parse_input(&c, ids, &i)) {
        cJSON_Delete(o);
        cJSON_Delete(g);
        cJSON_Delete(i);
        return -1;
    }
    if (layout == CV_LAYOUT_ORIGINAL)
        original_config(&c, hp, o);
    else
        hf_config(&c, hp, o);
    check_numerics(&c, hp);
    if (!c.failed) {
        int orig_ids = layout == CV_LAYOUT_ORIGINAL && i;
        token_ids(&c, hp, orig_ids ? i : o, orig_ids ? (ids.label ? ids.label : "config.json") : label, g,
                  gen.label ? gen.label : "generation_config.json");
    }
    if (!c.failed) {
        /* Shape sanity the plan and the block formats rely on. */
        const char *why = NULL;
        if (hp->n_experts_per_tok > hp->n_experts)
            why = "num_experts_per_tok exceeds the number of experts";
        else if (hp->n_heads % hp->n_kv_heads)
            why = "num_attention_heads is not a multiple of num_key_value_heads";
        else if (hp->hidden % 32 || hp->intermediate % 32)
            why = "hidden_size and intermediate_size must be multiples of 32 (MXFP4 blocks)";
        else if ((uint64_t)hp->n_heads * (uint64_t)hp->head_dim > (1u << 20))
            why = "num_attention_heads * head_dim too large";
        if (why) {
            snprintf(err, errlen, "%s: %s", label, why);
            c.failed = 1;
        }
    }
    cJSON_Delete(o);
    cJSON_Delete(g);
    cJSON_Delete(i);
    return c.failed ? -1 : 0;
}

int cv_hparams_from_config(gf_hparams *hp, cv_layout layout, const char *config_json,
                           const char *gen_config, const char *tok_ids_config, const char *label,
                           char *err, size_t errlen)
{
    return cv_hparams_from_json(hp, layout, (cv_json_in){config_json, label},
                                (cv_json_in){gen_config, "generation_config.json"},
                                (cv_json_in){tok_ids_config, "config.json"}, err, errlen);
}
