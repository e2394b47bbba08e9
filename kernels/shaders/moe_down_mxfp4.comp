#version 450
/* moe_down_mxfp4.comp - down + bias + weighted sum of the chosen experts, mxfp4 weights (moe_vec_body.glsl). */
#define WT_MXFP4
#define MOE_DOWN
#include "moe_vec_body.glsl"
