#version 450
/* cm_moe_down_g_mxfp4.comp - moe_down_g_mxfp4 on tensor cores (prefill: down + bias, weighted, grouped by expert, mxfp4 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_MXFP4
#define GM_DOWN
#define GM_CM
#include "gemm_body.glsl"
