/* gd_ops_attention.c - backend.h's attention on two kernels: decode (n = 1)
 * on `attention` (one workgroup per head and query, an online softmax over
 * the keys; kernels/shaders/attention.comp), batches of head_dim 64 on
 * `attention_fa` (flash-attention tiles: 64 query rows of one kv head share
 * each tile of keys in shared memory; kernels/shaders/attention_fa.comp).
 * Both take the same bindings and the same push words (attention_fa one
 * more: the dispatch's query count).
 *
 * The cache is bound whole where it fits a descriptor window (every model
 * here), and the batch's first position travels in the stream (the kernel
 * reads it), so a decoded token's dispatch is the same every token and its
 * command buffer can be replayed (kernels/vulkan/vk_record.c). A cache
 * larger than a window is bound only over the slots the batch reads: the
 * positions max(0, pos0 - window + 1) .. pos0 - 1, contiguous slots unless
 * the ring wraps, and then the whole ring (a window-sized ring is small). Long batches are split over
 * queries so that the q and out spans fit a window; keys of the batch are
 * always bound whole. */
#include "gd.h"
#include "gd_ops.h"

#define AT_MAX_HEAD_DIM 256
#define FA_HEAD_DIM 64 /* the one head_dim attention_fa is built for */
#define FA_ROWS 64     /* query rows (token, head of the GQA group) per attention_fa workgroup */
#define MAX_GROUPS 65535

gb_status gd_op_attention(gb_backend *b, const gb_attn *a, gb_ref q, gb_ref k, gb_ref v, int n, int pos0, gb_ref out)
{
    if (n <= 0 || pos0 < 0 || a->n_heads <= 0 || a->n_kv_heads <= 0 || a->n_heads % a->n_kv_heads ||
        a->head_dim <= 0 || a->cap <= 0 || a->window < 0 || !a->sinks || a->sinks->type != GQ_F32 ||
        a->sinks->cols * a->sinks->rows < a->n_heads)
        return gb_fail(b, GB_ERR_INVALID, "%s attention: bad shape (heads %d / kv %d, head_dim %d, cap %d, n %d)",
                       b->name, a->n_heads, a->n_kv_heads, a->head_dim, a->cap, n);
    if (a->head_dim > AT_MAX_HEAD_DIM)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s attention: head_dim %d > %d", b->name, a->head_dim, AT_MAX_HEAD_DIM);
    uint64_t maxb = gd_max_arg_bytes(b);
    uint64_t kvs = (uint64_t)a->n_kv_heads * (uint64_t)a->head_dim * 4u; /* bytes of one position's k */
    uint64_t qs = (uint64_t)a->n_heads * (uint64_t)a->head_dim * 4u;     /* bytes of one query */

    /* the cache slots read: all of them, or positions lo .. pos0-1 */
    int lo = a->window > 0 && pos0 - a->window + 1 > 0 ? pos0 - a->window + 1 : 0;
    uint64_t s0 = 0, nslots = 1;
    if ((uint64_t)a->cap * kvs <= maxb) {
        nslots = (uint64_t)a->cap;
    } else if (pos0 > lo) {
        if (pos0 - lo > a->cap)
            return gb_fail(b, GB_ERR_INVALID,
                           "%s attention: positions %d .. %d are needed but the cache holds %d slots", b->name, lo,
                           pos0 - 1, a->cap);
        uint64_t first = (uint64_t)(lo % a->cap), last = (uint64_t)((pos0 - 1) % a->cap);
        if (first <= last) {
            s0 = first;
            nslots = last - first + 1u;
        } else {
            nslots = (uint64_t)a->cap;
        }
    }
    if (nslots * kvs > maxb || (uint64_t)n * kvs > maxb || qs > maxb)
        return gb_fail(b, GB_ERR_UNSUPPORTED,
                       "%s attention: %llu cached or %d batch positions exceed a descriptor window of %llu bytes",
                       b->name, (unsigned long long)nslots, n, (unsigned long long)maxb);

    uint32_t p0 = (uint32_t)pos0;
    gb_ref pos;
    gb_status s = gd_upload(b, &p0, 4, &pos);
    if (s != GB_OK)
        return s;
    int tiled = n > 1 && a->head_dim == FA_HEAD_DIM;
    uint64_t group = (uint64_t)(a->n_heads / a->n_kv_heads);
    uint64_t tc_max = maxb / qs;
    if (tc_max > MAX_GROUPS)
        tc_max = MAX_GROUPS;
    if (tiled && tc_max * group > (uint64_t)MAX_GROUPS * FA_ROWS)
        tc_max = (uint64_t)MAX_GROUPS * FA_ROWS / group;
    for (uint64_t t0 = 0; t0 < (uint64_t)n; t0 += tc_max) {
        uint64_t tc = (uint64_t)n - t0 < tc_max ? (uint64_t)n - t0 : tc_max;
        gd_dispatch d = {0};
        d.kernel = tiled ? "attention_fa" : "attention";
        d.n_args = 8;
        d.args[0] = (gd_arg){gb_ref_at(q, t0 * qs), tc * qs, 0};
        d.args[1] = (gd_arg){k, (uint64_t)n * kvs, 0};
        d.args[2] = (gd_arg){v, (uint64_t)n * kvs, 0};
        d.args[3] = (gd_arg){gb_ref_at(a->k_cache, s0 * kvs), nslots * kvs, 0};
        d.args[4] = (gd_arg){gb_ref_at(a->v_cache, s0 * kvs), nslots * kvs, 0};
        d.args[5] = (gd_arg){a->sinks->dev, (uint64_t)a->n_heads * 4u, 0};
        d.args[6] = (gd_arg){gb_ref_at(out, t0 * qs), tc * qs, 1};
        d.args[7] = (gd_arg){pos, 4, 0};
        uint32_t *p = d.push + 8;
        p[0] = (uint32_t)a->n_heads;
        p[1] = (uint32_t)a->n_kv_heads;
        p[2] = (uint32_t)a->head_dim;
        p[3] = (uint32_t)a->window;
        p[4] = (uint32_t)a->cap;
        p[5] = (uint32_t)t0;
        union {
            float f;
            uint32_t u;
        } sc = {a->scale};
        p[6] = sc.u;
        p[7] = (uint32_t)s0;
        p[8] = (uint32_t)tc;
        d.n_push = 8 + 9;
        d.groups[0] = tiled ? gd_groups(tc * group, FA_ROWS) : (uint32_t)a->n_heads;
        d.groups[1] = tiled ? (uint32_t)a->n_kv_heads : (uint32_t)tc;
        d.groups[2] = 1;
        if ((s = gd_run(b, &d)) != GB_OK)
            return s;
    }
    return GB_OK;
}
