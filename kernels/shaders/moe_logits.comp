#version 450
/* moe_logits.comp - the router logits of a decoded token, spread over the
 * GPU: logits[t][e] = router[e] . x[t] + bias[e], one workgroup per (expert,
 * token). moe_route.comp does this and the top-k in ONE workgroup per token,
 * which for one token is one SM reading the 368 KB router of gpt-oss-20b:
 * 19 us on the H200. Here 32 workgroups read it together and moe_topk.comp
 * (a tiny dependent dispatch) picks the experts.
 * Thread i sums columns i, i + 256, ... (4 loads in flight), then the sums
 * are added over the subgroup and over the subgroups in shared memory.
 * Bindings: 0 x [n, D], 1 router [E, D] (f32 weight words), 2 bias [E]
 * (f32 weight words), 3 logits out [n, E]. push: 4 E, 5 D, 6 row_bytes.
 * Grid (E, n). */
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define LG_WG 256u
layout(local_size_x = 256) in;

layout(set = 0, binding = 0) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 1) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 2) readonly buffer Bb { uint w[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Lb { float l[]; } lb;

layout(push_constant) uniform P {
    uint o_x, o_w, o_b, o_l;
    uint E, D, row_bytes;
} p;

shared float part[LG_WG];

void main()
{
    uint e = gl_WorkGroupID.x, t = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    uint xo = (p.o_x >> 2u) + t * p.D, wo = (p.o_w >> 2u) + e * (p.row_bytes >> 2u);
    float a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    uint c = tid;
    for (; c + 3u * LG_WG < p.D; c += 4u * LG_WG) {
        a0 += uintBitsToFloat(wb.w[wo + c]) * xb.x[xo + c];
        a1 += uintBitsToFloat(wb.w[wo + c + LG_WG]) * xb.x[xo + c + LG_WG];
        a2 += uintBitsToFloat(wb.w[wo + c + 2u * LG_WG]) * xb.x[xo + c + 2u * LG_WG];
        a3 += uintBitsToFloat(wb.w[wo + c + 3u * LG_WG]) * xb.x[xo + c + 3u * LG_WG];
    }
    for (; c < p.D; c += LG_WG)
        a0 += uintBitsToFloat(wb.w[wo + c]) * xb.x[xo + c];
    float s = subgroupAdd((a0 + a1) + (a2 + a3));
    if (subgroupElect())
        part[gl_SubgroupID] = s;
    barrier();
    if (tid == 0u) {
        float sum = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++)
            sum += part[g];
        lb.l[(p.o_l >> 2u) + t * p.E + e] = sum + uintBitsToFloat(bb.w[(p.o_b >> 2u) + e]);
    }
}
