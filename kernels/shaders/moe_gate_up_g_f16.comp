#version 450
/* moe_gate_up_g_f16.comp - prefill: gate_up + SwiGLU grouped by expert, f16 weights (gemm_body.glsl). */
#define WT_F16
#define GM_GATE_UP
#include "gemm_body.glsl"
