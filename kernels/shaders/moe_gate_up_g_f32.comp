#version 450
/* moe_gate_up_g_f32.comp - prefill: gate_up + SwiGLU grouped by expert, f32 weights (moe_body.glsl). */
#define WT_F32
#define MOE_GATE_UP_G
#include "moe_body.glsl"
