#version 450
/* moe_sum.comp - prefill: out[t][r] = sum over the k ranks i, in order, of
 * y[t][i][r] (the weighted expert outputs of moe_down_g_*). Bindings: 0 y
 * [n, k, D], 1 out [n, D]. Grid (ceil(D / 64), n). */
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Yb { float y[]; } yb;
layout(set = 0, binding = 1) writeonly buffer Ob { float o[]; } ob;

layout(push_constant) uniform P {
    uint o_y, o_o;
    uint D, k;
} p;

void main()
{
    uint r = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
    if (r >= p.D)
        return;
    uint yo = (p.o_y >> 2u) + t * p.k * p.D + r;
    float s = 0.0;
    for (uint i = 0u; i < p.k; i++)
        s += yb.y[yo + i * p.D];
    ob.o[(p.o_o >> 2u) + t * p.D + r] = s;
}
