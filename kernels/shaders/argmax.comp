#version 450
// argmax: ids[r] = the index of the largest of row r's vocab logits, the
// lower index first among equals, NaN never chosen (a row of NaN gives 0):
// greedy decoding without reading 201088 logits back to the host. One
// workgroup per row: each thread keeps the best of its strided values (4
// loads in flight), then a subgroup and a shared-memory reduction. A row is
// 0.8 MB, so one workgroup is a few microseconds; a second dispatch to
// merge partial results would cost a dependent dispatch more.
// args: 0 logits [rows, vocab], 1 ids out [rows] (uint). push: 2 vocab.
// grid: (rows, 1, 1).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
#define AM_WG 1024u
layout(local_size_x = 1024) in;
layout(set = 0, binding = 0) readonly buffer L { float x[]; };
layout(set = 0, binding = 1) writeonly buffer O { uint o[]; };
layout(push_constant) uniform P { uint x_off, o_off, vocab; } p;
shared float sv[AM_WG];
shared uint si[AM_WG];

// (v, i) replaced by (v2, i2) when v2 is larger, or equal with a lower index
void take(inout float v, inout uint i, float v2, uint i2)
{
    if (v2 > v || (v2 == v && i2 < i)) {
        v = v2;
        i = i2;
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x, r = gl_WorkGroupID.x;
    uint base = p.x_off / 4u + r * p.vocab;
    float bv = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    uint i = tid;
    for (; i + 3u * AM_WG < p.vocab; i += 4u * AM_WG) {
        float a = x[base + i], b = x[base + i + AM_WG], c = x[base + i + 2u * AM_WG], d = x[base + i + 3u * AM_WG];
        take(bv, bi, a, i);
        take(bv, bi, b, i + AM_WG);
        take(bv, bi, c, i + 2u * AM_WG);
        take(bv, bi, d, i + 3u * AM_WG);
    }
    for (; i < p.vocab; i += AM_WG)
        take(bv, bi, x[base + i], i);
    for (uint d = gl_SubgroupSize / 2u; d > 0u; d >>= 1) {
        float v2 = subgroupShuffleDown(bv, d);
        uint i2 = subgroupShuffleDown(bi, d);
        if (gl_SubgroupInvocationID + d < gl_SubgroupSize)
            take(bv, bi, v2, i2);
    }
    if (gl_SubgroupInvocationID == 0u) {
        sv[gl_SubgroupID] = bv;
        si[gl_SubgroupID] = bi;
    }
    barrier();
    if (tid == 0u) {
        for (uint g = 1u; g < gl_NumSubgroups; g++)
            take(bv, bi, sv[g], si[g]);
        o[p.o_off / 4u + r] = bi == 0xffffffffu ? 0u : bi;
    }
}
