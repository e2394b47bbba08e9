#version 450
/* moe_down_g_f16.comp - prefill: down + bias, weighted, grouped by expert, f16 weights (moe_body.glsl). */
#define WT_F16
#define MOE_DOWN_G
#include "moe_body.glsl"
