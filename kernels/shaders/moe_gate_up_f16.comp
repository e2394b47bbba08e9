#version 450
/* moe_gate_up_f16.comp - gate_up + clamped SwiGLU of the chosen experts, f16 weights (moe_vec_body.glsl). */
#define WT_F16
#define MOE_GATE_UP
#include "moe_vec_body.glsl"
