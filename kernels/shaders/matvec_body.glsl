/* matvec_body.glsl - decode (n == 1): out[r] = W[r] . x (+ bias[r]) for one
 * weight type (included by matvec_<type>.comp after `#define WT_<TYPE>`).
 *
 * Why a separate kernel: matmul_body.glsl keeps 4 rows x 8 tokens of
 * accumulators per thread and a 64-thread workgroup per 4 rows, which for one
 * token leaves most lanes idle and most registers unused. Here one subgroup
 * owns one row: lane l decodes blocks l, l + S, l + 2S, ... (S = subgroup
 * size), so the lanes of a subgroup read one contiguous run of the row (block
 * after block, coalesced) and each block is decoded in registers
 * (matmul_types.glsl, the same decode as the matmul kernels). Per block: the
 * sum of value * x in fp32, then times the block scale (the CPU reference's
 * order); per lane an fp32 sum over its blocks; a subgroupAdd gives the row.
 * No shared memory, no barrier. Rows of any byte length and alignment work:
 * the byte loads of blocks.glsl assemble any offset from 32-bit words.
 *
 * A workgroup of MV_WG threads computes MV_NR rows; its subgroups take rows
 * gl_SubgroupID, gl_SubgroupID + gl_NumSubgroups, ... (any subgroup size:
 * 32 on NVIDIA gives one row per subgroup).
 *
 * Bindings (kernels/gpu/gd.h): 0 W (uint words), 1 x [cols] floats, 2 bias
 * [rows] (bound to anything when has_bias is 0), 3 out [rows]. Push words
 * 0-3: the byte offsets of the four inside their windows; then rows, cols,
 * row_bytes, has_bias. Grid: (ceil(rows / MV_NR), 1, 1). */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define MV_WG 128u
#define MV_NR 4u
layout(local_size_x = 128) in;

layout(set = 0, binding = 0) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 1) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 2) readonly buffer Bb { float b[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;

layout(push_constant) uniform P {
    uint o_w, o_x, o_b, o_o;
    uint rows, cols, row_bytes, has_bias;
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#include "matmul_types.glsl"

void main()
{
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint r0 = gl_WorkGroupID.x * MV_NR;
    uint nr = min(MV_NR, p.rows - r0);
    uint xo = p.o_x >> 2u;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES);
    for (uint r = gl_SubgroupID; r < nr; r += gl_NumSubgroups) {
        uint rowoff = p.o_w + (r0 + r) * p.row_bytes;
        float acc = 0.0;
        for (uint bi = lane; bi < nb; bi += S) {
            uint boff = rowoff + bi * WT_BLOCK_BYTES;
            float v[32];
            wt_decode(boff, v);
            uint xi = xo + bi * 32u;
            float s = 0.0;
            [[unroll]] for (uint j = 0u; j < 32u; j++)
                s += v[j] * xb.x[xi + j];
            acc += wt_scaled(boff, s);
        }
#ifdef WT_SCALAR
        /* the tail of a row whose length is not a multiple of 32 */
        for (uint c = nb * 32u + lane; c < p.cols; c += S)
            acc += wt_elem(rowoff + c * WT_ELEM_BYTES) * xb.x[xo + c];
#endif
        float sum = subgroupAdd(acc);
        if (subgroupElect()) {
            if (p.has_bias != 0u)
                sum += bb.b[(p.o_b >> 2u) + r0 + r];
            ob.o[(p.o_o >> 2u) + r0 + r] = sum;
        }
    }
}
