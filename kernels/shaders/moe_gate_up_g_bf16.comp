#version 450
/* moe_gate_up_g_bf16.comp - prefill: gate_up + SwiGLU grouped by expert, bf16 weights (gemm_body.glsl). */
#define WT_BF16
#define GM_GATE_UP
#include "gemm_body.glsl"
