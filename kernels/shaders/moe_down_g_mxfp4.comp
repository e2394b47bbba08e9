#version 450
/* moe_down_g_mxfp4.comp - prefill: down + bias, weighted, grouped by expert, mxfp4 weights (moe_body.glsl). */
#define WT_MXFP4
#define MOE_DOWN_G
#include "moe_body.glsl"
