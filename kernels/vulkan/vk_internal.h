/* vk_internal.h - the Vulkan backend's private state, shared by its files:
 *   vk_device.c    instance, device choice, queue, limits (probe)
 *   vk_memory.c    buffers, staging, write/read, prepare (weight upload)
 *   vk_pipeline.c  kernel table -> pipelines, the on-disk pipeline cache
 *   vk_record.c    vk_run: windows, barriers, command buffer, submit
 *   vk_backend.c   gb_vulkan_entry: create/destroy, the op table
 *
 * The ops themselves are kernels/gpu/gd_ops_*.c, shared with the Metal
 * host: they build gd_dispatch values and reach this host only through
 * gd_host (gd.h), which vk_ctx starts with: run = vk_run, scratch =
 * vk_scratch, upload = vk_stream_upload, window = vk_window_bytes(). */
#ifndef GQ_VK_INTERNAL_H
#define GQ_VK_INTERNAL_H

#include <stdint.h>

#include "backend.h"
#include "gd.h"
#include "gd_ops.h"
#include "vk_fn.h"

struct gb_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    uint64_t size;
    uint8_t *map;              /* host pointer when the memory is host-visible and coherent, else NULL */
    struct gb_buffer *next;    /* every live buffer, for destroy() */
};

typedef struct {
    const gb_buffer *buf;
    uint64_t lo, hi;           /* byte range [lo, hi) */
    int writes;
} vk_range;

typedef struct {
    const char *req;           /* the kernel the ops ask for (gd_dispatch.kernel) */
    const char *name;          /* the kernel that runs: req, or its cm_ twin (vk_pipeline_get) */
    VkPipeline pipe;
    int n_args;
    uint64_t runs;             /* dispatches of this kernel */
    double seconds;            /* GQ_VK_PROFILE=1: GPU time from the command before its dispatches to their end */
} vk_pipe;

/* One command of the stream (vk_record.c), as plain data: a whole submit's
 * commands are compared bytewise with those of command buffers recorded
 * earlier, and an equal one is submitted again instead of recording anew
 * (a decoded token's ~360 dispatches are the same every token). Unused
 * fields are zero. */
enum { VK_CMD_DISPATCH, VK_CMD_COPY, VK_CMD_FILL };
typedef struct {
    uint32_t kind;
    uint32_t barrier;          /* a global memory barrier before it */
    int32_t pipe;              /* dispatch: index into c->pipes */
    uint32_t n_args, n_push;
    uint32_t groups[3];
    VkBuffer buf[GD_MAX_ARGS]; /* dispatch: binding i; copy: 0 src, 1 dst; fill: 0 */
    uint64_t off[GD_MAX_ARGS];   /* dispatch: window start; copy: 0 src, 1 dst offset */
    uint64_t range[GD_MAX_ARGS]; /* dispatch: window length; copy: 0 bytes */
    uint32_t push[GD_PUSH_WORDS];
} vk_cmd;

/* A recorded command buffer and the commands it holds. */
typedef struct {
    VkCommandBuffer cmd;
    VkDescriptorPool *pools;   /* its descriptor sets live as long as it does */
    int n_pools, cur_pool;
    uint32_t sets_in_pool;
    vk_cmd *trace;
    uint32_t n_cmd, cap;       /* n_cmd == 0: empty */
    uint64_t used;             /* when it was last submitted (LRU) */
} vk_rec;
#define VK_RECS 4

typedef struct {
    gd_host host;              /* first: what the shared ops call (gd.h) */
    vk_fns f;
    VkInstance inst;
    VkPhysicalDevice phys;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    uint64_t max_range;        /* maxStorageBufferRange, rounded down to `align` */
    uint64_t align;            /* minStorageBufferOffsetAlignment (at least 16) */
    uint64_t max_alloc;        /* one allocation / one buffer at most */
    uint64_t heap_bytes;       /* the device-local heap */
    uint32_t subgroup;         /* subgroup size */
    int coopmat;               /* run the cm_* tensor-core kernels (vk_device.c says when) */
    int mt_device, mt_stage;   /* memory type indices */

    gb_status status;          /* sticky first failure (mirrors gb_fail) */

    /* pipelines (vk_pipeline.c) */
    VkPipelineCache cache;
    char cache_path[1024];
    uint64_t cache_loaded;     /* bytes of pipeline cache read from disk (0: none or rejected) */
    VkDescriptorSetLayout dsl[GD_MAX_ARGS + 1];
    VkPipelineLayout layout[GD_MAX_ARGS + 1];
    vk_pipe *pipes;
    int n_pipes, cap_pipes;

    /* the command stream (vk_record.c) */
    VkCommandPool cpool;
    VkFence fence;
    int recording;             /* commands are waiting for a submit */
    vk_cmd *trace;             /* the commands since the last submit */
    uint32_t n_cmd, cap_cmd;
    uint32_t barrier_next;     /* the next command gets a barrier */
    vk_rec rec[VK_RECS];       /* command buffers recorded earlier */
    uint64_t rec_clock;
    vk_range *ranges;          /* what recorded work touched since the last barrier */
    int n_ranges, cap_ranges;

    /* memory (vk_memory.c) */
    gb_buffer *buffers;        /* every live buffer */
    gb_buffer *stage;          /* host-visible: uploads inside the stream, readback */
    uint64_t stage_used;
    gb_buffer **arenas;        /* prepared weights */
    int n_arenas;
    gb_buffer *scratch[GD_SCRATCH_SLOTS];
    uint64_t device_bytes;     /* bytes allocated on the device now */

    /* GQ_VK_PROFILE=1 (vk_record.c): a timestamp query after every command,
     * in the command buffer itself; at each submit's end the time between
     * consecutive timestamps goes to the command's kernel */
    int profile;
    VkQueryPool qpool;         /* VK_NULL_HANDLE: not profiling (or no timestamps on this queue) */
    uint32_t q_cap;            /* queries in the pool */
    double ts_ns;              /* nanoseconds per timestamp tick */
    uint64_t ts_mask;          /* timestampValidBits of the queue */
    vk_pipe prof_copy, prof_fill; /* copies and fills, profiled like kernels */
    double prof_gpu_s;         /* GPU time of every submitted command buffer, start to last command */
    double prof_t0, prof_t1;   /* host time of the first command, of the last submit's end */
    int spin;                  /* GQ_VK_SPIN=1: poll the fence for up to 50 ms before blocking (vk_record.c) */
    int no_map;                /* GQ_VK_NO_MAP=1: device buffers are never mapped (a discrete GPU's
                                * staged paths, tested on lavapipe whose memory is all host-visible) */
    /* counters (GQ_VK_STATS=1 prints them at destroy) */
    uint64_t n_dispatch, n_barrier, n_submit;
    uint64_t n_replay;         /* submits that reused a recorded command buffer */
} vk_ctx;

static inline vk_ctx *vk_ctx_of(gb_backend *b) { return (vk_ctx *)b->ctx; }

/* gb_fail plus the backend's own sticky status. */
#define vk_fail(b, s, ...) (vk_ctx_of(b)->status = vk_ctx_of(b)->status ? vk_ctx_of(b)->status : (s), gb_fail((b), (s), __VA_ARGS__))
/* A VkResult as a gb_status: out of memory -> GB_ERR_NOMEM, else GB_ERR_DEVICE. */
gb_status vk_status_of(VkResult r);
const char *vk_result_name(VkResult r);

/* ---- vk_device.c ---- */
/* Fill ctx's instance, physical device (by sel: NULL, an index, or a name
 * substring; GQ_VK_DEVICE overrides), device, queue and limits. 0 or -1 with why. */
int vk_device_open(vk_ctx *c, const char *sel, char *why, size_t whylen);
void vk_device_close(vk_ctx *c);
/* Is there a loader and a device? *software: the best device is a CPU one. */
int vk_device_probe(const char *sel, int *software, char *why, size_t whylen);

/* ---- vk_memory.c ---- */
/* A buffer of `bytes` (contents undefined): device-local, or host-visible
 * staging memory when host is set. */
gb_status vk_buffer_new(gb_backend *b, uint64_t bytes, int host, gb_buffer **out);
void vk_buffer_free(gb_backend *b, gb_buffer *buf);
void vk_memory_destroy(gb_backend *b);
gb_status vk_op_alloc(gb_backend *b, uint64_t bytes, gb_buffer **out);
void vk_op_release(gb_backend *b, gb_buffer *buf);
gb_status vk_op_write(gb_backend *b, gb_ref dst, const void *host, uint64_t bytes);
gb_status vk_op_read(gb_backend *b, gb_ref src, void *host, uint64_t bytes);
gb_status vk_op_prepare(gb_backend *b, gb_weight *const *w, int n, const void *map, uint64_t map_bytes);
/* Copy `bytes` of host data into the staging buffer and return where it is:
 * valid until the next vk_flush (read, finish, score's read-back, a full
 * staging buffer, vk_scratch growing, release), so bind it right away.
 * Flushes first when the staging buffer is full; bytes <= VK_STAGE_BYTES. */
gb_status vk_stream_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out);
/* gd_host.scratch: a temporary device buffer per slot, kept between ops
 * (growing it waits for queued work first). Slot 7 is score's. */
gb_status vk_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out);
#define VK_STAGE_BYTES GD_UPLOAD_MAX

/* ---- vk_pipeline.c ---- */
gb_status vk_pipelines_init(gb_backend *b);
void vk_pipelines_destroy(gb_backend *b);
/* The pipeline of a kernel with n_args bindings (created on first use). */
gb_status vk_pipeline_get(gb_backend *b, const char *kernel, int n_args, VkPipeline *out, vk_pipe **entry);

/* ---- vk_record.c ---- */
/* gd_host.run: record d (vk_record.c's header says how). */
gb_status vk_run(gb_backend *b, const gd_dispatch *d);
gb_status vk_record_init(gb_backend *b);
void vk_record_destroy(gb_backend *b);
/* Submit what is queued and wait for it (staging is free again afterwards). */
gb_status vk_flush(gb_backend *b);
/* Queue a copy of n bytes (src at so -> dst at dof), a zero fill of a whole
 * buffer; each after everything queued before it that it depends on. */
gb_status vk_cmd_copy(gb_backend *b, gb_buffer *src, uint64_t so, gb_buffer *dst, uint64_t dof, uint64_t n);
gb_status vk_cmd_fill(gb_backend *b, gb_buffer *dst);
/* A buffer is about to be destroyed: forget the command buffers that bind
 * it (its handle may come back for another buffer). */
void vk_record_forget(gb_backend *b);
/* GQ_VK_PROFILE=1: the per-kernel GPU time table on stderr */
void vk_profile_print(gb_backend *b);
/* The largest byte range one descriptor window can address from any offset
 * (maxStorageBufferRange less the offset alignment): ops split their work so
 * every argument of a dispatch is at most this long. */
uint64_t vk_window_bytes(gb_backend *b);
/* CLOCK_MONOTONIC in seconds */
double vk_now(void);

#endif
