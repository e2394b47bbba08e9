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

// a - k * pi/2 for integer k < 2^17 (angles up to 131072 rad): pi/2 as
// P1 + P2 + P3 with P1 (15 bits) and P2 (12 bits) short enough, and k split
// into k1 (a multiple of 512, 8 bits) and k2 (< 512, 9 bits), that every
// product is exact and the first subtractions too, with no fma (with an fma
// reduction lavapipe was off by 2.6e-3 at pos 131000: GLSL does not promise
// a single rounding for fma).
float reduce_half_pi(float a, float k)
{
    precise float k1 = floor(k * (1.0 / 512.0)) * 512.0;
    precise float k2 = k - k1;
    precise float r = a - k1 * 1.57073974609375;    // 25735 / 2^14
    r = r - k2 * 1.57073974609375;
    r = r - k1 * 5.657970905303955e-05;              // 3797 / 2^29
    r = r - k2 * 5.657970905303955e-05;
    r = r - k * 9.92093629470503e-10;                // the rest of pi/2, rounded to fp32
    return r;
}

void sincos_f(float a, out float s, out float c)
{
    float k = roundEven(a * 0.63661977236758134308);  // a / (pi/2)
    precise float r = reduce_half_pi(a, k);
    precise float z = r * r;
    precise float sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
    precise float cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
    int q = int(k) & 3;
    s = q == 0 ? sp : q == 1 ? cp : q == 2 ? -sp : -cp;
    c = q == 0 ? cp : q == 1 ? -sp : q == 2 ? -cp : sp;
}

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
