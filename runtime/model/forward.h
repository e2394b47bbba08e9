/* forward.h - the gpt-oss forward pass over a session (model + backend +
 * KV cache), for single-token decode and batched prefill alike.
 *
 * gq_forward feeds n tokens at the session's current position and advances
 * it. The tokens are processed in micro-batches of at most max_batch (each
 * one a prefill batch on the backend; n == 1 is the decode path). Logits are
 * produced only for tokens whose index in this call is >= logits_from
 * (perplexity scores the second half of a chunk; generation only the last
 * token) and handed to the callback one token at a time, fp32, vocab long,
 * valid only during the call.
 */
#ifndef GQ_FORWARD_H
#define GQ_FORWARD_H

#include "backend.h"
#include "kv.h"
#include "model.h"

typedef struct gq_session gq_session;
typedef void (*gq_logits_fn)(void *user, int index, const float *logits);

/* ctx: positions the session can hold (<= max_ctx); max_batch: prefill
 * micro-batch (<= 0: 128). NULL with a message. */
gq_session *gq_session_create(const gm_model *m, gb_backend *be, int ctx, int max_batch, char *err, size_t errlen);
void gq_session_free(gq_session *s);
/* Forget every token (the cache is overwritten from position 0). */
void gq_session_reset(gq_session *s);
int gq_session_pos(const gq_session *s);
int gq_session_ctx(const gq_session *s);

/* 0, or -1 with a message (token id out of range, context full). */
int gq_forward(gq_session *s, const int32_t *ids, int n, int logits_from, gq_logits_fn cb, void *user, char *err,
               size_t errlen);

#endif
