/* vk_backend.c - gb_vulkan_entry: probe, create, destroy, and the op table.
 *
 * Everything Vulkan-specific lives in the files vk_internal.h lists; this
 * file only wires them into a gb_backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_backend.h"
#include "vk_internal.h"

static gb_status vk_op_finish(gb_backend *b) { return vk_flush(b); }

static void vk_destroy(gb_backend *b)
{
    if (!b)
        return;
    vk_ctx *c = vk_ctx_of(b);
    if (c) {
        const char *st = getenv("GQ_VK_STATS");
        if ((st && *st && strcmp(st, "0")) || c->profile) {
            fprintf(stderr, "vulkan: %llu dispatches, %llu barriers, %llu submits (%llu replayed) on %s%s\n",
                    (unsigned long long)c->n_dispatch, (unsigned long long)c->n_barrier,
                    (unsigned long long)c->n_submit, (unsigned long long)c->n_replay, c->props.deviceName,
                    c->coopmat ? ", tensor-core prefill kernels (cm_*)" : "");
            for (int i = 0; i < c->n_pipes; i++)
                fprintf(stderr, "vulkan:   %-24s %10llu dispatches\n", c->pipes[i].name,
                        (unsigned long long)c->pipes[i].runs);
        }
        if (c->profile)
            vk_profile_print(b);
        if (c->dev) {
            vk_record_destroy(b); /* waits for the device */
            vk_memory_destroy(b);
            vk_pipelines_destroy(b);
        }
        vk_device_close(c);
        free(c);
    }
    free(b);
}

static int vk_probe(const gb_config *cfg, int *software, char *why, size_t whylen)
{
    int sw = 0;
    int ok = vk_device_probe(cfg ? cfg->device : NULL, &sw, why, whylen);
    if (software)
        *software = ok && sw;
    return ok;
}

static gb_backend *vk_create(const gb_config *cfg, char *err, size_t errlen)
{
    gb_backend *b = calloc(1, sizeof *b);
    vk_ctx *c = calloc(1, sizeof *c);
    if (!b || !c) {
        free(b);
        free(c);
        snprintf(err, errlen, "vulkan: out of host memory");
        return NULL;
    }
    b->ctx = c;
    b->name = "vulkan";
    const char *prof = getenv("GQ_VK_PROFILE");
    c->profile = prof && *prof && strcmp(prof, "0");
    const char *spin = getenv("GQ_VK_SPIN");
    c->spin = spin && *spin && strcmp(spin, "0");
    const char *nomap = getenv("GQ_VK_NO_MAP");
    c->no_map = nomap && *nomap && strcmp(nomap, "0");
    if (vk_device_open(c, cfg ? cfg->device : NULL, err, errlen)) {
        vk_destroy(b);
        return NULL;
    }
    size_t nl = strnlen(c->props.deviceName, sizeof c->props.deviceName);
    if (nl > sizeof b->device - 1)
        nl = sizeof b->device - 1;
    memcpy(b->device, c->props.deviceName, nl);
    b->device[nl] = 0;
    snprintf(b->isa, sizeof b->isa, "spirv");
    b->is_software = c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    c->host.run = vk_run;
    c->host.scratch = vk_scratch;
    c->host.upload = vk_stream_upload;
    c->host.window = vk_window_bytes(b);
    c->host.max_alloc = c->max_alloc;
    if (vk_pipelines_init(b) || vk_record_init(b)) {
        snprintf(err, errlen, "%s", b->error);
        vk_destroy(b);
        return NULL;
    }
    b->prepare = vk_op_prepare;
    b->alloc = vk_op_alloc;
    b->release = vk_op_release;
    b->write = vk_op_write;
    b->read = vk_op_read;
    b->finish = vk_op_finish;
    gd_ops_install(b);
    /* GQ_VK_FUSED=0: the op sequences instead of the fused ops (measuring) */
    const char *fz = getenv("GQ_VK_FUSED");
    if (!fz || strcmp(fz, "0"))
        gd_ops_install_fused(b);
    b->destroy = vk_destroy;
    return b;
}

int gb_vulkan_stats_of(gb_backend *b, gb_vulkan_stats *s)
{
    if (!b || !b->name || strcmp(b->name, "vulkan") || !b->ctx)
        return -1;
    vk_ctx *c = vk_ctx_of(b);
    s->dispatches = c->n_dispatch;
    s->barriers = c->n_barrier;
    s->submits = c->n_submit;
    s->device_bytes = c->device_bytes;
    s->cache_loaded = c->cache_loaded;
    s->max_range = c->max_range;
    s->align = c->align;
    s->subgroup = c->subgroup;
    s->coopmat = c->coopmat;
    s->cache_path = c->cache_path;
    return 0;
}

const gb_backend_entry gb_vulkan_entry = {"vulkan", vk_probe, vk_create};
