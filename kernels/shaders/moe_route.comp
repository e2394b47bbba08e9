#version 450
/* moe_route.comp - the gpt-oss router for one token per workgroup: logits =
 * router . x + bias (f32 router), then the top_k experts (descending; among
 * equal logits the lower index wins) and a softmax over those k logits only
 * (max-subtracted).
 *
 * The logits: thread i takes columns i, i + RT_WG, ... of x (3 for 2880) and
 * multiplies each with that column of RT_E experts at once (RT_E independent
 * loads in flight per column, the lanes of a subgroup on consecutive columns
 * of a row), then the per-thread sums are added over the subgroup
 * (subgroupAdd) and over the subgroups (shared memory). A decoded token's
 * router is one workgroup, so what bounds it is how many round trips to
 * memory it waits for: a few, instead of one per 4 columns per expert.
 *
 * The top-k is a rank count, one thread per expert: expert e's rank is the
 * number of experts j with lg[j] > lg[e], or lg[j] == lg[e] and j < e; ranks
 * below k name the chosen ones in order.
 *
 * Bindings: 0 x [n, D], 1 router [E, D] (f32 weight words, 4-byte aligned),
 * 2 bias [E] (f32 weight words), 3 route out [n, k] pairs (expert id, weight
 * as float bits). Grid (n). E <= 512, k <= 16. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define RT_WG 1024u
#define RT_E 16u     /* experts per pass over the columns */
layout(local_size_x = 1024) in;

layout(set = 0, binding = 0) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 1) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Rb { uint r[]; } rb;

layout(push_constant) uniform P {
    uint o_x, o_w, o_b, o_r;
    uint E, D, k, row_bytes;
} p;

shared float part[RT_E * 256u]; /* [expert][subgroup], up to 256 subgroups */
shared float lg[512];
shared uint chosen[16];

void main()
{
    uint t = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    uint g = gl_SubgroupID, G = gl_NumSubgroups;
    uint xo = (p.o_x >> 2u) + t * p.D, wo = p.o_w >> 2u, rw = p.row_bytes >> 2u;
    for (uint e0 = 0u; e0 < p.E; e0 += RT_E) {
        float acc[RT_E];
        [[unroll]] for (uint e = 0u; e < RT_E; e++)
            acc[e] = 0.0;
        for (uint c = tid; c < p.D; c += RT_WG) {
            float xv = xb.x[xo + c];
            [[unroll]] for (uint e = 0u; e < RT_E; e++) {
                uint ee = min(e0 + e, p.E - 1u); /* past the last expert: re-read it, unused */
                acc[e] += uintBitsToFloat(wb.w[wo + ee * rw + c]) * xv;
            }
        }
        [[unroll]] for (uint e = 0u; e < RT_E; e++) {
            float s = subgroupAdd(acc[e]);
            if (subgroupElect())
                part[e * 256u + g] = s;
        }
        barrier();
        if (tid < RT_E && e0 + tid < p.E) {
            float s = 0.0;
            for (uint i = 0u; i < G; i++)
                s += part[tid * 256u + i];
            lg[e0 + tid] = s + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e0 + tid]);
        }
        barrier();
    }
    for (uint e = tid; e < p.E; e += RT_WG) {
        float v = lg[e];
        uint rank = 0u;
        for (uint j = 0u; j < p.E; j++) {
            float u = lg[j];
            rank += (u > v || (u == v && j < e)) ? 1u : 0u;
        }
        if (rank < p.k)
            chosen[rank] = e;
    }
    barrier();
    if (tid != 0u)
        return;
    float v[16];
    float m = -1.0 / 0.0;
    for (uint i = 0u; i < p.k; i++) {
        v[i] = lg[chosen[i]];
        m = max(m, v[i]);
    }
    float s = 0.0;
    for (uint i = 0u; i < p.k; i++) {
        v[i] = exp(v[i] - m);
        s += v[i];
    }
    uint ro = (p.o_r >> 2u) + t * p.k * 2u;
    for (uint i = 0u; i < p.k; i++) {
        rb.r[ro + 2u * i] = chosen[i];
        rb.r[ro + 2u * i + 1u] = floatBitsToUint(v[i] / s);
    }
}
