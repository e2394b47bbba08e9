/* backend.h - the one interface between the model (runtime/) and the compute
 * backends (kernels/cpu, kernels/vulkan, kernels/metal).
 *
 * The promise, for a caller:
 *  - Memory is opaque. A backend hands out buffers (gb_buffer) and every
 *    tensor is addressed as buffer + byte offset (gb_ref), the way Vulkan and
 *    Metal address memory. The caller never dereferences a buffer: `write`
 *    and `read` move bytes between host and backend.
 *  - Every model tensor is a gb_weight, the small f32 ones too (norms, biases,
 *    sinks, router, RoPE frequencies). The model describes them once (host
 *    bytes, type, shape) and `prepare` makes them the backend's: the CPU
 *    wraps the host bytes (zero copy), a device backend copies them to device
 *    memory or imports the 16 KiB-aligned file mapping. Ops then use
 *    weight->dev and never the host bytes.
 *  - Every call returns a gb_status. A failure leaves b->error saying what
 *    happened in words (how much memory was asked for, which device was lost)
 *    and is sticky: every later op returns the same status without running,
 *    so a failed op can never be followed by numbers computed from stale
 *    output. Only destroy() is allowed after a failure.
 *  - Ops run in call order. A device backend may queue them; `read`, `score`
 *    and `finish` wait for everything queued before them.
 *  - Activations are fp32, token-major ([n, dim]: token t at t * dim floats),
 *    accumulation fp32 (or wider). n == 1 is decode, n > 1 batched prefill.
 *    The CPU backend is the exact reference the others are compared with
 *    (tests/backend: the conformance suite states each op's tolerance).
 *
 * The promise, for an implementer: fill every function pointer below but
 * the optional fused ops at the end of the table (NULL: the caller runs the
 * op sequence each one names), register a gb_backend_entry in backend.c, and pass
 * tests/backend's conformance suite and the golden-logits test with
 * GQ_TEST_BACKEND=<name>. See docs/ARCHITECTURE.md, "Adding a backend".
 */
#ifndef GQ_BACKEND_H
#define GQ_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

typedef enum {
    GB_OK = 0,
    GB_ERR_NOMEM,          /* host or device memory exhausted (b->error: how much was needed) */
    GB_ERR_DEVICE,         /* the device failed or was lost */
    GB_ERR_UNSUPPORTED,    /* no kernel for this weight type or shape on this backend */
    GB_ERR_INVALID,        /* an argument outside the contract (a caller bug) */
    GB_ERR_UNAVAILABLE     /* registry: the backend is not built in, or has no usable device */
} gb_status;

const char *gb_status_name(gb_status s);

/* A backend-owned allocation; defined privately by each backend. */
typedef struct gb_buffer gb_buffer;

/* A place in a buffer: buffer + byte offset. */
typedef struct {
    gb_buffer *buf;
    uint64_t off;
} gb_ref;

static inline gb_ref gb_ref_at(gb_ref r, uint64_t bytes)
{
    r.off += bytes;
    return r;
}
/* r advanced by i fp32 elements */
static inline gb_ref gb_ref_f32(gb_ref r, uint64_t i) { return gb_ref_at(r, i * 4u); }

/* A model tensor: n_mat matrices of [rows, cols] (n_mat = E for expert
 * stacks and expert biases, 1 otherwise), row-major, each row `row_bytes`
 * long in `type`'s block layout (quant.h). A vector of d values (a norm, a
 * bias, sinks, inv_freq) is n_mat = 1, rows = 1, cols = d, GQ_F32; the
 * biases of E experts are n_mat = E, rows = 1, cols = d. */
typedef struct {
    const char *name;      /* the tensor's name, for messages */
    gq_type type;
    int64_t n_mat, rows, cols;
    size_t row_bytes;
    const void *host;      /* n_mat * rows * row_bytes bytes: the file mapping or model memory */
    gb_ref dev;            /* set by prepare(); the only thing ops read */
    int gathered;          /* 1: ops read a few rows per token (the embedding), never the whole
                              matrix: a backend need not move it for streaming speed */
} gb_weight;

static inline uint64_t gb_weight_bytes(const gb_weight *w)
{
    return (uint64_t)w->n_mat * (uint64_t)w->rows * (uint64_t)w->row_bytes;
}

/* One attention layer: its shape, its cache, its window. Key/value of
 * position p live in slot p % cap of k_cache / v_cache (each cap *
 * n_kv_heads * head_dim floats): a ring of cap = sliding window slots for
 * sliding layers, one slot per context position otherwise. */
typedef struct {
    int n_heads, n_kv_heads, head_dim;
    int window;                /* 0: full causal; else position p sees keys p-window+1 .. p */
    const gb_weight *sinks;    /* [n_heads] learned sink logits (f32) */
    gb_ref k_cache, v_cache;
    int cap;
    float scale;               /* 1/sqrt(head_dim) */
} gb_attn;

/* One MoE block. The contract every backend implements exactly:
 *  1. router logits r = router . x + router_bias (fp32, [n_experts]);
 *  2. top_k experts by r, descending; among equal logits the lower expert
 *     index wins (so the choice is deterministic);
 *  3. weights w_i = softmax over the top_k chosen logits only (max-subtracted);
 *  4. per chosen expert e: h = gate_up[e] . x + gate_up_bias[e] ([2I], rows
 *     interleaved: h[2i] gate, h[2i+1] up); g = min(gate, limit),
 *     u = clamp(up, -limit, limit), a[i] = g * sigmoid(alpha * g) * (u + 1);
 *     y_e = down[e] . a + down_bias[e] ([D]);
 *  5. out = sum_i w_i * y_e(i) (overwrites out).
 * Only the chosen experts' weights are read. */
typedef struct {
    const gb_weight *router;         /* [E, D] f32 */
    const gb_weight *router_bias;    /* [E] */
    const gb_weight *gate_up;        /* [E][2I, D] */
    const gb_weight *gate_up_bias;   /* E x [2I] */
    const gb_weight *down;           /* [E][D, I] */
    const gb_weight *down_bias;      /* E x [D] */
    int n_experts, top_k, hidden, inter;
    float swiglu_limit;              /* 7 */
    float swiglu_alpha;              /* 1.702 */
} gb_moe;

/* The perplexity reductions, computed where the logits live so that only
 * scalars cross the bus. For each of n rows of `vocab` logits:
 *   log p(i) = logit(i) - logsumexp(logits)     (logsumexp in double on the CPU)
 *   nll      = -log p(target)
 *   top-k    = the k largest log p, descending, lower id first among equals,
 *              each clamped to <= 0
 *   kld      = KL(ref || this) = sum_i p_ref(i) (log p_ref(i) - log p(i)):
 *     - dense reference (ref_logits.buf != NULL): ref_logits is [n, vocab]
 *       logits on this backend (another model run in the same process): the
 *       exact full-vocabulary value;
 *     - sparse reference (ref_k > 0): the reference's top ref_k ids and log
 *       probabilities (host arrays, [n * ref_k]); the rest of its mass is one
 *       bucket compared with the rest of this row's mass: a lower bound. */
#define GB_TOPK_MAX 64
typedef struct {
    const int32_t *target;           /* [n] ids whose NLL is wanted, or NULL */
    int top_k;                       /* 0 .. GB_TOPK_MAX */
    gb_ref ref_logits;               /* dense reference, or .buf == NULL */
    int ref_k;                       /* sparse reference size, or 0 */
    const uint32_t *ref_ids;         /* [n * ref_k] */
    const float *ref_logp;           /* [n * ref_k] */
} gb_score_in;

typedef struct {                     /* host arrays the caller owns; NULL = not wanted */
    float *nll;                      /* [n] (needs target) */
    uint32_t *top_ids;               /* [n * top_k] */
    float *top_logp;                 /* [n * top_k] */
    double *kld;                     /* [n] (needs a reference) */
} gb_score_out;

typedef struct gb_backend gb_backend;
struct gb_backend {
    const char *name;          /* registry name: "cpu", "vulkan", "metal" */
    char device[128];          /* what runs the ops, in words ("NVIDIA H200", "AMD EPYC 9B14 (2 threads)") */
    char isa[32];              /* the kernel path ("avx512", "avx2", "scalar", "spirv", "msl") */
    int is_software;           /* 1: a CPU emulating a GPU (lavapipe): never picked by "auto" */
    char error[512];           /* the first failure, in words */
    gb_status status;          /* the first failure (sticky; set by gb_fail), GB_OK until one */
    void *ctx;

    /* Make the weights the backend's (sets each w[i]->dev). map / map_bytes:
     * the page-aligned file mapping that most weights' host bytes lie in (a
     * device that can import host memory may map it instead of copying), or
     * NULL. A device backend checks first that everything fits and says how
     * much is needed before it uploads anything. May be called again for
     * another model on the same backend (ppl --ref-model): each call adds
     * its weights; all stay until destroy. */
    gb_status (*prepare)(gb_backend *b, gb_weight *const *w, int n_weights, const void *map, uint64_t map_bytes);

    /* Zero-filled buffer of `bytes`. */
    gb_status (*alloc)(gb_backend *b, uint64_t bytes, gb_buffer **out);
    void (*release)(gb_backend *b, gb_buffer *buf);
    gb_status (*write)(gb_backend *b, gb_ref dst, const void *host, uint64_t bytes);
    /* Copies after every queued op has finished. */
    gb_status (*read)(gb_backend *b, gb_ref src, void *host, uint64_t bytes);
    /* Waits for every queued op (benchmarks time with it). */
    gb_status (*finish)(gb_backend *b);

    /* out[t] = decode(row ids[t] of w) ([n, cols]); ids are host ids < w->rows. */
    gb_status (*embed)(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, gb_ref out);
    /* out[t] = x[t] * (1 / sqrt(mean(x[t]^2) + eps)) * w; the mean of squares
     * is summed in double on the CPU. out may equal x. */
    gb_status (*rmsnorm)(gb_backend *b, gb_ref x, const gb_weight *w, int n, int dim, float eps, gb_ref out);
    /* out[t][r] = sum_c W[r][c] x[t][c] (+ bias[r]); W is w's only matrix,
     * x [n, cols], out [n, rows]; bias may be NULL. */
    gb_status (*matmul)(gb_backend *b, const gb_weight *w, const gb_weight *bias, gb_ref x, int n, gb_ref out);
    /* In place NeoX rotation of n_heads heads of x[t] at position pos0 + t:
     * dim i pairs with i + head_dim/2, angle pos * inv_freq[i], cos and sin
     * scaled by mscale (YaRN). */
    gb_status (*rope)(gb_backend *b, gb_ref x, int n, int n_heads, int head_dim, int pos0,
                      const gb_weight *inv_freq, float mscale);
    /* Attention with sinks of n queries at positions pos0 .. pos0+n-1: keys
     * and values of positions < pos0 come from the cache, those >= pos0 from
     * k / v (this batch), so a window-sized ring suffices however long the
     * batch. q [n, Hq], k / v [n, Hkv], out [n, Hq]; the sink joins the
     * softmax denominator only. Does not modify the cache. */
    gb_status (*attention)(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                           gb_ref out);
    /* Store this batch's k / v into the cache (only the last cap positions matter). */
    gb_status (*kv_store)(gb_backend *b, const gb_attn *a, gb_ref k, gb_ref v, int n, int pos0);
    /* The whole MoE block (contract above); x [n, D], out [n, D]. */
    gb_status (*moe)(gb_backend *b, const gb_moe *m, gb_ref x, int n, gb_ref out);
    /* x[i] += y[i] for i < len. */
    gb_status (*add)(gb_backend *b, gb_ref x, gb_ref y, uint64_t len);
    /* The perplexity reductions of n rows of logits ([n, vocab]); see gb_score_in. */
    gb_status (*score)(gb_backend *b, gb_ref logits, int n, int vocab, const gb_score_in *in, gb_score_out *out);

    /* ---- optional: fused ops, NULL where a backend has none ----
     * Each is a sequence of the ops above in one pass over the data (fewer
     * dependent dispatches on a GPU: a decoded token is latency-bound).
     * runtime/model/forward.c calls one when it is set and the named
     * sequence otherwise, so every result must equal that sequence's on the
     * same backend (tests/backend checks it bit for bit, and against the
     * double-precision references). */
    /* add(x, y, n * dim), then rmsnorm(x, w, n, dim, eps, out); out != x. */
    gb_status (*add_rmsnorm)(gb_backend *b, gb_ref x, gb_ref y, const gb_weight *w, int n, int dim, float eps,
                             gb_ref out);
    /* rope(q, n, a->n_heads, ...), rope(k, n, a->n_kv_heads, ...), then
     * kv_store(a, k, v, n, pos0): the store happens BEFORE the attention of
     * this batch, which is the same only when it overwrites no slot that
     * attention reads: a->window == 0 (cap >= every position), or
     * n + a->window - 1 <= a->cap, or pos0 + n <= a->cap (no slot wraps
     * yet). The caller checks that. */
    gb_status (*rope_kv_store)(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                               const gb_weight *inv_freq, float mscale);
    /* ids[r] = the index of the largest of row r's `vocab` logits (lower
     * index first among equals; NaN never wins; a row of NaN gives 0), for
     * greedy decoding without reading the logits back. Waits like read. */
    gb_status (*argmax)(gb_backend *b, gb_ref logits, int n, int vocab, int32_t *ids);

    /* Read bandwidth this backend's kernels reach over `bytes` of its own
     * memory (the decode floor of `bench`), in bytes per second. */
    gb_status (*read_bandwidth)(gb_backend *b, uint64_t bytes, double *bytes_per_s);

    /* Optional (NULL where it means nothing, e.g. device memory): the share,
     * 0..1, of the prepared weights' bytes that every token reads (all but
     * the gathered ones) lying on 2 MiB pages now, or -1 where the system
     * does not say. On a CPU, decode through 4 KiB pages takes a TLB miss
     * every 4 KiB (docs/RUNTIME.md), so `bench` reports it: a slow run
     * explains itself. */
    double (*weights_huge_fraction)(gb_backend *b);

    /* Frees everything, buffers and prepared weights included. */
    void (*destroy)(gb_backend *b);
};

/* Set b's error and (the first time) its sticky status; returns s. For
 * backend implementations. */
gb_status gb_fail(gb_backend *b, gb_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- the registry (backend.c) ---- */

typedef struct {
    int n_threads;             /* CPU threads (<= 0: one per core) */
    const char *device;        /* device selector of a GPU backend (index or name substring), or NULL */
} gb_config;

typedef struct {
    const char *name;
    /* 1 if usable here, else 0 with `why` naming what is missing. *software:
     * the only device is a CPU emulation (lavapipe). */
    int (*probe)(const gb_config *c, int *software, char *why, size_t whylen);
    gb_backend *(*create)(const gb_config *c, char *err, size_t errlen);
} gb_backend_entry;

/* Every backend compiled in, in "auto" preference order (metal, vulkan,
 * cpu), NULL-terminated. */
const gb_backend_entry *const *gb_backends(void);

/* Create backend NAME ("cpu", "vulkan", "metal", or "auto").
 *  - "auto": the first backend with a real device, else the CPU; when it
 *    falls back, *note (if not NULL) gets one line saying why.
 *  - an unknown or unavailable name: GB_ERR_UNAVAILABLE, err naming what is
 *    missing (not built in / no device / no loader) and the alternatives. */
gb_status gb_backend_create(const char *name, const gb_config *c, gb_backend **out, char *note, size_t notelen,
                            char *err, size_t errlen);

#endif
