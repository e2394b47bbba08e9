/* backend.h - the operations the gpt-oss forward pass needs, as a table of
 * function pointers, so that a CUDA or Metal backend can replace the CPU one
 * without touching runtime/model.c or runtime/forward.c.
 *
 * Contract:
 *  - Activations live in buffers the backend allocates (alloc/release); the
 *    forward pass never dereferences them, it only passes them back to ops.
 *    `read` copies a buffer range to host memory (logits). On the CPU these
 *    are plain malloc'd floats.
 *  - Weights are described by gb_weight: a host pointer into the mapped
 *    .gptoss file plus type and shape. A device backend may upload them on
 *    first use and keep its copy in `dev` (the forward pass never touches it).
 *  - Every op processes a batch of n tokens laid out token-major
 *    (x[t * dim + i]); n == 1 is the decode path, n > 1 prefill.
 *  - fp32 activations and fp32 accumulation everywhere: the CPU backend is
 *    the reference the others are compared with. (GB_GGML below is the one
 *    deliberate exception, for comparisons with llama.cpp.)
 *  - Ops run in order; a device backend may queue them and must make `read`
 *    wait for what came before.
 */
#ifndef GQ_BACKEND_H
#define GQ_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

/* A weight: n_mat matrices of [rows, cols] (n_mat = E for expert stacks,
 * 1 otherwise), row-major, each row in `type`'s block layout. */
typedef struct {
    gq_type type;
    const void *data;
    int64_t n_mat, rows, cols;
    size_t row_bytes;         /* bytes of one row */
    void *dev;                /* backend-private (device copy); NULL on CPU */
} gb_weight;

/* One attention layer's cache and shape. Key/value of position p live in slot
 * p % cap (cap = sliding window for sliding layers: a ring; the context
 * length otherwise). */
typedef struct {
    int n_heads, n_kv_heads, head_dim;
    int window;               /* 0: full causal; else keys p-window+1 .. p */
    const float *sinks;       /* [n_heads] learned sink logits */
    float *k_cache, *v_cache; /* backend buffers of cap * n_kv_heads * head_dim */
    int cap;
    float scale;              /* 1/sqrt(head_dim) */
} gb_attn;

/* One MoE block. */
typedef struct {
    const gb_weight *router;      /* [E, D] f32 */
    const float *router_bias;     /* [E] */
    const gb_weight *gate_up;     /* [E][2I, D], rows interleaved gate/up */
    const float *gate_up_bias;    /* [E * 2I] */
    const gb_weight *down;        /* [E][D, I] */
    const float *down_bias;       /* [E * D] */
    int n_experts, top_k, hidden, inter;
    float swiglu_limit;           /* 7 */
    float swiglu_alpha;           /* 1.702 */
} gb_moe;

typedef struct gb_backend gb_backend;
struct gb_backend {
    const char *name;
    void *ctx;
    float *(*alloc)(gb_backend *b, size_t n_floats);    /* zeroed; NULL on OOM */
    void (*release)(gb_backend *b, float *buf);
    void (*read)(gb_backend *b, const float *buf, size_t offset, size_t n, float *host);

    /* out[t] = decode(row ids[t] of w) */
    void (*embed)(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, float *out);
    /* out[t] = x[t] * rsqrt(mean(x[t]^2) + eps) * w, in fp32 */
    void (*rmsnorm)(gb_backend *b, const float *x, const float *w, int n, int dim, float eps, float *out);
    /* out[t][r] = sum_c W[r][c] x[t][c] (+ bias[r] if bias); out is [n, rows] */
    void (*matmul)(gb_backend *b, const gb_weight *w, const float *bias, const float *x, int n, float *out);
    /* NeoX rotation of n_heads heads of x[t] at position pos0 + t: dim i pairs
     * with i + head_dim/2, angle (pos * inv_freq[i]), cos and sin scaled by mscale. */
    void (*rope)(gb_backend *b, float *x, int n, int n_heads, int head_dim, int pos0,
                 const float *inv_freq, float mscale);
    /* Attention of n queries at positions pos0.. : keys/values of positions
     * < pos0 come from the cache, those >= pos0 from k/v (this batch), so a
     * 128-slot ring suffices however long the batch. q [n, Hq], k/v [n, Hkv],
     * out [n, Hq]. Does not modify the cache. */
    void (*attention)(gb_backend *b, const gb_attn *a, const float *q, const float *k, const float *v,
                      int n, int pos0, float *out);
    /* Store this batch's k/v into the cache (only the last cap positions matter). */
    void (*kv_store)(gb_backend *b, const gb_attn *a, const float *k, const float *v, int n, int pos0);
    /* The whole MoE block: router, top-k, softmax over the k, clamped SwiGLU
     * experts, weighted sum; out [n, D] (overwritten). */
    void (*moe)(gb_backend *b, const gb_moe *m, const float *x, int n, float *out);
    /* x += y over len floats */
    void (*add)(gb_backend *b, float *x, const float *y, size_t len);
    void (*destroy)(gb_backend *b);
};

/* How matrix products see their input.
 * GB_EXACT: fp32, as the model was trained to be run (the reference).
 * GB_GGML: rounded first as ggml's CPU kernels round it (llama.cpp): to Q8_0
 *   blocks before Q8_32 / Q4_32 / MXFP4 weights, to BF16 / F16 before BF16 /
 *   F16 weights (kernels/cpu gk_round_like_ggml). The MoE router (f32) sees
 *   fp32 in both. Less accurate than GB_EXACT; it exists so that our logits
 *   can be compared with llama.cpp's at the level of float rounding. */
typedef enum { GB_EXACT = 0, GB_GGML = 1 } gb_numerics;

/* The CPU backend (kernels/cpu): n_threads <= 0 means one per CPU. */
gb_backend *gb_cpu_create(int n_threads);
gb_backend *gb_cpu_create_numerics(int n_threads, gb_numerics numerics);

#endif
