#version 450
/* matmul_bf16.comp - matmul for bf16 weights (the body: matmul_body.glsl). */
#define WT_BF16
#include "matmul_body.glsl"
