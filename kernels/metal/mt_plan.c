/* mt_plan.c - the Metal host's plain-C decisions (mt_plan.h). */
#include "mt_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const mt_kernel *)elem)->name);
}

const mt_kernel *mt_kernel_find(const char *name)
{
    if (!name)
        return NULL;
    return bsearch(name, mt_kernel_table, (size_t)mt_kernel_count, sizeof *mt_kernel_table, by_name);
}

uint64_t mt_window(uint64_t max_buffer_length)
{
    uint64_t range = max_buffer_length < (1ull << 32) ? max_buffer_length : (1ull << 32);
    return range > MT_BIND_ALIGN ? (range - MT_BIND_ALIGN) & ~(uint64_t)15 : 0;
}

int mt_bind(const gd_dispatch *d, uint64_t window, const mt_kernel **kernel, mt_binding *out, char *why,
            size_t whylen)
{
    const mt_kernel *k = *kernel = mt_kernel_find(d->kernel);
    if (!k) {
        snprintf(why, whylen, "kernel %s has no Metal source (kernels/metal/msl/%s.metal)", d->kernel, d->kernel);
        return -1;
    }
    if (d->n_args != k->n_args || d->n_push > GD_PUSH_WORDS || d->n_push < (uint32_t)d->n_args) {
        snprintf(why, whylen, "kernel %s takes %d buffers, the dispatch gives %d (with %u push words)", k->name,
                 k->n_args, d->n_args, d->n_push);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->push, d->push, d->n_push * sizeof *d->push);
    for (int i = 0; i < d->n_args; i++) {
        const gd_arg *a = &d->args[i];
        uint64_t size = a->ref.buf ? a->ref.buf->size : 0;
        if (!a->ref.buf || a->ref.off > size || a->bytes > size - a->ref.off) {
            snprintf(why, whylen, "kernel %s argument %d: %llu bytes at offset %llu lie outside its buffer (%llu bytes)",
                     k->name, i, (unsigned long long)a->bytes, (unsigned long long)a->ref.off,
                     (unsigned long long)size);
            return -1;
        }
        uint64_t start = a->ref.off & ~(uint64_t)(MT_BIND_ALIGN - 1);
        if (a->bytes > window) { /* then the binding, (off - start) + bytes, is under 4 GiB */
            snprintf(why, whylen, "kernel %s argument %d: %llu bytes exceed one binding window (%llu bytes): the op "
                     "must split its work", k->name, i, (unsigned long long)a->bytes, (unsigned long long)window);
            return -1;
        }
        out->offset[i] = start;
        out->push[i] = (uint32_t)(a->ref.off - start);
    }
    return 0;
}

int mt_plan_views(uint64_t map_bytes, uint64_t page, uint64_t max_len, uint64_t largest, mt_view *v, int cap)
{
    if (page == 0 || cap < 1)
        return 0;
    uint64_t total = (map_bytes + page - 1) / page * page;
    if (total <= max_len) {
        v[0].off = 0;
        v[0].len = total;
        return 1;
    }
    uint64_t len = max_len / page * page, overlap = (largest + page - 1) / page * page;
    if (len <= overlap)
        return 0;
    uint64_t step = len - overlap;
    int n = 0;
    for (uint64_t off = 0;; off += step) {
        if (n == cap)
            return 0;
        v[n].off = off;
        v[n].len = total - off < len ? total - off : len;
        n++;
        if (off + len >= total)
            return n;
    }
}

int mt_view_of(const mt_view *v, int n, uint64_t off, uint64_t len)
{
    for (int i = 0; i < n; i++)
        if (off >= v[i].off && len <= v[i].len && off - v[i].off <= v[i].len - len)
            return i;
    return -1;
}
