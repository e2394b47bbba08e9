/* plan.h - what a conversion will write, and where every output row comes from.
 *
 * A plan is built from an opened safetensors checkpoint plus its config:
 * either the Hugging Face root layout (config.json, model.embed_tokens...,
 * mlp.experts.gate_up_proj_blocks...) or OpenAI's original/ layout
 * (original/config.json, embedding.weight, block.N.attn.qkv.weight with
 * q|k|v rows fused, mlp1_weight.blocks...). The layout is detected from the
 * tensor names. Building the plan validates the checkpoint against the
 * config: every expected tensor present with the right dtype and shape.
 *
 * The output is an ordered list of tensors with the canonical .gptoss names
 * and shapes (see docs/FORMAT.md), each with a class (which decides its
 * type through the recipe) and a PRODUCER. A producer describes a source as
 * a matrix of rows of `cols` values and an affine row selection
 *     source row = row_offset + r * row_stride      (r = output row)
 * so the same machinery expresses a plain copy, a slice of fused qkv rows,
 * and the even / odd rows of the interleaved gate_up tensor (GGUF export).
 * A different output layout (GGUF names, order, splits) is just another list
 * of cv_out_tensor built with cv_producer_select from the canonical ones.
 *
 * The plan does not own the checkpoint: producers point into it, so it must
 * stay open while the plan is used.
 */
#ifndef GQ_CONVERT_PLAN_H
#define GQ_CONVERT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "gptoss_format.h"
#include "quant.h"
#include "safetensors.h"

/* Tensor classes: the recipe gives one type per class. CV_CLASS_F32 holds
 * norms, biases, sinks and the router, which are always f32. */
typedef enum {
    CV_CLASS_EMBED = 0,
    CV_CLASS_ATTN,
    CV_CLASS_HEAD,
    CV_CLASS_EXPERTS,
    CV_CLASS_F32,
    CV_CLASS_COUNT
} cv_class;

const char *cv_class_name(cv_class c);   /* "embed", "attn", "head", "experts", "f32" */

typedef struct {
    char name[96];                  /* "mxfp4", "q8", "q4", plus overrides: "q8,experts=mxfp4" */
    gq_type type[CV_CLASS_COUNT];
} cv_recipe;

/* Recipe from --quant (NULL = mxfp4) and per-class overrides (NULL = none).
 * Checks each type is allowed for its class (mxfp4 only for experts).
 * Returns 0, or -1 with a message. */
int cv_recipe_make(cv_recipe *r, const char *quant, const char *embed, const char *attn,
                   const char *head, const char *experts, char *err, size_t errlen);

typedef enum { CV_SRC_DENSE = 0, CV_SRC_MXFP4 } cv_src_kind;

typedef struct {
    cv_src_kind kind;
    const st_tensor *src;      /* dense values, or the MXFP4 code blocks */
    const st_tensor *scales;   /* MXFP4: one E8M0 byte per block; else NULL */
    gq_type src_type;          /* dense: GQ_BF16 / GQ_F16 / GQ_F32; MXFP4: GQ_MXFP4 */
    uint64_t cols;             /* values per row (a multiple of 32 for MXFP4) */
    uint64_t src_rows;         /* rows of the source viewed with `cols` */
    uint64_t row_offset;       /* source row of output row 0 */
    uint64_t row_stride;       /* source rows between consecutive output rows (>= 1) */
} cv_producer;

/* Source row of output row r (no bounds check; cv_producer_check does that once). */
static inline uint64_t cv_producer_src_row(const cv_producer *p, uint64_t r)
{
    return p->row_offset + r * p->row_stride;
}

/* 0 if `rows` output rows stay inside the source, else -1 with a message. */
int cv_producer_check(const cv_producer *p, uint64_t rows, char *err, size_t errlen);

/* A view of `base` with rows of `cols` values (cols must divide base->cols,
 * or base must select contiguous rows so that rows can be regrouped), then
 * selecting rows offset + r * stride of that view. This is how the GGUF
 * layout takes gate rows (offset 0, stride 2) and up rows (offset 1, stride
 * 2) out of the interleaved gate_up producer, or single elements of a bias
 * (cols 1). Returns 0, or -1 when the view cannot be expressed. */
int cv_producer_select(cv_producer *out, const cv_producer *base, uint64_t cols, uint64_t offset,
                       uint64_t stride);

/* Source bytes that rows [r0, r0+n) touch, as up to two [begin, end) ranges
 * relative to the mapped data (dense: one; MXFP4: blocks and scales).
 * Used for madvise. Returns the number of ranges. */
int cv_producer_ranges(const cv_producer *p, uint64_t r0, uint64_t n, const uint8_t *begin[2],
                       const uint8_t *end[2]);

typedef struct {
    char name[64];
    cv_class cls;
    gq_type type;
    int ndim;
    uint64_t shape[GF_MAX_DIMS];
    uint64_t rows;             /* elements / prod.cols: the units the pipeline streams */
    cv_producer prod;
} cv_out_tensor;

/* Output bytes of a tensor (rows * row bytes of its type); 0 on overflow. */
uint64_t cv_out_bytes(const cv_out_tensor *t);
/* Source bytes its producer reads. */
uint64_t cv_in_bytes(const cv_out_tensor *t);

typedef enum { CV_LAYOUT_HF = 0, CV_LAYOUT_ORIGINAL } cv_layout;

typedef struct {
    cv_layout layout;
    gf_hparams hp;
    cv_recipe recipe;
    size_t n;
    cv_out_tensor *t;          /* canonical order: embed, per layer blk.L.*, norm, head */
} cv_plan;

/* Which layout a checkpoint is in: 0 HF, 1 original, -1 neither. */
int cv_detect_layout(const st_checkpoint *ck);

/* One JSON file of the config step: its NUL-terminated text (NULL: the file
 * is absent) and its name for messages (its path). */
typedef struct {
    const char *text;
    const char *label;
} cv_json_in;

/* Hyper-parameters from a config.json text of either layout; `gen`
 * (generation_config.json, optional) supplies the eos list, and `ids`
 * (the root config.json, optional) the eos/pad/bos ids when the config is an
 * original/ one that has none. Every file given must be a JSON object with
 * no NUL character in its strings; every value is range-checked, and what
 * the model math needs on top (rms_norm_eps > 0, a window for sliding
 * layers, rope_scaling an object or null) is checked here, not later.
 * Returns 0, or -1 with a message naming the file the bad value is in and
 * the key. */
int cv_hparams_from_json(gf_hparams *hp, cv_layout layout, cv_json_in config, cv_json_in gen, cv_json_in ids,
                         char *err, size_t errlen);
/* The same with bare names ("generation_config.json", "config.json") for
 * the optional files and `label` for the config. */
int cv_hparams_from_config(gf_hparams *hp, cv_layout layout, const char *config_json,
                           const char *gen_config, const char *tok_ids_config, const char *label,
                           char *err, size_t errlen);

/* Build the canonical plan for an opened checkpoint. Validates every tensor.
 * Returns 0, or -1 with a message naming the shard, the tensor and what was
 * expected. */
int cv_plan_build(cv_plan *plan, const st_checkpoint *ck, cv_layout layout, const gf_hparams *hp,
                  const cv_recipe *recipe, char *err, size_t errlen);
void cv_plan_free(cv_plan *plan);

/* Canonical tensor by name, or NULL. */
const cv_out_tensor *cv_plan_find(const cv_plan *plan, const char *name);

#endif
