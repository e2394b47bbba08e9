/* matmul_body.glsl - out[t][r] = W[r] . x[t] (+ bias[r]) for one weight type
 * (included by matmul_<type>.comp after `#define WT_<TYPE>`).
 *
 * One workgroup computes MM_NR rows for a tile of up to MM_NT tokens: each
 * weight block is decoded once and used for every token of the tile (n = 1,
 * decode: a matrix-vector product; n > 1, prefill: a weight row is read once
 * per tile of MM_NT tokens). Threads stride over the blocks of a row, each
 * keeps fp32 partial sums (per block: sum of value * x, then times the block
 * scale, as the CPU reference does); a subgroup sum, then a sum over the
 * subgroups in shared memory, gives each output.
 *
 * Bindings (kernels/gpu/gd.h): 0 W (uint words), 1 x [n, x_stride] floats,
 * 2 bias [rows] (bound to anything when has_bias is 0), 3 out [n, out_stride].
 * Push words 0-3: the byte offsets of the four inside their windows. Grid:
 * (ceil(rows / MM_NR), ceil(n / MM_NT)). */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define MM_WG 64u
#define MM_NR 4u
#define MM_NT 8u
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Wb { uint w[]; } wb;
layout(set = 0, binding = 1) readonly buffer Xb { float x[]; } xb;
layout(set = 0, binding = 2) readonly buffer Bb { float b[]; } bb;
layout(set = 0, binding = 3) writeonly buffer Ob { float o[]; } ob;

layout(push_constant) uniform P {
    uint o_w, o_x, o_b, o_o;
    uint rows, cols, n, row_bytes;
    uint has_bias, x_stride, o_stride;
} p;

uint W_WORD(uint i) { return wb.w[i]; }
#include "matmul_types.glsl"

shared float red[MM_NR * MM_NT * MM_WG];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint r0 = gl_WorkGroupID.x * MM_NR, t0 = gl_WorkGroupID.y * MM_NT;
    uint nr = min(MM_NR, p.rows - r0), nt = min(MM_NT, p.n - t0);
    uint xo = (p.o_x >> 2u) + t0 * p.x_stride;
    float acc[MM_NR * MM_NT];
    [[unroll]] for (uint i = 0u; i < MM_NR * MM_NT; i++)
        acc[i] = 0.0;

    uint nb = p.cols / uint(GQ_BLOCK_VALUES);
    for (uint bi = tid; bi < nb; bi += MM_WG) {
        [[unroll]] for (uint r = 0u; r < MM_NR; r++) {
            if (r < nr) {
                uint boff = p.o_w + (r0 + r) * p.row_bytes + bi * WT_BLOCK_BYTES;
                float v[32];
                wt_decode(boff, v);
                [[unroll]] for (uint t = 0u; t < MM_NT; t++) {
                    if (t < nt) {
                        uint xi = xo + t * p.x_stride + bi * 32u;
                        float s = 0.0;
                        [[unroll]] for (uint j = 0u; j < 32u; j++)
                            s += v[j] * xb.x[xi + j];
                        acc[r * MM_NT + t] += wt_scaled(boff, s);
                    }
                }
            }
        }
    }
#ifdef WT_SCALAR
    /* the tail of a row whose length is not a multiple of 32 */
    for (uint c = nb * 32u + tid; c < p.cols; c += MM_WG) {
        [[unroll]] for (uint r = 0u; r < MM_NR; r++) {
            if (r < nr) {
                float wv = wt_elem(p.o_w + (r0 + r) * p.row_bytes + c * WT_ELEM_BYTES);
                [[unroll]] for (uint t = 0u; t < MM_NT; t++)
                    if (t < nt)
                        acc[r * MM_NT + t] += wv * xb.x[xo + t * p.x_stride + c];
            }
        }
    }
#endif

    [[unroll]] for (uint i = 0u; i < MM_NR * MM_NT; i++) {
        if (i / MM_NT < nr && i % MM_NT < nt) {
            float s = subgroupAdd(acc[i]);
            if (subgroupElect())
                red[i * MM_WG + gl_SubgroupID] = s;
        }
    }
    barrier();
    if (tid < MM_NR * MM_NT) {
        uint r = tid / MM_NT, t = tid % MM_NT;
        if (r < nr && t < nt) {
            float s = 0.0;
            for (uint g = 0u; g < gl_NumSubgroups; g++)
                s += red[tid * MM_WG + g];
            if (p.has_bias != 0u)
                s += bb.b[(p.o_b >> 2u) + r0 + r];
            ob.o[(p.o_o >> 2u) + (t0 + t) * p.o_stride + r0 + r] = s;
        }
    }
}
