/* gguf_layout.h - the GGUF layout of a conversion plan: llama.cpp's
 * gpt-oss ("gpt-oss" architecture) tensor names, shapes and metadata, and
 * the export that streams a plan into a GGUF file.
 *
 * One pipeline, two layouts: the canonical plan (plan.h) says where every
 * row comes from; this module only renames, reverses shapes to ggml's ne
 * order and splits the interleaved expert gate_up rows (gate = even rows,
 * up = odd rows, biases alike) with cv_producer_select, so the pipeline
 * reads the source rows directly in GGUF order: no staging buffer, same
 * bounded memory as a .gptoss conversion. Our block formats are ggml's
 * (mxfp4 = MXFP4, q8_32 = Q8_0, q4_32 = Q4_0, bf16 = BF16, f32 = F32), so
 * the bytes are the very blocks the .gptoss writer would store.
 *
 * Canonical -> GGUF names (ne = canonical shape reversed):
 *   embed -> token_embd.weight, norm -> output_norm.weight, head -> output.weight
 *   blk.L.attn_norm -> blk.L.attn_norm.weight
 *   blk.L.attn_{q,k,v}[_bias] -> blk.L.attn_{q,k,v}.{weight,bias}
 *   blk.L.attn_out[_bias] -> blk.L.attn_output.{weight,bias}
 *   blk.L.attn_sinks -> blk.L.attn_sinks.weight
 *   blk.L.ffn_norm -> blk.L.post_attention_norm.weight
 *   blk.L.router[_bias] -> blk.L.ffn_gate_inp.{weight,bias}
 *   blk.L.exp_gate_up[_bias] -> blk.L.ffn_gate_exps.* (even rows) + blk.L.ffn_up_exps.* (odd rows)
 *   blk.L.exp_down[_bias] -> blk.L.ffn_down_exps.{weight,bias}
 */
#ifndef GQ_CONVERT_GGUF_LAYOUT_H
#define GQ_CONVERT_GGUF_LAYOUT_H

#include <stddef.h>

#include "gguf.h"
#include "gguf_vocab.h"
#include "pipeline.h"
#include "plan.h"

typedef struct {
    size_t n;
    cv_out_tensor *t;          /* GGUF names and file order; shape = canonical order */
} gg_layout;

/* Build the GGUF tensor list from a canonical plan. 0, or -1 with a message. */
int gg_layout_build(gg_layout *L, const cv_plan *plan, char *err, size_t errlen);
void gg_layout_free(gg_layout *L);

/* llama.cpp's general.file_type (llama_ftype) for a recipe: 38 MOSTLY_MXFP4_MOE
 * when experts are mxfp4, else that of the experts' type (7 Q8_0, 2 Q4_0,
 * 32 BF16), the experts being most of the bytes. */
int gg_file_type(const cv_recipe *r);

/* The general.* and gpt-oss.* KVs. Refuses hyper-parameters llama.cpp's
 * gpt-oss graph cannot express (a layer pattern other than sliding on even
 * layers, a swiglu limit other than 7). 0, or -1 with a message. */
int gg_write_hparams(gguf_writer *w, const gf_hparams *hp, const cv_recipe *r, const char *model_name,
                     char *err, size_t errlen);

/* Declare the layout's tensors on w, in order. 0, or -1 with a message. */
int gg_declare_tensors(gguf_writer *w, const gg_layout *L, char *err, size_t errlen);

typedef struct {
    const char *path;          /* output .gguf */
    int overwrite;
    const char *model_name;    /* general.name; may be NULL */
    const gg_vocab_src *vocab; /* tokenizer source */
    const char *vocab_label;   /* its file name, for messages */
    uint32_t alignment;        /* 0: 32 */
} gg_export_opts;

/* The whole export: KVs, tokenizer, tensor infos, then every tensor through
 * cv_pipeline_run; atomic (nothing at PATH unless it all succeeded).
 * Returns the pipeline status (CV_PIPE_SINK_ERROR also for metadata errors,
 * CV_PIPE_BAD_INPUT for a tokenizer or hparams llama.cpp cannot take). */
cv_pipe_status gg_export(const cv_plan *plan, const gg_export_opts *o, const cv_pipeline_opts *popts,
                         cv_pipeline_result *res, char *err, size_t errlen);

#endif
