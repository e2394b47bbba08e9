/* moe_vec_body.glsl - the expert products of the MoE block per token (decode
 * and short batches), for one weight type (included by moe_gate_up_<type>.comp
 * / moe_down_<type>.comp after `#define WT_<TYPE>` and MOE_GATE_UP or
 * MOE_DOWN). The grouped prefill kernels are gemm_body.glsl's.
 *
 * The rows are walked in parts (matmul_types.glsl's WT_PART_API: 8 bytes of
 * codes each), so the threads of a subgroup read consecutive bytes of a row
 * and consecutive x (16-byte loads), several parts in flight per thread. The experts a token uses are read
 * on the device from moe_route's output, so nothing comes back to the host.
 * Binding 4 is a window of the expert stack [E][rows, cols] holding experts
 * e_lo .. (expert e at matrix e - e_lo): the whole stack (the op takes the
 * grouped kernels when a stack does not fit one window).
 *
 * MOE_GATE_UP: a workgroup computes MO_PAIRS gate/up row pairs of chosen
 *   expert i of token t, a subgroup per pair (lanes on parts l, l + S, ...): h = gate_up[e] . x[t] + bias[e], then the clamped
 *   SwiGLU into act[t][i][pair]. Grid (ceil(I / MO_PAIRS), k, n). Bindings:
 *   0 x [n, D], 1 route, 2 gate_up bias [E, 2I] (f32 words), 3 act [n, k, I].
 * MOE_DOWN: a workgroup computes MO_DROWS output rows of token t over all k
 *   chosen experts, all its threads on each row (thread i on parts i, i +
 *   MO_WG, ..., MO_KU experts' parts in flight at once, each part's sum
 *   times its expert's routing weight): out[t][r] = sum_i w_i (down[e_i][r] .
 *   act[t][i] + bias[e_i][r]). Grid (ceil(D / MO_DROWS), n). Bindings: 0 act
 *   [n, k, I], 1 route, 2 down bias [E, D] (f32 words), 3 out [n, D].
 * Push words 0-4 the byte offsets of bindings 0-4, then the shape (as
 * gemm_body.glsl's grouped ones). */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

/* The shape. A .comp may set it before including (MO_WG_N threads as an int
 * literal, MO_PAIRS = MO_WG_N / 32, ...); the host's grid follows
 * (gd_ops_moe.c). The defaults were measured on the H200 for mxfp4 in
 * vk4 (a layer's dispatch: gate_up 42 us with a subgroup per pair and 4
 * parts in flight, down 32 us with 2 rows a workgroup); vk5 then timed 5
 * gate_up and 6 down shapes for mxfp4 in one decode profile (bench/results/
 * 2026-12-03-h200-vk5): moe_gate_up_tk_mxfp4.comp and moe_down_mxfp4.comp
 * set the winners, -18 % and -17 % GPU time. */
#ifndef MO_WG_N
#define MO_WG_N 128
#endif
#define MO_WG uint(MO_WG_N)
#ifndef MO_PAIRS
#define MO_PAIRS 4u   /* gate_up: row pairs per workgroup (one per subgroup of 32) */
#endif
#ifndef MO_DROWS
#define MO_DROWS 2u   /* down: rows per workgroup */
#endif
#ifndef MO_UNROLL
#define MO_UNROLL 4u  /* gate_up: parts in flight per thread */
#endif
#ifndef MO_KU
#define MO_KU 4u      /* down: experts in flight */
#endif
#ifndef MO_DUNROLL
#define MO_DUNROLL 2u /* down: parts in flight per thread and expert */
#endif
layout(local_size_x = MO_WG_N) in;

layout(set = 0, binding = 0) readonly buffer Xb { vec4 v[]; } xb;
#ifdef MOE_TOPK
layout(set = 0, binding = 1) buffer Rb { uint r[]; } rb;
#else
layout(set = 0, binding = 1) readonly buffer Rb { uint r[]; } rb;
#endif
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;
layout(set = 0, binding = 4) readonly buffer Wb { uint w[]; } wb;

layout(push_constant) uniform P {
    uint o_x, o_r, o_b, o_o, o_w;
    uint rows, cols, row_bytes, k;
    uint e_lo, mat_bytes;
    float limit, alpha;
#ifdef MOE_TOPK
    uint E;
#endif
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#define WT_PART_API
#include "matmul_types.glsl"

float bias_at(uint i) { return uintBitsToFloat(bb.w[(p.o_b >> 2u) + i]); }

#define MO_SGS (MO_WG / 4u) /* subgroups a workgroup at most: of 4 lanes or more */
shared float red[MO_DROWS * MO_SGS]; /* [row][subgroup] */

/* acc[r] summed over the workgroup into red[r * MO_SGS] (after the barrier) */
void reduce(float acc[MO_DROWS], uint nr)
{
    [[unroll]] for (uint r = 0u; r < MO_DROWS; r++) {
        if (r < nr) {
            float s = subgroupAdd(acc[r]);
            if (subgroupElect())
                red[r * MO_SGS + gl_SubgroupID] = s;
        }
    }
    barrier();
}

float red_sum(uint r)
{
    float s = 0.0;
    for (uint g = 0u; g < gl_NumSubgroups; g++)
        s += red[r * MO_SGS + g];
    return s;
}

#ifdef MOE_TOPK
/* MOE_TOPK (gate_up only): binding 1 holds the router logits [n, E] (from
 * moe_logits.comp) and, after them, the route pairs [n, k] this kernel writes
 * for moe_down. Every workgroup picks the experts itself (moe_topk.comp's
 * rank count and softmax, the same operations): 32 logits are one cache
 * line, and a dependent dispatch less is ~5 us a layer on the H200.
 * Workgroup (0, i, t) writes token t's pair i. Push word 13: E. */
shared float tk_lg[512];
shared uint tk_chosen[16];
uint pick_expert(uint t, uint i)
{
    uint tid = gl_LocalInvocationID.x, lo = (p.o_r >> 2u) + t * p.E;
    for (uint e = tid; e < p.E; e += MO_WG)
        tk_lg[e] = uintBitsToFloat(rb.r[lo + e]);
    barrier();
    for (uint e = tid; e < p.E; e += MO_WG) {
        float v = tk_lg[e];
        uint rank = 0u;
        for (uint j = 0u; j < p.E; j++) {
            float u = tk_lg[j];
            rank += (u > v || (u == v && j < e)) ? 1u : 0u;
        }
        if (rank < p.k)
            tk_chosen[rank] = e;
    }
    barrier();
    if (gl_WorkGroupID.x == 0u && tid == 0u) {
        float v[16];
        float m = -1.0 / 0.0;
        for (uint j = 0u; j < p.k; j++) {
            v[j] = tk_lg[tk_chosen[j]];
            m = max(m, v[j]);
        }
        float s = 0.0;
        for (uint j = 0u; j < p.k; j++) {
            v[j] = exp(v[j] - m);
            s += v[j];
        }
        uint po = (p.o_r >> 2u) + gl_NumWorkGroups.z * p.E + 2u * (t * p.k + i);
        rb.r[po] = tk_chosen[i];
        rb.r[po + 1u] = floatBitsToUint(v[i] / s);
    }
    return tk_chosen[i];
}
uint tk_e; /* this workgroup's expert (set in main) */
#endif

/* al: x is 16-byte aligned (a constant at each call: branch-free copies) */
void body(bool al)
{
    uint tid = gl_LocalInvocationID.x;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES), nu = nb * WT_PARTS;
#if defined(MOE_GATE_UP)
    /* a subgroup per row pair (its lanes on the parts): measured on the H200,
     * a workgroup per 2 pairs was slower (74 against 42 us a layer: 23040
     * workgroups of very little work each) */
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint I = p.rows / 2u, i = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    uint slot = t * p.k + i;
#ifdef MOE_TOPK
    uint e = tk_e;
#else
    uint e = rb.r[(p.o_r >> 2u) + 2u * slot];
#endif
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
    uint t = gl_WorkGroupID.y, r0 = gl_WorkGroupID.x * MO_DROWS, nr = min(MO_DROWS, p.rows - r0);
    float acc[MO_DROWS];
    [[unroll]] for (uint r = 0u; r < MO_DROWS; r++)
        acc[r] = 0.0;
    uint ro = (p.o_r >> 2u) + 2u * t * p.k;
    for (uint i0 = 0u; i0 < p.k; i0 += MO_KU) {
        for (uint u0 = tid; u0 < nu; u0 += MO_DUNROLL * MO_WG) {
            [[unroll]] for (uint ii = 0u; ii < MO_KU; ii++) {
                uint i = min(i0 + ii, p.k - 1u);
                float fi = i0 + ii < p.k ? 1.0 : 0.0;
                uint e = rb.r[ro + 2u * i];
                float wgt = fi * uintBitsToFloat(rb.r[ro + 2u * i + 1u]);
                uint mbase = p.o_w + (e - p.e_lo) * p.mat_bytes;
                [[unroll]] for (uint j = 0u; j < MO_DUNROLL; j++) {
                    uint u = u0 + j * MO_WG;
                    float f = u < nu ? wgt : 0.0;
                    u = min(u, nu - 1u);
                    uint bi = u / WT_PARTS, part = u % WT_PARTS;
                    vec4 xq[4];
                    wt_xpart((p.o_x >> 2u) + (t * p.k + i) * p.cols + bi * 32u, part, xq, al);
                    [[unroll]] for (uint r = 0u; r < MO_DROWS; r++) {
                        uint boff = mbase + min(r0 + r, p.rows - 1u) * p.row_bytes + bi * WT_BLOCK_BYTES;
                        acc[r] += f * WT_SCALED_PART(boff, wt_part_dot(boff, part, xq));
                    }
                }
            }
        }
    }
    reduce(acc, nr);
    if (tid < nr) {
        float s = red_sum(tid);
        for (uint i = 0u; i < p.k; i++)
            s += uintBitsToFloat(rb.r[ro + 2u * i + 1u]) * bias_at(rb.r[ro + 2u * i] * p.rows + r0 + tid);
        ob.o[(p.o_o >> 2u) + t * p.rows + r0 + tid] = s;
    }
#else
#error "define MOE_GATE_UP or MOE_DOWN"
#endif
}

void main()
{
#ifdef MOE_TOPK
    tk_e = pick_expert(gl_WorkGroupID.z, gl_WorkGroupID.y);
#endif
    if ((p.o_x & 15u) == 0u)
        body(true);
    else
        body(false);
}
