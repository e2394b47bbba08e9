#version 450
/* moe_down_f32.comp - down + bias + weighted sum of the chosen experts, f32 weights (moe_vec_body.glsl). */
#define WT_F32
#define MOE_DOWN
#include "moe_vec_body.glsl"
