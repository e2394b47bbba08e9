#version 450
// rope: in-place NeoX rotation of n_heads heads of x[t] at position pos0 + t:
// dim i pairs with i + head_dim/2, angle = float(pos) * inv_freq[i] (the same
// fp32 product as the CPU), cos and sin scaled by mscale. cos/sin are
// evaluated here, not by the driver's builtins (whose error grows with the
// angle): an exact three-part reduction by pi/2, then the minimax
// polynomials of cephes' sinf/cosf on [-pi/4, pi/4] (about 1 ulp).
// The position comes from a buffer (the host stages it with the token's
// other data), not a push constant, so a decoded token's command buffer is
// the same every token and is replayed (vk_record.c).
// args: 0 x, 1 inv_freq (f32 weight words), 2 pos (uint: the batch's first
// position). push: 3 n_heads, 4 head_dim, 5 t0 (x is bound from token t0
// of the batch), 6 mscale. grid: (ceil(half/64), n_heads, n).
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer F { uint f[]; };
layout(set = 0, binding = 2) readonly buffer Q { uint q[]; };
layout(push_constant) uniform P { uint x_off, f_off, q_off, n_heads, head_dim, t0; float mscale; } p;

#include "rope_math.glsl"

void main()
{
    uint i = gl_GlobalInvocationID.x, h = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    uint half_dim = p.head_dim / 2u;
    if (i >= half_dim)
        return;
    precise float ang = float(q[p.q_off / 4u] + p.t0 + t) * uintBitsToFloat(f[p.f_off / 4u + i]);
    float s, c;
    sincos_f(ang, s, c);
    c *= p.mscale;
    s *= p.mscale;
    uint b = p.x_off / 4u + (t * p.n_heads + h) * p.head_dim;
    float a0 = x[b + i], b0 = x[b + i + half_dim];
    precise float r0 = a0 * c - b0 * s;   // no fused multiply-add: the CPU rounds each product
    precise float r1 = b0 * c + a0 * s;
    x[b + i] = r0;
    x[b + i + half_dim] = r1;
}
