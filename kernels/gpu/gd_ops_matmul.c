/* gd_ops_matmul.c - backend.h's matmul on the matmul_<type> kernels.
 *
 * One dispatch when the weight, x and out each fit one descriptor window;
 * otherwise the rows are split into ranges whose weight slice fits (a
 * 201088-row head on lavapipe's 128 MiB windows) and the tokens into ranges
 * whose x and out spans fit. Each dispatch computes out[t][r0 .. r0+rc) for
 * tokens [t0, t0+tc) with the same kernel, so splitting changes no result.
 *
 * n == 1 (decode) runs matvec_<type> instead: a workgroup of 128 threads
 * walks MV_NR rows together (each thread on parts of blocks, one round trip
 * to memory for a 2880-column row), no token tile; same bindings, same row
 * split, grid ceil(rc / MV_NR). */
#include <stdio.h>

#include "gd.h"
#include "gd_ops.h"

/* the kernel's tile: rows per workgroup, tokens per workgroup (gemm_body.glsl) */
#define MM_NR 64u
#define MM_NT 64u
/* the decode kernel's rows per workgroup (matvec_body.glsl; 2 measured
 * faster than 4 and 8 on the H200: 11.1, 12.4 and 16.0 us a dispatch) */
#define MV_NR 2u
#define MAX_GROUPS 65535u

const char *gd_type_suffix(gq_type t)
{
    switch (t) {
    case GQ_F32: return "f32";
    case GQ_F16: return "f16";
    case GQ_BF16: return "bf16";
    case GQ_MXFP4: return "mxfp4";
    case GQ_Q8_32: return "q8_32";
    case GQ_Q4_32: return "q4_32";
    default: return NULL;
    }
}

/* bytes rounded up to whole words: the kernels read 32-bit words, so the last
 * word of a weight whose size is not a multiple of 4 is touched whole */
static uint64_t words(uint64_t bytes) { return (bytes + 3u) & ~(uint64_t)3u; }

static int is_block_type(gq_type t) { return t == GQ_MXFP4 || t == GQ_Q8_32 || t == GQ_Q4_32; }

gb_status gd_op_matmul(gb_backend *b, const gb_weight *w, const gb_weight *bias, gb_ref x, int n, gb_ref out)
{
    const char *sfx = gd_type_suffix(w->type);
    if (!sfx)
        return gb_fail(b, GB_ERR_UNSUPPORTED, "%s matmul: %s has a weight type (%d) with no kernel", b->name, w->name,
                       (int)w->type);
    if (n <= 0 || w->rows <= 0 || w->cols <= 0 || !x.buf || !out.buf)
        return gb_fail(b, GB_ERR_INVALID, "%s matmul: %s with n = %d, %lld x %lld", b->name, w->name, n,
                       (long long)w->rows, (long long)w->cols);
    if (is_block_type(w->type) && w->cols % 32)
        return gb_fail(b, GB_ERR_INVALID, "%s matmul: %s has %lld columns, not a multiple of the 32-value block",
                       b->name, w->name, (long long)w->cols);
    if (bias && (bias->type != GQ_F32 || bias->rows * bias->cols * bias->n_mat != w->rows))
        return gb_fail(b, GB_ERR_INVALID, "%s matmul: bias %s is not %lld f32 values", b->name, bias->name,
                       (long long)w->rows);
    uint64_t rows = (uint64_t)w->rows, cols = (uint64_t)w->cols, rb = w->row_bytes, maxb = gd_max_arg_bytes(b);
    if (rows > UINT32_MAX / 4u || cols > UINT32_MAX / 4u || rb > maxb || cols * 4u > maxb)
        return gb_fail(b, GB_ERR_UNSUPPORTED,
                       "%s matmul: %s: one row (%llu bytes) or one token (%llu floats) exceeds a descriptor "
                       "window of %llu bytes",
                       b->name, w->name, (unsigned long long)rb, (unsigned long long)cols, (unsigned long long)maxb);

    /* rows per dispatch: the weight slice fits a window, the grid fits */
    int vec = n == 1;
    uint64_t nr = vec ? MV_NR : MM_NR;
    uint64_t rc_max = maxb / rb;
    if (rc_max > MAX_GROUPS * nr)
        rc_max = MAX_GROUPS * nr;
    if (rc_max > rows)
        rc_max = rows;
    /* tokens per dispatch: x and out spans fit a window, the grid fits */
    uint64_t tc_max = maxb / (cols * 4u);
    uint64_t tc_out = (maxb / 4u - rc_max) / rows + 1u;
    if (tc_out < tc_max)
        tc_max = tc_out;
    if (tc_max > MAX_GROUPS * MM_NT)
        tc_max = MAX_GROUPS * MM_NT;

    char kernel[32];
    snprintf(kernel, sizeof kernel, "%s_%s", vec ? "matvec" : "matmul", sfx);
    for (uint64_t t0 = 0; t0 < (uint64_t)n; t0 += tc_max) {
        uint64_t tc = (uint64_t)n - t0 < tc_max ? (uint64_t)n - t0 : tc_max;
        for (uint64_t r0 = 0; r0 < rows; r0 += rc_max) {
            uint64_t rc = rows - r0 < rc_max ? rows - r0 : rc_max;
            gd_dispatch d = {0};
            d.kernel = kernel;
            d.n_args = 4;
            d.args[0] = (gd_arg){gb_ref_at(w->dev, r0 * rb), words(rc * rb), 0};
            d.args[1] = (gd_arg){gb_ref_f32(x, t0 * cols), tc * cols * 4u, 0};
            d.args[2] = bias ? (gd_arg){gb_ref_f32(bias->dev, r0), rc * 4u, 0} : (gd_arg){x, 4u, 0};
            d.args[3] = (gd_arg){gb_ref_f32(out, t0 * rows + r0), ((tc - 1u) * rows + rc) * 4u, 1};
            uint32_t *p = d.push + 4;
            if (vec) {
                p[0] = (uint32_t)rc;
                p[1] = (uint32_t)cols;
                p[2] = (uint32_t)rb;
                p[3] = bias != NULL;
                d.n_push = 4 + 4;
                d.groups[0] = (uint32_t)((rc + nr - 1u) / nr);
                d.groups[1] = 1;
                d.groups[2] = 1;
                gb_status s = gd_run(b, &d);
                if (s != GB_OK)
                    return s;
                continue;
            }
            p[0] = (uint32_t)rc;
            p[1] = (uint32_t)cols;
            p[2] = (uint32_t)tc;
            p[3] = (uint32_t)rb;
            p[4] = bias != NULL;
            p[5] = (uint32_t)cols; /* x stride */
            p[6] = (uint32_t)rows; /* out stride */
            d.n_push = 4 + 7;
            d.groups[0] = (uint32_t)((rc + MM_NR - 1u) / MM_NR);
            d.groups[1] = (uint32_t)((tc + MM_NT - 1u) / MM_NT);
            d.groups[2] = 1;
            gb_status s = gd_run(b, &d);
            if (s != GB_OK)
                return s;
        }
    }
    return GB_OK;
}
