/* moe_body.glsl - the grouped (prefill) expert products of the MoE block for
 * one weight type (included by moe_gate_up_g_<type>.comp /
 * moe_down_g_<type>.comp after `#define WT_<TYPE>` and MOE_GATE_UP_G or
 * MOE_DOWN_G); the per-token kernels are moe_vec_body.glsl.
 *
 * The experts a token uses are read on the device from moe_route's output,
 * so nothing comes back to the host. Binding 4 is a window of the expert
 * stack [E][rows, cols] holding experts e_lo .. e_hi-1 (expert e at matrix
 * e - e_lo); a stack larger than one descriptor window runs the kernels
 * once per window.
 *
 * MOE_GATE_UP_G / MOE_DOWN_G (prefill): the same products grouped by expert,
 *   so an expert's weights are read once per tile of MG_NT of its tokens
 *   instead of once per token. moe_group has listed, per expert, the route
 *   slots (t * k + i) that chose it, behind the route pairs in binding 1.
 *   One workgroup per (rows, expert e, tile of e's slots); tiles past e's
 *   count exit at once. Grid (row groups, e_hi - e_lo, ceil(n / MG_NT)).
 *   MOE_GATE_UP_G writes act[slot]; MOE_DOWN_G writes y[slot] = w * (down[e]
 *   . act[slot] + bias) ([n, k, D], binding 3), summed by moe_sum.
 * Push words 0-4 the byte offsets of bindings 0-4, then the shape. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define MO_WG 64u
#define MO_NR 4u
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 1) readonly buffer Rb { uint r[]; } rb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;
layout(set = 0, binding = 4) readonly buffer Wb { uint w[]; } wb;

layout(push_constant) uniform P {
    uint o_x, o_r, o_b, o_o, o_w;
    uint rows, cols, row_bytes, k;
    uint e_lo, mat_bytes;
    float limit, alpha;
    uint E, g_base; /* grouped kernels: experts, word offset of the groups after the route pairs */
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#include "matmul_types.glsl"

shared float red[MO_NR * MO_WG];

float bias_at(uint i) { return uintBitsToFloat(bb.w[(p.o_b >> 2u) + i]); }

#define MG_NT 8u
shared float redg[MO_NR * MG_NT * MO_WG];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint e = p.e_lo + gl_WorkGroupID.y, j0 = gl_WorkGroupID.z * MG_NT;
    uint gb = (p.o_r >> 2u) + p.g_base;
    uint cnt = rb.r[gb + e];
    if (j0 >= cnt)
        return; /* uniform: the whole workgroup leaves */
    uint nt = min(MG_NT, cnt - j0);
    uint lb = gb + 2u * p.E + rb.r[gb + p.E + e] + j0;
    uint slots[MG_NT], xrow[MG_NT];
    [[unroll]] for (uint j = 0u; j < MG_NT; j++) {
        uint sl = j < nt ? rb.r[lb + j] : 0u;
        slots[j] = sl;
#if defined(MOE_GATE_UP_G)
        xrow[j] = (p.o_x >> 2u) + (sl / p.k) * p.cols;
#else
        xrow[j] = (p.o_x >> 2u) + sl * p.cols;
#endif
    }
#if defined(MOE_GATE_UP_G)
    uint I = p.rows / 2u, pair0 = gl_WorkGroupID.x * (MO_NR / 2u);
    uint np = min(MO_NR / 2u, I - pair0), r0 = 2u * pair0, nr = 2u * np;
#else
    uint r0 = gl_WorkGroupID.x * MO_NR, nr = min(MO_NR, p.rows - r0);
#endif
    uint mbase = p.o_w + (e - p.e_lo) * p.mat_bytes;
    float acc[MO_NR * MG_NT];
    [[unroll]] for (uint i = 0u; i < MO_NR * MG_NT; i++)
        acc[i] = 0.0;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES);
    for (uint bi = tid; bi < nb; bi += MO_WG) {
        [[unroll]] for (uint r = 0u; r < MO_NR; r++) {
            if (r < nr) {
                uint boff = mbase + (r0 + r) * p.row_bytes + bi * WT_BLOCK_BYTES;
                float v[32];
                wt_decode(boff, v);
                [[unroll]] for (uint j = 0u; j < MG_NT; j++) {
                    if (j < nt) {
                        uint xi = xrow[j] + bi * 32u;
                        float s = 0.0;
                        [[unroll]] for (uint q = 0u; q < 32u; q++)
                            s += v[q] * xb.x[xi + q];
                        acc[r * MG_NT + j] += wt_scaled(boff, s);
                    }
                }
            }
        }
    }
    [[unroll]] for (uint i = 0u; i < MO_NR * MG_NT; i++) {
        if (i / MG_NT < nr && i % MG_NT < nt) {
            float s = subgroupAdd(acc[i]);
            if (subgroupElect())
                redg[i * MO_WG + gl_SubgroupID] = s;
        }
    }
    barrier();
#if defined(MOE_GATE_UP_G)
    if (tid < MO_NR / 2u * MG_NT) {
        uint pr = tid / MG_NT, j = tid % MG_NT;
        if (pr < np && j < nt) {
            float g = 0.0, u = 0.0;
            for (uint q = 0u; q < gl_NumSubgroups; q++) {
                g += redg[((2u * pr) * MG_NT + j) * MO_WG + q];
                u += redg[((2u * pr + 1u) * MG_NT + j) * MO_WG + q];
            }
            uint row = r0 + 2u * pr;
            g += bias_at(e * p.rows + row);
            u += bias_at(e * p.rows + row + 1u);
            g = min(g, p.limit);
            u = clamp(u, -p.limit, p.limit);
            ob.o[(p.o_o >> 2u) + slots[j] * I + pair0 + pr] = g / (1.0 + exp(-p.alpha * g)) * (u + 1.0);
        }
    }
#else
    if (tid < MO_NR * MG_NT) {
        uint r = tid / MG_NT, j = tid % MG_NT;
        if (r < nr && j < nt) {
            float y = 0.0;
            for (uint q = 0u; q < gl_NumSubgroups; q++)
                y += redg[tid * MO_WG + q];
            y += bias_at(e * p.rows + r0 + r);
            float wgt = uintBitsToFloat(rb.r[(p.o_r >> 2u) + 2u * slots[j] + 1u]);
            ob.o[(p.o_o >> 2u) + slots[j] * p.rows + r0 + r] = wgt * y;
        }
    }
#endif
}
