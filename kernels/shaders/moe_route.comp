#version 450
/* moe_route.comp - the gpt-oss router for one token per workgroup: logits =
 * router . x + bias (f32 router, one subgroup per expert at a time), then
 * the top_k experts (descending; among equal logits the lower index wins)
 * and a softmax over those k logits only (max-subtracted).
 *
 * Bindings: 0 x [n, D], 1 router [E, D] (f32 weight words, 4-byte aligned),
 * 2 bias [E] (f32 weight words), 3 route out [n, k] pairs (expert id, weight
 * as float bits). Grid (n). E <= 512, k <= 16. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 1) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Rb { uint r[]; } rb;

layout(push_constant) uniform P {
    uint o_x, o_w, o_b, o_r;
    uint E, D, k, row_bytes;
} p;

shared float lg[512];

void main()
{
    uint t = gl_WorkGroupID.x;
    uint xo = (p.o_x >> 2u) + t * p.D;
    for (uint e = gl_SubgroupID; e < p.E; e += gl_NumSubgroups) {
        uint wo = (p.o_w + e * p.row_bytes) >> 2u;
        float s = 0.0;
        for (uint c = gl_SubgroupInvocationID; c < p.D; c += gl_SubgroupSize)
            s += uintBitsToFloat(wb.w[wo + c]) * xb.x[xo + c];
        s = subgroupAdd(s);
        if (subgroupElect())
            lg[e] = s + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e]);
    }
    barrier();
    if (gl_LocalInvocationID.x != 0u)
        return;
    uint ids[16];
    float v[16];
    for (uint i = 0u; i < p.k; i++) {
        int best = -1;
        for (uint e = 0u; e < p.E; e++) {
            bool taken = false;
            for (uint j = 0u; j < i; j++)
                taken = taken || ids[j] == e;
            if (!taken && (best < 0 || lg[e] > lg[best]))
                best = int(e);
        }
        ids[i] = uint(best);
        v[i] = lg[best];
    }
    float m = -1.0 / 0.0;
    for (uint i = 0u; i < p.k; i++)
        m = max(m, v[i]);
    float s = 0.0;
    for (uint i = 0u; i < p.k; i++) {
        v[i] = exp(v[i] - m);
        s += v[i];
    }
    uint ro = (p.o_r >> 2u) + t * p.k * 2u;
    for (uint i = 0u; i < p.k; i++) {
        rb.r[ro + 2u * i] = ids[i];
        rb.r[ro + 2u * i + 1u] = floatBitsToUint(v[i] / s);
    }
}
