/* gd_ops_score.c - the perplexity reductions (backend.h, gb_score_in) on
 * the device: one workgroup per row of logits (kernels/shaders/score.comp);
 * only per-row scalars (nll, kld, the top-k ids and log-probabilities) are
 * read back. */
#include <stdlib.h>
#include <string.h>

#include "gd.h"
#include "gd_ops.h"

#define SCORE_SLOT (GD_SCRATCH_SLOTS - 1)
#define SCORE_ROWS_MAX 4096 /* rows per dispatch: bounds the staged inputs */

gb_status gd_op_score(gb_backend *b, gb_ref logits, int n, int vocab, const gb_score_in *in, gb_score_out *out)
{
    if (b->status)
        return b->status;
    int k = in->top_k, rk = in->ref_k, dense = in->ref_logits.buf != NULL;
    if (n <= 0)
        return GB_OK;
    if (vocab <= 0 || k < 0 || k > GB_TOPK_MAX || k > vocab || rk < 0 || (rk && (!in->ref_ids || !in->ref_logp)) ||
        (out->nll && !in->target) || (out->kld && !dense && !rk) || ((out->top_ids || out->top_logp) && !k))
        return gb_fail(b, GB_ERR_INVALID, "%s score: inconsistent request (vocab %d, top_k %d, ref_k %d)", b->name,
                       vocab, k, rk);
    for (int t = 0; in->target && t < n; t++)
        if (in->target[t] < 0 || in->target[t] >= vocab)
            return gb_fail(b, GB_ERR_INVALID, "%s score: target %d of row %d is outside the vocabulary (%d)", b->name,
                           in->target[t], t, vocab);
    for (long long i = 0; !dense && i < (long long)n * rk; i++)
        if (in->ref_ids[i] >= (uint32_t)vocab)
            return gb_fail(b, GB_ERR_INVALID, "%s score: reference id %u is outside the vocabulary (%d)", b->name,
                           in->ref_ids[i], vocab);
    uint64_t row = (uint64_t)vocab * 4, orow = (2 + 2 * (uint64_t)k) * 4;
    uint64_t per = gd_window_bytes(b) / row;
    if (per > SCORE_ROWS_MAX)
        per = SCORE_ROWS_MAX;
    if (per == 0)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s score: one row of %d logits does not fit a window", b->name, vocab);
    gb_ref res;
    gb_status s = gd_scratch(b, SCORE_SLOT, (uint64_t)n * orow, &res);
    if (s)
        return s;
    uint32_t flags = (in->target ? 1u : 0u) | (dense ? 2u : 0u) | (!dense && rk ? 4u : 0u);
    uint64_t in_words_per = 1 + 2 * (uint64_t)(dense ? 0 : rk);
    uint32_t *staged = malloc((size_t)(per * in_words_per) * 4);
    if (!staged)
        return gb_fail(b, GB_ERR_NOMEM, "%s score: out of host memory", b->name);
    for (uint64_t r0 = 0; r0 < (uint64_t)n && !s; r0 += per) {
        uint64_t rn = (uint64_t)n - r0 < per ? (uint64_t)n - r0 : per;
        /* inputs: targets [rn], ref ids [rn * rk], ref logp [rn * rk] */
        uint64_t nw = 0;
        for (uint64_t t = 0; t < rn; t++)
            staged[nw++] = in->target ? (uint32_t)in->target[r0 + t] : 0;
        if (flags & 4u) {
            memcpy(staged + nw, in->ref_ids + r0 * (uint64_t)rk, rn * (uint64_t)rk * 4);
            nw += rn * (uint64_t)rk;
            memcpy(staged + nw, in->ref_logp + r0 * (uint64_t)rk, rn * (uint64_t)rk * 4);
            nw += rn * (uint64_t)rk;
        }
        gb_ref up;
        if ((s = gd_upload(b, staged, nw * 4, &up)))
            break;
        gd_dispatch d = {.kernel = "score", .n_args = 4, .n_push = 9, .groups = {(uint32_t)rn, 1, 1}};
        gb_ref lg = gb_ref_at(logits, r0 * row);
        d.args[0].ref = lg;
        d.args[0].bytes = rn * row;
        d.args[1].ref = dense ? gb_ref_at(in->ref_logits, r0 * row) : lg;
        d.args[1].bytes = rn * row;
        d.args[2].ref = up;
        d.args[2].bytes = nw * 4;
        d.args[3].ref = gb_ref_at(res, r0 * orow);
        d.args[3].bytes = rn * orow;
        d.args[3].writes = 1;
        d.push[4] = (uint32_t)vocab;
        d.push[5] = (uint32_t)k;
        d.push[6] = (uint32_t)(dense ? 0 : rk);
        d.push[7] = flags;
        d.push[8] = (uint32_t)rn;
        s = gd_run(b, &d);
    }
    free(staged);
    if (s)
        return s;
    uint32_t *o = malloc((size_t)n * orow);
    if (!o)
        return gb_fail(b, GB_ERR_NOMEM, "%s score: out of host memory for %d rows", b->name, n);
    s = b->read(b, res, o, (uint64_t)n * orow);
    for (int t = 0; !s && t < n; t++) {
        const uint32_t *r = o + (uint64_t)t * (orow / 4);
        float f;
        if (out->nll) {
            memcpy(&f, &r[0], 4);
            out->nll[t] = f;
        }
        if (out->kld) {
            memcpy(&f, &r[1], 4);
            out->kld[t] = f;
        }
        if (out->top_ids)
            memcpy(out->top_ids + (uint64_t)t * k, r + 2, (size_t)k * 4);
        if (out->top_logp)
            memcpy(out->top_logp + (uint64_t)t * k, r + 2 + k, (size_t)k * 4);
    }
    free(o);
    return s;
}
