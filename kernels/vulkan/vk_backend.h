/* vk_backend.h - what the Vulkan backend shows besides gb_vulkan_entry:
 * counters for tests, benchmarks and docs/VULKAN.md's dispatch count. */
#ifndef GQ_VK_BACKEND_H
#define GQ_VK_BACKEND_H

#include <stdint.h>

#include "backend.h"

extern const gb_backend_entry gb_vulkan_entry;

typedef struct {
    uint64_t dispatches;       /* kernels recorded since create */
    uint64_t barriers;         /* barriers between dependent dispatches */
    uint64_t submits;          /* command buffers submitted */
    uint64_t device_bytes;     /* device memory allocated now (weights, buffers, staging) */
    uint64_t cache_loaded;     /* pipeline-cache bytes read from disk at create (0: none or rejected) */
    uint64_t max_range;        /* one descriptor window (maxStorageBufferRange, aligned) */
    uint64_t align;            /* minStorageBufferOffsetAlignment (at least 16) */
    uint32_t subgroup;         /* subgroup size */
    int coopmat;               /* 1: the prefill products run the cm_* tensor-core kernels */
    const char *cache_path;    /* the pipeline cache file ("" when off) */
} gb_vulkan_stats;

/* 0 and *s filled when b is a Vulkan backend, else -1. */
int gb_vulkan_stats_of(gb_backend *b, gb_vulkan_stats *s);

#endif
