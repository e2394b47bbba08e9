#version 450
// rmsnorm: out[t] = x[t] * (1 / sqrt(mean(x[t]^2) + eps)) * w, one workgroup
// per token. The CPU sums the squares in double so that the mean is the fp32
// nearest the true one; here the squares are summed as a float pair (hi, lo)
// with exact two-sums, per thread and across the shared-memory tree, which
// keeps about 48 bits: the same mean to the last bit but for rare ties.
// The pairs are added over each subgroup with shuffles and then over the
// subgroups in shared memory (one barrier, not one per tree level): a
// decoded token is one workgroup, so its latency is the op's cost.
// args: 0 x, 1 w (f32 weight words), 2 out (may be x). push: 3 dim, 4 eps.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
#define RN_WG 1024u
layout(local_size_x = 1024) in;
layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer W { uint w[]; };
layout(set = 0, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint x_off, w_off, o_off, dim; float eps; } p;
shared float sh[RN_WG];
shared float sl[RN_WG];

void two_sum(float a, float b, out float s, out float e)
{
    precise float ps = a + b;
    precise float bb = ps - a;
    precise float pe = (a - (ps - bb)) + (b - bb);
    s = ps;
    e = pe;
}

/* (hi, lo) summed over the subgroup into its first lane */
void subgroup_pair_sum(inout float hi, inout float lo)
{
    for (uint d = gl_SubgroupSize / 2u; d > 0u; d >>= 1) {
        float h2 = subgroupShuffleDown(hi, d), l2 = subgroupShuffleDown(lo, d), e;
        if (gl_SubgroupInvocationID + d < gl_SubgroupSize) {
            two_sum(hi, h2, hi, e);
            lo = lo + l2 + e;
        }
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x, t = gl_WorkGroupID.x;
    uint xb = p.x_off / 4u + t * p.dim, ob = p.o_off / 4u + t * p.dim, wb = p.w_off / 4u;
    float hi = 0.0, lo = 0.0, e;
    for (uint i = tid; i < p.dim; i += RN_WG) {
        float v = x[xb + i];
        precise float sq = v * v;
        two_sum(hi, sq, hi, e);
        lo += e;
    }
    subgroup_pair_sum(hi, lo);
    if (gl_SubgroupInvocationID == 0u) {
        sh[gl_SubgroupID] = hi;
        sl[gl_SubgroupID] = lo;
    }
    barrier();
    if (gl_SubgroupID == 0u) {
        hi = 0.0;
        lo = 0.0;
        for (uint g = gl_SubgroupInvocationID; g < gl_NumSubgroups; g += gl_SubgroupSize) {
            two_sum(hi, sh[g], hi, e);
            lo = lo + sl[g] + e;
        }
        subgroup_pair_sum(hi, lo);
        if (gl_SubgroupInvocationID == 0u) {
            sh[0] = hi;
            sl[0] = lo;
        }
    }
    barrier();
    float shi = sh[0], slo = sl[0], n = float(p.dim);
    precise float q = shi / n;
    precise float r = fma(-q, n, shi) + slo;   // what q * n misses of the sum
    precise float mean = q + r / n;
    float rs = 1.0 / sqrt(mean + p.eps);
    for (uint i = tid; i < p.dim; i += RN_WG)
        o[ob + i] = x[xb + i] * rs * uintBitsToFloat(w[wb + i]);
}
