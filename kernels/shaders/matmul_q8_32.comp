#version 450
/* matmul_q8_32.comp - matmul for q8_32 weights (the body: matmul_body.glsl). */
#define WT_Q8_32
#include "matmul_body.glsl"
