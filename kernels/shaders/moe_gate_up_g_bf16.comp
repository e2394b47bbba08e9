#version 450
/* moe_gate_up_g_bf16.comp - prefill: gate_up + SwiGLU grouped by expert, bf16 weights (moe_body.glsl). */
#define WT_BF16
#define MOE_GATE_UP_G
#include "moe_body.glsl"
