#version 450
/* matmul_f16.comp - matmul for f16 weights (the body: matmul_body.glsl). */
#define WT_F16
#include "matmul_body.glsl"
