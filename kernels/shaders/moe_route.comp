#version 450
/* moe_route.comp - the gpt-oss router for one token per workgroup: logits =
 * router . x + bias (f32 router; each subgroup takes experts gl_SubgroupID,
 * + gl_NumSubgroups, ..., its lanes consecutive columns, four sums in flight),
 * then the top_k experts (descending; among equal logits the lower index
 * wins) and a softmax over those k logits only (max-subtracted).
 *
 * The top-k is a rank count, one thread per expert: expert e's rank is the
 * number of experts j with lg[j] > lg[e], or lg[j] == lg[e] and j < e; ranks
 * below k name the chosen ones in order. E * E / 256 comparisons per thread
 * (4 for 32 experts) instead of one thread scanning k times.
 *
 * Bindings: 0 x [n, D], 1 router [E, D] (f32 weight words, 4-byte aligned),
 * 2 bias [E] (f32 weight words), 3 route out [n, k] pairs (expert id, weight
 * as float bits). Grid (n). E <= 512, k <= 16. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define RT_WG 256u
layout(local_size_x = 256) in;

layout(set = 0, binding = 0) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 1) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Rb { uint r[]; } rb;

layout(push_constant) uniform P {
    uint o_x, o_w, o_b, o_r;
    uint E, D, k, row_bytes;
} p;

shared float lg[512];
shared uint chosen[16];

void main()
{
    uint t = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x, S = gl_SubgroupSize;
    uint xo = (p.o_x >> 2u) + t * p.D;
    for (uint e = gl_SubgroupID; e < p.E; e += gl_NumSubgroups) {
        uint wo = (p.o_w + e * p.row_bytes) >> 2u;
        float s[4] = float[4](0.0, 0.0, 0.0, 0.0);
        for (uint c0 = gl_SubgroupInvocationID; c0 < p.D; c0 += 4u * S) {
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uint c = c0 + j * S;
                if (c < p.D)
                    s[j] += uintBitsToFloat(wb.w[wo + c]) * xb.x[xo + c];
            }
        }
        float sum = subgroupAdd((s[0] + s[1]) + (s[2] + s[3]));
        if (subgroupElect())
            lg[e] = sum + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e]);
    }
    barrier();
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
