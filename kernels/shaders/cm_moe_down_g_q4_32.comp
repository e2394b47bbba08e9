#version 450
/* cm_moe_down_g_q4_32.comp - moe_down_g_q4_32 on tensor cores (prefill: down + bias, weighted, grouped by expert, q4_32 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_Q4_32
#define GM_DOWN
#define GM_CM
#include "gemm_body.glsl"
