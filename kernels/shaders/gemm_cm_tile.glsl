/* gemm_cm_tile.glsl - gemm_body.glsl's tile() on tensor cores, through
 * GL_NV_cooperative_matrix (16 x 16 x 16, half inputs, fp32 accumulation),
 * for the weight types whose values are exact halves before the block scale
 * (WT_CODES_EXACT: q8_32, q4_32, mxfp4, f16). Included by gemm_body.glsl
 * when GM_CM is defined (the cm_*.comp kernels); the Vulkan host picks a
 * cm_<kernel> in place of <kernel> only on a device that reports that matrix
 * shape and a subgroup of 32 (vk_device.c); SPIRV-Cross cannot translate
 * cooperative matrices, so these kernels have no Metal copy (gen_msl.py
 * skips them) and Metal, lavapipe and other devices run the fp32 tile().
 *
 * Same tile, same result layout as the fp32 tile(): GM_BR rows x GM_BT
 * tokens a workgroup, acc[j] = rows 4*(tid%16) .. +3 of token 4*(tid/16)+j.
 * Per step of one 32-column block:
 *  - the block's codes (before the scale, exact as halves) of each row go to
 *    shared memory, the row's block scale beside them;
 *  - each x value is split into two halves, hi (x cut to 11 bits) and lo =
 *    half(x - hi), so hi + lo carries ~22 bits of x (x itself must be below
 *    65504 in magnitude: a larger activation becomes infinite);
 *  - the next step's global reads are issued before this step's products;
 *  - each subgroup (8 of them: 4 row blocks x 2 pairs of token blocks)
 *    multiplies its 16 rows by 2 x 16 tokens: codes x hi + codes x lo,
 *    products exact in fp32, summed in fp32 over the block;
 *  - the two 16 x 16 block sums go through shared memory (a fragment's
 *    element order is the driver's), and each lane adds its 16 of them,
 *    times the row's block scale, to fp32 registers: the CPU reference's
 *    order (a block's sum, then its scale).
 * So the only roundings beyond the fp32 tile's are x's beyond 22 bits and
 * the tensor cores' fp32 accumulation inside one block. */
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require

#ifndef WT_CODES_EXACT
#error "gemm_cm_tile.glsl: this weight type's values are not exact halves (matmul_types.glsl, WT_CODES_EXACT)"
#endif

/* f16 row stride of the operand tiles: 32 columns and 8 of padding (80-byte
 * rows: 16-byte aligned for the matrix loads, rows spread over the banks) */
#define CM_KS 40u
#define CM_HALF fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define CM_ACC fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>

shared float16_t Ah[GM_BR * CM_KS]; /* [r][k]: the block's codes */
shared float16_t Bh[GM_BT * CM_KS]; /* [t][k]: x, high half */
shared float16_t Bl[GM_BT * CM_KS]; /* [t][k]: x - high, as a half */
shared float Sc[GM_BR];             /* each row's block scale */
shared float Cw[GM_BT * GM_BR];     /* a subgroup's two block sums (512 floats each); at the end the tile [t][r] */
shared uint xrow[GM_BT];            /* float index of each tile token's x row */
shared uint slot_sh[GM_BT];         /* grouped: each tile token's route slot */

/* One step's global reads, into registers (cm_fetch), then into shared
 * memory (cm_put): the next step's reads are issued before this step's
 * matrix products and land while they run. A thread holds one unit of the
 * weights (GM_BR * WT_PARTS <= GM_WG: 256 or 128) and two of x. */
void cm_fetch(uint kb, bool al, uint mbase, uint r0, uint nt, out vec4 v[4], out float sc, out vec4 xq[2])
{
    uint tid = gl_LocalInvocationID.x;
    uint kv = min(32u, p.cols - kb * 32u); /* valid columns of this block (32 but for a scalar tail) */
    v[0] = v[1] = v[2] = v[3] = vec4(0.0);
    sc = 0.0;
    if (tid < GM_BR * WT_PARTS) {
        uint r = tid % GM_BR, part = tid / GM_BR;
        uint row = min(r0 + r, p.rows - 1u); /* rows past the end re-read the last, never stored */
        uint boff = mbase + row * p.row_bytes + kb * WT_BLOCK_BYTES;
        if (kv == 32u) {
            wt_part_codes(boff, part, v);
        } else {
#ifdef WT_SCALAR
            wt_tail_part(boff, part, kv, v); /* the scalar types' last, partial block */
#endif
        }
        sc = wt_block_scale(boff);
    }
    [[unroll]] for (uint i = 0u; i < 2u; i++) {
        uint u = tid + i * GM_WG, t = u / 8u, q = u % 8u, k = kb * 32u + 4u * q;
        xq[i] = vec4(0.0);
        if (t < nt) {
            if (k + 4u <= p.cols)
                xq[i] = XV4(xrow[t] + k, al);
            else
                for (uint j = 0u; j < 4u; j++)
                    xq[i][j] = k + j < p.cols ? XS(xrow[t] + k + j) : 0.0;
        }
    }
}

void cm_put(vec4 v[4], float sc, vec4 xq[2])
{
    uint tid = gl_LocalInvocationID.x;
    if (tid < GM_BR * WT_PARTS) {
        uint r = tid % GM_BR, part = tid / GM_BR;
        if (part == 0u)
            Sc[r] = sc;
        [[unroll]] for (uint j = 0u; j < 8u; j++)
            Ah[r * CM_KS + 8u * part + j] = float16_t(v[j / 4u][j % 4u]);
#if defined(WT_MXFP4) || defined(WT_Q4_32)
        [[unroll]] for (uint j = 0u; j < 8u; j++)
            Ah[r * CM_KS + 16u + 8u * part + j] = float16_t(v[2u + j / 4u][j % 4u]);
#endif
    }
    [[unroll]] for (uint i = 0u; i < 2u; i++) {
        uint u = tid + i * GM_WG, t = u / 8u, q = u % 8u;
        /* hi: x cut to 11 significant bits by a mask (exact as a half in its
         * range, whatever the conversion's rounding mode); lo = x - hi is
         * exact in fp32 and loses at most 2 of its 13 bits as a half. A mask,
         * not half(x), so no compiler can fold x - float(half(x)) to 0. */
        vec4 hi = uintBitsToFloat(floatBitsToUint(xq[i]) & 0xffffe000u);
        f16vec4 h = f16vec4(hi), l = f16vec4(xq[i] - hi);
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            Bh[t * CM_KS + 4u * q + j] = h[j];
            Bl[t * CM_KS + 4u * q + j] = l[j];
        }
    }
}

void tile(bool al, uint mbase, uint r0, uint nt, inout vec4 acc[4])
{
    uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID, ln = gl_SubgroupInvocationID;
    uint rbk = sg & 3u, tb = (sg >> 2u) * 2u; /* 16 rows at 16*rbk; tokens 16*tb .. 16*tb+31 */
    float s[16];                              /* [8f + j]: row 16*rbk + ln/16 + 2j, token 16*(tb+f) + ln%16 */
    [[unroll]] for (uint i = 0u; i < 16u; i++)
        s[i] = 0.0;
    uint nb = (p.cols + 31u) / 32u;
    vec4 v[4], xq[2];
    float sc;
    barrier(); /* xrow[] is written */
    cm_fetch(0u, al, mbase, r0, nt, v, sc, xq);
    for (uint kb = 0u; kb < nb; kb++) {
        barrier(); /* the last step's reads are done */
        cm_put(v, sc, xq);
        barrier();
        if (kb + 1u < nb)
            cm_fetch(kb + 1u, al, mbase, r0, nt, v, sc, xq);
        CM_ACC c0 = CM_ACC(0.0), c1 = CM_ACC(0.0);
        [[unroll]] for (uint ks = 0u; ks < 32u; ks += 16u) {
            CM_HALF a, b;
            coopMatLoadNV(a, Ah, rbk * 16u * CM_KS + ks, CM_KS, false);
            coopMatLoadNV(b, Bh, tb * 16u * CM_KS + ks, CM_KS, true);
            c0 = coopMatMulAddNV(a, b, c0);
            coopMatLoadNV(b, Bl, tb * 16u * CM_KS + ks, CM_KS, true);
            c0 = coopMatMulAddNV(a, b, c0);
            coopMatLoadNV(b, Bh, (tb + 1u) * 16u * CM_KS + ks, CM_KS, true);
            c1 = coopMatMulAddNV(a, b, c1);
            coopMatLoadNV(b, Bl, (tb + 1u) * 16u * CM_KS + ks, CM_KS, true);
            c1 = coopMatMulAddNV(a, b, c1);
        }
        /* element (i, j) of a block sum at 16 i + j: row i, token j */
        coopMatStoreNV(c0, Cw, sg * 512u, 16u, false);
        coopMatStoreNV(c1, Cw, sg * 512u + 256u, 16u, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            uint i = ln / 16u + 2u * j;
            float bs = Sc[rbk * 16u + i];
            s[j] += Cw[sg * 512u + i * 16u + ln % 16u] * bs;
            s[8u + j] += Cw[sg * 512u + 256u + i * 16u + ln % 16u] * bs;
        }
    }
    barrier(); /* every lane's last reads of Cw are done */
    [[unroll]] for (uint f = 0u; f < 2u; f++)
        [[unroll]] for (uint j = 0u; j < 8u; j++)
            Cw[(16u * (tb + f) + ln % 16u) * GM_BR + 16u * rbk + ln / 16u + 2u * j] = s[8u * f + j];
    barrier();
    uint tr = tid % 16u, tt = tid / 16u;
    [[unroll]] for (uint j = 0u; j < 4u; j++)
        acc[j] += vec4(Cw[(4u * tt + j) * GM_BR + 4u * tr], Cw[(4u * tt + j) * GM_BR + 4u * tr + 1u],
                      Cw[(4u * tt + j) * GM_BR + 4u * tr + 2u], Cw[(4u * tt + j) * GM_BR + 4u * tr + 3u]);
}
