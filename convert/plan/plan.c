/* plan.c - the canonical output list and its producers (see plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

/* ---- producers ---- */

static uint64_t src_row_bytes(const cv_producer *p)
{
    if (p->kind == CV_SRC_MXFP4)
        return p->cols / 32 * 16;
    return p->cols * (uint64_t)gq_traits_of(p->src_type)->block_bytes;
}

int cv_producer_check(const cv_producer *p, uint64_t rows, char *err, size_t errlen)
{
    if (rows == 0)
        return 0;
    if (p->row_stride == 0 || p->cols == 0 || (p->kind == CV_SRC_MXFP4 && p->cols % 32)) {
        snprintf(err, errlen, "tensor '%s': bad row view", p->src->name);
        return -1;
    }
    /* last row = offset + (rows-1)*stride < src_rows, without overflow */
    uint64_t span = rows - 1;
    if (span > (UINT64_MAX - p->row_offset) / p->row_stride ||
        p->row_offset + span * p->row_stride >= p->src_rows) {
        snprintf(err, errlen, "tensor '%s': row selection past its %llu rows", p->src->name,
                 (unsigned long long)p->src_rows);
        return -1;
    }
    return 0;
}

int cv_producer_select(cv_producer *out, const cv_producer *base, uint64_t cols, uint64_t offset,
                       uint64_t stride)
{
    if (cols == 0 || stride == 0)
        return -1;
    cv_producer p = *base;
    if (cols != base->cols) {
        /* Regrouping rows is only affine when the base rows are contiguous. */
        if (base->row_stride != 1)
            return -1;
        if (cols < base->cols) {
            if (base->cols % cols)
                return -1;
            uint64_t k = base->cols / cols;
            p.row_offset = base->row_offset * k;
            p.src_rows = base->src_rows * k;
        } else {
            if (cols % base->cols || base->row_offset % (cols / base->cols))
                return -1;
            uint64_t k = cols / base->cols;
            p.row_offset = base->row_offset / k;
            p.src_rows = base->src_rows / k;
        }
        p.cols = cols;
        if (p.kind == CV_SRC_MXFP4 && cols % 32)
            return -1;
    }
    p.row_offset += offset * p.row_stride;
    p.row_stride *= stride;
    *out = p;
    return 0;
}

int cv_producer_ranges(const cv_producer *p, uint64_t r0, uint64_t n, const uint8_t *begin[2],
                       const uint8_t *end[2])
{
    if (n == 0)
        return 0;
    uint64_t first = cv_producer_src_row(p, r0), last = cv_producer_src_row(p, r0 + n - 1);
    uint64_t rb = src_row_bytes(p);
    const uint8_t *d = p->src->data;
    begin[0] = d + first * rb;
    end[0] = d + (last + 1) * rb;
    if (p->kind != CV_SRC_MXFP4)
        return 1;
    uint64_t sb = p->cols / 32;
    const uint8_t *s = p->scales->data;
    begin[1] = s + first * sb;
    end[1] = s + (last + 1) * sb;
    return 2;
}

uint64_t cv_out_bytes(const cv_out_tensor *t)
{
    uint64_t rb = gq_row_bytes(t->type, t->prod.cols);
    if (rb == 0 || (t->rows && rb > UINT64_MAX / t->rows))
        return 0;
    return rb * t->rows;
}

uint64_t cv_in_bytes(const cv_out_tensor *t)
{
    uint64_t rb = src_row_bytes(&t->prod);
    if (t->prod.kind == CV_SRC_MXFP4)
        rb += t->prod.cols / 32;
    return rb * t->rows;
}

/* ---- checkpoint validation ---- */

typedef struct {
    const st_checkpoint *ck;
    char *err;
    size_t errlen;
    int failed;
} build_ctx;

static void dims_str(char *buf, size_t len, int ndim, const uint64_t *shape)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* Find `name`, check its shape, and that its dtype is one of `dtypes`
 * (bit mask of st_dtype). NULL (and a message) on any mismatch. */
static const st_tensor *expect(build_ctx *b, const char *name, unsigned dtypes, int ndim,
                               const uint64_t *shape)
{
    if (b->failed)
        return NULL;
    const st_tensor *t = st_find(b->ck, name);
    char want[128], got[128];
    dims_str(want, sizeof want, ndim, shape);
    if (!t) {
        snprintf(b->err, b->errlen, "checkpoint: tensor '%s' %s is missing (not a complete gpt-oss checkpoint?)",
                 name, want);
        b->failed = 1;
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same || !(dtypes & (1u << t->dtype))) {
        dims_str(got, sizeof got, t->ndim, t->shape);
        const char *shard = st_shard_path(b->ck, (size_t)t->shard);
        const char *base = shard ? strrchr(shard, '/') : NULL;
        snprintf(b->err, b->errlen, "%s: tensor '%s' is %s %s, expected %s %s (does config.json match the weights?)",
                 base ? base + 1 : shard ? shard : "checkpoint", name, st_dtype_name(t->dtype), got,
                 dtypes == (1u << ST_U8) ? "U8" : "BF16/F16/F32", want);
        b->failed = 1;
        return NULL;
    }
    return t;
}

#define DENSE_DTYPES ((1u << ST_BF16) | (1u << ST_F16) | (1u << ST_F32))

static gq_type dense_type(st_dtype d)
{
    return d == ST_F32 ? GQ_F32 : d == ST_F16 ? GQ_F16 : GQ_BF16;
}

typedef struct {
    build_ctx b;
    cv_plan *plan;
    size_t cap;
} plan_ctx;

static cv_out_tensor *push(plan_ctx *c, const char *name, cv_class cls, int ndim, const uint64_t *shape)
{
    if (c->b.failed)
        return NULL;
    if (c->plan->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cv_out_tensor *t = realloc(c->plan->t, cap * sizeof *t);
        if (!t) {
            snprintf(c->b.err, c->b.errlen, "out of memory");
            c->b.failed = 1;
            return NULL;
        }
        c->plan->t = t;
        c->cap = cap;
    }
    cv_out_tensor *t = &c->plan->t[c->plan->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->cls = cls;
    t->type = c->plan->recipe.type[cls];
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    return t;
}

static void finish(plan_ctx *c, cv_out_tensor *t)
{
    uint64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    t->rows = n / t->prod.cols;
    if (n % t->prod.cols || cv_producer_check(&t->prod, t->rows, c->b.err, c->b.errlen)) {
        if (n % t->prod.cols)
            snprintf(c->b.err, c->b.errlen, "internal: '%s' rows do not divide", t->name);
        c->b.failed = 1;
    }
}

/* An output taking elements [elem_off, elem_off + prod(shape)) of a dense source. */
static void dense(plan_ctx *c, const char *out, cv_class cls, int ndim, const uint64_t *shape,
                  const char *src, int src_ndim, const uint64_t *src_shape, uint64_t elem_off)
{
    const st_tensor *s = expect(&c->b, src, DENSE_DTYPES, src_ndim, src_shape);
    cv_out_tensor *t = push(c, out, cls, ndim, shape);
    if (!s || !t)
        return;
    uint64_t total = 1, n = 1;
    for (int i = 0; i < src_ndim; i++)
        total *= src_shape[i];
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    /* Rows of the output's last dim when the offset allows; else single
     * elements (only tiny fused-bias slices could need that). */
    uint64_t cols = shape[ndim - 1];
    if (elem_off % cols || total % cols)
        cols = 1;
    t->prod = (cv_producer){CV_SRC_DENSE, s, NULL, dense_type(s->dtype), cols, total / cols,
                            elem_off / cols, 1};
    (void)n;
    finish(c, t);
}

/* A [E, R, C] MXFP4 output from blocks [E, R, C/32, 16] + scales [E, R, C/32]. */
static void mxfp4(plan_ctx *c, const char *out, const char *blocks, const char *scales, uint64_t E,
                  uint64_t R, uint64_t C)
{
    uint64_t bs[4] = {E, R, C / 32, 16}, ss[3] = {E, R, C / 32}, os[3] = {E, R, C};
    const st_tensor *b = expect(&c->b, blocks, 1u << ST_U8, 4, bs);
    const st_tensor *s = expect(&c->b, scales, 1u << ST_U8, 3, ss);
    cv_out_tensor *t = push(c, out, CV_CLASS_EXPERTS, 3, os);
    if (!b || !s || !t)
        return;
    t->prod = (cv_producer){CV_SRC_MXFP4, b, s, GQ_MXFP4, C, E * R, 0, 1};
    finish(c, t);
}

int cv_detect_layout(const st_checkpoint *ck)
{
    if (st_find(ck, "model.embed_tokens.weight"))
        return CV_LAYOUT_HF;
    if (st_find(ck, "embedding.weight"))
        return CV_LAYOUT_ORIGINAL;
    return -1;
}

int cv_plan_build(cv_plan *plan, const st_checkpoint *ck, cv_layout layout, const gf_hparams *hp,
                  const cv_recipe *recipe, char *err, size_t errlen)
{
    memset(plan, 0, sizeof *plan);
    plan->layout = layout;
    plan->hp = *hp;
    plan->recipe = *recipe;
    plan_ctx c = {{ck, err, errlen, 0}, plan, 0};
    const int orig = layout == CV_LAYOUT_ORIGINAL;
    const uint64_t D = (uint64_t)hp->hidden, V = (uint64_t)hp->vocab, E = (uint64_t)hp->n_experts,
                   I = (uint64_t)hp->intermediate, H = (uint64_t)hp->n_heads,
                   Hq = H * (uint64_t)hp->head_dim, Hkv = (uint64_t)hp->n_kv_heads * (uint64_t)hp->head_dim,
                   QKV = Hq + 2 * Hkv;
    char o[64], s[160], s2[160];

    uint64_t vd[2] = {V, D};
    dense(&c, "embed", CV_CLASS_EMBED, 2, vd, orig ? "embedding.weight" : "model.embed_tokens.weight",
          2, vd, 0);

    for (int L = 0; L < hp->n_layers && !c.b.failed; L++) {
        char hfp[32], op[32];
        snprintf(hfp, sizeof hfp, "model.layers.%d.", L);
        snprintf(op, sizeof op, "block.%d.", L);
        const uint64_t d1[1] = {D}, q2[2] = {Hq, D}, kv2[2] = {Hkv, D}, q1[1] = {Hq}, kv1[1] = {Hkv},
                       out2[2] = {D, Hq}, h1[1] = {H}, ed[2] = {E, D}, e1[1] = {E}, e2i[2] = {E, 2 * I},
                       qkv2[2] = {QKV, D}, qkv1[1] = {QKV};

#define NAME(buf, fmt_hf, fmt_or) snprintf(buf, sizeof buf, "%s%s", orig ? op : hfp, orig ? fmt_or : fmt_hf)
#define OUT(suffix) snprintf(o, sizeof o, "blk.%d.%s", L, suffix)
        OUT("attn_norm");
        NAME(s, "input_layernorm.weight", "attn.norm.scale");
        dense(&c, o, CV_CLASS_F32, 1, d1, s, 1, d1, 0);

        /* q, k, v: separate in HF, fused rows q|k|v in original/. */
        static const char *const qkv_hf[3] = {"q", "k", "v"};
        for (int j = 0; j < 3; j++) {
            const uint64_t *ws = j ? kv2 : q2, *bs = j ? kv1 : q1;
            uint64_t off = j == 0 ? 0 : j == 1 ? Hq : Hq + Hkv;
            char w_hf[48], b_hf[48];
            snprintf(w_hf, sizeof w_hf, "self_attn.%s_proj.weight", qkv_hf[j]);
            snprintf(b_hf, sizeof b_hf, "self_attn.%s_proj.bias", qkv_hf[j]);
            snprintf(o, sizeof o, "blk.%d.attn_%s", L, qkv_hf[j]);
            NAME(s, w_hf, "attn.qkv.weight");
            if (orig)
                dense(&c, o, CV_CLASS_ATTN, 2, ws, s, 2, qkv2, off * D);
            else
                dense(&c, o, CV_CLASS_ATTN, 2, ws, s, 2, ws, 0);
            snprintf(o, sizeof o, "blk.%d.attn_%s_bias", L, qkv_hf[j]);
            NAME(s, b_hf, "attn.qkv.bias");
            if (orig)
                dense(&c, o, CV_CLASS_F32, 1, bs, s, 1, qkv1, off);
            else
                dense(&c, o, CV_CLASS_F32, 1, bs, s, 1, bs, 0);
        }
        OUT("attn_out");
        NAME(s, "self_attn.o_proj.weight", "attn.out.weight");
        dense(&c, o, CV_CLASS_ATTN, 2, out2, s, 2, out2, 0);
        OUT("attn_out_bias");
        NAME(s, "self_attn.o_proj.bias", "attn.out.bias");
        dense(&c, o, CV_CLASS_F32, 1, d1, s, 1, d1, 0);
        OUT("attn_sinks");
        NAME(s, "self_attn.sinks", "attn.sinks");
        dense(&c, o, CV_CLASS_F32, 1, h1, s, 1, h1, 0);

        OUT("ffn_norm");
        NAME(s, "post_attention_layernorm.weight", "mlp.norm.scale");
        dense(&c, o, CV_CLASS_F32, 1, d1, s, 1, d1, 0);
        OUT("router");
        NAME(s, "mlp.router.weight", "mlp.gate.weight");
        dense(&c, o, CV_CLASS_F32, 2, ed, s, 2, ed, 0);
        OUT("router_bias");
        NAME(s, "mlp.router.bias", "mlp.gate.bias");
        dense(&c, o, CV_CLASS_F32, 1, e1, s, 1, e1, 0);

        OUT("exp_gate_up");
        NAME(s, "mlp.experts.gate_up_proj_blocks", "mlp.mlp1_weight.blocks");
        NAME(s2, "mlp.experts.gate_up_proj_scales", "mlp.mlp1_weight.scales");
        mxfp4(&c, o, s, s2, E, 2 * I, D);
        OUT("exp_gate_up_bias");
        NAME(s, "mlp.experts.gate_up_proj_bias", "mlp.mlp1_bias");
        dense(&c, o, CV_CLASS_F32, 2, e2i, s, 2, e2i, 0);
        OUT("exp_down");
        NAME(s, "mlp.experts.down_proj_blocks", "mlp.mlp2_weight.blocks");
        NAME(s2, "mlp.experts.down_proj_scales", "mlp.mlp2_weight.scales");
        mxfp4(&c, o, s, s2, E, D, I);
        OUT("exp_down_bias");
        NAME(s, "mlp.experts.down_proj_bias", "mlp.mlp2_bias");
        dense(&c, o, CV_CLASS_F32, 2, ed, s, 2, ed, 0);
#undef NAME
#undef OUT
    }
    const uint64_t d1[1] = {D};
    dense(&c, "norm", CV_CLASS_F32, 1, d1, orig ? "norm.scale" : "model.norm.weight", 1, d1, 0);
    dense(&c, "head", CV_CLASS_HEAD, 2, vd, orig ? "unembedding.weight" : "lm_head.weight", 2, vd, 0);

    if (c.b.failed) {
        cv_plan_free(plan);
        return -1;
    }
    return 0;
}

void cv_plan_free(cv_plan *plan)
{
    free(plan->t);
    plan->t = NULL;
    plan->n = 0;
}

const cv_out_tensor *cv_plan_find(const cv_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->n; i++)
        if (!strcmp(plan->t[i].name, name))
            return &plan->t[i];
    return NULL;
}
