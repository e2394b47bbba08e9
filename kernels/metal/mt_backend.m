/* mt_backend.m - gb_metal_entry: the Metal host (Apple GPUs).
 *
 * It executes the shared dispatch descriptions (kernels/gpu: the same ops
 * the Vulkan backend runs) with the kernels generated from the same SPIR-V
 * (kernels/metal/msl, embedded by embed_msl.cmake). Which kernel, where each
 * argument binds and how a large file is cut into buffers are decided in
 * plain C (mt_plan.c, tested everywhere); this file only makes the Metal
 * calls:
 *  - device: MTLCreateSystemDefaultDevice (or gb_config.device / GQ_METAL_DEVICE:
 *    an index or a name substring of MTLCopyAllDevices);
 *  - kernels: one library per kernel compiled at first use from its MSL
 *    (newLibraryWithSource, MSL 2.4, fast math OFF so that the fp32 order of
 *    summation is the Vulkan kernels'), one pipeline each, cached by kernel;
 *  - memory: every buffer is MTLResourceStorageModeShared (unified memory:
 *    write/read are memcpy after the queued work is done). Weights inside
 *    the 16 KiB-aligned .gptoss mapping are wrapped without a copy
 *    (newBufferWithBytesNoCopy), as overlapping views where the file is
 *    larger than maxBufferLength; others (GGUF, tensors the model made) are
 *    copied. recommendedMaxWorkingSetSize is checked before anything is made;
 *  - work: the ops of a forward step are encoded into one command buffer
 *    and one serial compute encoder (Metal orders the dispatches of a serial
 *    encoder and makes each one's writes visible to the next, so no
 *    barriers are tracked); it is committed and waited for only where the
 *    caller reads (read, score, finish, write) or after MT_MAX_RECORDED
 *    dispatches.
 * Compiled with ARC; Metal objects kept in C structs are retained void
 * pointers (keep / drop).
 *
 * NOT RUN: this project's machines have no Apple GPU. tests/metal parses it
 * against a stand-in of the Metal / Foundation declarations it uses;
 * docs/METAL.md says what a Mac user runs to check it. */
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "gd.h"
#include "gd_ops.h"
#include "mt_plan.h"

#define MT_MAX_RECORDED 1024 /* dispatches per command buffer before it is committed */
#define MT_MAX_VIEWS 64
#define GIB(x) ((double)(x) / (double)(1ull << 30))

typedef struct {
    gd_host host;              /* first: what the shared ops call (gd.h) */
    void *dev, *queue;         /* id<MTLDevice>, id<MTLCommandQueue> */
    void *cmd, *enc;           /* the open command buffer and its encoder, or NULL */
    void **pipes;              /* id<MTLComputePipelineState> per mt_kernel_table row, made on first use */
    gb_buffer *buffers;
    gb_buffer *stage;          /* gd_upload's bytes, GD_UPLOAD_MAX */
    uint64_t stage_used;
    gb_buffer *scratch[GD_SCRATCH_SLOTS];
    uint32_t n_rec;            /* dispatches in the open command buffer */
    uint64_t n_dispatch, n_commit;
} mt_ctx;

static mt_ctx *ctx_of(gb_backend *b) { return (mt_ctx *)b->ctx; }
static void *keep(id o) { return (__bridge_retained void *)o; }
static void drop(void *p)
{
    id o = (__bridge_transfer id)p; /* released when o goes out of scope */
    (void)o;
}
static id<MTLDevice> dev_of(mt_ctx *c) { return (__bridge id<MTLDevice>)c->dev; }
static const char *text(NSString *s) { return s ? [s UTF8String] : "?"; }

/* ---- work ---- */

/* Commit the open command buffer and wait for it. reset_stage: the upload
 * area may be reused (not inside run, where an upload may be unbound yet). */
static gb_status flush(gb_backend *b, int reset_stage)
{
    mt_ctx *c = ctx_of(b);
    if (c->cmd) {
        @autoreleasepool {
            id<MTLCommandBuffer> cb = (__bridge_transfer id<MTLCommandBuffer>)c->cmd;
            id<MTLComputeCommandEncoder> enc = (__bridge_transfer id<MTLComputeCommandEncoder>)c->enc;
            c->cmd = c->enc = NULL;
            c->n_rec = 0;
            [enc endEncoding];
            [cb commit];
            [cb waitUntilCompleted];
            c->n_commit++;
            if ([cb status] != MTLCommandBufferStatusCompleted)
                return gb_fail(b, GB_ERR_DEVICE, "metal: a command buffer failed on %s: %s", b->device,
                               [cb error] ? text([[cb error] localizedDescription]) : "no reason given");
        }
    }
    if (reset_stage)
        c->stage_used = 0;
    return b->status;
}

/* The pipeline of kernel k, compiled from its MSL on first use. */
static gb_status pipeline(gb_backend *b, const mt_kernel *k, id<MTLComputePipelineState> *out)
{
    mt_ctx *c = ctx_of(b);
    size_t i = (size_t)(k - mt_kernel_table);
    if (!c->pipes[i]) {
        @autoreleasepool {
            MTLCompileOptions *opt = [[MTLCompileOptions alloc] init];
            opt.languageVersion = MTLLanguageVersion2_4;
            opt.fastMathEnabled = NO; /* deprecated by macOS 15's mathMode, still honoured (CMakeLists.txt) */
            NSError *e = nil;
            NSString *src = [NSString stringWithUTF8String:k->src];
            NSString *fname = [NSString stringWithUTF8String:k->name];
            id<MTLLibrary> lib = [dev_of(c) newLibraryWithSource:src options:opt error:&e];
            id<MTLFunction> fn = lib ? [lib newFunctionWithName:fname] : nil;
            id<MTLComputePipelineState> p = fn ? [dev_of(c) newComputePipelineStateWithFunction:fn error:&e] : nil;
            if (!p)
                return gb_fail(b, GB_ERR_DEVICE, "metal: kernel %s does not build on %s: %s", k->name, b->device,
                               e ? text([e localizedDescription]) : "the library has no function of that name");
            uint64_t want = (uint64_t)k->threads[0] * k->threads[1] * k->threads[2];
            if ((uint64_t)[p maxTotalThreadsPerThreadgroup] < want)
                return gb_fail(b, GB_ERR_UNSUPPORTED, "metal: kernel %s needs %llu threads per threadgroup, %s "
                               "allows %llu for it", k->name, (unsigned long long)want, b->device,
                               (unsigned long long)[p maxTotalThreadsPerThreadgroup]);
            c->pipes[i] = keep(p);
        }
    }
    *out = (__bridge id<MTLComputePipelineState>)c->pipes[i];
    return GB_OK;
}

/* gd_host.run: encode d into the open command buffer (opened here). */
static gb_status mt_run(gb_backend *b, const gd_dispatch *d)
{
    mt_ctx *c = ctx_of(b);
    if (b->status)
        return b->status;
    if (!d->groups[0] || !d->groups[1] || !d->groups[2])
        return GB_OK;
    const mt_kernel *k;
    mt_binding bind;
    char why[256];
    if (mt_bind(d, c->host.window, &k, &bind, why, sizeof why))
        return gb_fail(b, GB_ERR_INVALID, "metal: %s", why);
    gb_status s;
    @autoreleasepool {
        id<MTLComputePipelineState> p;
        if ((s = pipeline(b, k, &p)))
            return s;
        if (c->n_rec >= MT_MAX_RECORDED && (s = flush(b, 0)))
            return s;
        if (!c->cmd) {
            id<MTLCommandBuffer> cb = [(__bridge id<MTLCommandQueue>)c->queue commandBuffer];
            id<MTLComputeCommandEncoder> enc = cb ? [cb computeCommandEncoder] : nil;
            if (!enc)
                return gb_fail(b, GB_ERR_DEVICE, "metal: no command buffer from %s", b->device);
            c->cmd = keep(cb);
            c->enc = keep(enc);
        }
        id<MTLComputeCommandEncoder> enc = (__bridge id<MTLComputeCommandEncoder>)c->enc;
        [enc setComputePipelineState:p];
        [enc setBytes:bind.push length:sizeof bind.push atIndex:0];
        for (int i = 0; i < d->n_args; i++)
            [enc setBuffer:(__bridge id<MTLBuffer>)d->args[i].ref.buf->mtl offset:(NSUInteger)bind.offset[i]
                   atIndex:(NSUInteger)i + 1];
        [enc dispatchThreadgroups:MTLSizeMake(d->groups[0], d->groups[1], d->groups[2])
            threadsPerThreadgroup:MTLSizeMake(k->threads[0], k->threads[1], k->threads[2])];
    }
    c->n_rec++;
    c->n_dispatch++;
    return GB_OK;
}

/* ---- memory ---- */

static gb_status add_buffer(gb_backend *b, id<MTLBuffer> m, uint64_t size, gb_buffer **out)
{
    mt_ctx *c = ctx_of(b);
    gb_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return gb_fail(b, GB_ERR_NOMEM, "metal: out of host memory for a buffer descriptor");
    buf->mtl = keep(m);
    buf->size = size;
    buf->cpu = (uint8_t *)[m contents];
    buf->next = c->buffers;
    c->buffers = buf;
    *out = buf;
    return GB_OK;
}

/* b->alloc: a zero-filled shared buffer. */
static gb_status mt_alloc(gb_backend *b, uint64_t bytes, gb_buffer **out)
{
    mt_ctx *c = ctx_of(b);
    *out = NULL;
    if (b->status)
        return b->status;
    uint64_t size = bytes < 16 ? 16 : (bytes + 15) & ~(uint64_t)15;
    @autoreleasepool {
        id<MTLDevice> dev = dev_of(c);
        id<MTLBuffer> m = size <= (uint64_t)[dev maxBufferLength]
                              ? [dev newBufferWithLength:(NSUInteger)size options:MTLResourceStorageModeShared]
                              : nil;
        if (!m)
            return gb_fail(b, GB_ERR_NOMEM, "metal: a buffer of %llu bytes (%.2f GiB) was refused by %s "
                           "(maxBufferLength %llu, %llu bytes allocated)", (unsigned long long)size, GIB(size),
                           b->device, (unsigned long long)[dev maxBufferLength],
                           (unsigned long long)[dev currentAllocatedSize]);
        memset([m contents], 0, (size_t)size);
        return add_buffer(b, m, size, out);
    }
}

/* b->release (a command buffer retains what it uses: queued work is safe) */
static void mt_release(gb_backend *b, gb_buffer *buf)
{
    mt_ctx *c = ctx_of(b);
    if (!buf)
        return;
    for (gb_buffer **p = &c->buffers; *p; p = &(*p)->next)
        if (*p == buf) {
            *p = buf->next;
            break;
        }
    drop(buf->mtl);
    free(buf);
}

static gb_status check_ref(gb_backend *b, gb_ref r, uint64_t bytes, const char *what)
{
    if (!r.buf || r.off > r.buf->size || bytes > r.buf->size - r.off)
        return gb_fail(b, GB_ERR_INVALID, "metal %s: %llu bytes at offset %llu lie outside the buffer (%llu bytes)",
                       what, (unsigned long long)bytes, (unsigned long long)r.off,
                       (unsigned long long)(r.buf ? r.buf->size : 0));
    return GB_OK;
}

/* b->write: after the queued work (which may read the old bytes) */
static gb_status mt_write(gb_backend *b, gb_ref dst, const void *host, uint64_t bytes)
{
    gb_status s = b->status ? b->status : check_ref(b, dst, bytes, "write");
    if (!s)
        s = flush(b, 1);
    if (!s)
        memcpy(dst.buf->cpu + dst.off, host, (size_t)bytes);
    return s;
}

/* b->read: after every queued op */
static gb_status mt_read(gb_backend *b, gb_ref src, void *host, uint64_t bytes)
{
    gb_status s = b->status ? b->status : check_ref(b, src, bytes, "read");
    if (!s)
        s = flush(b, 1);
    if (!s)
        memcpy(host, src.buf->cpu + src.off, (size_t)bytes);
    return s;
}

static gb_status mt_finish(gb_backend *b) { return flush(b, 1); }

/* gd_host.upload: into the stage, which is reused only after a flush that
 * waited for every dispatch bound to it */
static gb_status mt_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out)
{
    mt_ctx *c = ctx_of(b);
    if (bytes > c->stage->size)
        return gb_fail(b, GB_ERR_INVALID, "metal: an upload of %llu bytes exceeds the %llu-byte stage",
                       (unsigned long long)bytes, (unsigned long long)c->stage->size);
    uint64_t at = (c->stage_used + MT_BIND_ALIGN - 1) & ~(uint64_t)(MT_BIND_ALIGN - 1);
    if (at + bytes > c->stage->size) {
        gb_status s = flush(b, 1);
        if (s)
            return s;
        at = 0;
    }
    memcpy(c->stage->cpu + at, host, (size_t)bytes);
    c->stage_used = at + bytes;
    out->buf = c->stage;
    out->off = at;
    return b->status;
}

/* gd_host.scratch: a buffer per slot, replaced when too small (queued work
 * keeps the old one alive: the command buffer retains it) */
static gb_status mt_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out)
{
    mt_ctx *c = ctx_of(b);
    if (slot < 0 || slot >= GD_SCRATCH_SLOTS)
        return gb_fail(b, GB_ERR_INVALID, "metal: scratch slot %d out of range", slot);
    if (!c->scratch[slot] || c->scratch[slot]->size < bytes) {
        uint64_t want = c->scratch[slot] && c->scratch[slot]->size * 2 > bytes ? c->scratch[slot]->size * 2 : bytes;
        if (want > c->host.max_alloc)
            want = bytes;
        mt_release(b, c->scratch[slot]);
        c->scratch[slot] = NULL;
        gb_status s = mt_alloc(b, want, &c->scratch[slot]);
        if (s)
            return s;
    }
    out->buf = c->scratch[slot];
    out->off = 0;
    return GB_OK;
}

/* Does [h, h + bytes) lie inside the mapping? */
static int in_map(const uint8_t *base, uint64_t map_bytes, const uint8_t *h, uint64_t bytes)
{
    uintptr_t lo = (uintptr_t)base, at = (uintptr_t)h;
    return base && h && at >= lo && bytes <= map_bytes && at - lo <= map_bytes - bytes;
}

/* b->prepare: wrap the mapping (views), copy the rest; refuse first if the
 * total exceeds what the GPU can keep resident */
static gb_status mt_prepare(gb_backend *b, gb_weight *const *w, int n, const void *map, uint64_t map_bytes)
{
    mt_ctx *c = ctx_of(b);
    if (b->status)
        return b->status;
    uint64_t page = (uint64_t)getpagesize(), largest = 0, copied = 0;
    int any = 0;
    /* a mapping not on a page boundary (never a .gptoss one) is copied like a GGUF's */
    const uint8_t *base = map && (uintptr_t)map % page == 0 ? map : NULL;
    for (int i = 0; i < n; i++) {
        uint64_t bytes = gb_weight_bytes(w[i]);
        if (in_map(base, map_bytes, w[i]->host, bytes)) {
            any = 1;
            largest = bytes > largest ? bytes : largest;
        } else {
            copied += (bytes + 255) & ~(uint64_t)255;
        }
    }
    @autoreleasepool {
        id<MTLDevice> dev = dev_of(c);
        mt_view views[MT_MAX_VIEWS];
        gb_buffer *vb[MT_MAX_VIEWS];
        int nv = 0;
        uint64_t mapped = 0;
        if (any) {
            nv = mt_plan_views(map_bytes, page, (uint64_t)[dev maxBufferLength], largest, views, MT_MAX_VIEWS);
            if (!nv)
                return gb_fail(b, GB_ERR_UNSUPPORTED, "metal: a tensor of %llu bytes does not fit one buffer of %s "
                               "(maxBufferLength %llu)", (unsigned long long)largest, b->device,
                               (unsigned long long)[dev maxBufferLength]);
            mapped = views[nv - 1].off + views[nv - 1].len;
        }
        uint64_t have = (uint64_t)[dev recommendedMaxWorkingSetSize], used = (uint64_t)[dev currentAllocatedSize];
        if (mapped + copied + used > have)
            return gb_fail(b, GB_ERR_NOMEM, "metal: the model needs %llu bytes (%.2f GiB: %.2f mapped, %.2f copied) "
                           "besides %.2f GiB already allocated, but %s keeps at most %.2f GiB resident "
                           "(recommendedMaxWorkingSetSize); nothing was uploaded", (unsigned long long)(mapped + copied),
                           GIB(mapped + copied), GIB(mapped), GIB(copied), GIB(used), b->device, GIB(have));
        for (int v = 0; v < nv; v++) {
            id<MTLBuffer> m = [dev newBufferWithBytesNoCopy:(void *)(uintptr_t)(base + views[v].off)
                                                     length:(NSUInteger)views[v].len
                                                    options:MTLResourceStorageModeShared
                                                deallocator:nil];
            if (!m)
                return gb_fail(b, GB_ERR_DEVICE, "metal: %s cannot wrap %llu bytes of the model file at offset %llu "
                               "(newBufferWithBytesNoCopy)", b->device, (unsigned long long)views[v].len,
                               (unsigned long long)views[v].off);
            gb_status s = add_buffer(b, m, views[v].len, &vb[v]);
            if (s)
                return s;
        }
        for (int i = 0; i < n; i++) {
            uint64_t bytes = gb_weight_bytes(w[i]);
            const uint8_t *h = w[i]->host;
            if (in_map(base, map_bytes, h, bytes)) {
                uint64_t off = (uint64_t)((uintptr_t)h - (uintptr_t)base);
                int v = mt_view_of(views, nv, off, bytes); /* >= 0: the views overlap by the largest tensor */
                if (v < 0)
                    return gb_fail(b, GB_ERR_INVALID, "metal: %s lies in no view of the mapping", w[i]->name);
                w[i]->dev = (gb_ref){vb[v], off - views[v].off};
                continue;
            }
            gb_status s = mt_alloc(b, bytes, &w[i]->dev.buf);
            if (s)
                return s;
            if (bytes)
                memcpy(w[i]->dev.buf->cpu, h, (size_t)bytes);
            w[i]->dev.off = 0;
        }
    }
    return GB_OK;
}

/* ---- the entry ---- */

static id<MTLDevice> pick_device(const char *sel, char *why, size_t whylen)
{
    if (!sel || !*sel)
        sel = getenv("GQ_METAL_DEVICE");
    if (!sel || !*sel) {
        id<MTLDevice> d = MTLCreateSystemDefaultDevice();
        if (!d)
            snprintf(why, whylen, "no Metal device (MTLCreateSystemDefaultDevice returned nil)");
        return d;
    }
    NSArray<id<MTLDevice>> *all = MTLCopyAllDevices();
    char *end;
    long idx = strtol(sel, &end, 10);
    for (NSUInteger i = 0; i < [all count]; i++) {
        id<MTLDevice> d = [all objectAtIndex:i];
        if (*end ? strstr(text([d name]), sel) != NULL : (long)i == idx)
            return d;
    }
    snprintf(why, whylen, "no Metal device matches '%s' (%lu found)", sel, (unsigned long)[all count]);
    return nil;
}

static void mt_destroy(gb_backend *b)
{
    if (!b)
        return;
    mt_ctx *c = ctx_of(b);
    if (c) {
        flush(b, 1); /* queued work may still use the buffers */
        const char *st = getenv("GQ_METAL_STATS");
        if (st && *st && strcmp(st, "0"))
            fprintf(stderr, "metal: %llu dispatches, %llu command buffers on %s\n",
                    (unsigned long long)c->n_dispatch, (unsigned long long)c->n_commit, b->device);
        while (c->buffers)
            mt_release(b, c->buffers);
        for (int i = 0; c->pipes && i < mt_kernel_count; i++)
            if (c->pipes[i])
                drop(c->pipes[i]);
        free(c->pipes);
        if (c->queue)
            drop(c->queue);
        if (c->dev)
            drop(c->dev);
        free(c);
    }
    free(b);
}

static int mt_probe(const gb_config *cfg, int *software, char *why, size_t whylen)
{
    if (software)
        *software = 0; /* Metal has no CPU device */
    @autoreleasepool {
        return pick_device(cfg ? cfg->device : NULL, why, whylen) != nil;
    }
}

static gb_backend *mt_create(const gb_config *cfg, char *err, size_t errlen)
{
    char why[256] = "";
    gb_backend *b = calloc(1, sizeof *b);
    mt_ctx *c = calloc(1, sizeof *c);
    void **pipes = calloc((size_t)mt_kernel_count, sizeof *pipes);
    if (!b || !c || !pipes) {
        free(b), free(c), free(pipes);
        snprintf(err, errlen, "metal: out of host memory");
        return NULL;
    }
    b->ctx = c;
    b->name = "metal";
    c->pipes = pipes;
    @autoreleasepool {
        id<MTLDevice> dev = pick_device(cfg ? cfg->device : NULL, why, sizeof why);
        id<MTLCommandQueue> q = dev ? [dev newCommandQueue] : nil;
        if (!q) {
            snprintf(err, errlen, "metal: %s", dev ? "no command queue" : why);
            mt_destroy(b);
            return NULL;
        }
        c->dev = keep(dev);
        c->queue = keep(q);
        snprintf(b->device, sizeof b->device, "%s", text([dev name]));
        c->host.window = mt_window((uint64_t)[dev maxBufferLength]);
        c->host.max_alloc = (uint64_t)[dev maxBufferLength];
    }
    snprintf(b->isa, sizeof b->isa, "msl");
    c->host.run = mt_run;
    c->host.scratch = mt_scratch;
    c->host.upload = mt_upload;
    if (mt_alloc(b, GD_UPLOAD_MAX, &c->stage)) {
        snprintf(err, errlen, "%s", b->error);
        mt_destroy(b);
        return NULL;
    }
    b->prepare = mt_prepare;
    b->alloc = mt_alloc;
    b->release = mt_release;
    b->write = mt_write;
    b->read = mt_read;
    b->finish = mt_finish;
    gd_ops_install(b);
    b->destroy = mt_destroy;
    return b;
}

const gb_backend_entry gb_metal_entry = {"metal", mt_probe, mt_create};
