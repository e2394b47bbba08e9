/* vk_ops.h - the heavy ops of the Vulkan backend: matmul, attention and the
 * whole MoE block, each recorded as a few dispatches (vk_dispatch.h) of the
 * kernels in kernels/shaders/ (matmul_*, attention, moe_*).
 *
 * The promise: each function is the backend.h op of the same name (same
 * arguments, same contract, fp32 accumulation; results equal the CPU
 * reference up to the order of summation). They only queue work (vk_run);
 * nothing is read back. A tensor larger than one descriptor window is split
 * by the op: matmul over row and token ranges, the MoE expert stacks over up
 * to 4 windows of whole experts, attention binds only the cache slots read.
 * What cannot be split says so (GB_ERR_UNSUPPORTED, b->error in words).
 *
 * Decode dispatches: matmul 1 per weight (when it fits one window),
 * attention 1, MoE 3 (route, gate_up + SwiGLU, down + weighted sum). */
#ifndef GQ_VK_OPS_H
#define GQ_VK_OPS_H

#include <stdint.h>

#include "backend.h"

/* ---- provided by the Vulkan host ---- */

/* Largest byte span one gd_arg may have at any offset: maxStorageBufferRange
 * minus (minStorageBufferOffsetAlignment - 1), rounded down to 16. */
uint64_t vk_max_arg_bytes(gb_backend *b);
/* A device scratch buffer of at least `bytes` for slot 0..7, kept and reused
 * across calls (contents undefined); ordering with queued work is vk_run's. */
gb_status vk_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out);
/* Copy `bytes` of host data into the command stream (the staging buffer) and
 * return where it is: valid until the next flush, so bind it right away. */
gb_status vk_stream_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out);

/* ---- the ops (backend.h) ---- */

gb_status vk_matmul(gb_backend *b, const gb_weight *w, const gb_weight *bias, gb_ref x, int n, gb_ref out);
gb_status vk_attention(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0, gb_ref out);
gb_status vk_moe(gb_backend *b, const gb_moe *m, gb_ref x, int n, gb_ref out);

/* ---- shared by the op files ---- */

/* "f32", "f16", "bf16", "mxfp4", "q8_32", "q4_32": the kernel name suffix of
 * a weight type, or NULL. */
const char *vk_type_suffix(gq_type t);

#endif
