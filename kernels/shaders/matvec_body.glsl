/* matvec_body.glsl - decode (n == 1): out[r] = W[r] . x (+ bias[r]) for one
 * weight type (included by matvec_<type>.comp after `#define WT_<TYPE>`).
 *
 * Why a separate kernel: gemm_body.glsl keeps 4 rows x 4 tokens of
 * accumulators per thread, which for one token leaves most lanes idle. Here
 * a subgroup owns MV_NR adjacent rows and its lanes walk the rows' blocks in
 * parts (matmul_types.glsl, WT_PART_API): lane l takes units l, l + S, ...
 * (unit = block * WT_PARTS + part, S = subgroup size), so at each step the
 * lanes read one contiguous run of each row and one contiguous run of x as
 * 16-byte vectors, and x is loaded once for the MV_NR rows. Four units are
 * in flight per lane (MV_UNROLL, clamped indices and a 0/1 factor instead of
 * a branch, so the loads of all four issue before the first is used): a
 * token's matrices are small (2880 columns), so the kernel is bound by how
 * many bytes are in flight, not by arithmetic. Per part: sum of value * x,
 * times the block scale; fp32 per lane; one subgroupAdd per row. No shared
 * memory, no barrier. Rows of any byte length and alignment work (the loads
 * of blocks.glsl assemble any byte offset from words).
 *
 * A workgroup of MV_WG threads computes MV_ROWS rows: its subgroups take row
 * pairs gl_SubgroupID, + gl_NumSubgroups, ... (any subgroup size; 32 on
 * NVIDIA = one pair per subgroup).
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
#define MV_NR 2u
#define MV_ROWS 8u
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

/* The workgroup's rows; al: x is 16-byte aligned (a constant at each call,
 * so each copy of the loop is branch-free after inlining). */
void rows(bool al)
{
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint xo = p.o_x >> 2u;
    uint nb = p.cols / uint(GQ_BLOCK_VALUES), nu = nb * WT_PARTS;
    uint rend = min(gl_WorkGroupID.x * MV_ROWS + MV_ROWS, p.rows);
    for (uint r0 = gl_WorkGroupID.x * MV_ROWS + gl_SubgroupID * MV_NR; r0 < rend; r0 += gl_NumSubgroups * MV_NR) {
        uint rowoff[MV_NR];
        [[unroll]] for (uint r = 0u; r < MV_NR; r++)
            rowoff[r] = p.o_w + min(r0 + r, p.rows - 1u) * p.row_bytes; /* a missing last row re-reads one */
        float acc[MV_NR];
        [[unroll]] for (uint r = 0u; r < MV_NR; r++)
            acc[r] = 0.0;
        for (uint u0 = lane; u0 < nu; u0 += MV_UNROLL * S) {
            [[unroll]] for (uint j = 0u; j < MV_UNROLL; j++) {
                uint u = u0 + j * S;
                float f = u < nu ? 1.0 : 0.0;
                u = min(u, nu - 1u);
                uint bi = u / WT_PARTS, part = u % WT_PARTS;
                vec4 xq[4];
                wt_xpart(xo + bi * 32u, part, xq, al);
                [[unroll]] for (uint r = 0u; r < MV_NR; r++) {
                    uint boff = rowoff[r] + bi * WT_BLOCK_BYTES;
                    acc[r] += f * WT_SCALED_PART(boff, wt_part_dot(boff, part, xq));
                }
            }
        }
#ifdef WT_SCALAR
        /* the tail of a row whose length is not a multiple of 32 */
        for (uint c = nb * 32u + lane; c < p.cols; c += S)
            [[unroll]] for (uint r = 0u; r < MV_NR; r++)
                acc[r] += wt_elem(rowoff[r] + c * WT_ELEM_BYTES) * XS(xo + c);
#endif
        [[unroll]] for (uint r = 0u; r < MV_NR; r++) {
            float sum = subgroupAdd(acc[r]);
            if (subgroupElect() && r0 + r < rend) {
                if (p.has_bias != 0u)
                    sum += bb.b[(p.o_b >> 2u) + r0 + r];
                ob.o[(p.o_o >> 2u) + r0 + r] = sum;
            }
        }
    }
}

void main()
{
    if ((p.o_x & 15u) == 0u)
        rows(true);
    else
        rows(false);
}
