#version 450
/* moe_down_g_mxfp4.comp - prefill: down + bias, weighted, grouped by expert, mxfp4 weights (gemm_body.glsl). */
#define WT_MXFP4
#define GM_DOWN
#include "gemm_body.glsl"
