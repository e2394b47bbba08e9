/* gd_ops_light.c - the light ops as dispatches: embed, rmsnorm, rope, add,
 * kv_store, read_bandwidth. Each op checks its arguments, splits its work
 * so that every argument of a dispatch fits one descriptor window
 * (gd_window_bytes), and hands gd_dispatch values to gd_run. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gd.h"
#include "gd_ops.h"

/* a 2-D grid of 256-wide groups covering `items` (the shaders fold y into the index) */
static void grid_256(gd_dispatch *d, uint64_t items)
{
    uint64_t g = (items + 255) / 256;
    d->groups[0] = (uint32_t)(g < 65535 ? g : 65535);
    d->groups[1] = (uint32_t)((g + 65534) / 65535);
    d->groups[2] = 1;
}

static gb_status bad_weight(gb_backend *b, const gb_weight *w, const char *op)
{
    return gb_fail(b, GB_ERR_INVALID, "%s %s: weight %s was not prepared (no device copy)", b->name, op,
                   w && w->name ? w->name : "?");
}

gb_status gd_op_embed(gb_backend *b, const gb_weight *w, const int32_t *ids, int n, gb_ref out)
{
    if (b->status)
        return b->status;
    if (!w->dev.buf)
        return bad_weight(b, w, "embed");
    if (w->type < 0 || w->type >= GQ_TYPE_COUNT)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s embed: %s has an unknown weight type %d", b->name, w->name,
                       (int)w->type);
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= w->rows)
            return gb_fail(b, GB_ERR_INVALID, "%s embed: id %d at %d is outside %s (%lld rows)", b->name, ids[t], t,
                           w->name, (long long)w->rows);
    uint64_t win = gd_window_bytes(b), row_out = (uint64_t)w->cols * 4;
    uint64_t rows_per_win = win / w->row_bytes; /* table rows one window holds */
    int tok_per = (int)(win / row_out);         /* output tokens one window holds */
    if (rows_per_win == 0 || tok_per == 0)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s embed: one row of %s does not fit a descriptor window", b->name,
                       w->name);
    uint32_t *pairs = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *pairs);
    if (!pairs)
        return gb_fail(b, GB_ERR_NOMEM, "%s embed: out of host memory for %d ids", b->name, n);
    gb_status s = GB_OK;
    /* tokens in slices whose output fits a window; inside a slice, one
     * dispatch per table window that holds any of its rows (one on a GPU
     * with 4 GiB windows, a few for a 201088-row table on lavapipe) */
    for (int t0 = 0; t0 < n && !s; t0 += tok_per) {
        int tn = n - t0 < tok_per ? n - t0 : tok_per;
        for (int64_t r0 = 0; r0 < w->rows && !s; r0 += (int64_t)rows_per_win) {
            int64_t r1 = r0 + (int64_t)rows_per_win < w->rows ? r0 + (int64_t)rows_per_win : w->rows;
            int np = 0;
            for (int t = 0; t < tn; t++)
                if (ids[t0 + t] >= r0 && ids[t0 + t] < r1) {
                    pairs[2 * np] = (uint32_t)t;
                    pairs[2 * np + 1] = (uint32_t)(ids[t0 + t] - r0);
                    np++;
                }
            if (!np)
                continue;
            gb_ref up;
            if ((s = gd_upload(b, pairs, (uint64_t)np * 8, &up)))
                break;
            gd_dispatch d = {.kernel = "embed", .n_args = 3, .n_push = 6};
            d.args[0] = gd_arg_of(gb_ref_at(w->dev, (uint64_t)r0 * w->row_bytes), (uint64_t)(r1 - r0) * w->row_bytes, 0);
            d.args[1] = gd_arg_of(up, (uint64_t)np * 8, 0);
            d.args[2] = gd_arg_of(gb_ref_at(out, (uint64_t)t0 * row_out), (uint64_t)tn * row_out, 1);
            d.push[3] = (uint32_t)w->type;
            d.push[4] = (uint32_t)w->cols;
            d.push[5] = (uint32_t)w->row_bytes;
            d.groups[0] = gd_groups((uint64_t)w->cols, 256);
            d.groups[1] = (uint32_t)np;
            d.groups[2] = 1;
            s = gd_run(b, &d);
        }
    }
    free(pairs);
    return s;
}

gb_status gd_op_rmsnorm(gb_backend *b, gb_ref x, const gb_weight *w, int n, int dim, float eps, gb_ref out)
{
    if (b->status)
        return b->status;
    if (!w->dev.buf)
        return bad_weight(b, w, "rmsnorm");
    if (w->type != GQ_F32 || w->cols < dim)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s rmsnorm: %s must be f32 with %d values", b->name, w->name, dim);
    return gd_norm_rows(b, x, NULL, w, n, dim, eps, out);
}

gb_status gd_norm_rows(gb_backend *b, gb_ref x, const gb_ref *y, const gb_weight *w, int n, int dim, float eps,
                       gb_ref out)
{
    uint64_t row = (uint64_t)dim * 4;
    int per = (int)(gd_window_bytes(b) / row);
    if (per < 1)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s rmsnorm: a row of %d floats exceeds a descriptor window", b->name,
                       dim);
    gb_status s = GB_OK;
    for (int t0 = 0; t0 < n && !s; t0 += per) {
        int tn = n - t0 < per ? n - t0 : per;
        gd_dispatch d = {.kernel = y ? "add_rmsnorm" : "rmsnorm", .n_args = y ? 4 : 3, .n_push = y ? 6 : 5,
                         .groups = {(uint32_t)tn, 1, 1}};
        d.args[0] = gd_arg_of(gb_ref_at(x, (uint64_t)t0 * row), (uint64_t)tn * row, y != NULL);
        d.args[1] = gd_arg_of(w->dev, row, 0);
        d.args[2] = gd_arg_of(gb_ref_at(out, (uint64_t)t0 * row), (uint64_t)tn * row, 1);
        if (y)
            d.args[3] = gd_arg_of(gb_ref_at(*y, (uint64_t)t0 * row), (uint64_t)tn * row, 0);
        d.push[d.n_args] = (uint32_t)dim;
        d.push[d.n_args + 1] = gd_f2u(eps);
        s = gd_run(b, &d);
    }
    return s;
}

gb_status gd_op_rope(gb_backend *b, gb_ref x, int n, int n_heads, int head_dim, int pos0, const gb_weight *inv_freq,
                     float mscale)
{
    if (b->status)
        return b->status;
    if (!inv_freq->dev.buf)
        return bad_weight(b, inv_freq, "rope");
    if (inv_freq->type != GQ_F32 || inv_freq->cols < head_dim / 2 || head_dim % 2 || pos0 < 0)
        return gb_fail(b, GB_ERR_INVALID, "%s rope: inv_freq must be f32 with head_dim/2 = %d values", b->name,
                       head_dim / 2);
    uint64_t row = (uint64_t)n_heads * (uint64_t)head_dim * 4;
    int per = (int)(gd_window_bytes(b) / row);
    /* the position travels in the stream (the kernel reads it), not in the
     * push constants: a decoded token's commands stay the same (replayed by
     * kernels/vulkan/vk_record.c) */
    uint32_t p0 = (uint32_t)pos0;
    gb_ref pos;
    gb_status s = gd_upload(b, &p0, 4, &pos);
    for (int t0 = 0; t0 < n && !s; t0 += per) {
        int tn = n - t0 < per ? n - t0 : per;
        gd_dispatch d = {.kernel = "rope", .n_args = 3, .n_push = 7,
                         .groups = {gd_groups((uint64_t)head_dim / 2, 64), (uint32_t)n_heads, (uint32_t)tn}};
        d.args[0] = gd_arg_of(gb_ref_at(x, (uint64_t)t0 * row), (uint64_t)tn * row, 1);
        d.args[1] = gd_arg_of(inv_freq->dev, (uint64_t)head_dim / 2 * 4, 0);
        d.args[2] = gd_arg_of(pos, 4, 0);
        d.push[3] = (uint32_t)n_heads;
        d.push[4] = (uint32_t)head_dim;
        d.push[5] = (uint32_t)t0;
        d.push[6] = gd_f2u(mscale);
        s = gd_run(b, &d);
    }
    return s;
}

gb_status gd_op_add(gb_backend *b, gb_ref x, gb_ref y, uint64_t len)
{
    if (b->status)
        return b->status;
    uint64_t per = gd_window_bytes(b) / 4;
    gb_status s = GB_OK;
    for (uint64_t i0 = 0; i0 < len && !s; i0 += per) {
        uint64_t m = len - i0 < per ? len - i0 : per;
        gd_dispatch d = {.kernel = "add", .n_args = 2, .n_push = 3};
        d.args[0] = gd_arg_of(gb_ref_f32(x, i0), m * 4, 1);
        d.args[1] = gd_arg_of(gb_ref_f32(y, i0), m * 4, 0);
        d.push[2] = (uint32_t)m;
        grid_256(&d, m);
        s = gd_run(b, &d);
    }
    return s;
}

gb_status gd_op_kv_store(gb_backend *b, const gb_attn *a, gb_ref k, gb_ref v, int n, int pos0)
{
    if (b->status)
        return b->status;
    if (a->cap <= 0 || pos0 < 0)
        return gb_fail(b, GB_ERR_INVALID, "%s kv_store: cache capacity %d, position %d", b->name, a->cap, pos0);
    uint64_t stride = (uint64_t)a->n_kv_heads * (uint64_t)a->head_dim * 4; /* bytes per position */
    uint64_t per = gd_window_bytes(b) / stride;  /* positions one window holds */
    if (per == 0)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s kv_store: one position (%llu bytes) exceeds a window", b->name,
                       (unsigned long long)stride);
    /* only the last cap positions survive: tokens t_lo .. n-1, slot (pos0 +
     * t) % cap; the kernel finds each slot itself (the position travels in
     * the stream), one dispatch per window of slots and of tokens */
    uint32_t p0 = (uint32_t)pos0;
    gb_ref pos;
    gb_status s = gd_upload(b, &p0, 4, &pos);
    uint64_t cap = (uint64_t)a->cap, t_lo = n > a->cap ? (uint64_t)(n - a->cap) : 0;
    uint64_t tper = per < 65535 ? per : 65535; /* tokens per dispatch: the grid's y */
    for (uint64_t ta = t_lo; ta < (uint64_t)n && !s; ta += tper) {
        uint64_t tn = (uint64_t)n - ta < tper ? (uint64_t)n - ta : tper;
        for (uint64_t s_lo = 0; s_lo < cap && !s; s_lo += per) {
            uint64_t s_n = cap - s_lo < per ? cap - s_lo : per;
            gd_dispatch d = {.kernel = "kv_store", .n_args = 5, .n_push = 10};
            d.args[0] = gd_arg_of(gb_ref_at(k, ta * stride), tn * stride, 0);
            d.args[1] = gd_arg_of(gb_ref_at(v, ta * stride), tn * stride, 0);
            d.args[2] = gd_arg_of(gb_ref_at(a->k_cache, s_lo * stride), s_n * stride, 1);
            d.args[3] = gd_arg_of(gb_ref_at(a->v_cache, s_lo * stride), s_n * stride, 1);
            d.args[4] = gd_arg_of(pos, 4, 0);
            d.push[5] = (uint32_t)(stride / 4);
            d.push[6] = (uint32_t)cap;
            d.push[7] = (uint32_t)ta;
            d.push[8] = (uint32_t)s_lo;
            d.push[9] = (uint32_t)s_n;
            d.groups[0] = gd_groups(stride / 4, 256);
            d.groups[1] = (uint32_t)tn;
            d.groups[2] = 1;
            s = gd_run(b, &d);
        }
    }
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define BW_GROUPS 4096

static uint64_t bw_window(gb_backend *b) { return gd_window_bytes(b) & ~(uint64_t)15; }

/* One pass over `bytes` of buf: a dispatch per window of 4096 x 256
 * threads, each window folding into its own part of the sink (so the
 * dispatches of one pass need no barrier between them). */
static gb_status stream_pass(gb_backend *b, gb_buffer *buf, uint64_t bytes, gb_ref sink)
{
    uint64_t win = bw_window(b);
    gb_status s = GB_OK;
    for (uint64_t o = 0; o < bytes && !s; o += win, sink.off += BW_GROUPS * 4) {
        uint64_t m = bytes - o < win ? bytes - o : win;
        gd_dispatch d = {.kernel = "read_bandwidth", .n_args = 2, .n_push = 3, .groups = {BW_GROUPS, 1, 1}};
        gb_ref at = {buf, o};
        d.args[0] = gd_arg_of(at, m, 0);
        d.args[1] = gd_arg_of(sink, BW_GROUPS * 4, 1);
        d.push[2] = (uint32_t)(m / 16);
        s = gd_run(b, &d);
    }
    return s;
}

gb_status gd_op_read_bandwidth(gb_backend *b, uint64_t bytes, double *bytes_per_s)
{
    uint64_t max_alloc = gd_host_of(b)->max_alloc;
    *bytes_per_s = 0;
    if (b->status)
        return b->status;
    bytes &= ~(uint64_t)15;
    if (bytes > max_alloc)
        bytes = max_alloc & ~(uint64_t)15;
    if (bytes < 16)
        return gb_fail(b, GB_ERR_INVALID, "%s read_bandwidth: %llu bytes is too few", b->name,
                       (unsigned long long)bytes);
    gb_buffer *buf = NULL, *sinkbuf = NULL;
    gb_status s = b->alloc(b, bytes, &buf);
    if (!s)
        s = b->alloc(b, (bytes / bw_window(b) + 1) * BW_GROUPS * 4, &sinkbuf);
    gb_ref sink = {sinkbuf, 0};
    if (!s)
        s = stream_pass(b, buf, bytes, sink); /* warm up: pipeline, caches, clocks */
    if (!s)
        s = b->finish(b);
    /* repeat until at least 0.2 s of reading, 1..20 passes per submit */
    double t = 0, moved = 0;
    int reps = 1;
    while (!s && t < 0.2) {
        double t0 = now_s();
        for (int i = 0; i < reps && !s; i++)
            s = stream_pass(b, buf, bytes, sink);
        if (!s)
            s = b->finish(b);
        t += now_s() - t0;
        moved += (double)reps * (double)bytes;
        if (reps < 20)
            reps *= 2;
    }
    if (!s && t > 0)
        *bytes_per_s = moved / t;
    if (buf)
        b->release(b, buf);
    if (sinkbuf)
        b->release(b, sinkbuf);
    return s;
}
