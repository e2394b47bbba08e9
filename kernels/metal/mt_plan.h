/* mt_plan.h - the Metal host's decisions, in plain C: which kernel a
 * dispatch names, where each argument is bound, how a file mapping larger
 * than one MTLBuffer is cut into views. The Objective-C host
 * (mt_backend.m) only carries them out with Metal calls; everything here
 * builds and is tested on any platform (tests/metal/test_mt_plan.c), so
 * what a Mac runs untested is the thin part.
 *
 * Binding scheme (docs/METAL.md, kernels/metal/gen_msl.py): push constants
 * at [[buffer(0)]] (setBytes, always GD_PUSH_WORDS words), argument i at
 * [[buffer(i + 1)]] (setBuffer:offset:), bound at its offset rounded down
 * to MT_BIND_ALIGN with the remainder in push word i, the same window
 * convention as Vulkan (gd.h). */
#ifndef GQ_MT_PLAN_H
#define GQ_MT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "gd.h"

/* The Metal host's buffer (mt_backend.m; the tests make their own). */
struct gb_buffer {
    void *mtl;                 /* id<MTLBuffer>, retained */
    uint64_t size;
    uint8_t *cpu;              /* its contents (shared storage) */
    struct gb_buffer *next;    /* every live buffer, for destroy() */
};

/* One Metal kernel: generated from kernels/metal/msl/<name>.metal by
 * kernels/metal/embed_msl.cmake (mt_kernels.c), sorted by name. */
typedef struct {
    const char *name;
    const char *src;           /* the MSL source, NUL-terminated */
    uint32_t threads[3];       /* threads per threadgroup (the SPIR-V's LocalSize) */
    int n_args;                /* storage buffers: [[buffer(1)]] .. [[buffer(n_args)]] */
} mt_kernel;

extern const mt_kernel mt_kernel_table[];
extern const int mt_kernel_count;

/* The kernel called name, or NULL. */
const mt_kernel *mt_kernel_find(const char *name);

/* Offsets are bound at multiples of this (Metal wants 4 for device
 * buffers, 256 for constant buffers on some Macs: 256 suits both). */
#define MT_BIND_ALIGN 256u

/* The largest span one argument may have (gd_host.window): a binding is at
 * most one MTLBuffer (maxBufferLength) and the kernels index it with
 * 32-bit byte offsets, less the alignment slack. */
uint64_t mt_window(uint64_t max_buffer_length);

/* Where d's arguments go: argument i at byte offset[i] of its buffer,
 * push[] the words for [[buffer(0)]] (d->push with words [0, n_args) set
 * to each argument's offset inside its binding). */
typedef struct {
    uint64_t offset[GD_MAX_ARGS];
    uint32_t push[GD_PUSH_WORDS];
} mt_binding;

/* Check d against its kernel (mt_kernel_find(d->kernel): argument count,
 * push words) and each argument against its buffer and the window; fill
 * *out and *kernel. 0, or -1 with why in words (the host turns it into
 * GB_ERR_INVALID). */
int mt_bind(const gd_dispatch *d, uint64_t window, const mt_kernel **kernel, mt_binding *out, char *why,
            size_t whylen);

/* A byte range [off, off + len) of the file mapping, wrapped as one MTLBuffer. */
typedef struct {
    uint64_t off, len;
} mt_view;

/* Cut a mapping of map_bytes into views of at most max_len bytes, each a
 * whole number of pages starting on a page, overlapping by at least
 * `largest` bytes so that every tensor of at most `largest` bytes lies whole
 * inside one view (llama.cpp's Metal backend does the same). The last view
 * may reach past map_bytes up to the next page boundary (the mapping's last
 * page). Returns the number of views (<= cap), 0 if they do not fit in cap
 * or max_len is too small for the overlap. */
int mt_plan_views(uint64_t map_bytes, uint64_t page, uint64_t max_len, uint64_t largest, mt_view *v, int cap);

/* The first view holding [off, off + len) whole, or -1. */
int mt_view_of(const mt_view *v, int n, uint64_t off, uint64_t len);

#endif
