/* model.c - open a .gptoss file and bind the canonical gpt-oss tensors. */
#include "model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "gguf.h"
#include "gio_read.h"
#include "model_impl.h"

/* Type classes of the canonical description (see README / task contract). */
/* What a tensor may hold comes from quant/'s traits ("uses"), so a new block
 * format is accepted here by its table row alone. C_F32: norms, biases,
 * sinks and the router stay f32 whatever the recipe. */
#define C_F32 0x100u
#define C_DENSE GQ_USE_DENSE
#define C_EXPERT GQ_USE_EXPERTS

typedef struct {
    const gf_file *f;           /* a .gptoss file, or NULL: tab */
    const gf_tensor *tab;       /* a GGUF's tensors, canonical names (model_gguf.c) */
    size_t n_tab;
    const char *path;
    char *err;
    size_t errlen;
    int failed;
} binder;

static void fail(binder *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    b->failed = 1;
    int k = snprintf(b->err, b->errlen, "%s: ", b->path);
    if (k < 0 || (size_t)k >= b->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err + k, b->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

static const gf_tensor *find(binder *b, const char *name, unsigned classes, int ndim, const uint64_t *shape)
{
    if (b->failed)
        return NULL;
    const gf_tensor *t = NULL;
    if (b->f)
        t = gf_find_tensor(b->f, name);
    else
        for (size_t i = 0; !t && i < b->n_tab; i++)
            t = strcmp(b->tab[i].name, name) ? NULL : &b->tab[i];
    if (!t) {
        fail(b, "tensor '%s' is missing; the file is not a complete gpt-oss model (re-run gptoss-convert)", name);
        return NULL;
    }
    const gq_traits *tr = gq_traits_of(t->type);
    if (!tr || !((classes & C_F32) ? t->type == GQ_F32 : (tr->uses & classes) != 0)) {
        fail(b, "tensor '%s' has type %s, which the runtime does not accept for this tensor", name,
             tr ? tr->name : "?");
        return NULL;
    }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (!ok) {
        char want[96] = "", got[96] = "";
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", i ? "," : "", (unsigned long long)shape[i]);
        for (int i = 0; i < t->ndim && i < GF_MAX_DIMS; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? "," : "", (unsigned long long)t->shape[i]);
        fail(b, "tensor '%s' has shape [%s], the hyper-parameters need [%s]", name, got, want);
        return NULL;
    }
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    size_t rb = gq_row_bytes(t->type, n);
    if (!rb || rb != t->size || !t->data) {
        fail(b, "tensor '%s' holds %llu bytes, its type and shape need %llu", name, (unsigned long long)t->size,
             (unsigned long long)rb);
        return NULL;
    }
    return t;
}

/* An f32 vector of d values (a norm, a bias, sinks: n_mat = 0, a 1-D
 * tensor), or n_mat of them (the biases of n_mat experts: [n_mat, d]). */
static void vec(binder *b, gb_weight *w, const char *name, uint64_t n_mat, uint64_t d)
{
    uint64_t shape[2] = {n_mat, d};
    const gf_tensor *t = n_mat ? find(b, name, C_F32, 2, shape) : find(b, name, C_F32, 1, shape + 1);
    memset(w, 0, sizeof *w);
    if (!t)
        return;
    w->name = t->name;
    w->type = GQ_F32;
    w->host = t->data;
    w->n_mat = n_mat ? (int64_t)n_mat : 1;
    w->rows = 1;
    w->cols = (int64_t)d;
    w->row_bytes = (size_t)d * sizeof(float);
}

static void mat(binder *b, gb_weight *w, const char *name, unsigned classes, uint64_t n_mat, uint64_t rows,
                uint64_t cols)
{
    uint64_t shape3[3] = {n_mat, rows, cols};
    const gf_tensor *t = n_mat > 1 || classes == C_EXPERT ? find(b, name, classes, 3, shape3)
                                                                  : find(b, name, classes, 2, shape3 + 1);
    memset(w, 0, sizeof *w);
    if (!t)
        return;
    w->name = t->name;
    w->type = t->type;
    w->host = t->data;
    w->n_mat = (int64_t)n_mat;
    w->rows = (int64_t)rows;
    w->cols = (int64_t)cols;
    w->row_bytes = gq_row_bytes(t->type, cols);
}

/* YaRN (NeoX) inverse frequencies and concentration for hparams, as HF
 * transformers computes them. */
static void yarn(const gf_hparams *hp, float *inv_freq, float *mscale)
{
    int dim = hp->head_dim, half = dim / 2;
    double base = hp->rope_theta, factor = hp->rope_factor > 0 ? hp->rope_factor : 1.0;
    double orig = hp->rope_orig_ctx > 0 ? hp->rope_orig_ctx : hp->max_ctx;
    /* the dimension index whose wavelength spans num_rot rotations of orig */
    double low = dim * log(orig / (hp->rope_beta_fast * 2 * M_PI)) / (2 * log(base));
    double high = dim * log(orig / (hp->rope_beta_slow * 2 * M_PI)) / (2 * log(base));
    if (hp->rope_truncate) {
        low = floor(low);
        high = ceil(high);
    }
    if (low < 0)
        low = 0;
    if (high > dim - 1)
        high = dim - 1;
    if (low == high)
        high += 0.001;
    for (int i = 0; i < half; i++) {
        float pos_freq = powf((float)base, (float)(2 * i) / (float)dim);
        float extrap = 1.0f / pos_freq, interp = 1.0f / ((float)factor * pos_freq);
        float ramp = (float)((i - low) / (high - low));
        ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
        float keep = 1.0f - ramp; /* share of the extrapolated (original) frequency */
        inv_freq[i] = factor > 1 ? interp * (1.0f - keep) + extrap * keep : extrap;
    }
    *mscale = factor > 1 ? (float)(0.1 * log(factor) + 1.0) : 1.0f;
}

int gm_use_ggml_rope(gm_model *m)
{
    if (m->prepared)
        return -1;
    m->hp.rope_truncate = 1;
    yarn(&m->hp, m->inv_freq_host, &m->rope_mscale);
    return 0;
}

/* m->weights: every gb_weight of m, once. */
static int list_weights(gm_model *m)
{
    int nl = m->hp.n_layers, per = 17; /* weights per layer, below */
    m->weights = calloc((size_t)(4 + per * nl), sizeof *m->weights);
    if (!m->weights)
        return -1;
    gb_weight **w = m->weights;
    int n = 0;
    w[n++] = &m->embed;
    w[n++] = &m->head;
    w[n++] = &m->norm;
    w[n++] = &m->inv_freq;
    for (int l = 0; l < nl; l++) {
        gm_layer *L = &m->layers[l];
        gb_weight *lw[] = {&L->attn_norm, &L->ffn_norm, &L->q, &L->k, &L->v, &L->o, &L->q_bias, &L->k_bias,
                           &L->v_bias, &L->o_bias, &L->sinks, &L->router, &L->router_bias, &L->gate_up, &L->down,
                           &L->gate_up_bias, &L->down_bias};
        for (size_t i = 0; i < sizeof lw / sizeof *lw; i++)
            w[n++] = lw[i];
    }
    m->n_weights = n;
    return 0;
}

int gm_prepare(gm_model *m, gb_backend *be, char *err, size_t errlen)
{
    if (m->prepared) {
        snprintf(err, errlen, "%s: the weights were already prepared for a backend", m->path);
        return -1;
    }
    /* the mapping's base: a payload's address less its file offset */
    const void *map = NULL;
    uint64_t map_bytes = 0;
    /* a GGUF's payloads are 32-byte aligned, not on the 16 KiB boundaries a
     * device import wants: NULL, devices copy (the CPU uses the host bytes) */
    const gf_tensor *t0 = m->file && gf_tensor_count(m->file) ? gf_tensor_at(m->file, 0) : NULL;
    if (t0 && t0->data) {
        map = (const uint8_t *)t0->data - t0->offset;
        map_bytes = gf_file_size(m->file);
    }
    if (be->prepare(be, m->weights, m->n_weights, map, map_bytes) != GB_OK) {
        snprintf(err, errlen, "%s: %s backend: %s", m->path, be->name, be->error);
        return GQ_ERR_BACKEND;
    }
    m->prepared = be;
    return 0;
}

gm_model *gm_open(const char *path, char *err, size_t errlen)
{
    /* the magic, not the extension, says what the file is */
    char magic[4] = {0};
    FILE *fp = gio_fopen_read(path, err, errlen); /* a FIFO is refused, not waited on */
    if (!fp)
        return NULL;
    if (fread(magic, 1, sizeof magic, fp) != sizeof magic)
        memset(magic, 0, sizeof magic);
    fclose(fp);
    if (!memcmp(magic, GGUF_MAGIC, 4))
        return gm_open_gguf(path, err, errlen);
    gf_file *f = gf_open(path, err, errlen);
    if (!f)
        return NULL;
    gm_model *m = calloc(1, sizeof *m);
    if (!m) {
        gf_close(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    m->file = f;
    m->path = path;
    m->hp = *gf_get_hparams(f);
    if (gm_bind(m, err, errlen) != 0) {
        gm_close(m);
        return NULL;
    }
    return m;
}

int gm_bind(gm_model *m, char *err, size_t errlen)
{
    const gf_file *f = m->file;
    const char *path = m->path;
    const gf_hparams *hp = &m->hp;
    binder b = {f, m->tab, m->n_tab, path, err, errlen, 0};
    if (hp->n_layers < 1 || hp->n_layers > GF_MAX_LAYERS || hp->n_heads < 1 || hp->head_dim < 2 || hp->head_dim % 2 ||
        hp->head_dim / 2 > 256 || hp->n_kv_heads < 1 || hp->n_heads % hp->n_kv_heads || hp->n_experts > 512 ||
        hp->n_experts_per_tok < 1 || hp->n_experts_per_tok > 16 || hp->n_experts_per_tok > hp->n_experts ||
        hp->sliding_window < 1 || hp->vocab < 1 || hp->hidden < 1 || hp->intermediate < 1 || hp->max_ctx < 1)
        fail(&b, "hyper-parameters outside what the runtime supports (layers %d, heads %d/%d, head_dim %d, "
                 "experts %d top-%d)", hp->n_layers, hp->n_heads, hp->n_kv_heads, hp->head_dim, hp->n_experts,
             hp->n_experts_per_tok);
    uint64_t D = (uint64_t)hp->hidden, V = (uint64_t)hp->vocab, E = (uint64_t)hp->n_experts,
             I = (uint64_t)hp->intermediate, Hq = (uint64_t)hp->n_heads * (uint64_t)hp->head_dim,
             Hkv = (uint64_t)hp->n_kv_heads * (uint64_t)hp->head_dim;
    mat(&b, &m->embed, "embed", C_DENSE, 1, V, D);
    m->embed.gathered = 1; /* embed() reads one row per token */
    mat(&b, &m->head, "head", C_DENSE, 1, V, D);
    vec(&b, &m->norm, "norm", 0, D);
    m->layers = calloc((size_t)(hp->n_layers > 0 ? hp->n_layers : 1), sizeof *m->layers);
    if (!m->layers)
        fail(&b, "out of memory");
    for (int l = 0; !b.failed && l < hp->n_layers; l++) {
        gm_layer *L = &m->layers[l];
        char n[GF_MAX_NAME + 32];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d." s, l), n)
        L->sliding = hp->layer_sliding[l] != 0;
        vec(&b, &L->attn_norm, NAME("attn_norm"), 0, D);
        mat(&b, &L->q, NAME("attn_q"), C_DENSE, 1, Hq, D);
        vec(&b, &L->q_bias, NAME("attn_q_bias"), 0, Hq);
        mat(&b, &L->k, NAME("attn_k"), C_DENSE, 1, Hkv, D);
        vec(&b, &L->k_bias, NAME("attn_k_bias"), 0, Hkv);
        mat(&b, &L->v, NAME("attn_v"), C_DENSE, 1, Hkv, D);
        vec(&b, &L->v_bias, NAME("attn_v_bias"), 0, Hkv);
        mat(&b, &L->o, NAME("attn_out"), C_DENSE, 1, D, Hq);
        vec(&b, &L->o_bias, NAME("attn_out_bias"), 0, D);
        vec(&b, &L->sinks, NAME("attn_sinks"), 0, (uint64_t)hp->n_heads);
        vec(&b, &L->ffn_norm, NAME("ffn_norm"), 0, D);
        mat(&b, &L->router, NAME("router"), C_F32, 1, E, D);
        vec(&b, &L->router_bias, NAME("router_bias"), 0, E);
        mat(&b, &L->gate_up, NAME("exp_gate_up"), C_EXPERT, E, 2 * I, D);
        vec(&b, &L->gate_up_bias, NAME("exp_gate_up_bias"), E, 2 * I);
        mat(&b, &L->down, NAME("exp_down"), C_EXPERT, E, D, I);
        vec(&b, &L->down_bias, NAME("exp_down_bias"), E, D);
#undef NAME
    }
    if (!b.failed && list_weights(m) != 0)
        fail(&b, "out of memory");
    if (b.failed)
        return -1;
    yarn(hp, m->inv_freq_host, &m->rope_mscale);
    m->inv_freq = (gb_weight){.name = "rope inv_freq", .type = GQ_F32, .n_mat = 1, .rows = 1,
                              .cols = hp->head_dim / 2, .row_bytes = (size_t)(hp->head_dim / 2) * sizeof(float),
                              .host = m->inv_freq_host};
#if !defined(__linux__)
    /* Ask the kernel to start reading the weights now: the first tokens
     * otherwise pay for page faults one 4 KiB page at a time. Payloads start
     * on 16 KiB boundaries (GF_ALIGN), so the ranges are page-aligned.
     * Not on Linux: there the mapping is advised MADV_HUGEPAGE (file_map.c),
     * so a fault reads 4 MiB ahead into 2 MiB folios, while WILLNEED's
     * readahead fills the page cache with 4 KiB folios, which stay mapped
     * by 4 KiB pages (a TLB miss per 4 KiB in decode). Measured 2026-12-03,
     * Linux 6.18 ext4, the 8-layer 20b file dropped from the cache: with
     * WILLNEED 0.89 of the streamed weights came out on 2 MiB pages (the
     * attention weights and the small tensors around them did not), without
     * 0.99, and the cold run (load + 16 decoded tokens) was no slower
     * (4.1-4.2 s against 4.3-5.1 s). */
    size_t nt = f ? gf_tensor_count(f) : m->n_tab;
    for (size_t i = 0; i < nt; i++) {
        const gf_tensor *t = f ? gf_tensor_at(f, i) : &m->tab[i];
        if (t->data && t->size && ((uintptr_t)t->data % 4096) == 0)
            posix_madvise((void *)(uintptr_t)t->data, (size_t)t->size, POSIX_MADV_WILLNEED);
    }
#else
    (void)f;
#endif
    return 0;
}

void gm_close(gm_model *m)
{
    if (!m)
        return;
    gf_close(m->file);
    gguf_close(m->gguf);
    free(m->tab);
    free(m->tab_names);
    free(m->owned);
    free(m->layers);
    free(m->weights);
    free(m);
}

static uint64_t wbytes(const gb_weight *w) { return (uint64_t)w->n_mat * (uint64_t)w->rows * w->row_bytes; }

uint64_t gm_bytes_per_token(const gm_model *m)
{
    const gf_hparams *hp = &m->hp;
    uint64_t s = m->embed.row_bytes + wbytes(&m->head) + (uint64_t)hp->hidden * 4;
    for (int l = 0; l < hp->n_layers; l++) {
        const gm_layer *L = &m->layers[l];
        s += wbytes(&L->q) + wbytes(&L->k) + wbytes(&L->v) + wbytes(&L->o) + wbytes(&L->router);
        s += (uint64_t)hp->n_experts_per_tok * (wbytes(&L->gate_up) + wbytes(&L->down)) / (uint64_t)hp->n_experts;
    }
    return s;
}

uint64_t gm_weight_bytes(const gm_model *m)
{
    uint64_t s = 0;
    if (m->gguf)
        for (size_t i = 0; i < gguf_tensor_count(m->gguf); i++)
            s += gguf_tensor_at(m->gguf, i)->size;
    else
        for (size_t i = 0; i < gf_tensor_count(m->file); i++)
            s += gf_tensor_at(m->file, i)->size;
    return s;
}
