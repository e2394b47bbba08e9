#version 450
// rmsnorm: out[t] = x[t] * (1 / sqrt(mean(x[t]^2) + eps)) * w, one workgroup
// per token. The CPU sums the squares in double so that the mean is the fp32
// nearest the true one; here the squares are summed as a float pair (hi, lo)
// with exact two-sums, per thread and across the shared-memory tree, which
// keeps about 48 bits: the same mean to the last bit but for rare ties.
// args: 0 x, 1 w (f32 weight words), 2 out (may be x). push: 3 dim, 4 eps.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer W { uint w[]; };
layout(set = 0, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint x_off, w_off, o_off, dim; float eps; } p;
shared float sh[256];
shared float sl[256];

void two_sum(float a, float b, out float s, out float e)
{
    precise float ps = a + b;
    precise float bb = ps - a;
    precise float pe = (a - (ps - bb)) + (b - bb);
    s = ps;
    e = pe;
}

void main()
{
    uint tid = gl_LocalInvocationID.x, t = gl_WorkGroupID.x;
    uint xb = p.x_off / 4u + t * p.dim, ob = p.o_off / 4u + t * p.dim, wb = p.w_off / 4u;
    float hi = 0.0, lo = 0.0, e;
    for (uint i = tid; i < p.dim; i += 256u) {
        float v = x[xb + i];
        precise float sq = v * v;
        two_sum(hi, sq, hi, e);
        lo += e;
    }
    sh[tid] = hi;
    sl[tid] = lo;
    barrier();
    for (uint h = 128u; h > 0u; h >>= 1) {
        if (tid < h) {
            float s;
            two_sum(sh[tid], sh[tid + h], s, e);
            sh[tid] = s;
            sl[tid] = sl[tid] + sl[tid + h] + e;
        }
        barrier();
    }
    float shi = sh[0], slo = sl[0], n = float(p.dim);
    precise float q = shi / n;
    precise float r = fma(-q, n, shi) + slo;   // what q * n misses of the sum
    precise float mean = q + r / n;
    float rs = 1.0 / sqrt(mean + p.eps);
    for (uint i = tid; i < p.dim; i += 256u)
        o[ob + i] = x[xb + i] * rs * uintBitsToFloat(w[wb + i]);
}
