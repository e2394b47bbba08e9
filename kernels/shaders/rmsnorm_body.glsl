// rmsnorm_body.glsl - rmsnorm.comp and add_rmsnorm.comp (RN_ADD defined:
// x += y first, in the same workgroup, so the residual add and the next
// norm are one dependent dispatch instead of two; the sums and products are
// the same operations in the same order as add.comp then rmsnorm.comp, so
// the results are bit-identical).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
#define RN_WG 1024u
layout(local_size_x = 1024) in;
#ifdef RN_ADD
layout(set = 0, binding = 0) buffer X { float x[]; };
layout(set = 0, binding = 3) readonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint x_off, w_off, o_off, y_off, dim; float eps; } p;
#else
layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(push_constant) uniform P { uint x_off, w_off, o_off, dim; float eps; } p;
#endif
layout(set = 0, binding = 1) readonly buffer W { uint w[]; };
layout(set = 0, binding = 2) writeonly buffer O { float o[]; };
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
#ifdef RN_ADD
    uint yb = p.y_off / 4u + t * p.dim;
#endif
    for (uint i = tid; i < p.dim; i += RN_WG) {
#ifdef RN_ADD
        precise float v = x[xb + i] + y[yb + i];   // the add op's one rounding
        x[xb + i] = v;
#else
        float v = x[xb + i];
#endif
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
    // each thread reads back only the x values it wrote itself (same i)
    for (uint i = tid; i < p.dim; i += RN_WG)
        o[ob + i] = x[xb + i] * rs * uintBitsToFloat(w[wb + i]);
}
