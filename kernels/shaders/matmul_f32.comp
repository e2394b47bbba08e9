#version 450
/* matmul_f32.comp - matmul for f32 weights (the body: matmul_body.glsl). */
#define WT_F32
#include "matmul_body.glsl"
