/* kv.h - the key/value cache of one session.
 *
 * Sliding-window layers keep a ring of sliding_window slots (position p in
 * slot p % window); full-attention layers keep one slot per position of the
 * requested context. Buffers come from the backend (gb_buffer), so a device
 * backend keeps its cache on the device.
 */
#ifndef GQ_KV_H
#define GQ_KV_H

#include "backend.h"
#include "model.h"

typedef struct {
    int n_layers;
    int ctx;                  /* positions 0..ctx-1 can be processed */
    gb_attn *layers;          /* cache references, shape and window per layer */
    gb_buffer **bufs;         /* 2 per layer (k, v): what gq_kv_free releases */
    gb_backend *be;
    size_t bytes;             /* total cache size */
} gq_kv;

/* 0; -1 with a message (ctx out of range, out of host memory);
 * GQ_ERR_BACKEND with be->error in the message. m must be prepared for be. */
int gq_kv_init(gq_kv *kv, const gm_model *m, gb_backend *be, int ctx, char *err, size_t errlen);
void gq_kv_free(gq_kv *kv);

#endif
