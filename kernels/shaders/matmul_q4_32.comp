#version 450
/* matmul_q4_32.comp - matmul for q4_32 weights (the body: matmul_body.glsl). */
#define WT_Q4_32
#include "matmul_body.glsl"
