/* safetensors_internal.h - shared between safetensors.c (one file's header)
 * and safetensors_index.c (sharded checkpoints, directories). Private. */
#ifndef GQ_SAFETENSORS_INTERNAL_H
#define GQ_SAFETENSORS_INTERNAL_H

#include "safetensors.h"

typedef struct {
    char *path;               /* as given / as joined; used in every message */
    const uint8_t *base;      /* whole file image */
    size_t len;
    int mapped;               /* 1: munmap on close; 0: caller's buffer */
} st_shard;

struct st_checkpoint {
    st_shard *shards;
    size_t nshards, cap_shards;
    st_tensor *tensors;       /* sorted by name once st__finish ran */
    size_t ntensors, cap_tensors;
};

/* printf into err; always returns -1 so callers can `return st__fail(...)` */
int st__fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

st_checkpoint *st__new(void);
/* Map PATH read-only and append it as a shard; returns its index or -1. */
int st__add_file(st_checkpoint *ck, const char *path, char *err, size_t errlen);
/* Append a caller-owned image as a shard; returns its index or -1. */
int st__add_memory(st_checkpoint *ck, const void *buf, size_t len, const char *label, char *err, size_t errlen);
/* Validate shard i's header and append its tensors. 0 or -1. */
int st__parse_shard(st_checkpoint *ck, size_t i, char *err, size_t errlen);
/* Sort all tensors by name; a name in two places is an error. 0 or -1. */
int st__finish(st_checkpoint *ck, char *err, size_t errlen);

/* from safetensors_index.c: PATH is a model.safetensors.index.json */
st_checkpoint *st__open_index(const char *path, char *err, size_t errlen);

#endif
