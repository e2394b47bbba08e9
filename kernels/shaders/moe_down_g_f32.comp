#version 450
/* moe_down_g_f32.comp - prefill: down + bias, weighted, grouped by expert, f32 weights (moe_body.glsl). */
#define WT_F32
#define MOE_DOWN_G
#include "moe_body.glsl"
