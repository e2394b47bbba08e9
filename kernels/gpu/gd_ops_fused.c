/* gd_ops_fused.c - backend.h's optional fused ops as dispatches:
 * add_rmsnorm (add_rmsnorm.comp), rope_kv_store (rope_kv.comp) and argmax
 * (argmax.comp). Each is one dependent dispatch where the op sequence it
 * replaces is two or three: a decoded token is ~15 small dependent
 * dispatches a layer, and on the H200 each costs ~3 us of barrier whatever
 * its size (docs/PERFORMANCE.md). Where the arguments do not fit one
 * descriptor window, add_rmsnorm and rope_kv_store run the op sequence
 * instead (same results); argmax splits its rows. Only a host that has the
 * kernels installs them (gd_ops_install_fused: Vulkan; not Metal yet). */
#include "gd.h"
#include "gd_ops.h"

#define ARGMAX_SLOT 6  /* scratch slot of argmax's ids (MoE 0-3, score 7) */

gb_status gd_op_add_rmsnorm(gb_backend *b, gb_ref x, gb_ref y, const gb_weight *w, int n, int dim, float eps,
                            gb_ref out)
{
    if (b->status)
        return b->status;
    if (!w->dev.buf || w->type != GQ_F32 || w->cols < dim || gd_window_bytes(b) < (uint64_t)dim * 4) {
        gb_status s = gd_op_add(b, x, y, (uint64_t)n * (uint64_t)dim);
        return s ? s : gd_op_rmsnorm(b, x, w, n, dim, eps, out); /* (it names a bad weight) */
    }
    return gd_norm_rows(b, x, &y, w, n, dim, eps, out);
}

gb_status gd_op_rope_kv_store(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0,
                              const gb_weight *inv_freq, float mscale)
{
    if (b->status)
        return b->status;
    int hd = a->head_dim;
    uint64_t qrow = (uint64_t)a->n_heads * (uint64_t)hd * 4, kvrow = (uint64_t)a->n_kv_heads * (uint64_t)hd * 4;
    uint64_t cache = (uint64_t)a->cap * kvrow, maxb = gd_max_arg_bytes(b);
    uint64_t groups_y = (uint64_t)a->n_heads + 2u * (uint64_t)a->n_kv_heads;
    /* one dispatch when everything fits one window and the grid; else the
     * op sequence (which splits) */
    if (!inv_freq->dev.buf || inv_freq->type != GQ_F32 || inv_freq->cols < hd / 2 || hd % 2 || pos0 < 0 ||
        a->cap <= 0 || n < 1 || n > 65535 || groups_y > 65535 || (uint64_t)n * qrow > maxb ||
        (uint64_t)n * kvrow > maxb || cache > maxb) {
        gb_status s = gd_op_rope(b, q, n, a->n_heads, hd, pos0, inv_freq, mscale);
        if (!s)
            s = gd_op_rope(b, k, n, a->n_kv_heads, hd, pos0, inv_freq, mscale);
        return s ? s : gd_op_kv_store(b, a, k, v, n, pos0);
    }
    /* the position travels in the stream, as rope's and kv_store's do */
    uint32_t p0 = (uint32_t)pos0;
    gb_ref pos;
    gb_status s = gd_upload(b, &p0, 4, &pos);
    if (s)
        return s;
    gd_dispatch d = {.kernel = "rope_kv", .n_args = 7, .n_push = 13,
                     .groups = {gd_groups((uint64_t)hd / 2, 64), (uint32_t)groups_y, (uint32_t)n}};
    d.args[0] = gd_arg_of(q, (uint64_t)n * qrow, 1);
    d.args[1] = gd_arg_of(k, (uint64_t)n * kvrow, 1);
    d.args[2] = gd_arg_of(v, (uint64_t)n * kvrow, 0);
    d.args[3] = gd_arg_of(inv_freq->dev, (uint64_t)hd / 2 * 4, 0);
    d.args[4] = gd_arg_of(pos, 4, 0);
    d.args[5] = gd_arg_of(a->k_cache, cache, 1);
    d.args[6] = gd_arg_of(a->v_cache, cache, 1);
    d.push[7] = (uint32_t)a->n_heads;
    d.push[8] = (uint32_t)a->n_kv_heads;
    d.push[9] = (uint32_t)hd;
    d.push[10] = gd_f2u(mscale);
    d.push[11] = (uint32_t)a->cap;
    d.push[12] = (uint32_t)(n > a->cap ? n - a->cap : 0); /* only the last cap tokens survive */
    return gd_run(b, &d);
}

gb_status gd_op_argmax(gb_backend *b, gb_ref logits, int n, int vocab, int32_t *ids)
{
    if (b->status)
        return b->status;
    uint64_t row = (uint64_t)vocab * 4;
    if (n < 1 || vocab < 1 || row > gd_max_arg_bytes(b))
        return gb_fail(b, GB_ERR_INVALID, "%s argmax: %d rows of %d logits (one row must fit a window)", b->name, n,
                       vocab);
    uint64_t per = gd_max_arg_bytes(b) / row;
    if (per > 65535)
        per = 65535;
    gb_ref res;
    gb_status s = gd_scratch(b, ARGMAX_SLOT, (uint64_t)n * 4, &res);
    for (uint64_t r0 = 0; r0 < (uint64_t)n && !s; r0 += per) {
        uint64_t rn = (uint64_t)n - r0 < per ? (uint64_t)n - r0 : per;
        gd_dispatch d = {.kernel = "argmax", .n_args = 2, .n_push = 3, .groups = {(uint32_t)rn, 1, 1}};
        d.args[0] = gd_arg_of(gb_ref_at(logits, r0 * row), rn * row, 0);
        d.args[1] = gd_arg_of(gb_ref_at(res, r0 * 4), rn * 4, 1);
        d.push[2] = (uint32_t)vocab;
        s = gd_run(b, &d);
    }
    /* ids are int32 and the kernel's < vocab <= INT32_MAX: the same bits */
    return s ? s : b->read(b, res, ids, (uint64_t)n * 4);
}

void gd_ops_install_fused(gb_backend *b)
{
    b->add_rmsnorm = gd_op_add_rmsnorm;
    b->rope_kv_store = gd_op_rope_kv_store;
    b->argmax = gd_op_argmax;
}
