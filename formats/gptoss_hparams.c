/* gptoss_hparams.c - the "hparams" header object: to JSON, from JSON, and
 * the range checks that keep a hostile header from steering the runtime into
 * absurd allocations or out-of-range token ids. */
#include "gptoss_layout.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest "%.Ng" that reads back as the same double, so that the header is
 * both exact and readable (1e-05, not 1.0000000000000001e-05). */
static int fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, len, "%.*g", prec, v);
        if (n < 0 || (size_t)n >= len) return -1;
        if (strtod(buf, NULL) == v) return n;
    }
    return snprintf(buf, len, "%.17g", v);
}

typedef struct {
    char *buf;
    size_t len, cap;
    int overflow;
} sbuf;

static void put(sbuf *s, const char *fmt, ...)
{
    if (s->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= s->cap - s->len) {
        s->overflow = 1;
        return;
    }
    s->len += (size_t)n;
}

static void put_double(sbuf *s, const char *key, double v)
{
    char num[40];
    if (fmt_double(num, sizeof num, v) < 0 || !isfinite(v)) {
        s->overflow = 1;   /* JSON has no inf/nan; gf_hparams_check refuses them earlier */
        return;
    }
    put(s, ",\"%s\":%s", key, num);
}

int gf_hparams_to_json(const gf_hparams *hp, char *buf, size_t buflen)
{
    if (!buf || buflen == 0) return -1;
    sbuf s = {buf, 0, buflen, 0};
    put(&s, "{\"n_layers\":%d,\"n_experts\":%d,\"n_experts_per_tok\":%d,\"hidden\":%d,\"intermediate\":%d",
        hp->n_layers, hp->n_experts, hp->n_experts_per_tok, hp->hidden, hp->intermediate);
    put(&s, ",\"n_heads\":%d,\"n_kv_heads\":%d,\"head_dim\":%d,\"vocab\":%d,\"sliding_window\":%d,\"max_ctx\":%d",
        hp->n_heads, hp->n_kv_heads, hp->head_dim, hp->vocab, hp->sliding_window, hp->max_ctx);
    put_double(&s, "rope_theta", hp->rope_theta);
    put_double(&s, "rope_factor", hp->rope_factor);
    put(&s, ",\"rope_orig_ctx\":%d", hp->rope_orig_ctx);
    put_double(&s, "rope_beta_fast", hp->rope_beta_fast);
    put_double(&s, "rope_beta_slow", hp->rope_beta_slow);
    put(&s, ",\"rope_truncate\":%s", hp->rope_truncate ? "true" : "false");
    put_double(&s, "rms_eps", hp->rms_eps);
    put_double(&s, "swiglu_limit", hp->swiglu_limit);
    put(&s, ",\"layer_sliding\":[");
    int nl = hp->n_layers < 0 ? 0 : hp->n_layers > GF_MAX_LAYERS ? GF_MAX_LAYERS : hp->n_layers;
    for (int i = 0; i < nl; i++) put(&s, "%s%d", i ? "," : "", hp->layer_sliding[i] ? 1 : 0);
    put(&s, "],\"eos_ids\":[");
    int ne = hp->n_eos < 0 ? 0 : hp->n_eos > GF_MAX_EOS ? GF_MAX_EOS : hp->n_eos;
    for (int i = 0; i < ne; i++) put(&s, "%s%d", i ? "," : "", hp->eos_ids[i]);
    put(&s, "],\"pad_id\":%d,\"bos_id\":%d}", hp->pad_id, hp->bos_id);
    return s.overflow ? -1 : (int)s.len;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

int gf_hparams_check(const gf_hparams *hp, char *err, size_t errlen)
{
    /* Limits are generous multiples of the real models (120b: 36 layers,
     * 128 experts, hidden 2880, 64 heads, vocab 201088, ctx 131072); they
     * exist so that products like n_heads*head_dim*max_ctx cannot overflow
     * in a consumer that trusts them. */
#define RANGE(field, lo, hi) \
    if (hp->field < (lo) || hp->field > (hi)) FAIL("hparams.%s = %d is outside %d..%d", #field, hp->field, (int)(lo), (int)(hi))
    RANGE(n_layers, 1, GF_MAX_LAYERS);
    RANGE(n_experts, 1, 4096);
    RANGE(n_experts_per_tok, 1, hp->n_experts);
    RANGE(hidden, 1, 1 << 16);
    RANGE(intermediate, 1, 1 << 17);
    RANGE(n_heads, 1, 1024);
    RANGE(n_kv_heads, 1, hp->n_heads);
    RANGE(head_dim, 2, 1024);
    RANGE(vocab, 1, 1 << 24);
    RANGE(max_ctx, 1, 1 << 24);
    RANGE(sliding_window, 0, hp->max_ctx);
    RANGE(rope_orig_ctx, 1, hp->max_ctx);
    RANGE(n_eos, 1, GF_MAX_EOS);
    RANGE(pad_id, -1, hp->vocab - 1);
    RANGE(bos_id, -1, hp->vocab - 1);
#undef RANGE
    if (hp->n_heads % hp->n_kv_heads)
        FAIL("hparams.n_heads = %d is not a multiple of n_kv_heads = %d", hp->n_heads, hp->n_kv_heads);
    if (hp->head_dim % 2) FAIL("hparams.head_dim = %d is odd (RoPE rotates pairs)", hp->head_dim);
    if ((long long)hp->n_heads * hp->head_dim > (1 << 17))
        FAIL("hparams.n_heads * head_dim = %lld is larger than 131072", (long long)hp->n_heads * hp->head_dim);
    int any_sliding = 0;
    for (int i = 0; i < hp->n_layers; i++) {
        if (hp->layer_sliding[i] > 1) FAIL("hparams.layer_sliding[%d] = %d (0 or 1 allowed)", i, hp->layer_sliding[i]);
        any_sliding |= hp->layer_sliding[i];
    }
    if (any_sliding && hp->sliding_window < 1) FAIL("hparams.sliding_window is 0 but some layers slide");
    for (int i = 0; i < hp->n_eos; i++)
        if (hp->eos_ids[i] < 0 || hp->eos_ids[i] >= hp->vocab)
            FAIL("hparams.eos_ids[%d] = %d is outside 0..%d", i, hp->eos_ids[i], hp->vocab - 1);
#define POSITIVE(field, hi) \
    if (!(hp->field > 0) || !(hp->field <= (hi))) FAIL("hparams.%s = %g is outside (0, %g]", #field, hp->field, (double)(hi))
    POSITIVE(rope_theta, 1e12);
    POSITIVE(rope_factor, 1e6);
    POSITIVE(rope_beta_fast, 1e6);
    POSITIVE(rope_beta_slow, 1e6);
    POSITIVE(rms_eps, 1.0);
    POSITIVE(swiglu_limit, 1e9);
#undef POSITIVE
    if (hp->rope_truncate != 0 && hp->rope_truncate != 1) FAIL("hparams.rope_truncate = %d (0 or 1)", hp->rope_truncate);
    return 0;
}

static int get_int(const cJSON *obj, const char *key, int lo_neg1, int *out, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) FAIL("hparams.%s is missing", key);
    double d = cJSON_IsNumber(it) ? it->valuedouble : NAN;
    if (!(d == floor(d)) || d < (lo_neg1 ? -1 : 0) || d > 2147483647.0)
        FAIL("hparams.%s is not an integer in %d..2147483647", key, lo_neg1 ? -1 : 0);
    *out = (int)d;
    return 0;
}

static int get_double(const cJSON *obj, const char *key, double *out, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) FAIL("hparams.%s is missing", key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) FAIL("hparams.%s is not a finite number", key);
    *out = it->valuedouble;
    return 0;
}

int gfl_hparams_from_cjson(const cJSON *obj, gf_hparams *hp, char *err, size_t errlen)
{
    if (!cJSON_IsObject(obj)) FAIL("\"hparams\" is missing or not an object");
    memset(hp, 0, sizeof *hp);
    struct { const char *key; int *p; int neg; } ints[] = {
        {"n_layers", &hp->n_layers, 0}, {"n_experts", &hp->n_experts, 0},
        {"n_experts_per_tok", &hp->n_experts_per_tok, 0}, {"hidden", &hp->hidden, 0},
        {"intermediate", &hp->intermediate, 0}, {"n_heads", &hp->n_heads, 0},
        {"n_kv_heads", &hp->n_kv_heads, 0}, {"head_dim", &hp->head_dim, 0}, {"vocab", &hp->vocab, 0},
        {"sliding_window", &hp->sliding_window, 0}, {"max_ctx", &hp->max_ctx, 0},
        {"rope_orig_ctx", &hp->rope_orig_ctx, 0}, {"pad_id", &hp->pad_id, 1}, {"bos_id", &hp->bos_id, 1},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (get_int(obj, ints[i].key, ints[i].neg, ints[i].p, err, errlen)) return -1;
    struct { const char *key; double *p; } dbls[] = {
        {"rope_theta", &hp->rope_theta}, {"rope_factor", &hp->rope_factor},
        {"rope_beta_fast", &hp->rope_beta_fast}, {"rope_beta_slow", &hp->rope_beta_slow},
        {"rms_eps", &hp->rms_eps}, {"swiglu_limit", &hp->swiglu_limit},
    };
    for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++)
        if (get_double(obj, dbls[i].key, dbls[i].p, err, errlen)) return -1;
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(obj, "rope_truncate");
    if (!cJSON_IsBool(tr)) FAIL("hparams.rope_truncate is missing or not true/false");
    hp->rope_truncate = cJSON_IsTrue(tr) ? 1 : 0;

    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(obj, "layer_sliding");
    if (!cJSON_IsArray(ls)) FAIL("hparams.layer_sliding is missing or not an array");
    int n = cJSON_GetArraySize(ls);
    if (hp->n_layers < 1 || hp->n_layers > GF_MAX_LAYERS)
        FAIL("hparams.n_layers = %d is outside 1..%d", hp->n_layers, GF_MAX_LAYERS);
    if (n != hp->n_layers) FAIL("hparams.layer_sliding has %d entries, n_layers is %d", n, hp->n_layers);
    int i = 0;
    for (const cJSON *e = ls->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || (e->valuedouble != 0 && e->valuedouble != 1))
            FAIL("hparams.layer_sliding[%d] is not 0 or 1", i);
        hp->layer_sliding[i] = (uint8_t)e->valuedouble;
    }
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(obj, "eos_ids");
    if (!cJSON_IsArray(eos)) FAIL("hparams.eos_ids is missing or not an array");
    n = cJSON_GetArraySize(eos);
    if (n < 1 || n > GF_MAX_EOS) FAIL("hparams.eos_ids has %d entries (1..%d allowed)", n, GF_MAX_EOS);
    hp->n_eos = n;
    i = 0;
    for (const cJSON *e = eos->child; e; e = e->next, i++) {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(d == floor(d)) || d < 0 || d > 2147483647.0) FAIL("hparams.eos_ids[%d] is not a token id", i);
        hp->eos_ids[i] = (int)d;
    }
    return gf_hparams_check(hp, err, errlen);
}

int gf_hparams_from_json(const char *json, gf_hparams *hp, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(json);
    if (!root) FAIL("hparams: not valid JSON");
    int rc = gfl_hparams_from_cjson(root, hp, err, errlen);
    cJSON_Delete(root);
    return rc;
}
