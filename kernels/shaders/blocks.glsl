/* blocks.glsl - block geometry of quant/quant.h for the shaders, and the
 * byte-level loads every weight kernel shares.
 *
 * The numbers come from quant/quant_blocks.h, the one place they are written
 * (glslc -I quant). Weights are raw little-endian uint words (gd.h's
 * binding convention), so a block at any byte offset is read as bytes
 * assembled from words: a kernel defines `uint W_WORD(uint i)` (word i of its
 * weight window) before including the loads below (define GQ_WLOADS). */
#ifndef GQ_BLOCKS_GLSL
#define GQ_BLOCKS_GLSL

#include "quant_blocks.h"

#endif

#ifdef GQ_WLOADS
#ifndef GQ_WLOADS_DONE
#define GQ_WLOADS_DONE
/* byte at byte offset off of the weight window */
uint wl_byte(uint off) { return (W_WORD(off >> 2u) >> ((off & 3u) << 3u)) & 0xffu; }

/* 16 bytes from any byte offset (words beyond the last byte are not read) */
uvec4 wl_load16(uint off)
{
    uint a = off >> 2u, s = (off & 3u) << 3u;
    uvec4 r = uvec4(W_WORD(a), W_WORD(a + 1u), W_WORD(a + 2u), W_WORD(a + 3u));
    if (s != 0u) {
        uint e = W_WORD(a + 4u), t = 32u - s;
        r = uvec4((r.x >> s) | (r.y << t), (r.y >> s) | (r.z << t), (r.z >> s) | (r.w << t), (r.w >> s) | (e << t));
    }
    return r;
}

/* 8 bytes from any byte offset, without a branch: three words are read
 * (the third is word a + 1 again when the offset is word-aligned, so nothing
 * past the last byte is touched) and funnel-shifted */
uvec2 wl_load8(uint off)
{
    uint a = off >> 2u, s = (off & 3u) << 3u;
    uint w0 = W_WORD(a), w1 = W_WORD(a + 1u), w2 = W_WORD(a + (s != 0u ? 2u : 1u));
    uint t = (32u - s) & 31u, m = s != 0u ? 0xffffffffu : 0u; /* s == 0: no bits from the next word */
    return uvec2((w0 >> s) | ((w1 << t) & m), (w1 >> s) | ((w2 << t) & m));
}

/* the 16 bits at an even byte offset (one word read) */
uint wl_u16(uint off) { return (W_WORD(off >> 2u) >> ((off & 2u) << 3u)) & 0xffffu; }

/* an IEEE half or bfloat16 at an even or odd byte offset */
float wl_f16(uint off) { return unpackHalf2x16(wl_byte(off) | (wl_byte(off + 1u) << 8u)).x; }
float wl_bf16(uint off) { return uintBitsToFloat((wl_byte(off) | (wl_byte(off + 1u) << 8u)) << 16u); }
#endif
#endif
