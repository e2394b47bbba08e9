#version 450
/* moe_gate_up_g_mxfp4.comp - prefill: gate_up + SwiGLU grouped by expert, mxfp4 weights (moe_body.glsl). */
#define WT_MXFP4
#define MOE_GATE_UP_G
#include "moe_body.glsl"
