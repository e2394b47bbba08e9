#version 450
// rope_kv: backend.h's optional rope_kv_store in one dispatch: the NeoX
// rotation of q's n_heads heads and k's n_kv heads in place (rope.comp's
// arithmetic, rope_math.glsl), and k (rotated) and v of each token stored
// into their ring slots (kv_store.comp's rule: token t, position pos0 + t,
// goes to slot (pos0 + t) % cap; only tokens t >= t_lo, the last cap ones).
// Workgroup y picks the head: [0, n_heads) q, [n_heads, n_heads + n_kv) k,
// then n_kv heads of v (copied only). The whole cache is one window.
// args: 0 q, 1 k, 2 v, 3 inv_freq (f32 weight words), 4 pos (uint pos0),
// 5 k_cache, 6 v_cache. push: 7 n_heads, 8 n_kv, 9 head_dim, 10 mscale,
// 11 cap, 12 t_lo. grid: (ceil(half/64), n_heads + 2 n_kv, n).
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer Qb { float q[]; };
layout(set = 0, binding = 1) buffer Kb { float k[]; };
layout(set = 0, binding = 2) readonly buffer Vb { float v[]; };
layout(set = 0, binding = 3) readonly buffer F { uint f[]; };
layout(set = 0, binding = 4) readonly buffer P0 { uint pos[]; };
layout(set = 0, binding = 5) writeonly buffer KC { float kc[]; };
layout(set = 0, binding = 6) writeonly buffer VC { float vc[]; };
layout(push_constant) uniform P {
    uint q_off, k_off, v_off, f_off, p_off, kc_off, vc_off;
    uint n_heads, n_kv, head_dim;
    float mscale;
    uint cap, t_lo;
} p;

#include "rope_math.glsl"

void main()
{
    uint i = gl_GlobalInvocationID.x, h = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
    uint half_dim = p.head_dim / 2u, kvrow = p.n_kv * p.head_dim;
    if (i >= half_dim)
        return;
    uint p0 = pos[p.p_off / 4u];
    bool store = t >= p.t_lo;
    uint slot = (p0 + t) % p.cap;
    if (h >= p.n_heads + p.n_kv) {          // v: a copy
        uint hv = h - p.n_heads - p.n_kv;
        uint src = p.v_off / 4u + t * kvrow + hv * p.head_dim, dst = p.vc_off / 4u + slot * kvrow + hv * p.head_dim;
        if (store) {
            vc[dst + i] = v[src + i];
            vc[dst + i + half_dim] = v[src + i + half_dim];
        }
        return;
    }
    precise float ang = float(p0 + t) * uintBitsToFloat(f[p.f_off / 4u + i]);
    float s, c;
    sincos_f(ang, s, c);
    c *= p.mscale;
    s *= p.mscale;
    if (h < p.n_heads) {
        uint b = p.q_off / 4u + (t * p.n_heads + h) * p.head_dim;
        float a0 = q[b + i], b0 = q[b + i + half_dim];
        precise float r0 = a0 * c - b0 * s;   // no fused multiply-add: the CPU rounds each product
        precise float r1 = b0 * c + a0 * s;
        q[b + i] = r0;
        q[b + i + half_dim] = r1;
        return;
    }
    uint hk = h - p.n_heads;
    uint b = p.k_off / 4u + t * kvrow + hk * p.head_dim;
    float a0 = k[b + i], b0 = k[b + i + half_dim];
    precise float r0 = a0 * c - b0 * s;
    precise float r1 = b0 * c + a0 * s;
    k[b + i] = r0;
    k[b + i + half_dim] = r1;
    if (store) {
        uint d = p.kc_off / 4u + slot * kvrow + hk * p.head_dim;
        kc[d + i] = r0;
        kc[d + i + half_dim] = r1;
    }
}
