/* vk_profile.c - GQ_VK_PROFILE=1's report: per kernel, the GPU time the
 * timestamps charged to it (vk_record.c says how), its share, its count and
 * the time per dispatch; and the gap between the GPU's busy time and the
 * wall time since the first command (the GPU waiting for the host). */
#include <stdio.h>
#include <stdlib.h>

#include "vk_internal.h"

static int by_seconds(const void *a, const void *b)
{
    const vk_pipe *x = *(const vk_pipe *const *)a, *y = *(const vk_pipe *const *)b;
    return x->seconds < y->seconds ? 1 : x->seconds > y->seconds ? -1 : 0;
}

void vk_profile_print(gb_backend *b)
{
    vk_ctx *c = vk_ctx_of(b);
    if (!c->qpool)
        return;
    int n = 0;
    vk_pipe **all = calloc((size_t)c->n_pipes + 2, sizeof *all);
    if (!all)
        return;
    for (int i = 0; i < c->n_pipes; i++)
        all[n++] = &c->pipes[i];
    all[n++] = &c->prof_copy;
    all[n++] = &c->prof_fill;
    qsort(all, (size_t)n, sizeof *all, by_seconds);
    double wall = c->prof_t1 - c->prof_t0, gpu = c->prof_gpu_s;
    fprintf(stderr, "vulkan profile (timestamps, %s): GPU busy %.3f ms of %.3f ms wall since the first command; "
            "gap %.3f ms (%.1f%%: the GPU waits for the host); %llu submits, %llu replayed\n", c->props.deviceName,
            1e3 * gpu, 1e3 * wall, 1e3 * (wall - gpu), wall > 0 ? 100 * (wall - gpu) / wall : 0.0,
            (unsigned long long)c->n_submit, (unsigned long long)c->n_replay);
    fprintf(stderr, "vulkan profile: %-24s %10s %12s %7s %10s\n", "kernel", "count", "GPU ms", "share", "us each");
    for (int i = 0; i < n; i++) {
        const vk_pipe *p = all[i];
        if (!p->runs)
            continue;
        fprintf(stderr, "vulkan profile: %-24s %10llu %12.3f %6.1f%% %10.2f\n", p->name, (unsigned long long)p->runs,
                1e3 * p->seconds, gpu > 0 ? 100 * p->seconds / gpu : 0.0, 1e6 * p->seconds / (double)p->runs);
    }
    free(all);
}
