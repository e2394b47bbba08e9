/* vk_record.c - vk_run: a gd_dispatch into the one open command buffer.
 *
 * Ops append dispatches (and copies) to one command buffer; it is submitted
 * when the caller waits (read, score, finish), when the staging buffer is
 * full, or after VK_MAX_RECORDED dispatches. A barrier goes in only where
 * the next dispatch touches bytes that recorded work wrote (read after
 * write, write after write) or writes bytes it read (write after read):
 * the byte ranges touched since the last barrier are kept in a list, and a
 * barrier clears it. Independent dispatches (the q, k and v products of one
 * token, or the row blocks of one large product) run without one.
 *
 * Windows: argument i is bound at its offset rounded down to
 * minStorageBufferOffsetAlignment, at most maxStorageBufferRange long; the
 * remainder of the offset goes to push word i (kernels/gpu/gd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vk_internal.h"

double vk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define VK_MAX_RECORDED 1024      /* dispatches per command buffer before it is submitted */
#define VK_SETS_PER_POOL 256
#define VK_WAIT_NS (600ull * 1000000000ull) /* a submit that runs longer is taken for a hung device */

uint64_t vk_window_bytes(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    return c->max_range - c->align;
}

gb_status vk_record_init(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    VkCommandPoolCreateInfo pi = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, NULL,
                                  VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, c->qfam};
    VkResult r = c->f.vkCreateCommandPool(c->dev, &pi, NULL, &c->cpool);
    if (r == VK_SUCCESS) {
        VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL, c->cpool,
                                          VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
        r = c->f.vkAllocateCommandBuffers(c->dev, &ai, &c->cmd);
    }
    if (r == VK_SUCCESS) {
        VkFenceCreateInfo fi = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, NULL, 0};
        r = c->f.vkCreateFence(c->dev, &fi, NULL, &c->fence);
    }
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: creating the command buffer failed (%s)", vk_result_name(r));
    return vk_buffer_new(b, VK_STAGE_BYTES, 1, &c->stage);
}

void vk_record_destroy(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!c->dev)
        return;
    c->f.vkDeviceWaitIdle(c->dev);
    for (int i = 0; i < c->n_dpools; i++)
        c->f.vkDestroyDescriptorPool(c->dev, c->dpools[i], NULL);
    free(c->dpools);
    c->dpools = NULL;
    c->n_dpools = 0;
    if (c->fence)
        c->f.vkDestroyFence(c->dev, c->fence, NULL);
    if (c->cpool)
        c->f.vkDestroyCommandPool(c->dev, c->cpool, NULL);
    c->fence = VK_NULL_HANDLE;
    c->cpool = VK_NULL_HANDLE;
    free(c->ranges);
    c->ranges = NULL;
}

gb_status vk_begin(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    if (c->recording)
        return GB_OK;
    VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, NULL,
                                   VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT, NULL};
    VkResult r = c->f.vkBeginCommandBuffer(c->cmd, &bi);
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: vkBeginCommandBuffer failed (%s)", vk_result_name(r));
    c->recording = 1;
    return GB_OK;
}

static void barrier(vk_ctx *c, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, dst_access};
    c->f.vkCmdPipelineBarrier(c->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage,
                              0, 1, &mb, 0, NULL, 0, NULL);
}

void vk_hazard(gb_backend *b, const vk_range *r, int n)
{
    vk_ctx *c = vk_ctx_of(b);
    int conflict = 0;
    for (int i = 0; i < n && !conflict; i++)
        for (int j = 0; j < c->n_ranges && !conflict; j++) {
            const vk_range *o = &c->ranges[j];
            conflict = o->buf == r[i].buf && o->lo < r[i].hi && r[i].lo < o->hi && (o->writes || r[i].writes);
        }
    if (conflict) {
        barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                    VK_ACCESS_TRANSFER_WRITE_BIT);
        c->n_ranges = 0;
        c->n_barrier++;
    }
    if (c->n_ranges + n > c->cap_ranges) {
        int cap = c->cap_ranges ? 2 * c->cap_ranges : 256;
        while (cap < c->n_ranges + n)
            cap *= 2;
        vk_range *p = realloc(c->ranges, (size_t)cap * sizeof *p);
        if (!p) {
            /* no room to remember: a barrier makes forgetting safe */
            barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                        VK_ACCESS_TRANSFER_WRITE_BIT);
            c->n_ranges = 0;
            return;
        }
        c->ranges = p;
        c->cap_ranges = cap;
    }
    memcpy(c->ranges + c->n_ranges, r, (size_t)n * sizeof *r);
    c->n_ranges += n;
}

/* Submit and wait. reset_stage: the staging buffer may be reused from its
 * start (not when a caller may hold a stream ref it has not yet bound: the
 * flushes inside vk_run keep it). */
static gb_status submit(gb_backend *b, int reset_stage)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->status)
        return c->status;
    if (!c->recording) {
        if (reset_stage)
            c->stage_used = 0;
        return GB_OK;
    }
    /* device writes become visible to the host's reads of mapped memory */
    barrier(c, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VkResult r = c->f.vkEndCommandBuffer(c->cmd);
    c->recording = 0;
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 0, NULL, NULL, 1, &c->cmd, 0, NULL};
        r = c->f.vkQueueSubmit(c->queue, 1, &si, c->fence);
    }
    if (r == VK_SUCCESS) {
        c->n_submit++;
        r = c->f.vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, VK_WAIT_NS);
        if (r == VK_TIMEOUT)
            return vk_fail(b, GB_ERR_DEVICE, "vulkan: %s did not finish queued work within %llu s (device hung?)",
                           c->props.deviceName, (unsigned long long)(VK_WAIT_NS / 1000000000ull));
        c->f.vkResetFences(c->dev, 1, &c->fence);
    }
    if (r != VK_SUCCESS)
        return vk_fail(b, r == VK_ERROR_DEVICE_LOST ? GB_ERR_DEVICE : vk_status_of(r),
                       "vulkan: submitting work to %s failed (%s)", c->props.deviceName, vk_result_name(r));
    c->f.vkResetCommandBuffer(c->cmd, 0);
    for (int i = 0; i < c->n_dpools; i++)
        c->f.vkResetDescriptorPool(c->dev, c->dpools[i], 0);
    c->cur_dpool = 0;
    c->sets_in_pool = 0;
    c->n_ranges = 0;
    c->n_rec = 0;
    if (reset_stage)
        c->stage_used = 0;
    return GB_OK;
}

gb_status vk_flush(gb_backend *b) { return submit(b, 1); }

static gb_status new_set(gb_backend *b, int n_args, VkDescriptorSet *out)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->sets_in_pool == VK_SETS_PER_POOL || c->n_dpools == 0) {
        if (c->n_dpools)
            c->cur_dpool++;
        c->sets_in_pool = 0;
        if (c->cur_dpool == c->n_dpools) {
            VkDescriptorPool *p = realloc(c->dpools, (size_t)(c->n_dpools + 1) * sizeof *p);
            if (!p)
                return vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory for descriptor pools");
            c->dpools = p;
            VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, VK_SETS_PER_POOL * GD_MAX_ARGS};
            VkDescriptorPoolCreateInfo pi = {VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, NULL, 0, VK_SETS_PER_POOL,
                                             1, &ps};
            VkResult r = c->f.vkCreateDescriptorPool(c->dev, &pi, NULL, &c->dpools[c->n_dpools]);
            if (r != VK_SUCCESS)
                return vk_fail(b, vk_status_of(r), "vulkan: creating a descriptor pool failed (%s)", vk_result_name(r));
            c->n_dpools++;
        }
    }
    VkDescriptorSetAllocateInfo ai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, NULL, c->dpools[c->cur_dpool], 1,
                                      &c->dsl[n_args]};
    VkResult r = c->f.vkAllocateDescriptorSets(c->dev, &ai, out);
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: allocating a descriptor set failed (%s)", vk_result_name(r));
    c->sets_in_pool++;
    return GB_OK;
}

gb_status vk_run(gb_backend *b, const gd_dispatch *d)
{
    vk_ctx *c = vk_ctx_of(b);
    if (b->status) /* b->status, not c->status: the shared ops fail through gb_fail */
        return b->status;
    if (d->n_args < 0 || d->n_args > GD_MAX_ARGS || d->n_push > GD_PUSH_WORDS || d->n_push < (uint32_t)d->n_args)
        return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s: %d arguments / %u push words outside the convention",
                       d->kernel, d->n_args, d->n_push);
    if (!d->groups[0] || !d->groups[1] || !d->groups[2])
        return GB_OK;
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > c->props.limits.maxComputeWorkGroupCount[i])
            return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s: %u workgroups in dimension %d exceed the device's %u",
                           d->kernel, d->groups[i], i, c->props.limits.maxComputeWorkGroupCount[i]);
    VkPipeline pipe;
    vk_pipe *entry;
    gb_status s = vk_pipeline_get(b, d->kernel, d->n_args, &pipe, &entry);
    if (s)
        return s;
    double t0 = 0;
    if (c->profile) {
        if ((s = submit(b, 0))) /* what came before is not this kernel's time */
            return s;
        t0 = vk_now();
    }
    uint32_t push[GD_PUSH_WORDS];
    memcpy(push, d->push, sizeof push);
    VkDescriptorBufferInfo info[GD_MAX_ARGS];
    vk_range rg[GD_MAX_ARGS];
    for (int i = 0; i < d->n_args; i++) {
        const gd_arg *a = &d->args[i];
        const gb_buffer *buf = a->ref.buf;
        if (!buf || a->ref.off > buf->size || a->bytes > buf->size - a->ref.off)
            return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s argument %d: %llu bytes at offset %llu lie outside "
                           "its buffer (%llu bytes)", d->kernel, i, (unsigned long long)a->bytes,
                           (unsigned long long)a->ref.off, (unsigned long long)(buf ? buf->size : 0));
        uint64_t start = a->ref.off & ~(c->align - 1);
        uint64_t range = buf->size - start < c->max_range ? buf->size - start : c->max_range;
        if (a->ref.off - start + a->bytes > range)
            return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s argument %d: %llu bytes do not fit one descriptor "
                           "window (%llu bytes on %s): the op must split its work", d->kernel, i,
                           (unsigned long long)a->bytes, (unsigned long long)c->max_range, c->props.deviceName);
        push[i] = (uint32_t)(a->ref.off - start);
        info[i].buffer = buf->buf;
        info[i].offset = start;
        info[i].range = range;
        rg[i].buf = buf;
        rg[i].lo = a->ref.off;
        rg[i].hi = a->ref.off + a->bytes;
        rg[i].writes = a->writes;
    }
    if (c->n_rec >= VK_MAX_RECORDED && (s = submit(b, 0)))
        return s;
    if ((s = vk_begin(b)))
        return s;
    VkDescriptorSet set = VK_NULL_HANDLE;
    if (d->n_args) {
        if ((s = new_set(b, d->n_args, &set)))
            return s;
        VkWriteDescriptorSet wr[GD_MAX_ARGS];
        for (int i = 0; i < d->n_args; i++) {
            VkWriteDescriptorSet w = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, NULL, set, (uint32_t)i, 0, 1,
                                      VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NULL, &info[i], NULL};
            wr[i] = w;
        }
        c->f.vkUpdateDescriptorSets(c->dev, (uint32_t)d->n_args, wr, 0, NULL);
    }
    vk_hazard(b, rg, d->n_args);
    c->f.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    if (d->n_args)
        c->f.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout[d->n_args], 0, 1, &set, 0, NULL);
    if (d->n_push)
        c->f.vkCmdPushConstants(c->cmd, c->layout[d->n_args], VK_SHADER_STAGE_COMPUTE_BIT, 0, d->n_push * 4, push);
    c->f.vkCmdDispatch(c->cmd, d->groups[0], d->groups[1], d->groups[2]);
    c->n_rec++;
    c->n_dispatch++;
    entry->runs++;
    if (c->profile) {
        s = submit(b, 0);
        entry->seconds += vk_now() - t0;
    }
    return s;
}
