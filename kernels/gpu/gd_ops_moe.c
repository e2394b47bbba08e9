/* gd_ops_moe.c - backend.h's MoE block on the device
 * (kernels/shaders/moe_*.comp). Decode (one token), three dispatches:
 *   1. moe_logits: the router logits, a workgroup per expert (moe_route's
 *      one workgroup per token took 19 us on the H200 for one token), into
 *      scratch slot 3;
 *   2. moe_gate_up_tk_<type>: each workgroup picks the top-k itself (lower
 *      index wins ties; softmax over the k; the (expert id, weight) pairs
 *      are written after the logits for step 3), then gate_up of the
 *      chosen experts only + bias + clamped SwiGLU, into scratch slot 1
 *      ([n, k, I]);
 *   3. moe_down_<type>: down + bias of each chosen expert, weighted and
 *      summed in rank order, into out.
 * (moe_vec_body.glsl: a workgroup walks a few rows together, parts of
 * blocks per thread).
 * Prefill (n >= MOE_GROUP_MIN), five: moe_route; moe_group lists each expert's tokens;
 * moe_gate_up_g_<type> and moe_down_g_<type> run each expert over tiles of
 * its tokens (its weights read once per tile, not once per token), the
 * latter into scratch slot 2 ([n, k, D], weighted); moe_sum adds the k ranks
 * in order. Both orders of summation are the decode path's.
 * The expert choice never leaves the device: the kernels read the ids.
 * An expert stack larger than one descriptor window takes the grouped
 * path (also for one token), its kernels run once per window of whole
 * experts; long batches are split over tokens so the scratch spans fit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gd.h"
#include "gd_ops.h"

#define MOE_MAX_K 16
#define MOE_MAX_E 512
#define MO_NR 64u /* rows per workgroup of the grouped kernels (gemm_body.glsl) */
#define MV_PAIRS 4u /* gate_up row pairs per workgroup of moe_vec_body.glsl */
#define MV_ROWS 2u  /* down rows per workgroup of moe_vec_body.glsl */
#define MV_ROWS_MXFP4 1u /* ... and of moe_down_mxfp4.comp, which sets its own shape */
#define MG_NT 64u /* route slots per tile of the grouped kernels */
/* Batches from this size take the grouped kernels: below it the per-token
 * ones read little more, and lavapipe compiles the grouped ones slowly
 * (about a minute of CPU each on 2 cores), which small test batches avoid. */
#define MOE_GROUP_MIN 16
#define MAX_GROUPS 65535u

static uint64_t words(uint64_t bytes) { return (bytes + 3u) & ~(uint64_t)3u; }

/* Experts per descriptor window of stack w (0: one expert does not fit). */
static uint64_t experts_per_window(const gb_weight *w, uint64_t maxb)
{
    uint64_t mat = (uint64_t)w->rows * w->row_bytes, per = maxb / words(mat);
    return per > (uint64_t)w->n_mat ? (uint64_t)w->n_mat : per;
}

/* Point d's binding 4 at the window of w holding experts [e_lo, e_lo + ne)
 * and fill the expert part of its push words (gemm_body.glsl push words). */
static void bind_window(const gb_weight *w, uint64_t e_lo, uint64_t ne, gd_dispatch *d)
{
    uint64_t mat = (uint64_t)w->rows * w->row_bytes;
    d->args[4] = (gd_arg){gb_ref_at(w->dev, e_lo * mat), words(ne * mat), 0};
    d->push[5] = (uint32_t)w->rows;
    d->push[6] = (uint32_t)w->cols;
    d->push[7] = (uint32_t)w->row_bytes;
    d->push[9] = (uint32_t)e_lo;
    d->push[10] = (uint32_t)mat;
}

/* The grouped prefill dispatches after moe_route (see the top). */
static gb_status prefill(gb_backend *b, const gb_moe *m, gb_ref xt, gb_ref ot, uint64_t tc, gb_ref route, gb_ref act,
                         gb_ref y, uint64_t maxb, const char *k_gu, const char *k_dn, uint32_t lim, uint32_t alpha)
{
    uint64_t E = (uint64_t)m->n_experts, K = (uint64_t)m->top_k, D = (uint64_t)m->hidden, I = (uint64_t)m->inter;
    uint64_t slots = tc * K, gbase = 2u * slots; /* words: the groups follow the route pairs */
    uint64_t rbytes = (gbase + 2u * E + slots) * 4u;
    gb_status s;

    gd_dispatch gr = {0};
    gr.kernel = "moe_group";
    gr.n_args = 1;
    gr.args[0] = (gd_arg){route, rbytes, 1};
    gr.push[1] = (uint32_t)slots;
    gr.push[2] = (uint32_t)E;
    gr.push[3] = (uint32_t)gbase;
    gr.n_push = 4;
    gr.groups[0] = gr.groups[1] = gr.groups[2] = 1;
    if ((s = gd_run(b, &gr)) != GB_OK)
        return s;

    uint32_t tiles = (uint32_t)((tc + MG_NT - 1u) / MG_NT);
    for (int pass = 0; pass < 2; pass++) {
        const gb_weight *w = pass == 0 ? m->gate_up : m->down;
        uint64_t per = experts_per_window(w, maxb);
        for (uint64_t e0 = 0; e0 < E; e0 += per) {
            uint64_t ne = E - e0 < per ? E - e0 : per;
            gd_dispatch g = {0};
            g.kernel = pass == 0 ? k_gu : k_dn;
            g.n_args = 5;
            if (pass == 0) {
                g.args[0] = (gd_arg){xt, tc * D * 4u, 0};
                g.args[2] = (gd_arg){m->gate_up_bias->dev, E * 2u * I * 4u, 0};
                g.args[3] = (gd_arg){act, slots * I * 4u, 1};
            } else {
                g.args[0] = (gd_arg){act, slots * I * 4u, 0};
                g.args[2] = (gd_arg){m->down_bias->dev, E * D * 4u, 0};
                g.args[3] = (gd_arg){y, slots * D * 4u, 1};
            }
            g.args[1] = (gd_arg){route, rbytes, 0};
            bind_window(w, e0, ne, &g);
            g.push[8] = (uint32_t)K;
            g.push[11] = lim;
            g.push[12] = alpha;
            g.push[13] = (uint32_t)E;
            g.push[14] = (uint32_t)gbase;
            g.n_push = 15;
            g.groups[0] = (uint32_t)(((pass == 0 ? 2u * I : D) + MO_NR - 1u) / MO_NR);
            g.groups[1] = (uint32_t)ne;
            g.groups[2] = tiles;
            if ((s = gd_run(b, &g)) != GB_OK)
                return s;
        }
    }

    gd_dispatch sm = {0};
    sm.kernel = "moe_sum";
    sm.n_args = 2;
    sm.args[0] = (gd_arg){y, slots * D * 4u, 0};
    sm.args[1] = (gd_arg){ot, tc * D * 4u, 1};
    sm.push[2] = (uint32_t)D;
    sm.push[3] = (uint32_t)K;
    sm.n_push = 4;
    sm.groups[0] = (uint32_t)((D + 63u) / 64u);
    sm.groups[1] = (uint32_t)tc;
    sm.groups[2] = 1;
    return gd_run(b, &sm);
}

static int is_f32_vec(const gb_weight *w, int64_t n_mat, int64_t len)
{
    return w && w->type == GQ_F32 && w->n_mat == n_mat && w->rows * w->cols == len;
}

gb_status gd_op_moe(gb_backend *b, const gb_moe *m, gb_ref x, int n, gb_ref out)
{
    int E = m->n_experts, K = m->top_k, D = m->hidden, I = m->inter;
    if (n <= 0 || E <= 0 || K <= 0 || K > E || D <= 0 || I <= 0 || !m->router || !m->gate_up || !m->down)
        return gb_fail(b, GB_ERR_INVALID, "%s moe: bad shape (n %d, experts %d, top_k %d, hidden %d, inter %d)",
                       b->name, n, E, K, D, I);
    if (K > MOE_MAX_K || E > MOE_MAX_E)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s moe: top_k %d / %d experts (at most %d / %d)", b->name, K, E,
                       MOE_MAX_K, MOE_MAX_E);
    if (m->router->type != GQ_F32 || m->router->rows != E || m->router->cols != D ||
        !is_f32_vec(m->router_bias, 1, E))
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s moe: the router must be [%d, %d] f32 with an f32 bias", b->name, E,
                       D);
    const gb_weight *gu = m->gate_up, *dn = m->down;
    if (gu->n_mat != E || gu->rows != 2 * (int64_t)I || gu->cols != D || dn->n_mat != E || dn->rows != D ||
        dn->cols != I || !is_f32_vec(m->gate_up_bias, E, 2 * (int64_t)I) || !is_f32_vec(m->down_bias, E, D))
        return gb_fail(b, GB_ERR_INVALID, "%s moe: expert shapes do not match hidden %d, inter %d, %d experts",
                       b->name, D, I, E);
    const char *sg = gd_type_suffix(gu->type), *sd = gd_type_suffix(dn->type);
    if (!sg || !sd || D % 32 || I % 32)
        return gb_fail(b, GB_ERR_UNSUPPORTED,
                       "%s moe: expert types %d / %d or sizes %d / %d (need multiples of 32) have no kernel", b->name,
                       (int)gu->type, (int)dn->type, D, I);

    uint64_t maxb = gd_max_arg_bytes(b);
    uint64_t xrow = (uint64_t)D * 4u, arow = (uint64_t)K * (uint64_t)I * 4u, rrow = (uint64_t)K * 8u;
    if ((uint64_t)E * D * 4u > maxb || arow > maxb || xrow > maxb)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s moe: the router or one token's activations exceed a window", b->name);
    uint64_t per_gu = experts_per_window(gu, maxb), per_dn = experts_per_window(dn, maxb);
    if (per_gu == 0 || per_dn == 0)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s moe: one expert matrix exceeds a descriptor window of %llu bytes",
                       b->name, (unsigned long long)maxb);
    int one_window = per_gu == (uint64_t)E && per_dn == (uint64_t)E;
    int grouped = n >= MOE_GROUP_MIN || !one_window;
    /* The router of the per-token path: 2 (default) moe_logits, then the
     * top-k inside moe_gate_up_tk_<type>; 0 moe_route (one workgroup a
     * token; the grouped path always). GQ_GPU_ROUTE=0 picks moe_route for
     * the per-token path too, as before (for measuring). */
    const char *rm = getenv("GQ_GPU_ROUTE");
    int route_mode = grouped || (rm && !strcmp(rm, "0")) ? 0 : 2;
    uint64_t yrow = (uint64_t)K * (uint64_t)D * 4u; /* prefill: weighted outputs per token */
    uint64_t grow = rrow + (uint64_t)K * 4u;         /* route pairs + group list per token */
    uint64_t big = arow > xrow ? arow : xrow;
    if (grouped && yrow > big)
        big = yrow;
    if (grow > big)
        big = grow;
    uint64_t tc_max = (maxb - 8u * (uint64_t)E) / big;
    if (tc_max > MAX_GROUPS)
        tc_max = MAX_GROUPS;
    if (tc_max > (uint64_t)n)
        tc_max = (uint64_t)n;

    gb_ref route, act, y = {0}, logits = {0};
    gb_status s = gd_scratch(b, 0, tc_max * grow + 8u * (uint64_t)E, &route);
    if (s == GB_OK && route_mode == 2) /* logits [tc, E], then the route pairs */
        s = gd_scratch(b, 3, tc_max * ((uint64_t)E * 4u + rrow), &logits);
    if (s == GB_OK)
        s = gd_scratch(b, 1, tc_max * arow, &act);
    if (s == GB_OK && grouped)
        s = gd_scratch(b, 2, tc_max * yrow, &y);
    if (s != GB_OK)
        return s;

    char k_gu[40], k_gutk[40], k_dn[40], k_gug[40], k_dng[40];
    snprintf(k_gu, sizeof k_gu, "moe_gate_up_%s", sg);
    snprintf(k_gutk, sizeof k_gutk, "moe_gate_up_tk_%s", sg);
    snprintf(k_dn, sizeof k_dn, "moe_down_%s", sd);
    snprintf(k_gug, sizeof k_gug, "moe_gate_up_g_%s", sg);
    snprintf(k_dng, sizeof k_dng, "moe_down_g_%s", sd);
    union {
        float f;
        uint32_t u;
    } lim = {m->swiglu_limit}, alpha = {m->swiglu_alpha};

    for (uint64_t t0 = 0; t0 < (uint64_t)n; t0 += tc_max) {
        uint64_t tc = (uint64_t)n - t0 < tc_max ? (uint64_t)n - t0 : tc_max;
        gb_ref xt = gb_ref_f32(x, t0 * (uint64_t)D), ot = gb_ref_f32(out, t0 * (uint64_t)D);

        uint64_t lbytes = tc * (uint64_t)E * 4u;
        gb_ref pairs = route_mode == 2 ? gb_ref_at(logits, lbytes) : route; /* what moe_down reads */
        /* the router: moe_logits (a workgroup per expert, logits only: the
         * top-k is gate_up's) or moe_route (a workgroup per token, pairs) */
        gd_dispatch r = {0};
        r.kernel = route_mode == 2 ? "moe_logits" : "moe_route";
        r.n_args = 4;
        r.args[0] = (gd_arg){xt, tc * xrow, 0};
        r.args[1] = (gd_arg){m->router->dev, (uint64_t)E * D * 4u, 0};
        r.args[2] = (gd_arg){m->router_bias->dev, (uint64_t)E * 4u, 0};
        r.args[3] = route_mode == 2 ? (gd_arg){logits, lbytes, 1} : (gd_arg){route, tc * rrow, 1};
        r.push[4] = (uint32_t)E;
        r.push[5] = (uint32_t)D;
        if (route_mode == 2) {
            r.push[6] = (uint32_t)m->router->row_bytes;
            r.n_push = 7;
            r.groups[0] = (uint32_t)E;
            r.groups[1] = (uint32_t)tc;
        } else {
            r.push[6] = (uint32_t)K;
            r.push[7] = (uint32_t)m->router->row_bytes;
            r.n_push = 8;
            r.groups[0] = (uint32_t)tc;
            r.groups[1] = 1;
        }
        r.groups[2] = 1;
        if ((s = gd_run(b, &r)) != GB_OK)
            return s;
        if (grouped) {
            s = prefill(b, m, xt, ot, tc, route, act, y, maxb, k_gug, k_dng, lim.u, alpha.u);
            if (s != GB_OK)
                return s;
            continue;
        }

        gd_dispatch g = {0};
        g.kernel = route_mode == 2 ? k_gutk : k_gu;
        g.n_args = 5;
        g.args[0] = (gd_arg){xt, tc * xrow, 0};
        /* mode 2: reads the logits, writes the pairs after them */
        g.args[1] = route_mode == 2 ? (gd_arg){logits, lbytes + tc * rrow, 1} : (gd_arg){route, tc * rrow, 0};
        g.args[2] = (gd_arg){m->gate_up_bias->dev, (uint64_t)E * 2u * (uint64_t)I * 4u, 0};
        g.args[3] = (gd_arg){act, tc * arow, 1};
        bind_window(gu, 0, (uint64_t)E, &g);
        g.push[8] = (uint32_t)K;
        g.push[11] = lim.u;
        g.push[12] = alpha.u;
        g.push[13] = (uint32_t)E; /* moe_gate_up_tk_* only */
        g.n_push = route_mode == 2 ? 14 : 13;
        g.groups[0] = (uint32_t)((I + MV_PAIRS - 1) / MV_PAIRS);
        g.groups[1] = (uint32_t)K;
        g.groups[2] = (uint32_t)tc;
        if ((s = gd_run(b, &g)) != GB_OK)
            return s;

        gd_dispatch dd = g;
        dd.kernel = k_dn;
        dd.args[0] = (gd_arg){act, tc * arow, 0};
        dd.args[1] = (gd_arg){pairs, tc * rrow, 0};
        dd.n_push = 13;
        dd.args[2] = (gd_arg){m->down_bias->dev, (uint64_t)E * (uint64_t)D * 4u, 0};
        dd.args[3] = (gd_arg){ot, tc * xrow, 1};
        bind_window(dn, 0, (uint64_t)E, &dd);
        uint32_t rows_wg = dn->type == GQ_MXFP4 ? MV_ROWS_MXFP4 : MV_ROWS;
        dd.groups[0] = (uint32_t)((D + rows_wg - 1) / rows_wg);
        dd.groups[1] = (uint32_t)tc;
        dd.groups[2] = 1;
        if ((s = gd_run(b, &dd)) != GB_OK)
            return s;
    }
    return GB_OK;
}
