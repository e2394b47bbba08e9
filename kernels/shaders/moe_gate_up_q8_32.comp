#version 450
/* moe_gate_up_q8_32.comp - gate_up + clamped SwiGLU of the chosen experts, q8_32 weights (moe_vec_body.glsl). */
#define WT_Q8_32
#define MOE_GATE_UP
#include "moe_vec_body.glsl"
