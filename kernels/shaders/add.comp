#version 450
// add: x[i] += y[i] for i < len. args: 0 x, 1 y. push: 2 len.
// grid: (min(groups, 65535), ceil(groups / 65535), 1) of 256.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint x_off, y_off, len; } p;
void main()
{
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u;
    if (i < p.len)
        x[p.x_off / 4u + i] += y[p.y_off / 4u + i];
}
