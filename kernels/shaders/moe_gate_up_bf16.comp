#version 450
/* moe_gate_up_bf16.comp - gate_up + clamped SwiGLU of the chosen experts, bf16 weights (moe_vec_body.glsl). */
#define WT_BF16
#define MOE_GATE_UP
#include "moe_vec_body.glsl"
