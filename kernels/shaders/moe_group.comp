#version 450
/* moe_group.comp - prefill: list, per expert, the route slots (t * k + i)
 * that chose it, in slot order, so the grouped expert kernels read each
 * expert's weights once per tile of its tokens. One workgroup.
 *
 * Binding 0: the route buffer of moe_route ([n_slots] (expert, weight)
 * pairs) followed, at word g_base, by counts[E], offsets[E], list[n_slots]
 * (written here). Grid (1). E <= 512. */
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) buffer Rb { uint r[]; } rb;

layout(push_constant) uniform P {
    uint o_r;
    uint n_slots, E, g_base;
} p;

shared uint cnt[512], off[512];

void main()
{
    uint tid = gl_LocalInvocationID.x, base = p.o_r >> 2u, gb = base + p.g_base;
    for (uint e = tid; e < p.E; e += 64u) {
        uint c = 0u;
        for (uint s = 0u; s < p.n_slots; s++)
            c += rb.r[base + 2u * s] == e ? 1u : 0u;
        cnt[e] = c;
    }
    barrier();
    if (tid == 0u) {
        uint o = 0u;
        for (uint e = 0u; e < p.E; e++) {
            off[e] = o;
            o += cnt[e];
        }
    }
    barrier();
    for (uint e = tid; e < p.E; e += 64u) {
        rb.r[gb + e] = cnt[e];
        rb.r[gb + p.E + e] = off[e];
        uint w = gb + 2u * p.E + off[e];
        for (uint s = 0u; s < p.n_slots; s++)
            if (rb.r[base + 2u * s] == e)
                rb.r[w++] = s;
    }
}
