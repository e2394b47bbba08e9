#version 450
/* cm_moe_down_g_f16.comp - moe_down_g_f16 on tensor cores (prefill: down + bias, weighted, grouped by expert, f16 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_F16
#define GM_DOWN
#define GM_CM
#include "gemm_body.glsl"
