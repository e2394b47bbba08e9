#version 450
/* moe_gate_up_g_mxfp4.comp - prefill: gate_up + SwiGLU grouped by expert, mxfp4 weights (gemm_body.glsl). */
#define WT_MXFP4
#define GM_GATE_UP
#include "gemm_body.glsl"
