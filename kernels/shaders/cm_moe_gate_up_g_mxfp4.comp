#version 450
/* cm_moe_gate_up_g_mxfp4.comp - moe_gate_up_g_mxfp4 on tensor cores (prefill: gate_up + SwiGLU grouped by expert, mxfp4 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_MXFP4
#define GM_GATE_UP
#define GM_CM
#include "gemm_body.glsl"
