/* gd_ops.h - the ops of a GPU backend (backend.h), each recorded as a few
 * dispatches (gd.h) of the kernels in kernels/shaders/; any host that
 * implements gd_host (Vulkan, Metal) runs them.
 *
 * The promise: each function is the backend.h op of the same name (same
 * arguments, same contract, fp32 accumulation; results equal the CPU
 * reference up to the order of summation). They only queue work (gd_run);
 * nothing is read back but score's scalars. A tensor larger than one
 * window is split by the op: matmul over row and token ranges, the MoE
 * expert stacks over up to 4 windows of whole experts, attention binds only
 * the cache slots read. What cannot be split says so (GB_ERR_UNSUPPORTED,
 * b->error in words). Messages name the backend (b->name).
 *
 * Decode dispatches: matmul 1 per weight (when it fits one window),
 * attention 1, MoE 3 (router logits; top-k + gate_up + SwiGLU; down +
 * weighted sum). */
#ifndef GQ_GD_OPS_H
#define GQ_GD_OPS_H

#include <stdint.h>

#include "backend.h"

/* gd_ops_light.c, gd_ops_score.c */
gb_status gd_op_embed(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, gb_ref out);
gb_status gd_op_rmsnorm(gb_backend *b, gb_ref x, const gb_weight *w, int n, int dim, float eps, gb_ref out);
gb_status gd_op_rope(gb_backend *b, gb_ref x, int n, int n_heads, int head_dim, int pos0, const gb_weight *inv_freq,
                     float mscale);
gb_status gd_op_kv_store(gb_backend *b, const gb_attn *a, gb_ref k, gb_ref v, int n, int pos0);
gb_status gd_op_add(gb_backend *b, gb_ref x, gb_ref y, uint64_t len);
gb_status gd_op_score(gb_backend *b, gb_ref logits, int n, int vocab, const gb_score_in *in, gb_score_out *out);
gb_status gd_op_read_bandwidth(gb_backend *b, uint64_t bytes, double *bytes_per_s);

/* the heavy ops: gd_ops_matmul.c, gd_ops_attention.c, gd_ops_moe.c */
gb_status gd_op_matmul(gb_backend *b, const gb_weight *w, const gb_weight *bias, gb_ref x, int n, gb_ref out);
gb_status gd_op_attention(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                          gb_ref out);
gb_status gd_op_moe(gb_backend *b, const gb_moe *m, gb_ref x, int n, gb_ref out);

/* the optional fused ops (backend.h), gd_ops_fused.c */
gb_status gd_op_add_rmsnorm(gb_backend *b, gb_ref x, gb_ref y, const gb_weight *w, int n, int dim, float eps,
                            gb_ref out);
gb_status gd_op_rope_kv_store(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                              const gb_weight *inv_freq, float mscale);
gb_status gd_op_argmax(gb_backend *b, gb_ref logits, int n, int vocab, int32_t *ids);

/* Set b's ten op pointers (embed .. read_bandwidth) to the functions above;
 * the host sets prepare, alloc, release, write, read, finish and destroy. */
void gd_ops_install(gb_backend *b);
/* Set the optional fused ops too: only for a host that runs their kernels
 * (add_rmsnorm, rope_kv, argmax): Vulkan; the Metal host does not call it
 * yet, so Metal runs the op sequences. */
void gd_ops_install_fused(gb_backend *b);

/* ---- shared by the op files ---- */

/* rmsnorm's dispatches over windows of rows (gd_ops_light.c): y NULL runs
 * rmsnorm.comp, else add_rmsnorm.comp (x += y first). The caller checked w. */
gb_status gd_norm_rows(gb_backend *b, gb_ref x, const gb_ref *y, const gb_weight *w, int n, int dim, float eps,
                       gb_ref out);

/* "f32", "f16", "bf16", "mxfp4", "q8_32", "q4_32": the kernel name suffix of
 * a weight type, or NULL. */
const char *gd_type_suffix(gq_type t);

#endif
