#version 450
/* EXPERIMENT (vk run d): matvec, 8 rows per workgroup. */
#define WT_Q8_32
#define MV_ROWS 8u
#include "matvec_body.glsl"
