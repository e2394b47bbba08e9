#version 450
/* cm_moe_gate_up_g_q4_32.comp - moe_gate_up_g_q4_32 on tensor cores (prefill: gate_up + SwiGLU grouped by expert, q4_32 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_Q4_32
#define GM_GATE_UP
#define GM_CM
#include "gemm_body.glsl"
