#version 450
/* moe_gate_up_g_f32.comp - prefill: gate_up + SwiGLU grouped by expert, f32 weights (gemm_body.glsl). */
#define WT_F32
#define GM_GATE_UP
#include "gemm_body.glsl"
