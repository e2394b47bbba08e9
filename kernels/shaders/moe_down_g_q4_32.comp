#version 450
/* moe_down_g_q4_32.comp - prefill: down + bias, weighted, grouped by expert, q4_32 weights (moe_body.glsl). */
#define WT_Q4_32
#define MOE_DOWN_G
#include "moe_body.glsl"
