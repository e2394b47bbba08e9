#version 450
/* EXPERIMENT (vk run d): MoE gate_up, a workgroup walking 4 pairs. */
#define WT_MXFP4
#define MOE_GATE_UP
#define MO_GU_WG
#include "moe_vec_body.glsl"
