#version 450
/* moe_gate_up_f32.comp - gate_up + clamped SwiGLU of the chosen experts, f32 weights (moe_vec_body.glsl). */
#define WT_F32
#define MOE_GATE_UP
#include "moe_vec_body.glsl"
