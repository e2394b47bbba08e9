#version 450
/* moe_down_g_bf16.comp - prefill: down + bias, weighted, grouped by expert, bf16 weights (gemm_body.glsl). */
#define WT_BF16
#define GM_DOWN
#include "gemm_body.glsl"
