/* vk_dispatch.h - one GPU dispatch as plain data: kernel, bindings, push
 * constants, grid. The Vulkan host executes these; the Metal host (issue 12)
 * will execute the same descriptions, so the sequence a Mac runs is the one
 * tested here on lavapipe and NVIDIA.
 *
 * Binding convention (every shader in kernels/shaders/ follows it):
 *  - set 0, binding i = args[i]: a storage buffer. Weight buffers are
 *    declared as `readonly buffer { uint w[]; }` (raw little-endian words;
 *    block formats are read byte-wise from words, geometry from
 *    quant/quant_blocks.h), activations as `buffer { float x[]; }`.
 *  - The host binds each argument as a window of its buffer that starts at
 *    the argument's offset rounded down to minStorageBufferOffsetAlignment
 *    and is at most maxStorageBufferRange long (128 MiB on lavapipe). So the
 *    argument does not start at word 0 of the binding: push-constant word i
 *    (i < n_args) holds the argument's byte offset inside its window, and
 *    the shader adds it (a float argument's offset is a multiple of 4).
 *    Kernel-specific constants follow at push word n_args onwards.
 *  - An argument larger than one window is the op's problem: it splits the
 *    work (e.g. a matmul over row ranges) so that each dispatch's arguments
 *    fit; vk_run refuses (GB_ERR_INVALID) a range that does not fit.
 *  - push constants: at most 128 bytes (lavapipe's limit) = 32 words.
 */
#ifndef GQ_VK_DISPATCH_H
#define GQ_VK_DISPATCH_H

#include <stdint.h>

#include "backend.h"

#define GD_MAX_ARGS 8
#define GD_PUSH_WORDS 32

typedef struct {
    gb_ref ref;                 /* buffer + byte offset of the argument */
    uint64_t bytes;             /* bytes the kernel may touch from there */
    int writes;                 /* 1: the kernel writes it (for barriers) */
} gd_arg;

typedef struct {
    const char *kernel;         /* shader name: kernels/shaders/<kernel>.comp */
    int n_args;
    gd_arg args[GD_MAX_ARGS];
    uint32_t push[GD_PUSH_WORDS];   /* words [0, n_args) are filled by the host */
    uint32_t n_push;            /* words used, n_args included */
    uint32_t groups[3];         /* workgroup counts */
} gd_dispatch;

/* Record d into the current command stream (a barrier is inserted when d
 * reads or writes what an earlier unflushed dispatch wrote). Returns a status
 * (sticky on failure, see backend.h). */
gb_status vk_run(gb_backend *b, const gd_dispatch *d);

#endif
