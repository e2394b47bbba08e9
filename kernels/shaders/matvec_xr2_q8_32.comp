#version 450
/* EXPERIMENT (vk run d): matvec, 2 rows per workgroup. */
#define WT_Q8_32
#define MV_ROWS 2u
#include "matvec_body.glsl"
