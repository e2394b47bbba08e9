/* vk_record.c - vk_run and the command stream: windows, barriers, the
 * command buffers, submit; recorded command buffers replayed.
 *
 * Ops append commands (dispatches, copies, fills) to a list of plain data
 * (vk_cmd); it is submitted when the caller waits (read, score, finish),
 * when the staging buffer is full, or after VK_MAX_RECORDED commands. A
 * barrier goes in only where the next command touches bytes that queued work
 * wrote (read after write, write after write) or writes bytes it read (write
 * after read): the byte ranges touched since the last barrier are kept in a
 * list, and a barrier clears it. Independent dispatches (the q, k and v
 * products of one token, or the row blocks of one large product) run
 * without one.
 *
 * Record once, replay: at submit the list is compared bytewise with those of
 * the VK_RECS command buffers recorded last; an equal one is submitted again
 * as it is, so the host neither records nor writes descriptors. A decoded
 * token is the same list every token: what changes (the token id, the
 * position) lives in the staging buffer, written by the host, at the same
 * offsets (ops upload it with vk_stream_upload instead of pushing it as a
 * constant). A list that matches none is recorded into the least recently
 * used command buffer (its descriptor sets live in its own pools). Destroying
 * any buffer forgets every recorded one (a handle may come back).
 *
 * Windows: argument i is bound at its offset rounded down to
 * minStorageBufferOffsetAlignment, at most maxStorageBufferRange long; the
 * remainder of the offset goes to push word i (kernels/gpu/gd.h).
 *
 * Profile (GQ_VK_PROFILE=1): a timestamp at the start of each command
 * buffer and one after every command (bottom of pipe: when it and all
 * before it are done), in the same command buffer, no extra submits. The
 * time between consecutive timestamps is charged to the later command's
 * kernel, so the table adds up to the GPU's span exactly: a kernel's figure
 * includes the barrier and launch before it, and the independent dispatches
 * that would have overlapped (q, k, v) run one after another. The wall time
 * between the first command and the last submit's end, less that GPU span,
 * is the gap: the GPU idle while the host records, submits and reads. */
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

#define VK_MAX_RECORDED 1024      /* commands per submit at most */
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
    for (int i = 0; i < VK_RECS && r == VK_SUCCESS; i++) {
        VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, NULL, c->cpool,
                                          VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
        r = c->f.vkAllocateCommandBuffers(c->dev, &ai, &c->rec[i].cmd);
    }
    if (r == VK_SUCCESS) {
        VkFenceCreateInfo fi = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, NULL, 0};
        r = c->f.vkCreateFence(c->dev, &fi, NULL, &c->fence);
    }
    if (r != VK_SUCCESS)
        return vk_fail(b, vk_status_of(r), "vulkan: creating the command buffers failed (%s)", vk_result_name(r));
    if (c->profile) {
        uint32_t nf = 0;
        c->f.vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &nf, NULL);
        VkQueueFamilyProperties *qf = calloc(nf ? nf : 1, sizeof *qf);
        uint32_t bits = 0;
        if (qf) {
            c->f.vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &nf, qf);
            bits = c->qfam < nf ? qf[c->qfam].timestampValidBits : 0;
            free(qf);
        }
        c->q_cap = VK_MAX_RECORDED + 1;
        VkQueryPoolCreateInfo qi = {VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, NULL, 0, VK_QUERY_TYPE_TIMESTAMP,
                                    c->q_cap, 0};
        if (!bits || c->f.vkCreateQueryPool(c->dev, &qi, NULL, &c->qpool) != VK_SUCCESS) {
            fprintf(stderr, "vulkan: GQ_VK_PROFILE: %s has no timestamp queries on its compute queue: counting "
                    "dispatches only\n", c->props.deviceName);
            c->qpool = VK_NULL_HANDLE;
        }
        c->ts_ns = c->props.limits.timestampPeriod;
        c->ts_mask = bits >= 64 ? ~0ull : (1ull << bits) - 1u;
        c->prof_copy.name = "(copy)";
        c->prof_fill.name = "(fill)";
    }
    return vk_buffer_new(b, VK_STAGE_BYTES, 1, &c->stage);
}

static void rec_clear(vk_ctx *c, vk_rec *r)
{
    for (int i = 0; i < r->n_pools; i++)
        c->f.vkResetDescriptorPool(c->dev, r->pools[i], 0);
    r->cur_pool = 0;
    r->sets_in_pool = 0;
    r->n_cmd = 0;
}

void vk_record_destroy(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!c->dev)
        return;
    c->f.vkDeviceWaitIdle(c->dev);
    for (int k = 0; k < VK_RECS; k++) {
        vk_rec *r = &c->rec[k];
        for (int i = 0; i < r->n_pools; i++)
            c->f.vkDestroyDescriptorPool(c->dev, r->pools[i], NULL);
        free(r->pools);
        free(r->trace);
        memset(r, 0, sizeof *r);
    }
    if (c->fence)
        c->f.vkDestroyFence(c->dev, c->fence, NULL);
    if (c->cpool)
        c->f.vkDestroyCommandPool(c->dev, c->cpool, NULL);
    if (c->qpool)
        c->f.vkDestroyQueryPool(c->dev, c->qpool, NULL);
    c->qpool = VK_NULL_HANDLE;
    c->fence = VK_NULL_HANDLE;
    c->cpool = VK_NULL_HANDLE;
    free(c->ranges);
    c->ranges = NULL;
    free(c->trace);
    c->trace = NULL;
}

void vk_record_forget(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    for (int k = 0; k < VK_RECS; k++)
        if (c->rec[k].n_cmd)
            rec_clear(c, &c->rec[k]);
}

static void barrier(vk_ctx *c, VkCommandBuffer cmd, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, dst_access};
    c->f.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage,
                              0, 1, &mb, 0, NULL, 0, NULL);
}

static gb_status submit(gb_backend *b, int reset_stage);

/* A new command at the end of the list, zeroed, after a barrier if it
 * touches what queued work did (r: its n byte ranges). NULL on failure. */
static vk_cmd *append(gb_backend *b, const vk_range *r, int n)
{
    vk_ctx *c = vk_ctx_of(b);
    if (c->n_cmd >= VK_MAX_RECORDED && submit(b, 0)) /* staging stays: a caller may hold a stream ref */
        return NULL;
    if (c->n_cmd == c->cap_cmd) {
        uint32_t cap = c->cap_cmd ? 2 * c->cap_cmd : 512;
        vk_cmd *p = realloc(c->trace, (size_t)cap * sizeof *p);
        if (!p) {
            vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory for %u commands", cap);
            return NULL;
        }
        c->trace = p;
        c->cap_cmd = cap;
    }
    int conflict = 0;
    for (int i = 0; i < n && !conflict; i++)
        for (int j = 0; j < c->n_ranges && !conflict; j++) {
            const vk_range *o = &c->ranges[j];
            conflict = o->buf == r[i].buf && o->lo < r[i].hi && r[i].lo < o->hi && (o->writes || r[i].writes);
        }
    if (c->n_ranges + n > c->cap_ranges) {
        int cap = c->cap_ranges ? 2 * c->cap_ranges : 256;
        while (cap < c->n_ranges + n)
            cap *= 2;
        vk_range *p = realloc(c->ranges, (size_t)cap * sizeof *p);
        if (p) {
            c->ranges = p;
            c->cap_ranges = cap;
        } else {
            conflict = 1; /* no room to remember: a barrier makes forgetting safe */
        }
    }
    if (conflict) {
        c->n_ranges = 0;
        c->n_barrier++;
    }
    if (c->n_ranges + n <= c->cap_ranges) {
        memcpy(c->ranges + c->n_ranges, r, (size_t)n * sizeof *r);
        c->n_ranges += n;
    }
    vk_cmd *cmd = &c->trace[c->n_cmd++];
    memset(cmd, 0, sizeof *cmd);
    cmd->barrier = (uint32_t)conflict;
    if (c->profile && c->prof_t0 == 0)
        c->prof_t0 = vk_now();
    c->recording = 1;
    return cmd;
}

gb_status vk_cmd_copy(gb_backend *b, gb_buffer *src, uint64_t so, gb_buffer *dst, uint64_t dof, uint64_t n)
{
    vk_ctx *c = vk_ctx_of(b);
    if (b->status)
        return b->status;
    vk_range rg[2] = {{src, so, so + n, 0}, {dst, dof, dof + n, 1}};
    vk_cmd *cmd = append(b, rg, 2);
    if (!cmd)
        return b->status;
    cmd->kind = VK_CMD_COPY;
    cmd->buf[0] = src->buf;
    cmd->buf[1] = dst->buf;
    cmd->off[0] = so;
    cmd->off[1] = dof;
    cmd->range[0] = n;
    c->prof_copy.runs++;
    return GB_OK;
}

gb_status vk_cmd_fill(gb_backend *b, gb_buffer *dst)
{
    vk_ctx *c = vk_ctx_of(b);
    if (b->status)
        return b->status;
    vk_range rg = {dst, 0, dst->size, 1};
    vk_cmd *cmd = append(b, &rg, 1);
    if (!cmd)
        return b->status;
    cmd->kind = VK_CMD_FILL;
    cmd->buf[0] = dst->buf;
    c->prof_fill.runs++;
    return GB_OK;
}

static gb_status new_set(gb_backend *b, vk_rec *r, int n_args, VkDescriptorSet *out)
{
    vk_ctx *c = vk_ctx_of(b);
    if (r->sets_in_pool == VK_SETS_PER_POOL || r->n_pools == 0) {
        if (r->n_pools)
            r->cur_pool++;
        r->sets_in_pool = 0;
        if (r->cur_pool == r->n_pools) {
            VkDescriptorPool *p = realloc(r->pools, (size_t)(r->n_pools + 1) * sizeof *p);
            if (!p)
                return vk_fail(b, GB_ERR_NOMEM, "vulkan: out of host memory for descriptor pools");
            r->pools = p;
            VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, VK_SETS_PER_POOL * GD_MAX_ARGS};
            VkDescriptorPoolCreateInfo pi = {VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, NULL, 0, VK_SETS_PER_POOL,
                                             1, &ps};
            VkResult res = c->f.vkCreateDescriptorPool(c->dev, &pi, NULL, &r->pools[r->n_pools]);
            if (res != VK_SUCCESS)
                return vk_fail(b, vk_status_of(res), "vulkan: creating a descriptor pool failed (%s)",
                               vk_result_name(res));
            r->n_pools++;
        }
    }
    VkDescriptorSetAllocateInfo ai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, NULL, r->pools[r->cur_pool], 1,
                                      &c->dsl[n_args]};
    VkResult res = c->f.vkAllocateDescriptorSets(c->dev, &ai, out);
    if (res != VK_SUCCESS)
        return vk_fail(b, vk_status_of(res), "vulkan: allocating a descriptor set failed (%s)", vk_result_name(res));
    r->sets_in_pool++;
    return GB_OK;
}

/* Record the queued commands into r (which then holds them). */
static gb_status record(gb_backend *b, vk_rec *r)
{
    vk_ctx *c = vk_ctx_of(b);
    rec_clear(c, r);
    c->f.vkResetCommandBuffer(r->cmd, 0);
    VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, NULL, 0, NULL};
    VkResult res = c->f.vkBeginCommandBuffer(r->cmd, &bi);
    if (res != VK_SUCCESS)
        return vk_fail(b, vk_status_of(res), "vulkan: vkBeginCommandBuffer failed (%s)", vk_result_name(res));
    if (c->qpool) {
        c->f.vkCmdResetQueryPool(r->cmd, c->qpool, 0, c->q_cap);
        c->f.vkCmdWriteTimestamp(r->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->qpool, 0);
    }
    VkPipeline bound = VK_NULL_HANDLE;
    for (uint32_t i = 0; i < c->n_cmd; i++) {
        const vk_cmd *k = &c->trace[i];
        if (k->barrier)
            barrier(c, r->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                        VK_ACCESS_TRANSFER_WRITE_BIT);
        if (k->kind == VK_CMD_COPY) {
            VkBufferCopy cp = {k->off[0], k->off[1], k->range[0]};
            c->f.vkCmdCopyBuffer(r->cmd, k->buf[0], k->buf[1], 1, &cp);
        } else if (k->kind == VK_CMD_FILL) {
            c->f.vkCmdFillBuffer(r->cmd, k->buf[0], 0, VK_WHOLE_SIZE, 0);
        } else {
            const vk_pipe *pp = &c->pipes[k->pipe];
            if (pp->pipe != bound)
                c->f.vkCmdBindPipeline(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pp->pipe);
            bound = pp->pipe;
            if (k->n_args) {
                VkDescriptorSet set;
                gb_status s = new_set(b, r, (int)k->n_args, &set);
                if (s) {
                    c->f.vkEndCommandBuffer(r->cmd);
                    return s;
                }
                VkDescriptorBufferInfo info[GD_MAX_ARGS];
                VkWriteDescriptorSet wr[GD_MAX_ARGS];
                for (uint32_t a = 0; a < k->n_args; a++) {
                    info[a] = (VkDescriptorBufferInfo){k->buf[a], k->off[a], k->range[a]};
                    wr[a] = (VkWriteDescriptorSet){VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, NULL, set, a, 0, 1,
                                                   VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NULL, &info[a], NULL};
                }
                c->f.vkUpdateDescriptorSets(c->dev, k->n_args, wr, 0, NULL);
                c->f.vkCmdBindDescriptorSets(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout[k->n_args], 0, 1, &set,
                                             0, NULL);
            }
            if (k->n_push)
                c->f.vkCmdPushConstants(r->cmd, c->layout[k->n_args], VK_SHADER_STAGE_COMPUTE_BIT, 0, k->n_push * 4,
                                        k->push);
            c->f.vkCmdDispatch(r->cmd, k->groups[0], k->groups[1], k->groups[2]);
        }
        if (c->qpool)
            c->f.vkCmdWriteTimestamp(r->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->qpool, i + 1);
    }
    /* device writes become visible to the host's reads of mapped memory */
    barrier(c, r->cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    res = c->f.vkEndCommandBuffer(r->cmd);
    if (res != VK_SUCCESS)
        return vk_fail(b, vk_status_of(res), "vulkan: vkEndCommandBuffer failed (%s)", vk_result_name(res));
    /* r keeps the list it holds; the stream takes r's old array */
    vk_cmd *t = r->trace;
    uint32_t cap = r->cap;
    r->trace = c->trace;
    r->cap = c->cap_cmd;
    r->n_cmd = c->n_cmd;
    c->trace = t;
    c->cap_cmd = cap;
    return GB_OK;
}

/* After a submit's fence: charge the time between consecutive timestamps. */
static void profile_collect(vk_ctx *c, const vk_rec *r)
{
    if (!c->qpool || !r->n_cmd)
        return;
    uint64_t ts[VK_MAX_RECORDED + 1];
    VkResult res = c->f.vkGetQueryPoolResults(c->dev, c->qpool, 0, r->n_cmd + 1, sizeof ts, ts, sizeof ts[0],
                                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (res != VK_SUCCESS)
        return;
    double k = c->ts_ns * 1e-9;
    for (uint32_t i = 0; i < r->n_cmd; i++) {
        const vk_cmd *cmd = &r->trace[i];
        vk_pipe *who = cmd->kind == VK_CMD_COPY ? &c->prof_copy
                       : cmd->kind == VK_CMD_FILL ? &c->prof_fill : &c->pipes[cmd->pipe];
        who->seconds += (double)((ts[i + 1] - ts[i]) & c->ts_mask) * k;
    }
    c->prof_gpu_s += (double)((ts[r->n_cmd] - ts[0]) & c->ts_mask) * k;
    c->prof_t1 = vk_now();
}

/* Submit the queued commands and wait. reset_stage: the staging buffer may
 * be reused from its start (not when a caller may hold a stream ref it has
 * not yet bound: the submits inside append keep it). */
static gb_status submit(gb_backend *b, int reset_stage)
{
    vk_ctx *c = vk_ctx_of(b);
    if (b->status)
        return b->status;
    if (!c->n_cmd) {
        if (reset_stage)
            c->stage_used = 0;
        return GB_OK;
    }
    vk_rec *r = NULL, *lru = &c->rec[0];
    size_t bytes = (size_t)c->n_cmd * sizeof(vk_cmd);
    for (int k = 0; k < VK_RECS && !r; k++) {
        vk_rec *q = &c->rec[k];
        if (q->n_cmd == c->n_cmd && !memcmp(q->trace, c->trace, bytes))
            r = q;
        if (q->used < lru->used)
            lru = q;
    }
    gb_status s = GB_OK;
    if (r)
        c->n_replay++;
    else if ((s = record(b, r = lru)) != GB_OK) {
        rec_clear(c, r);
        return s;
    }
    r->used = ++c->rec_clock;
    c->n_cmd = 0;
    c->n_ranges = 0;
    c->recording = 0;
    VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO, NULL, 0, NULL, NULL, 1, &r->cmd, 0, NULL};
    VkResult res = c->f.vkQueueSubmit(c->queue, 1, &si, c->fence);
    if (res == VK_SUCCESS) {
        c->n_submit++;
        /* GQ_VK_SPIN=1: poll first (a decoded token's submit is a few ms;
         * waking from a blocking wait may cost more than that's worth) */
        res = VK_NOT_READY;
        for (double t0 = c->spin ? vk_now() : 0; c->spin && res == VK_NOT_READY && vk_now() - t0 < 0.05;)
            res = c->f.vkGetFenceStatus(c->dev, c->fence);
        if (res == VK_NOT_READY)
            res = c->f.vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, VK_WAIT_NS);
        if (res == VK_TIMEOUT)
            return vk_fail(b, GB_ERR_DEVICE, "vulkan: %s did not finish queued work within %llu s (device hung?)",
                           c->props.deviceName, (unsigned long long)(VK_WAIT_NS / 1000000000ull));
        c->f.vkResetFences(c->dev, 1, &c->fence);
        profile_collect(c, r);
    }
    if (res != VK_SUCCESS)
        return vk_fail(b, res == VK_ERROR_DEVICE_LOST ? GB_ERR_DEVICE : vk_status_of(res),
                       "vulkan: submitting work to %s failed (%s)", c->props.deviceName, vk_result_name(res));
    if (reset_stage)
        c->stage_used = 0;
    return GB_OK;
}

gb_status vk_flush(gb_backend *b) { return submit(b, 1); }

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
    vk_range rg[GD_MAX_ARGS];
    uint64_t start[GD_MAX_ARGS], range[GD_MAX_ARGS];
    for (int i = 0; i < d->n_args; i++) {
        const gd_arg *a = &d->args[i];
        const gb_buffer *buf = a->ref.buf;
        if (!buf || a->ref.off > buf->size || a->bytes > buf->size - a->ref.off)
            return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s argument %d: %llu bytes at offset %llu lie outside "
                           "its buffer (%llu bytes)", d->kernel, i, (unsigned long long)a->bytes,
                           (unsigned long long)a->ref.off, (unsigned long long)(buf ? buf->size : 0));
        start[i] = a->ref.off & ~(c->align - 1);
        range[i] = buf->size - start[i] < c->max_range ? buf->size - start[i] : c->max_range;
        if (a->ref.off - start[i] + a->bytes > range[i])
            return vk_fail(b, GB_ERR_INVALID, "vulkan: kernel %s argument %d: %llu bytes do not fit one descriptor "
                           "window (%llu bytes on %s): the op must split its work", d->kernel, i,
                           (unsigned long long)a->bytes, (unsigned long long)c->max_range, c->props.deviceName);
        rg[i] = (vk_range){buf, a->ref.off, a->ref.off + a->bytes, a->writes};
    }
    vk_cmd *cmd = append(b, rg, d->n_args);
    if (!cmd)
        return b->status;
    cmd->kind = VK_CMD_DISPATCH;
    cmd->pipe = (int32_t)(entry - c->pipes);
    cmd->n_args = (uint32_t)d->n_args;
    cmd->n_push = d->n_push;
    memcpy(cmd->groups, d->groups, sizeof cmd->groups);
    memcpy(cmd->push, d->push, d->n_push * sizeof(uint32_t));
    for (int i = 0; i < d->n_args; i++) {
        cmd->buf[i] = d->args[i].ref.buf->buf;
        cmd->off[i] = start[i];
        cmd->range[i] = range[i];
        cmd->push[i] = (uint32_t)(d->args[i].ref.off - start[i]);
    }
    c->n_dispatch++;
    entry->runs++;
    return GB_OK;
}
