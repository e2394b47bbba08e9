#version 450
/* moe_down_g_bf16.comp - prefill: down + bias, weighted, grouped by expert, bf16 weights (moe_body.glsl). */
#define WT_BF16
#define MOE_DOWN_G
#include "moe_body.glsl"
