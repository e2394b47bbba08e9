#version 450
/* EXPERIMENT (vk run d): MoE gate_up, 8 parts in flight per lane. */
#define WT_MXFP4
#define MOE_GATE_UP
#define MO_UNROLL 8u
#include "moe_vec_body.glsl"
