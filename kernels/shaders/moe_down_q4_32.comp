#version 450
/* moe_down_q4_32.comp - down + bias + weighted sum of the chosen experts, q4_32 weights (moe_vec_body.glsl). */
#define WT_Q4_32
#define MOE_DOWN
#include "moe_vec_body.glsl"
