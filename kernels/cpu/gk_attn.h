/* gk_attn.h - attention of one query head over its keys, with sinks (the
 * inner loop of the CPU backend's attention op, backend.h).
 *
 * Keys and values of positions lo..pos: those before pos0 in the cache ring
 * (slot p % cap), the others in this batch (row p - pos0); each row
 * `stride` floats apart, this head's head_dim values at the given base.
 * out = sum_j softmax_j * v_j, where the softmax over the scores
 * q . k_j * scale also counts exp(sink) in its denominator (max-subtracted,
 * fp32 exp). The scores are summed in a fixed order per key, so a result
 * depends on neither the thread count nor the batch. */
#ifndef GK_ATTN_H
#define GK_ATTN_H

#include <stdint.h>

typedef struct {
    const float *kc, *vc;      /* cache rows of this head (slot 0), or NULL when pos0 == 0 */
    const float *k, *v;        /* batch rows of this head (row 0) */
    int64_t stride;            /* floats between consecutive rows / slots */
    int cap, pos0;
    int head_dim;
    float scale, sink;
} gk_attn_kv;

/* One query q at position pos over keys lo..pos; scores: pos - lo + 1
 * floats of scratch; out: head_dim floats. */
void gk_attn_one(const gk_attn_kv *kv, const float *q, int lo, int pos, float *scores, float *out);

#endif
