#version 450
/* moe_gate_up_tk_q8_32.comp - gate_up + clamped SwiGLU of the chosen experts, q8_32 weights, the
 * top-k picked from the router logits in every workgroup (moe_vec_body.glsl, MOE_TOPK). */
#define WT_Q8_32
#define MOE_GATE_UP
#define MOE_TOPK
#include "moe_vec_body.glsl"
