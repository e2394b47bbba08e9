#version 450
/* moe_down_g_f16.comp - prefill: down + bias, weighted, grouped by expert, f16 weights (gemm_body.glsl). */
#define WT_F16
#define GM_DOWN
#include "gemm_body.glsl"
