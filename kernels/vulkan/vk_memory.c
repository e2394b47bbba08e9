/* vk_memory.c - buffers, host <-> device copies, and the weight upload.
 *
 * Every buffer is a VkBuffer with its own memory (weights: a few large
 * arenas). Memory that the host can see (lavapipe's, or a GPU's
 * resizable BAR) is mapped and written with memcpy when no queued work can
 * be touching it; everything else goes through a host-visible staging
 * buffer, copied inside the command stream so that ops and copies keep their
 * call order without waiting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define GIB(x) ((double)(x) / (double)(1ull << 30))

static int pick_type(vk_ctx *c, uint32_t bits, int want)
{
    if (bits & (1u << want))
        return want;
    VkMemoryPropertyFlags fl = c->memprops.memoryTypes[want].propertyFlags;
    for (uint32_t i = 0; i < c->memprops.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (c->memprops.memoryTypes[i].propertyFlags & fl) == fl)
            return (int)i;
    return -1;
}

gb_status vk_buffer_new(gb_backend *b, uint64_t bytes, int host, gb_buffer **out)
{
    vk_ctx *c = vk_ctx_of(b);
    *out = NULL;
    uint64_t size = (bytes + 15) & ~15ull;
    if (size == 0)
        size = 16;
    if (size > c->max_alloc)
        return vk_fail(b, GB_ERR_NOMEM,
                       "vulkan: a buffer of %llu bytes (%.2f GiB) is larger than one allocation may be on %s "
                       "(%llu bytes)", (unsigned long long)bytes, GIB(bytes), c->props.deviceName,
                       (unsigned long long)c->max_alloc);
    gb_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory for a buffer descriptor");
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, NULL, 0, size,
                             VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             VK_SHARING_MODE_EXCLUSIVE, 0, NULL};
    VkResult r = c->f.vkCreateBuffer(c->dev, &bi, NULL, &buf->buf);
    if (r != VK_SUCCESS) {
        free(buf);
        return vk_fail(b, vk_status_of(r), "vulkan: creating a buffer of %llu bytes failed (%s)",
                       (unsigned long long)size, vk_result_name(r));
    }
    VkMemoryRequirements req;
    c->f.vkGetBufferMemoryRequirements(c->dev, buf->buf, &req);
    int type = pick_type(c, req.memoryTypeBits, host ? c->mt_stage : c->mt_device);
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, NULL, req.size, (uint32_t)(type < 0 ? 0 : type)};
    r = type < 0 ? VK_ERROR_OUT_OF_DEVICE_MEMORY : c->f.vkAllocateMemory(c->dev, &ai, NULL, &buf->mem);
    if (r != VK_SUCCESS) {
        c->f.vkDestroyBuffer(c->dev, buf->buf, NULL);
        free(buf);
        return vk_fail(b, vk_status_of(r) == GB_ERR_NOMEM || type < 0 ? GB_ERR_NOMEM : GB_ERR_DEVICE,
                       "vulkan: out of %s memory: %llu bytes (%.2f GiB) asked for, %llu bytes already allocated on "
                       "%s (%s)", host ? "host-visible" : "device", (unsigned long long)req.size, GIB(req.size),
                       (unsigned long long)c->device_bytes, c->props.deviceName, vk_result_name(r));
    }
    c->f.vkBindBufferMemory(c->dev, buf->buf, buf->mem, 0);
    VkMemoryPropertyFlags fl = c->memprops.memoryTypes[type].propertyFlags;
    if ((fl & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (fl & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) && (host || !c->no_map)) {
        void *p = NULL;
        if (c->f.vkMapMemory(c->dev, buf->mem, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS)
            buf->map = p;
    }
    buf->size = size;
    buf->next = c->buffers;
    c->buffers = buf;
    c->device_bytes += req.size;
    *out = buf;
    return GB_OK;
}

void vk_buffer_free(gb_backend *b, gb_buffer *buf)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!buf)
        return;
    for (gb_buffer **p = &c->buffers; *p; p = &(*p)->next)
        if (*p == buf) {
            *p = buf->next;
            break;
        }
    vk_record_forget(b); /* recorded command buffers may bind it */
    if (buf->map)
        c->f.vkUnmapMemory(c->dev, buf->mem);
    c->f.vkDestroyBuffer(c->dev, buf->buf, NULL);
    c->f.vkFreeMemory(c->dev, buf->mem, NULL);
    c->device_bytes -= c->device_bytes >= buf->size ? buf->size : c->device_bytes;
    free(buf);
}

void vk_memory_destroy(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    while (c->buffers)
        vk_buffer_free(b, c->buffers);
    free(c->arenas);
    c->arenas = NULL;
    c->n_arenas = 0;
    c->stage = NULL;
    memset(c->scratch, 0, sizeof c->scratch);
}

static gb_status check_ref(gb_backend *b, gb_ref r, uint64_t bytes, const char *what)
{
    if (!r.buf || r.off > r.buf->size || bytes > r.buf->size - r.off)
        return vk_fail(b, GB_ERR_INVALID, "vulkan %s: %llu bytes at offset %llu lie outside the buffer (%llu bytes)",
                       what, (unsigned long long)bytes, (unsigned long long)r.off,
                       (unsigned long long)(r.buf ? r.buf->size : 0));
    return GB_OK;
}

gb_status vk_op_alloc(gb_backend *b, uint64_t bytes, gb_buffer **out)
{
    vk_ctx *c = vk_ctx_of(b);
    *out = NULL;
    if (c->status)
        return c->status;
    gb_status s = vk_buffer_new(b, bytes, 0, out);
    if (s)
        return s;
    gb_buffer *buf = *out;
    /* a new buffer is referenced by no recorded work: a mapped one is
     * cleared now, any other by a fill in the stream */
    if (buf->map) {
        memset(buf->map, 0, buf->size);
        return GB_OK;
    }
    return vk_cmd_fill(b, buf);
}

void vk_op_release(gb_backend *b, gb_buffer *buf)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!buf)
        return;
    if (c->recording)
        vk_flush(b); /* recorded work may still use it; a failure here stays sticky */
    vk_buffer_free(b, buf);
}

gb_status vk_stream_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    if (bytes > VK_STAGE_BYTES)
        return vk_fail(b, GB_ERR_INVALID, "vulkan: a stream upload of %llu bytes exceeds the staging buffer (%llu)",
                       (unsigned long long)bytes, (unsigned long long)VK_STAGE_BYTES);
    if (c->stage_used + bytes > c->stage->size) {
        gb_status s = vk_flush(b);
        if (s)
            return s;
    }
    memcpy(c->stage->map + c->stage_used, host, bytes);
    out->buf = c->stage;
    out->off = c->stage_used;
    c->stage_used = (c->stage_used + bytes + c->align - 1) & ~(c->align - 1);
    return GB_OK;
}

/* Copy host bytes to dst inside the command stream, in staging-sized chunks. */
static gb_status copy_in(gb_backend *b, gb_ref dst, const uint8_t *host, uint64_t bytes)
{
    while (bytes) {
        uint64_t n = bytes < VK_STAGE_BYTES / 2 ? bytes : VK_STAGE_BYTES / 2;
        gb_ref src;
        gb_status s = vk_stream_upload(b, host, n, &src);
        if (s || (s = vk_cmd_copy(b, src.buf, src.off, dst.buf, dst.off, n)))
            return s;
        host += n;
        dst.off += n;
        bytes -= n;
    }
    return GB_OK;
}

gb_status vk_op_write(gb_backend *b, gb_ref dst, const void *host, uint64_t bytes)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    gb_status s = check_ref(b, dst, bytes, "write");
    if (s || !bytes)
        return s;
    if (dst.buf->map && !c->recording) {
        memcpy(dst.buf->map + dst.off, host, bytes);
        return GB_OK;
    }
    return copy_in(b, dst, host, bytes);
}

gb_status vk_op_read(gb_backend *b, gb_ref src, void *host, uint64_t bytes)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    gb_status s = check_ref(b, src, bytes, "read");
    if (s)
        return s;
    if (src.buf->map) {
        if ((s = vk_flush(b)))
            return s;
        memcpy(host, src.buf->map + src.off, bytes);
        return GB_OK;
    }
    /* the copy to staging joins the queued work: one submit, and a decoded
     * token's list (ending in this copy) stays the same every token */
    uint8_t *h = host;
    while (bytes) {
        uint64_t n = bytes < c->stage->size ? bytes : c->stage->size;
        if (c->stage_used + n > c->stage->size && (s = vk_flush(b)))
            return s;
        uint64_t at = c->stage_used;
        if ((s = vk_cmd_copy(b, src.buf, src.off, c->stage, at, n)) || (s = vk_flush(b)))
            return s;
        memcpy(h, c->stage->map + at, n);
        h += n;
        src.off += n;
        bytes -= n;
    }
    return GB_OK;
}

gb_status vk_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    if (slot < 0 || slot >= GD_SCRATCH_SLOTS)
        return vk_fail(b, GB_ERR_INVALID, "vulkan: scratch slot %d out of range", slot);
    gb_buffer *cur = c->scratch[slot];
    if (!cur || cur->size < bytes) {
        gb_status s;
        if (cur && c->recording && (s = vk_flush(b)))
            return s;
        if (cur)
            vk_buffer_free(b, cur);
        c->scratch[slot] = NULL;
        uint64_t want = bytes + bytes / 4; /* room to grow without reallocating every time */
        if (want > c->max_alloc)
            want = bytes;
        if ((s = vk_buffer_new(b, want, 0, &c->scratch[slot])))
            return s;
    }
    out->buf = c->scratch[slot];
    out->off = 0;
    return GB_OK;
}

gb_status vk_op_prepare(gb_backend *b, gb_weight *const *w, int n, const void *map, uint64_t map_bytes)
{
    vk_ctx *c = vk_ctx_of(b);
    (void)map;
    (void)map_bytes;
    if (c->status)
        return c->status;
    /* A second call (a reference model beside the measured one: ppl
     * --ref-model) adds its own arenas after the first call's. */
    if (n < 0 || (n > 0 && !w))
        return vk_fail(b, GB_ERR_INVALID, "vulkan: prepare() of %d weights", n);
    /* 1. the plan: every weight at an aligned offset of an arena no larger
     *    than one allocation may be; check it all fits before touching memory */
    uint64_t cap = c->max_alloc, total = 0, largest = 0;
    const char *largest_name = "";
    for (int i = 0; i < n; i++) {
        uint64_t sz = (gb_weight_bytes(w[i]) + c->align - 1) & ~(c->align - 1);
        total += sz;
        if (sz > largest) {
            largest = sz;
            largest_name = w[i]->name ? w[i]->name : "?";
        }
        if (!w[i]->host && gb_weight_bytes(w[i]))
            return vk_fail(b, GB_ERR_INVALID, "vulkan: weight %s has no host bytes", w[i]->name ? w[i]->name : "?");
    }
    if (total + c->device_bytes > c->heap_bytes)
        return vk_fail(b, GB_ERR_NOMEM,
                       "vulkan: the model needs %llu bytes (%.2f GiB) of device memory for its weights, %s has %llu "
                       "bytes (%.2f GiB) of device-local memory (%llu already in use): nothing was uploaded; use "
                       "--backend cpu or a smaller model", (unsigned long long)total, GIB(total), c->props.deviceName,
                       (unsigned long long)c->heap_bytes, GIB(c->heap_bytes), (unsigned long long)c->device_bytes);
    if (largest > cap)
        return vk_fail(b, GB_ERR_NOMEM,
                       "vulkan: weight %s needs %llu bytes in one piece, more than %s allows in one allocation "
                       "(%llu bytes): nothing was uploaded", largest_name, (unsigned long long)largest,
                       c->props.deviceName, (unsigned long long)cap);
    size_t nn = n > 0 ? (size_t)n : 1;
    uint64_t *off = calloc(nn, sizeof *off);
    int *arena_of = calloc(nn, sizeof *arena_of);
    uint64_t *arena_size = calloc(nn + 1, sizeof *arena_size);
    if (!off || !arena_of || !arena_size) {
        free(off), free(arena_of), free(arena_size);
        return vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory planning %d weights", n);
    }
    int na = 0;
    uint64_t used = 0;
    for (int i = 0; i < n; i++) {
        uint64_t sz = (gb_weight_bytes(w[i]) + c->align - 1) & ~(c->align - 1);
        if (na == 0 || used + sz > cap) {
            if (na)
                arena_size[na - 1] = used;
            na++;
            used = 0;
        }
        off[i] = used;
        arena_of[i] = na - 1;
        used += sz;
    }
    if (na)
        arena_size[na - 1] = used;
    gb_status s = GB_OK;
    int base = c->n_arenas;
    gb_buffer **grown = realloc(c->arenas, (size_t)(base + (na > 0 ? na : 1)) * sizeof *c->arenas);
    if (!grown)
        s = vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory planning %d arenas", na);
    else
        c->arenas = grown;
    /* 2. allocate; 3. upload each weight once */
    for (int a = 0; a < na && !s; a++) {
        s = vk_buffer_new(b, arena_size[a], 0, &c->arenas[base + a]);
        if (!s)
            c->n_arenas++;
    }
    for (int i = 0; i < n && !s; i++) {
        gb_ref dst = {c->arenas[base + arena_of[i]], off[i]};
        uint64_t bytes = gb_weight_bytes(w[i]);
        if (bytes && dst.buf->map && !c->recording)
            memcpy(dst.buf->map + dst.off, w[i]->host, bytes);
        else if (bytes)
            s = copy_in(b, dst, w[i]->host, bytes);
        w[i]->dev = dst;
    }
    if (!s)
        s = vk_flush(b);
    free(off);
    free(arena_of);
    free(arena_size);
    return s;
}
