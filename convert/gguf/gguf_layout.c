/* gguf_layout.c - canonical plan -> llama.cpp gpt-oss GGUF (see gguf_layout.h).
 *
 * Facts from llama.cpp's gpt-oss loader (src/models/openai-moe.cpp and
 * llama-arch.cpp of the release in tools/node_modules): the tensor names
 * and ne shapes below; hyper-parameters read from "gpt-oss.*" keys with
 * exact GGUF types (u32 counts, f32 reals, a string rope scaling type);
 * the sliding-window pattern defaults to 2 = sliding on even layers; the
 * swiglu clamp (7) and alpha (1.702) are built in; yarn correction dims are
 * rounded to integers (ggml_rope_yarn_corr_dims), whatever HF's truncate. */
#include "gguf_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gg_file_type(const cv_recipe *r)
{
    /* the experts are most of the bytes: their format names the file */
    const gq_traits *t = gq_traits_of(r->type[CV_CLASS_EXPERTS]);
    return t ? t->gguf_file_type : GQ_LLAMA_FTYPE_ALL_F32;
}

typedef struct {
    gg_layout *L;
    size_t cap;
    char *err;
    size_t errlen;
    int failed;
} build;

static cv_out_tensor *push(build *b, const cv_out_tensor *src, const char *name)
{
    if (b->failed) return NULL;
    if (b->L->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        cv_out_tensor *t = realloc(b->L->t, cap * sizeof *t);
        if (!t) {
            snprintf(b->err, b->errlen, "out of memory");
            b->failed = 1;
            return NULL;
        }
        b->L->t = t;
        b->cap = cap;
    }
    cv_out_tensor *t = &b->L->t[b->L->n++];
    *t = *src;
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

/* Even (part 0) or odd (part 1) rows of the interleaved last-but-one axis
 * [.., 2I, C] (weights) or last axis [E, 2I] (biases, one value per row). */
static void split(build *b, const cv_out_tensor *src, const char *name, int part)
{
    cv_out_tensor *t = push(b, src, name);
    if (!t) return;
    int bias = src->ndim == 2;
    uint64_t cols = bias ? 1 : src->shape[src->ndim - 1];
    if (src->shape[src->ndim - (bias ? 1 : 2)] % 2 ||
        cv_producer_select(&t->prod, &src->prod, cols, (uint64_t)part, 2) != 0) {
        snprintf(b->err, b->errlen, "internal: cannot split '%s' into gate/up rows", src->name);
        b->failed = 1;
        return;
    }
    t->shape[src->ndim - (bias ? 1 : 2)] /= 2;
    uint64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    t->rows = n / cols;
    if (cv_producer_check(&t->prod, t->rows, b->err, b->errlen)) b->failed = 1;
}

static void plain(build *b, const cv_plan *plan, const char *canon, const char *name)
{
    if (b->failed) return;
    const cv_out_tensor *s = cv_plan_find(plan, canon);
    if (!s) {
        snprintf(b->err, b->errlen, "internal: the plan has no tensor '%s'", canon);
        b->failed = 1;
        return;
    }
    push(b, s, name);
}

int gg_layout_build(gg_layout *L, const cv_plan *plan, char *err, size_t errlen)
{
    memset(L, 0, sizeof *L);
    build b = {L, 0, err, errlen, 0};
    char c[64], g[64];
    plain(&b, plan, "embed", "token_embd.weight");
    for (int l = 0; l < plan->hp.n_layers && !b.failed; l++) {
        static const char *const map[][2] = {
            {"attn_norm", "attn_norm.weight"},   {"attn_q", "attn_q.weight"},
            {"attn_q_bias", "attn_q.bias"},      {"attn_k", "attn_k.weight"},
            {"attn_k_bias", "attn_k.bias"},      {"attn_v", "attn_v.weight"},
            {"attn_v_bias", "attn_v.bias"},      {"attn_out", "attn_output.weight"},
            {"attn_out_bias", "attn_output.bias"}, {"attn_sinks", "attn_sinks.weight"},
            {"ffn_norm", "post_attention_norm.weight"}, {"router", "ffn_gate_inp.weight"},
            {"router_bias", "ffn_gate_inp.bias"},
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
            snprintf(c, sizeof c, "blk.%d.%s", l, map[i][0]);
            snprintf(g, sizeof g, "blk.%d.%s", l, map[i][1]);
            plain(&b, plan, c, g);
        }
        static const char *const gu[2][2] = {{"exp_gate_up", "weight"}, {"exp_gate_up_bias", "bias"}};
        for (int k = 0; k < 2 && !b.failed; k++) {
            snprintf(c, sizeof c, "blk.%d.%s", l, gu[k][0]);
            const cv_out_tensor *s = cv_plan_find(plan, c);
            if (!s) {
                snprintf(err, errlen, "internal: the plan has no tensor '%s'", c);
                b.failed = 1;
                break;
            }
            snprintf(g, sizeof g, "blk.%d.ffn_gate_exps.%s", l, gu[k][1]);
            split(&b, s, g, 0);
            snprintf(g, sizeof g, "blk.%d.ffn_up_exps.%s", l, gu[k][1]);
            split(&b, s, g, 1);
        }
        snprintf(c, sizeof c, "blk.%d.exp_down", l);
        snprintf(g, sizeof g, "blk.%d.ffn_down_exps.weight", l);
        plain(&b, plan, c, g);
        snprintf(c, sizeof c, "blk.%d.exp_down_bias", l);
        snprintf(g, sizeof g, "blk.%d.ffn_down_exps.bias", l);
        plain(&b, plan, c, g);
    }
    plain(&b, plan, "norm", "output_norm.weight");
    plain(&b, plan, "head", "output.weight");
    if (b.failed) {
        gg_layout_free(L);
        return -1;
    }
    return 0;
}

void gg_layout_free(gg_layout *L)
{
    free(L->t);
    L->t = NULL;
    L->n = 0;
}

int gg_declare_tensors(gguf_writer *w, const gg_layout *L, char *err, size_t errlen)
{
    for (size_t i = 0; i < L->n; i++) {
        const cv_out_tensor *t = &L->t[i];
        int gt = gguf_type_from_gq(t->type);
        int64_t ne[GGUF_MAX_DIMS];
        if (gt < 0 || t->ndim < 1 || t->ndim > GGUF_MAX_DIMS) {
            snprintf(err, errlen, "tensor '%s': type %s has no GGUF equivalent", t->name,
                     gq_traits_of(t->type) ? gq_traits_of(t->type)->name : "?");
            return -1;
        }
        for (int d = 0; d < t->ndim; d++) ne[d] = (int64_t)t->shape[t->ndim - 1 - d];
        if (gguf_writer_add_tensor(w, t->name, (uint32_t)gt, t->ndim, ne) < 0) {
            snprintf(err, errlen, "%s", gguf_writer_error(w));
            return -1;
        }
        /* the pipeline's bytes and the GGUF size must agree exactly */
        if (gguf_writer_tensor_bytes(w, i) != cv_out_bytes(t)) {
            snprintf(err, errlen, "internal: tensor '%s' is %llu bytes in GGUF but %llu from the pipeline", t->name,
                     (unsigned long long)gguf_writer_tensor_bytes(w, i), (unsigned long long)cv_out_bytes(t));
            return -1;
        }
    }
    return 0;
}

int gg_write_hparams(gguf_writer *w, const gf_hparams *hp, const cv_recipe *r, const char *model_name,
                     char *err, size_t errlen)
{
    for (int l = 0; l < hp->n_layers && l < GF_MAX_LAYERS; l++)
        if (hp->layer_sliding[l] != (l % 2 == 0)) {
            snprintf(err, errlen, "layer %d is %s attention: llama.cpp's gpt-oss graph requires sliding attention "
                     "on even layers and full attention on odd ones; export this model as .gptoss instead", l,
                     hp->layer_sliding[l] ? "sliding" : "full");
            return -1;
        }
    if (hp->swiglu_limit != 7.0) {
        snprintf(err, errlen, "swiglu_limit %g: llama.cpp's gpt-oss graph has the limit 7 built in; export this "
                 "model as .gptoss instead", hp->swiglu_limit);
        return -1;
    }
    const char *A = "gpt-oss.";
    char k[96];
#define KEY(s) (snprintf(k, sizeof k, "%s%s", A, s), k)
    int bad = gguf_kv_str(w, "general.architecture", "gpt-oss") || gguf_kv_str(w, "general.type", "model") ||
              gguf_kv_str(w, "general.name", model_name && *model_name ? model_name : "gpt-oss") ||
              gguf_kv_u32(w, "general.file_type", (uint32_t)gg_file_type(r)) ||
              gguf_kv_u32(w, "general.quantization_version", 2) ||
              gguf_kv_u32(w, KEY("block_count"), (uint32_t)hp->n_layers) ||
              gguf_kv_u32(w, KEY("context_length"), (uint32_t)hp->max_ctx) ||
              gguf_kv_u32(w, KEY("embedding_length"), (uint32_t)hp->hidden) ||
              gguf_kv_u32(w, KEY("feed_forward_length"), (uint32_t)hp->intermediate) ||
              gguf_kv_u32(w, KEY("expert_feed_forward_length"), (uint32_t)hp->intermediate) ||
              gguf_kv_u32(w, KEY("attention.head_count"), (uint32_t)hp->n_heads) ||
              gguf_kv_u32(w, KEY("attention.head_count_kv"), (uint32_t)hp->n_kv_heads) ||
              gguf_kv_u32(w, KEY("attention.key_length"), (uint32_t)hp->head_dim) ||
              gguf_kv_u32(w, KEY("attention.value_length"), (uint32_t)hp->head_dim) ||
              gguf_kv_f32(w, KEY("attention.layer_norm_rms_epsilon"), (float)hp->rms_eps) ||
              gguf_kv_u32(w, KEY("attention.sliding_window"), (uint32_t)hp->sliding_window) ||
              gguf_kv_f32(w, KEY("rope.freq_base"), (float)hp->rope_theta) ||
              gguf_kv_u32(w, KEY("expert_count"), (uint32_t)hp->n_experts) ||
              gguf_kv_u32(w, KEY("expert_used_count"), (uint32_t)hp->n_experts_per_tok);
    if (!bad && hp->rope_factor > 0 && hp->rope_factor != 1.0)
        bad = gguf_kv_str(w, KEY("rope.scaling.type"), "yarn") ||
              gguf_kv_f32(w, KEY("rope.scaling.factor"), (float)hp->rope_factor) ||
              gguf_kv_u32(w, KEY("rope.scaling.original_context_length"), (uint32_t)hp->rope_orig_ctx) ||
              gguf_kv_f32(w, KEY("rope.scaling.yarn_beta_fast"), (float)hp->rope_beta_fast) ||
              gguf_kv_f32(w, KEY("rope.scaling.yarn_beta_slow"), (float)hp->rope_beta_slow);
#undef KEY
    if (bad) {
        snprintf(err, errlen, "%s", gguf_writer_error(w));
        return -1;
    }
    return 0;
}

/* ---- the sink: pipeline chunks -> gguf_writer ---- */

typedef struct {
    gguf_writer *w;
    char err[512];
    int done;
} gg_sink_ctx;

static int s_begin(void *c)
{
    gg_sink_ctx *s = c;
    return gguf_writer_begin(s->w);
}
static int s_write(void *c, size_t i, const void *buf, size_t len)
{
    gg_sink_ctx *s = c;
    return gguf_writer_write(s->w, i, buf, len);
}
static int s_finish(void *c)
{
    gg_sink_ctx *s = c;
    s->done = 1; /* finish frees the writer whatever happens */
    return gguf_writer_finish(s->w, s->err, sizeof s->err);
}
static void s_abort(void *c)
{
    gg_sink_ctx *s = c;
    if (!s->done) {
        snprintf(s->err, sizeof s->err, "%s", gguf_writer_error(s->w));
        gguf_writer_abort(s->w);
    }
    s->done = 1;
}
static const char *s_error(void *c)
{
    gg_sink_ctx *s = c;
    return s->done ? s->err : gguf_writer_error(s->w);
}

cv_pipe_status gg_export(const cv_plan *plan, const gg_export_opts *o, const cv_pipeline_opts *popts,
                         cv_pipeline_result *res, char *err, size_t errlen)
{
    gg_layout L;
    if (gg_layout_build(&L, plan, err, errlen)) return CV_PIPE_BAD_INPUT;
    gguf_writer *w = gguf_writer_create(o->path, o->overwrite, o->alignment, err, errlen);
    if (!w) {
        gg_layout_free(&L);
        return CV_PIPE_SINK_ERROR;
    }
    cv_pipe_status st = CV_PIPE_BAD_INPUT;
    if (gg_write_hparams(w, &plan->hp, &plan->recipe, o->model_name, err, errlen) ||
        gg_vocab_write(w, o->vocab, o->vocab_label ? o->vocab_label : "tokenizer.json", err, errlen) ||
        gg_declare_tensors(w, &L, err, errlen)) {
        gguf_writer_abort(w);
        gg_layout_free(&L);
        return st;
    }
    gg_sink_ctx sc = {w, {0}, 0};
    cv_sink sink = {&sc, s_begin, s_write, s_finish, s_abort, s_error, NULL, NULL, NULL, NULL}; /* copies */
    st = cv_pipeline_run(L.t, L.n, &sink, popts, res, err, errlen);
    if (!sc.done) gguf_writer_abort(w); /* the pipeline finished or aborted the sink in every path we know;
                                           this only guards a path that did neither */
    gg_layout_free(&L);
    return st;
}
