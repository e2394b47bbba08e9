#version 450
/* moe_gate_up_g_q8_32.comp - prefill: gate_up + SwiGLU grouped by expert, q8_32 weights (gemm_body.glsl). */
#define WT_Q8_32
#define GM_GATE_UP
#include "gemm_body.glsl"
