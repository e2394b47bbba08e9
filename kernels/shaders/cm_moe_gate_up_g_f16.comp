#version 450
/* cm_moe_gate_up_g_f16.comp - moe_gate_up_g_f16 on tensor cores (prefill: gate_up + SwiGLU grouped by expert, f16 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_F16
#define GM_GATE_UP
#define GM_CM
#include "gemm_body.glsl"
