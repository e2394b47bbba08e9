#version 450
/* moe_gate_up_tk_mxfp4.comp - gate_up + clamped SwiGLU of the chosen experts, mxfp4 weights, the
 * top-k picked from the router logits in every workgroup (moe_vec_body.glsl, MOE_TOPK).
 * 2 parts in flight a lane, not the body's 4: on the H200, 20b decode, 65 tokens x 8 layers,
 * 18.8 ms against 22.9 (u3: 19.2, u6: 19.1, u8: 41.9; bench/results/2026-12-03-h200-vk5). */
#define WT_MXFP4
#define MOE_GATE_UP
#define MOE_TOPK
#define MO_UNROLL 2u
#include "moe_vec_body.glsl"
