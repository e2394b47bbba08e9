/* matvec_body.glsl - decode (n == 1): out[r] = W[r] . x (+ bias[r]) for one
 * weight type (included by matvec_<type>.comp after `#define WT_<TYPE>`).
 *
 * A token's matrices are small (2880 or 4096 columns), so what bounds a
 * product is how many round trips to memory each thread waits for and how
 * many threads wait at once, not arithmetic. A workgroup of MV_WG threads
 * owns MV_ROWS rows and all its threads walk each row together: the row's
 * blocks are split in parts (matmul_types.glsl, WT_PART_API: 8 bytes of
 * codes each) and thread i takes parts i, i + MV_WG, ... (MV_UNROLL of them
 * in flight: clamped indices and a 0/1 factor instead of a branch, so every
 * load issues before the first is used), so a 2880-column row is one round
 * trip for every thread, the threads of a subgroup read consecutive bytes of
 * the row and consecutive x (16-byte loads), and x is loaded once for the
 * MV_ROWS rows. Per part: the sum of value * x, times the block scale;
 * per thread fp32; per row a subgroupAdd and a sum over the subgroups in
 * shared memory. Rows of any byte length and alignment work (the loads of
 * blocks.glsl assemble any byte offset from words).
 *
 * Bindings (kernels/gpu/gd.h): 0 W (uint words), 1 x [cols] floats (read as
 * vec4 where 16-byte aligned), 2 bias [rows] (bound to anything when has_bias
 * is 0), 3 out [rows]. Push words 0-3: the byte offsets of the four inside
 * their windows; then rows, cols, row_bytes, has_bias. Grid: (ceil(rows /
 * MV_ROWS), 1, 1). */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define MV_WG 128u
#define MV_ROWS 2u /* measured on the H200 (q8_32): 2 rows 11.1 us a dispatch, 4 12.4, 8 16.0 */
#define MV_UNROLL 4u
layout(local_size_x = 128) in;

layout(set = 0, binding = 0) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 1) readonly buffer Xb { vec4 v[]; } xb;
layout(set = 0, binding = 2) readonly buffer Bb { float b[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;

layout(push_constant) uniform P {
    uint o_w, o_x, o_b, o_o;
    uint rows, cols, row_bytes, has_bias;
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#define WT_PART_API
#include "matmul_types.glsl"

shared float red[MV_ROWS * 32u]; /* [row][subgroup]: subgroups of 4 lanes or more */

/* al: x is 16-byte aligned (a constant at each call, so each copy of the
 * loop is branch-free after inlining) */
void rows(bool al)
{
    uint tid = gl_LocalInvocationID.x, r0 = gl_WorkGroupID.x * MV_ROWS;
    uint xo = p.o_x >> 2u;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES), nu = nb * WT_PARTS;
    uint rowoff[MV_ROWS];
    [[unroll]] for (uint r = 0u; r < MV_ROWS; r++)
        rowoff[r] = p.o_w + min(r0 + r, p.rows - 1u) * p.row_bytes; /* rows past the end re-read the last */
    float acc[MV_ROWS];
    [[unroll]] for (uint r = 0u; r < MV_ROWS; r++)
        acc[r] = 0.0;
    for (uint u0 = tid; u0 < nu; u0 += MV_UNROLL * MV_WG) {
        [[unroll]] for (uint j = 0u; j < MV_UNROLL; j++) {
            uint u = u0 + j * MV_WG;
            float f = u < nu ? 1.0 : 0.0;
            u = min(u, nu - 1u);
            uint bi = u / WT_PARTS, part = u % WT_PARTS;
            vec4 xq[4];
            wt_xpart(xo + bi * 32u, part, xq, al);
            [[unroll]] for (uint r = 0u; r < MV_ROWS; r++) {
                uint boff = rowoff[r] + bi * WT_BLOCK_BYTES;
                acc[r] += f * WT_SCALED_PART(boff, wt_part_dot(boff, part, xq));
            }
        }
    }
#ifdef WT_SCALAR
    /* the tail of a row whose length is not a multiple of 32 */
    for (uint c = nb * 32u + tid; c < p.cols; c += MV_WG)
        [[unroll]] for (uint r = 0u; r < MV_ROWS; r++)
            acc[r] += wt_elem(rowoff[r] + c * WT_ELEM_BYTES) * XS(xo + c);
#endif
    [[unroll]] for (uint r = 0u; r < MV_ROWS; r++) {
        float s = subgroupAdd(acc[r]);
        if (subgroupElect())
            red[r * 32u + gl_SubgroupID] = s;
    }
    barrier();
    if (tid < MV_ROWS && r0 + tid < p.rows) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++)
            s += red[tid * 32u + g];
        if (p.has_bias != 0u)
            s += bb.b[(p.o_b >> 2u) + r0 + tid];
        ob.o[(p.o_o >> 2u) + r0 + tid] = s;
    }
}

void main()
{
    if ((p.o_x & 15u) == 0u)
        rows(true);
    else
        rows(false);
}
