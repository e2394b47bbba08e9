/* gd.h - one GPU dispatch as plain data: kernel, bindings, push constants,
 * grid; and the few things a GPU host provides to the op files that build
 * them (gd_host). The op files (gd_ops_*.c) never call a GPU API: the
 * Vulkan host (kernels/vulkan) and the Metal host (kernels/metal) execute
 * the same descriptions, so the sequence a Mac runs is the one tested here
 * on lavapipe and NVIDIA.
 *
 * Binding convention (every shader in kernels/shaders/ follows it):
 *  - set 0, binding i = args[i]: a storage buffer. Weight buffers are
 *    declared as `readonly buffer { uint w[]; }` (raw little-endian words;
 *    block formats are read byte-wise from words, geometry from
 *    quant/quant_blocks.h), activations as `buffer { float x[]; }`.
 *  - The host binds each argument as a window of its buffer that starts at
 *    the argument's offset rounded down to the host's alignment and is at
 *    most gd_host.window long (Vulkan: minStorageBufferOffsetAlignment and
 *    maxStorageBufferRange, 128 MiB on lavapipe). So the argument does not
 *    start at word 0 of the binding: push-constant word i (i < n_args)
 *    holds the argument's byte offset inside its window, and the shader
 *    adds it (a float argument's offset is a multiple of 4).
 *    Kernel-specific constants follow at push word n_args onwards.
 *  - An argument larger than one window is the op's problem: it splits the
 *    work (e.g. a matmul over row ranges) so that each dispatch's arguments
 *    fit; the host's run refuses (GB_ERR_INVALID) a range that does not fit.
 *  - push constants: at most 128 bytes (lavapipe's limit) = 32 words.
 */
#ifndef GQ_GD_H
#define GQ_GD_H

#include <stdint.h>

#include "backend.h"

#define GD_MAX_ARGS 8
#define GD_PUSH_WORDS 32
#define GD_SCRATCH_SLOTS 8             /* slot GD_SCRATCH_SLOTS - 1 is score's */
#define GD_UPLOAD_MAX (32ull << 20)    /* the most one gd_upload may move */

typedef struct {
    gb_ref ref;                 /* buffer + byte offset of the argument */
    uint64_t bytes;             /* bytes the kernel may touch from there */
    int writes;                 /* 1: the kernel writes it (for barriers) */
} gd_arg;

static inline gd_arg gd_arg_of(gb_ref ref, uint64_t bytes, int writes)
{
    gd_arg a = {ref, bytes, writes};
    return a;
}

typedef struct {
    const char *kernel;         /* shader name: kernels/shaders/<kernel>.comp */
    int n_args;
    gd_arg args[GD_MAX_ARGS];
    uint32_t push[GD_PUSH_WORDS];   /* words [0, n_args) are filled by the host */
    uint32_t n_push;            /* words used, n_args included */
    uint32_t groups[3];         /* workgroup counts */
} gd_dispatch;

/* What a GPU host provides to the op files. It is the FIRST member of the
 * host's context (b->ctx), so gd_host_of(b) finds it; the host fills it in
 * create(). Everything else an op needs goes through the gb_backend itself
 * (b->alloc, b->release, b->read, b->finish, b->status, gb_fail). */
typedef struct {
    /* Record d into the current command stream, after everything queued
     * before it (a barrier is inserted when d reads or writes what an
     * earlier unflushed dispatch wrote). Sticky on failure (backend.h). */
    gb_status (*run)(gb_backend *b, const gd_dispatch *d);
    /* A device scratch buffer of at least `bytes` for slot 0..7, kept and
     * reused across calls (contents undefined); ordering with queued work is
     * run's. */
    gb_status (*scratch)(gb_backend *b, int slot, uint64_t bytes, gb_ref *out);
    /* Copy `bytes` (<= GD_UPLOAD_MAX) of host data into the command stream
     * and return where it is: valid until the next finish, read or scratch
     * growth, so bind it right away. */
    gb_status (*upload)(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out);
    /* The largest byte range one argument can span from any offset: ops
     * split their work so every argument of a dispatch is at most this long. */
    uint64_t window;
    uint64_t max_alloc;         /* one buffer at most (read_bandwidth's size cap) */
} gd_host;

static inline gd_host *gd_host_of(gb_backend *b) { return (gd_host *)b->ctx; }
static inline gb_status gd_run(gb_backend *b, const gd_dispatch *d) { return gd_host_of(b)->run(b, d); }
static inline gb_status gd_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out)
{
    return gd_host_of(b)->scratch(b, slot, bytes, out);
}
static inline gb_status gd_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out)
{
    return gd_host_of(b)->upload(b, host, bytes, out);
}
static inline uint64_t gd_window_bytes(gb_backend *b) { return gd_host_of(b)->window; }
/* gd_window_bytes rounded down to 16: the span ops size their splits by */
static inline uint64_t gd_max_arg_bytes(gb_backend *b) { return gd_host_of(b)->window & ~(uint64_t)15; }

/* Dispatch helpers for op files. */
static inline uint32_t gd_f2u(float f)
{
    union {
        float f;
        uint32_t u;
    } v = {f};
    return v.u;
}
static inline uint32_t gd_groups(uint64_t items, uint32_t per) { return (uint32_t)((items + per - 1) / per); }

#endif
