/* moe_vec_body.glsl - the expert products of the MoE block per token (decode
 * and short batches), for one weight type (included by moe_gate_up_<type>.comp
 * / moe_down_<type>.comp after `#define WT_<TYPE>` and MOE_GATE_UP or
 * MOE_DOWN). The grouped prefill kernels are gemm_body.glsl's.
 *
 * Same walk as matvec_body.glsl: a subgroup owns 2 rows, its lanes take the
 * rows' blocks in parts (matmul_types.glsl, WT_PART_API), so a subgroup reads
 * contiguous bytes of each row and contiguous x as 16-byte vectors, with
 * MO_UNROLL parts in flight per lane. The experts a token uses are read on
 * the device from moe_route's output, so nothing comes back to the host.
 * Binding 4 is a window of the expert stack [E][rows, cols] holding experts
 * e_lo .. (expert e at matrix e - e_lo): the whole stack (the op takes the
 * grouped kernels when a stack does not fit one window).
 *
 * MOE_GATE_UP: a subgroup computes one gate/up row pair of chosen expert i of
 *   token t: h = gate_up[e] . x[t] + bias[e], then the clamped SwiGLU into
 *   act[t][i][pair]. MO_PAIRS pairs per workgroup; grid (ceil(I / MO_PAIRS),
 *   k, n). Bindings: 0 x [n, D], 1 route, 2 gate_up bias [E, 2I] (f32
 *   words), 3 act [n, k, I].
 * MOE_DOWN: a subgroup computes 2 output rows of token t over all k chosen
 *   experts at once (the units of the k experts' rows are one walk, each
 *   part's sum times its expert's routing weight): out[t][r] = sum_i w_i
 *   (down[e_i][r] . act[t][i] + bias[e_i][r]). MO_ROWS rows per workgroup;
 *   grid (ceil(D / MO_ROWS), n). Bindings: 0 act [n, k, I], 1 route, 2 down
 *   bias [E, D] (f32 words), 3 out [n, D].
 * Push words 0-4 the byte offsets of bindings 0-4, then the shape (as
 * gemm_body.glsl's grouped ones). */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define MO_PAIRS 4u   /* gate_up: row pairs per workgroup */
#define MO_ROWS 8u    /* down: rows per workgroup (2 per subgroup) */
#define MO_UNROLL 4u
layout(local_size_x = 128) in;

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
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#define WT_PART_API
#include "matmul_types.glsl"

float bias_at(uint i) { return uintBitsToFloat(bb.w[(p.o_b >> 2u) + i]); }

/* al: x is 16-byte aligned (a constant at each call: branch-free copies) */
void body(bool al)
{
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES), nu = nb * WT_PARTS;
#if defined(MOE_GATE_UP)
    uint I = p.rows / 2u, i = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    uint slot = t * p.k + i;
    uint e = rb.r[(p.o_r >> 2u) + 2u * slot];
    uint mbase = p.o_w + (e - p.e_lo) * p.mat_bytes;
    uint xo = (p.o_x >> 2u) + t * p.cols;
    uint pend = min(gl_WorkGroupID.x * MO_PAIRS + MO_PAIRS, I);
    for (uint pr = gl_WorkGroupID.x * MO_PAIRS + gl_SubgroupID; pr < pend; pr += gl_NumSubgroups) {
        uint g_off = mbase + 2u * pr * p.row_bytes, u_off = g_off + p.row_bytes;
        float ag = 0.0, au = 0.0;
        for (uint u0 = lane; u0 < nu; u0 += MO_UNROLL * S) {
            [[unroll]] for (uint j = 0u; j < MO_UNROLL; j++) {
                uint u = u0 + j * S;
                float f = u < nu ? 1.0 : 0.0;
                u = min(u, nu - 1u);
                uint bi = u / WT_PARTS, part = u % WT_PARTS;
                vec4 xq[4];
                wt_xpart(xo + bi * 32u, part, xq, al);
                uint bg = g_off + bi * WT_BLOCK_BYTES, bu = u_off + bi * WT_BLOCK_BYTES;
                ag += f * WT_SCALED_PART(bg, wt_part_dot(bg, part, xq));
                au += f * WT_SCALED_PART(bu, wt_part_dot(bu, part, xq));
            }
        }
        float g = subgroupAdd(ag), u = subgroupAdd(au);
        if (subgroupElect()) {
            g += bias_at(e * p.rows + 2u * pr);
            u += bias_at(e * p.rows + 2u * pr + 1u);
            g = min(g, p.limit);
            u = clamp(u, -p.limit, p.limit);
            ob.o[(p.o_o >> 2u) + slot * I + pr] = g / (1.0 + exp(-p.alpha * g)) * (u + 1.0);
        }
    }
#elif defined(MOE_DOWN)
    uint t = gl_WorkGroupID.y;
    uint rend = min(gl_WorkGroupID.x * MO_ROWS + MO_ROWS, p.rows);
    uint ro = (p.o_r >> 2u) + 2u * t * p.k;
    for (uint r0 = gl_WorkGroupID.x * MO_ROWS + 2u * gl_SubgroupID; r0 < rend; r0 += 2u * gl_NumSubgroups) {
        uint r1 = min(r0 + 1u, p.rows - 1u); /* a missing last row re-reads one */
        float a0 = 0.0, a1 = 0.0;
        uint total = p.k * nu;
        for (uint u0 = lane; u0 < total; u0 += MO_UNROLL * S) {
            [[unroll]] for (uint j = 0u; j < MO_UNROLL; j++) {
                uint uu = u0 + j * S;
                float f = uu < total ? 1.0 : 0.0;
                uu = min(uu, total - 1u);
                uint i = uu / nu, u = uu % nu;
                uint e = rb.r[ro + 2u * i];
                float wgt = f * uintBitsToFloat(rb.r[ro + 2u * i + 1u]);
                uint bi = u / WT_PARTS, part = u % WT_PARTS;
                vec4 xq[4];
                wt_xpart((p.o_x >> 2u) + (t * p.k + i) * p.cols + bi * 32u, part, xq, al);
                uint mbase = p.o_w + (e - p.e_lo) * p.mat_bytes + bi * WT_BLOCK_BYTES;
                uint b0 = mbase + r0 * p.row_bytes, b1 = mbase + r1 * p.row_bytes;
                a0 += wgt * WT_SCALED_PART(b0, wt_part_dot(b0, part, xq));
                a1 += wgt * WT_SCALED_PART(b1, wt_part_dot(b1, part, xq));
            }
        }
        float s0 = subgroupAdd(a0), s1 = subgroupAdd(a1);
        if (subgroupElect()) {
            for (uint i = 0u; i < p.k; i++) {
                uint e = rb.r[ro + 2u * i];
                float wgt = uintBitsToFloat(rb.r[ro + 2u * i + 1u]);
                s0 += wgt * bias_at(e * p.rows + r0);
                s1 += wgt * bias_at(e * p.rows + r1);
            }
            ob.o[(p.o_o >> 2u) + t * p.rows + r0] = s0;
            if (r0 + 1u < rend)
                ob.o[(p.o_o >> 2u) + t * p.rows + r0 + 1u] = s1;
        }
    }
#else
#error "define MOE_GATE_UP or MOE_DOWN"
#endif
}

void main()
{
    if ((p.o_x & 15u) == 0u)
        body(true);
    else
        body(false);
}
