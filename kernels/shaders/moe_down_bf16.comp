#version 450
/* moe_down_bf16.comp - down + bias + weighted sum of the chosen experts, bf16 weights (moe_vec_body.glsl). */
#define WT_BF16
#define MOE_DOWN
#include "moe_vec_body.glsl"
