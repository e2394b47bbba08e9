#version 450
/* EXPERIMENT (vk run d): MoE down, 4 rows per workgroup. */
#define WT_MXFP4
#define MOE_DOWN
#define MO_DROWS 4u
#include "moe_vec_body.glsl"
