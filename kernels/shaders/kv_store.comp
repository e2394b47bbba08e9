#version 450
// kv_store: copy this batch's k and v rows into their ring slots: token t of
// the batch (position pos0 + t) goes to slot (pos0 + t) % cap. The cache is
// bound as a window of whole slots [s_lo, s_lo + s_n); a token whose slot
// lies outside it is another dispatch's (a cache larger than one window is
// covered by several). The position comes from a buffer (staged by the host),
// so a decoded token's dispatch is the same every token (vk_record.c).
// args: 0 k, 1 v (from token t_lo of the batch), 2 k_cache, 3 v_cache (from
// slot s_lo), 4 pos (uint pos0). push: 5 row (floats per position), 6 cap,
// 7 t_lo, 8 s_lo, 9 s_n. grid: (ceil(row / 256), tokens from t_lo).
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer K { float k[]; };
layout(set = 0, binding = 1) readonly buffer V { float v[]; };
layout(set = 0, binding = 2) writeonly buffer KC { float kc[]; };
layout(set = 0, binding = 3) writeonly buffer VC { float vc[]; };
layout(set = 0, binding = 4) readonly buffer Q { uint q[]; };
layout(push_constant) uniform P { uint k_off, v_off, kc_off, vc_off, q_off, row, cap, t_lo, s_lo, s_n; } p;
void main()
{
    uint i = gl_GlobalInvocationID.x, j = gl_WorkGroupID.y;
    uint slot = (q[p.q_off / 4u] + p.t_lo + j) % p.cap;
    if (i >= p.row || slot < p.s_lo || slot >= p.s_lo + p.s_n)
        return;
    uint c = (slot - p.s_lo) * p.row + i;
    kc[p.kc_off / 4u + c] = k[p.k_off / 4u + j * p.row + i];
    vc[p.vc_off / 4u + c] = v[p.v_off / 4u + j * p.row + i];
}
