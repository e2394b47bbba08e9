/* matmul_types.glsl - one block of 32 weights of the kernel's type, as the
 * matrix kernels (matmul_*, moe_*) consume it: wt_decode() gives the 32
 * values before the block scale (integers for the quantized types, the
 * weights themselves for f32/f16/bf16), wt_scaled() applies the scale to a
 * block's partial dot product, the way the CPU reference does (sum of
 * value * x over the block, then times the scale).
 *
 * Define one of WT_F32 WT_F16 WT_BF16 WT_Q8_32 WT_Q4_32 WT_MXFP4 and
 * `uint W_WORD(uint)` before including. The scalar types (WT_SCALAR) also
 * allow a row length that is not a multiple of 32: wt_elem() reads one value
 * of the tail. */
#define GQ_WLOADS
#include "blocks.glsl"

/* Parts (with WT_PART_API; for the decode kernels matvec_body.glsl and
 * moe_vec_body.glsl): a block is split between WT_PARTS lanes, each taking a
 * run of 8 bytes of codes (16 values of a 4-bit type) or 8 values of the
 * others, so the lanes of a subgroup read consecutive bytes of a row and
 * consecutive x (16-byte vectors) instead of each lane striding over whole
 * blocks (which made every x load touch 32 cache lines). wt_xpart() loads the
 * x values that part p of the block at float index xi multiplies, through
 * XV4 (x as the kernel's `xb`); wt_part_dot() sums value * x over the part,
 * before the block scale (wt_scaled); wt_part_vals() gives the part's values
 * with the scale applied (the prefill tiles, gemm_body.glsl): v[0], v[1] at
 * k = 8p .. 8p+7, and for the 4-bit types v[2], v[3] at 16 + 8p ...
 * `al`: x's offset is a multiple of 16
 * bytes (16-byte loads); the kernels pass a constant so that the optimizer
 * makes one branch-free copy of their loop per case (a branch per load kept
 * the loads of the unrolled parts from being issued together). */
#ifdef WT_PART_API
/* x, as the kernel declares it: `xb`, a buffer of vec4 v[] (16-byte loads
 * where its offset allows, else floats picked out of them) */
float XS(uint i) { return xb.v[i >> 2u][i & 3u]; }
vec4 XV4(uint i, bool al) { return al ? xb.v[i >> 2u] : vec4(XS(i), XS(i + 1u), XS(i + 2u), XS(i + 3u)); }
vec4 wt_i8x4(uint w)
{
    int i = int(w);
    return vec4(float(bitfieldExtract(i, 0, 8)), float(bitfieldExtract(i, 8, 8)), float(bitfieldExtract(i, 16, 8)),
                float(bitfieldExtract(i, 24, 8)));
}
#endif

#if defined(WT_F32)
#define WT_SCALAR 1
#define WT_BLOCK_BYTES uint(GQ_BLOCK_VALUES * GQ_F32_BYTES)
#define WT_ELEM_BYTES uint(GQ_F32_BYTES)
void wt_decode(uint boff, out float v[32])
{
    [[unroll]] for (uint q = 0u; q < 8u; q++) {
        uvec4 u = wl_load16(boff + 16u * q);
        v[4u * q] = uintBitsToFloat(u.x);
        v[4u * q + 1u] = uintBitsToFloat(u.y);
        v[4u * q + 2u] = uintBitsToFloat(u.z);
        v[4u * q + 3u] = uintBitsToFloat(u.w);
    }
}
float wt_elem(uint off)
{
    return uintBitsToFloat(wl_byte(off) | (wl_byte(off + 1u) << 8u) | (wl_byte(off + 2u) << 16u) |
                           (wl_byte(off + 3u) << 24u));
}
float wt_scaled(uint boff, float bs) { return bs; }
#ifdef WT_PART_API
#define WT_PARTS 4u
float wt_part_dot(uint boff, uint part, vec4 xq[4])
{
    uvec4 a = wl_load16(boff + 32u * part), b = wl_load16(boff + 32u * part + 16u);
    return dot(uintBitsToFloat(a), xq[0]) + dot(uintBitsToFloat(b), xq[1]);
}
void wt_part_vals(uint boff, uint part, out vec4 v[4])
{
    v[0] = uintBitsToFloat(wl_load16(boff + 32u * part));
    v[1] = uintBitsToFloat(wl_load16(boff + 32u * part + 16u));
    v[2] = v[3] = vec4(0.0);
}
#endif

#elif defined(WT_F16) || defined(WT_BF16)
#define WT_SCALAR 1
#define WT_BLOCK_BYTES uint(GQ_BLOCK_VALUES * GQ_F16_BYTES)
#define WT_ELEM_BYTES uint(GQ_F16_BYTES)
vec2 wt_pair(uint w)
{
#if defined(WT_F16)
    return unpackHalf2x16(w);
#else
    return vec2(uintBitsToFloat(w << 16u), uintBitsToFloat(w & 0xffff0000u));
#endif
}
void wt_decode(uint boff, out float v[32])
{
    [[unroll]] for (uint q = 0u; q < 4u; q++) {
        uvec4 u = wl_load16(boff + 16u * q);
        vec2 a = wt_pair(u.x), b = wt_pair(u.y), c = wt_pair(u.z), d = wt_pair(u.w);
        v[8u * q] = a.x;
        v[8u * q + 1u] = a.y;
        v[8u * q + 2u] = b.x;
        v[8u * q + 3u] = b.y;
        v[8u * q + 4u] = c.x;
        v[8u * q + 5u] = c.y;
        v[8u * q + 6u] = d.x;
        v[8u * q + 7u] = d.y;
    }
}
float wt_elem(uint off)
{
#if defined(WT_F16)
    return wl_f16(off);
#else
    return wl_bf16(off);
#endif
}
float wt_scaled(uint boff, float bs) { return bs; }
#ifdef WT_PART_API
#define WT_PARTS 4u
float wt_part_dot(uint boff, uint part, vec4 xq[4])
{
    uvec4 u = wl_load16(boff + 16u * part);
    vec2 a = wt_pair(u.x), b = wt_pair(u.y), c = wt_pair(u.z), d = wt_pair(u.w);
    return dot(vec4(a, b), xq[0]) + dot(vec4(c, d), xq[1]);
}
void wt_part_vals(uint boff, uint part, out vec4 v[4])
{
    uvec4 u = wl_load16(boff + 16u * part);
    v[0] = vec4(wt_pair(u.x), wt_pair(u.y));
    v[1] = vec4(wt_pair(u.z), wt_pair(u.w));
    v[2] = v[3] = vec4(0.0);
}
#endif

#elif defined(WT_Q8_32)
#define WT_BLOCK_BYTES uint(GQ_Q8_32_BLOCK_BYTES)
void wt_decode(uint boff, out float v[32])
{
    [[unroll]] for (uint h = 0u; h < 2u; h++) {
        uvec4 u = wl_load16(boff + 2u + 16u * h);
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            int w = int(u[j]);
            v[16u * h + 4u * j] = float(bitfieldExtract(w, 0, 8));
            v[16u * h + 4u * j + 1u] = float(bitfieldExtract(w, 8, 8));
            v[16u * h + 4u * j + 2u] = float(bitfieldExtract(w, 16, 8));
            v[16u * h + 4u * j + 3u] = float(bitfieldExtract(w, 24, 8));
        }
    }
}
float wt_scaled(uint boff, float bs) { return bs * wl_f16(boff); }
#ifdef WT_PART_API
#define WT_PARTS 4u
float wt_part_dot(uint boff, uint part, vec4 xq[4])
{
    uvec2 q = wl_load8(boff + 2u + 8u * part);
    return dot(wt_i8x4(q.x), xq[0]) + dot(wt_i8x4(q.y), xq[1]);
}
/* the scale of a block at an even offset (q8_32 blocks are 34 bytes): one word */
#define WT_SCALED_PART(boff, s) ((s) * unpackHalf2x16(wl_u16(boff)).x)
void wt_part_vals(uint boff, uint part, out vec4 v[4])
{
    uvec2 q = wl_load8(boff + 2u + 8u * part);
    float d = unpackHalf2x16(wl_u16(boff)).x;
    v[0] = wt_i8x4(q.x) * d;
    v[1] = wt_i8x4(q.y) * d;
    v[2] = v[3] = vec4(0.0);
}
#endif

#elif defined(WT_Q4_32) || defined(WT_MXFP4)
#if defined(WT_Q4_32)
#define WT_BLOCK_BYTES uint(GQ_Q4_32_BLOCK_BYTES)
#define WT_QS 2u
float wt_nib(uint c) { return float(int(c) - 8); }
float wt_scaled(uint boff, float bs) { return bs * wl_f16(boff); }
#ifdef WT_PART_API
#define WT_SCALED_PART(boff, s) ((s) * unpackHalf2x16(wl_u16(boff)).x)
#endif
#else
#define WT_BLOCK_BYTES uint(GQ_MXFP4_BLOCK_BYTES)
#define WT_QS 1u
/* E2M1 magnitudes doubled: {0,1,2,3,4,6,8,12}, bit 3 the sign */
float wt_nib(uint c)
{
    uint m = c & 7u;
    float a = m < 4u ? float(m) : float((2u + (m & 1u)) << ((m >> 1u) - 1u));
    return (c & 8u) != 0u ? -a : a;
}
/* times 2^(e-128), exactly, without forming a denormal scale */
float wt_scaled(uint boff, float bs) { return ldexp(bs, int(wl_byte(boff)) - 128); }
#endif
#ifdef WT_PART_API
#define WT_PARTS 2u
#if defined(WT_MXFP4)
/* The low nibbles of w's 4 bytes as E2M1 values times 2^-15 (doubled codes
 * K[c] = value * 2^15): a code s e1 e0 m placed at half-float bits 15 and
 * 11..9 is, as an IEEE half, exactly K[c] * 2^-15 (e = 0 gives the
 * subnormal m * 2^-15); two codes per 32-bit word, so 4 values take about 10
 * integer operations and two conversions instead of a table walk each. */
vec4 wt_nib_lo(uint w)
{
    uint a = w & 0x000f000fu, b = (w >> 8u) & 0x000f000fu;
    vec2 ha = unpackHalf2x16(((a & 0x00070007u) << 9u) | ((a & 0x00080008u) << 12u));
    vec2 hb = unpackHalf2x16(((b & 0x00070007u) << 9u) | ((b & 0x00080008u) << 12u));
    return vec4(ha.x, hb.x, ha.y, hb.y);
}
#define WT_NIB_SCALE 32768.0
#else
vec4 wt_nib_lo(uint w) { return vec4(wt_nib(w & 15u), wt_nib((w >> 8u) & 15u), wt_nib((w >> 16u) & 15u), wt_nib((w >> 24u) & 15u)); }
#define WT_NIB_SCALE 1.0
#endif
float wt_part_dot(uint boff, uint part, vec4 xq[4])
{
    uvec2 q = wl_load8(boff + WT_QS + 8u * part);
    return (dot(wt_nib_lo(q.x), xq[0]) + dot(wt_nib_lo(q.y), xq[1]) + dot(wt_nib_lo(q.x >> 4u), xq[2]) +
            dot(wt_nib_lo(q.y >> 4u), xq[3])) * WT_NIB_SCALE;
}
/* v[0], v[1]: the values at k = 8p .. 8p+7 (low nibbles), v[2], v[3]: at
 * 16 + 8p .. (high nibbles); scaled (exact: small integers times a power of
 * two or an f16) */
void wt_part_vals(uint boff, uint part, out vec4 v[4])
{
    uvec2 q = wl_load8(boff + WT_QS + 8u * part);
    float d = wt_scaled(boff, 1.0);
    v[0] = (wt_nib_lo(q.x) * WT_NIB_SCALE) * d;
    v[1] = (wt_nib_lo(q.y) * WT_NIB_SCALE) * d;
    v[2] = (wt_nib_lo(q.x >> 4u) * WT_NIB_SCALE) * d;
    v[3] = (wt_nib_lo(q.y >> 4u) * WT_NIB_SCALE) * d;
}
#endif
void wt_decode(uint boff, out float v[32])
{
    uvec4 u = wl_load16(boff + WT_QS);
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
        uint w = u[j];
        [[unroll]] for (uint b = 0u; b < 4u; b++) {
            uint c = (w >> (8u * b)) & 0xffu;
            v[4u * j + b] = wt_nib(c & 15u);
            v[4u * j + b + 16u] = wt_nib(c >> 4u);
        }
    }
}
#else
#error "define the weight type (WT_F32 .. WT_MXFP4)"
#endif
#ifdef WT_PART_API
#ifndef WT_SCALED_PART
#define WT_SCALED_PART(boff, s) wt_scaled(boff, s)
#endif
#ifdef WT_SCALAR
/* part p of a scalar type's last, partial block (kv valid columns), element
 * by element, zero past the end (the prefill tiles; the values are the
 * weights themselves, so they are also the codes) */
void wt_tail_part(uint boff, uint part, uint kv, out vec4 v[4])
{
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint k = 8u * part + j;
        v[j / 4u][j % 4u] = k < kv ? wt_elem(boff + k * WT_ELEM_BYTES) : 0.0;
    }
    v[2] = v[3] = vec4(0.0);
}
#endif
/* Codes (the tensor-core tiles, gemm_cm_tile.glsl): a part's values BEFORE
 * the block scale, each exact as an IEEE half (int8, int4 - 8, doubled E2M1
 * codes, f16 weights), in wt_part_vals' order, and the block's scale: so a
 * half-precision product loses nothing on the weight side and the scale is
 * applied to the block's fp32 sum, as the CPU reference does. WT_CODES_EXACT
 * marks the types that have them (not f32 or bf16: their values do not fit
 * a half). */
#if defined(WT_Q8_32)
#define WT_CODES_EXACT 1
void wt_part_codes(uint boff, uint part, out vec4 v[4])
{
    uvec2 q = wl_load8(boff + 2u + 8u * part);
    v[0] = wt_i8x4(q.x);
    v[1] = wt_i8x4(q.y);
    v[2] = v[3] = vec4(0.0);
}
float wt_block_scale(uint boff) { return WT_SCALED_PART(boff, 1.0); }
#elif defined(WT_Q4_32) || defined(WT_MXFP4)
#define WT_CODES_EXACT 1
void wt_part_codes(uint boff, uint part, out vec4 v[4])
{
    uvec2 q = wl_load8(boff + WT_QS + 8u * part);
    v[0] = wt_nib_lo(q.x) * WT_NIB_SCALE;
    v[1] = wt_nib_lo(q.y) * WT_NIB_SCALE;
    v[2] = wt_nib_lo(q.x >> 4u) * WT_NIB_SCALE;
    v[3] = wt_nib_lo(q.y >> 4u) * WT_NIB_SCALE;
}
float wt_block_scale(uint boff) { return WT_SCALED_PART(boff, 1.0); }
#elif defined(WT_F16)
#define WT_CODES_EXACT 1
void wt_part_codes(uint boff, uint part, out vec4 v[4]) { wt_part_vals(boff, part, v); }
float wt_block_scale(uint boff) { return 1.0; }
#endif
/* the x values part p of the block at float index xi multiplies: k = 8p ..
 * 8p+7, and for the 4-bit types also 16 + 8p .. */
void wt_xpart(uint xi, uint part, out vec4 xq[4], bool al)
{
    xq[0] = XV4(xi + 8u * part, al);
    xq[1] = XV4(xi + 8u * part + 4u, al);
#if defined(WT_MXFP4) || defined(WT_Q4_32)
    xq[2] = XV4(xi + 16u + 8u * part, al);
    xq[3] = XV4(xi + 20u + 8u * part, al);
#else
    xq[2] = xq[3] = vec4(0.0);
#endif
}
#endif
