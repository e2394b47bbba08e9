#version 450
/* moe_down_f16.comp - down + bias + weighted sum of the chosen experts, f16 weights (moe_vec_body.glsl). */
#define WT_F16
#define MOE_DOWN
#include "moe_vec_body.glsl"
