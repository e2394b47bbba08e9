#version 450
/* moe_topk.comp - after moe_logits.comp: the top_k experts of each token's
 * router logits (descending; among equal logits the lower index wins) and a
 * softmax over those k only (max-subtracted), as (expert id, weight) pairs:
 * the second half of moe_route.comp, the same rank count and arithmetic.
 * Bindings: 0 logits [n, E], 1 route out [n, k] pairs (id, weight as float
 * bits). push: 2 E, 3 k. Grid (n), E <= 512, k <= 16. */
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Lb { float l[]; } lb;
layout(set = 0, binding = 1) writeonly buffer Rb { uint r[]; } rb;

layout(push_constant) uniform P {
    uint o_l, o_r;
    uint E, k;
} p;

shared float lg[512];
shared uint chosen[16];

void main()
{
    uint t = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    uint lo = (p.o_l >> 2u) + t * p.E;
    for (uint e = tid; e < p.E; e += 64u)
        lg[e] = lb.l[lo + e];
    barrier();
    for (uint e = tid; e < p.E; e += 64u) {
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
