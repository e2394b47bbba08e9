/* gemm_body.glsl - the batched (prefill) products, tiled in shared memory,
 * for one weight type (included after `#define WT_<TYPE>` and one of:
 *   GM_PLAIN    matmul_<type>.comp: out[t][r] = W[r] . x[t] (+ bias[r]);
 *   GM_GATE_UP  moe_gate_up_g_<type>.comp: the MoE gate_up product of one
 *               expert over a tile of the route slots that chose it, bias,
 *               clamped SwiGLU -> act[slot];
 *   GM_DOWN     moe_down_g_<type>.comp: y[slot] = w_slot * (down[e] .
 *               act[slot] + bias[e]) (moe_sum adds a token's k slots).
 *
 * A workgroup computes GM_BR rows x GM_BT tokens (slots). Per step of one
 * block (32 columns): the block of each of the GM_BR rows is decoded once,
 * scaled, into shared memory (Ws[k][r]; lane i on row i, so the stores hit
 * distinct banks), the tokens' 32 x values are copied next to it (Xs[t][k],
 * 16-byte loads of consecutive columns), and each thread accumulates a 4-row
 * x 4-token tile over the 32 columns from 16-byte shared reads (8 reads per
 * 64 fused multiply-adds). The weights of a tile are read from memory once
 * for GM_BT tokens, so the products are bound by arithmetic, not by memory.
 *
 * Values are decoded with the block scale applied (exact: small integers
 * times an f16 or a power of two), so a product sums value * x over the row;
 * the CPU reference sums per block and then scales: the same up to the
 * order of rounding.
 *
 * GM_PLAIN bindings (kernels/gpu/gd.h): 0 W (uint words), 1 x [n, x_stride],
 *   2 bias [rows] (anything when has_bias is 0), 3 out [n, o_stride]. Push:
 *   the 4 offsets, rows, cols, n, row_bytes, has_bias, x_stride, o_stride.
 *   Grid (ceil(rows / GM_BR), ceil(n / GM_BT)).
 * GM_GATE_UP / GM_DOWN bindings (those of moe_vec_body.glsl): 0 x [n, D] / act
 *   [n, k, I], 1 route (pairs, then counts, offsets and slot lists from
 *   moe_group at word g_base), 2 bias [E, rows] (f32 words), 3 act [n, k,
 *   I] / y [n, k, D], 4 the window of the expert stack holding experts e_lo
 *   .. Push: the 5 offsets, rows, cols, row_bytes, k, e_lo, mat_bytes,
 *   limit, alpha, E, g_base. Grid (ceil(rows / GM_BR), experts in the
 *   window, ceil(n / GM_BT)); tiles past an expert's count exit at once.
 *
 * GM_CM (the cm_*.comp kernels): tile() on tensor cores instead
 * (gemm_cm_tile.glsl; same tile, bindings, push constants and grid, so the
 * Vulkan host can run one in place of the other). */
#extension GL_EXT_control_flow_attributes : require

#define GM_WG 256u
#define GM_BR 64u
#define GM_BT 64u
layout(local_size_x = 256) in;

#if defined(GM_PLAIN)
layout(set = 0, binding = 0) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 1) readonly buffer Xb { vec4 v[]; } xb;
layout(set = 0, binding = 2) readonly buffer Bb { float b[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;
layout(push_constant) uniform P {
    uint o_w, o_x, o_b, o_o;
    uint rows, cols, n, row_bytes;
    uint has_bias, x_stride, o_stride;
} p;
#else
layout(set = 0, binding = 0) readonly buffer Xb { vec4 v[]; } xb;
layout(set = 0, binding = 1) readonly buffer Rb { uint r[]; } rb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;
layout(set = 0, binding = 4) readonly buffer Wb { uint w[]; } wb;
layout(push_constant) uniform P {
    uint o_x, o_r, o_b, o_o, o_w;
    uint rows, cols, row_bytes, k;
    uint e_lo, mat_bytes;
    float limit, alpha;
    uint E, g_base;
} p;
#endif

uint W_WORD(uint i) { return wb.w[i]; }
#define WT_PART_API
#include "matmul_types.glsl"

#ifdef GM_CM
#include "gemm_cm_tile.glsl"
#else
shared vec4 Ws[32u * GM_BR / 4u]; /* [k][r]: 4 rows per vec4 */
shared vec4 Xs[GM_BT * 32u / 4u]; /* [t][k]: 4 columns per vec4 */
shared uint xrow[GM_BT];          /* float index of each tile token's x row */
shared uint slot_sh[GM_BT];       /* grouped: each tile token's route slot */

void ws_set(uint k, uint r, float v) { Ws[(k * GM_BR + r) >> 2u][r & 3u] = v; }

/* The tile: rows r0 .. r0+GM_BR-1 from byte offset mbase, tokens with x rows
 * xrow[0 .. nt-1]; acc[j] (4 rows) for token 4*(tid/16) + j. al: x rows
 * are 16-byte aligned (a constant at each call: branch-free copies). */
void tile(bool al, uint mbase, uint r0, uint nt, inout vec4 acc[4])
{
    uint tid = gl_LocalInvocationID.x, tr = tid % 16u, tt = tid / 16u;
    uint nb = (p.cols + 31u) / 32u;
    for (uint kb = 0u; kb < nb; kb++) {
        barrier(); /* the last step's reads are done */
        /* weights: unit u = part * GM_BR + row, lanes on consecutive rows */
        uint kv = min(32u, p.cols - kb * 32u); /* valid columns of this block (32 but for a scalar tail) */
        for (uint u = tid; u < GM_BR * WT_PARTS; u += GM_WG) {
            uint r = u % GM_BR, part = u / GM_BR;
            uint row = min(r0 + r, p.rows - 1u); /* rows past the end re-read the last, never stored */
            uint boff = mbase + row * p.row_bytes + kb * WT_BLOCK_BYTES;
            vec4 v[4];
            if (kv == 32u) {
                wt_part_vals(boff, part, v);
            } else {
#ifdef WT_SCALAR
                wt_tail_part(boff, part, kv, v); /* the scalar types' last, partial block */
#endif
            }
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                ws_set(8u * part + j, r, v[j / 4u][j % 4u]);
#if defined(WT_MXFP4) || defined(WT_Q4_32) /* 4-bit: a part also holds 8 values at 16 + 8p */
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                ws_set(16u + 8u * part + j, r, v[2u + j / 4u][j % 4u]);
#endif
        }
        /* x: 8 vec4 per token, zero past the batch and past the columns */
        for (uint u = tid; u < GM_BT * 8u; u += GM_WG) {
            uint t = u / 8u, q = u % 8u, k = kb * 32u + 4u * q;
            vec4 xv = vec4(0.0);
            if (t < nt) {
                if (k + 4u <= p.cols)
                    xv = XV4(xrow[t] + k, al);
                else
                    for (uint j = 0u; j < 4u; j++)
                        xv[j] = k + j < p.cols ? XS(xrow[t] + k + j) : 0.0;
            }
            Xs[t * 8u + q] = xv;
        }
        barrier();
        [[unroll]] for (uint q = 0u; q < 8u; q++) {
            vec4 w0 = Ws[((4u * q) * GM_BR) / 4u + tr], w1 = Ws[((4u * q + 1u) * GM_BR) / 4u + tr];
            vec4 w2 = Ws[((4u * q + 2u) * GM_BR) / 4u + tr], w3 = Ws[((4u * q + 3u) * GM_BR) / 4u + tr];
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                vec4 xv = Xs[(4u * tt + j) * 8u + q];
                acc[j] += w0 * xv.x + w1 * xv.y + w2 * xv.z + w3 * xv.w;
            }
        }
    }
}
#endif /* GM_CM */

void main()
{
    uint tid = gl_LocalInvocationID.x, tr = tid % 16u, tt = tid / 16u;
    uint r0 = gl_WorkGroupID.x * GM_BR;
    vec4 acc[4];
    [[unroll]] for (uint j = 0u; j < 4u; j++)
        acc[j] = vec4(0.0);
#if defined(GM_PLAIN)
    uint t0 = gl_WorkGroupID.y * GM_BT, nt = min(GM_BT, p.n - t0);
    if (tid < GM_BT)
        xrow[tid] = (p.o_x >> 2u) + (t0 + min(tid, nt - 1u)) * p.x_stride;
    bool al = (p.o_x & 15u) == 0u && (p.x_stride & 3u) == 0u;
    if (al)
        tile(true, p.o_w, r0, nt, acc);
    else
        tile(false, p.o_w, r0, nt, acc);
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
        uint t = 4u * tt + j;
        [[unroll]] for (uint i = 0u; i < 4u; i++) {
            uint r = r0 + 4u * tr + i;
            if (t < nt && r < p.rows) {
                float s = acc[j][i];
                if (p.has_bias != 0u)
                    s += bb.b[(p.o_b >> 2u) + r];
                ob.o[(p.o_o >> 2u) + (t0 + t) * p.o_stride + r] = s;
            }
        }
    }
#else
    uint e = p.e_lo + gl_WorkGroupID.y, j0 = gl_WorkGroupID.z * GM_BT;
    uint gb = (p.o_r >> 2u) + p.g_base;
    uint cnt = rb.r[gb + e];
    if (j0 >= cnt)
        return; /* uniform: the whole workgroup leaves */
    uint nt = min(GM_BT, cnt - j0);
    uint lb = gb + 2u * p.E + rb.r[gb + p.E + e] + j0;
    if (tid < GM_BT) {
        uint sl = rb.r[lb + min(tid, nt - 1u)];
        slot_sh[tid] = sl;
#if defined(GM_GATE_UP)
        xrow[tid] = (p.o_x >> 2u) + (sl / p.k) * p.cols;
#else
        xrow[tid] = (p.o_x >> 2u) + sl * p.cols;
#endif
    }
    /* barrier: the first step of tile() starts with one */
    uint mbase = p.o_w + (e - p.e_lo) * p.mat_bytes;
    bool al = (p.o_x & 15u) == 0u && (p.cols & 3u) == 0u;
    if (al)
        tile(true, mbase, r0, nt, acc);
    else
        tile(false, mbase, r0, nt, acc);
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
        uint t = 4u * tt + j;
        if (t >= nt)
            continue;
        uint sl = slot_sh[t];
#if defined(GM_GATE_UP)
        uint I = p.rows / 2u;
        [[unroll]] for (uint i = 0u; i < 4u; i += 2u) {
            uint row = r0 + 4u * tr + i; /* even: a gate row, the up row follows */
            if (row < p.rows) {
                float g = acc[j][i] + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e * p.rows + row]);
                float u = acc[j][i + 1u] + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e * p.rows + row + 1u]);
                g = min(g, p.limit);
                u = clamp(u, -p.limit, p.limit);
                ob.o[(p.o_o >> 2u) + sl * I + row / 2u] = g / (1.0 + exp(-p.alpha * g)) * (u + 1.0);
            }
        }
#else
        float wgt = uintBitsToFloat(rb.r[(p.o_r >> 2u) + 2u * sl + 1u]);
        [[unroll]] for (uint i = 0u; i < 4u; i++) {
            uint row = r0 + 4u * tr + i;
            if (row < p.rows)
                ob.o[(p.o_o >> 2u) + sl * p.rows + row] =
                    wgt * (acc[j][i] + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e * p.rows + row]));
        }
#endif
    }
#endif
}
