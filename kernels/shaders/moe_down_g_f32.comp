#version 450
/* moe_down_g_f32.comp - prefill: down + bias, weighted, grouped by expert, f32 weights (gemm_body.glsl). */
#define WT_F32
#define GM_DOWN
#include "gemm_body.glsl"
