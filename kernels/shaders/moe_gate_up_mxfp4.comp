#version 450
/* moe_gate_up_mxfp4.comp - gate_up + clamped SwiGLU of the chosen experts, mxfp4 weights (moe_vec_body.glsl). */
#define WT_MXFP4
#define MOE_GATE_UP
#include "moe_vec_body.glsl"
