/* forward.h - the gpt-oss forward pass over a session (model + backend +
 * KV cache), for single-token decode and batched prefill alike.
 *
 * gq_forward feeds n tokens at the session's current position and advances
 * it. The tokens are processed in micro-batches of at most max_batch (each
 * one a prefill batch on the backend; n == 1 is the decode path). Logits are
 * produced only for tokens whose index in this call is >= logits_from
 * (perplexity scores the second half of a chunk; generation only the last
 * token) and handed to the callback a few rows at a time where they live:
 * on the backend, [n_rows, vocab] fp32 at `logits`, valid only during the
 * call. The callback reduces them there (be->score) or reads them
 * (be->read); it returns the backend's status.
 *
 * Every backend status is checked: a failure stops the pass and the caller
 * gets GQ_ERR_BACKEND with the backend's own words in err.
 */
#ifndef GQ_FORWARD_H
#define GQ_FORWARD_H

#include "backend.h"
#include "kv.h"
#include "model.h"

typedef struct gq_session gq_session;
/* Rows index .. index + n_rows - 1 (token indices in this gq_forward call). */
typedef gb_status (*gq_logits_fn)(void *user, int index, int n_rows, gb_ref logits, int vocab);

/* m must be prepared for be (gm_prepare). ctx: positions the session can
 * hold (<= max_ctx); max_batch: prefill micro-batch (<= 0: 128). NULL with
 * a message (be->status != GB_OK tells a backend failure: out of memory). */
gq_session *gq_session_create(const gm_model *m, gb_backend *be, int ctx, int max_batch, char *err, size_t errlen);
void gq_session_free(gq_session *s);
/* Forget every token (the cache is overwritten from position 0). */
void gq_session_reset(gq_session *s);
int gq_session_pos(const gq_session *s);
int gq_session_ctx(const gq_session *s);
gb_backend *gq_session_backend(const gq_session *s);

/* 0; -1 with a message (token id out of range, context full);
 * GQ_ERR_BACKEND with the backend's message. */
int gq_forward(gq_session *s, const int32_t *ids, int n, int logits_from, gq_logits_fn cb, void *user, char *err,
               size_t errlen);

#endif
