#version 450
// embed: out[t] = decode(row r of the table), for the (t, r) pairs of ids.
// args: 0 table window (uint words), 1 ids (uint pairs: token t, row r
// relative to the window), 2 out (float [tokens, cols]).
// push: 3 type, 4 cols, 5 row_bytes. grid: (ceil(cols/256), pairs, 1).
#include "gq_common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer W { uint w[]; };
layout(set = 0, binding = 1) readonly buffer I { uint ids[]; };
layout(set = 0, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint w_off, ids_off, o_off, type, cols, row_bytes; } p;
GQ_DEFINE_VALUE(value, w)
void main()
{
    uint j = gl_GlobalInvocationID.x, e = gl_WorkGroupID.y;
    if (j >= p.cols)
        return;
    uint t = ids[p.ids_off / 4u + 2u * e], r = ids[p.ids_off / 4u + 2u * e + 1u];
    o[p.o_off / 4u + t * p.cols + j] = value(p.type, p.w_off + r * p.row_bytes, j);
}
