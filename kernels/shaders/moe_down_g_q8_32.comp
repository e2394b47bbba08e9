#version 450
/* moe_down_g_q8_32.comp - prefill: down + bias, weighted, grouped by expert, q8_32 weights (gemm_body.glsl). */
#define WT_Q8_32
#define GM_DOWN
#include "gemm_body.glsl"
