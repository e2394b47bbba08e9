#version 450
// read_bandwidth: stream `n16` uvec4 of the window and fold them into one
// word per workgroup (so the reads cannot be optimized away): the read
// bandwidth the decode floor of `bench` is computed from.
// args: 0 data (uvec4), 1 sink (uint [groups]). push: 2 n16.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer D { uvec4 d[]; };
layout(set = 0, binding = 1) writeonly buffer S { uint s[]; };
layout(push_constant) uniform P { uint d_off, s_off, n16; } p;
shared uint part[256];
void main()
{
    uint stride = gl_NumWorkGroups.x * 256u;
    uvec4 acc = uvec4(0u);
    for (uint i = gl_GlobalInvocationID.x; i < p.n16; i += stride)
        acc ^= d[p.d_off / 16u + i];
    uint x = acc.x ^ acc.y ^ acc.z ^ acc.w;
    part[gl_LocalInvocationID.x] = x;
    barrier();
    for (uint h = 128u; h > 0u; h >>= 1) {
        if (gl_LocalInvocationID.x < h)
            part[gl_LocalInvocationID.x] ^= part[gl_LocalInvocationID.x + h];
        barrier();
    }
    if (gl_LocalInvocationID.x == 0u)
        s[p.s_off / 4u + gl_WorkGroupID.x] = part[0];
}
