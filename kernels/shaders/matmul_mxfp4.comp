#version 450
/* matmul_mxfp4.comp - matmul for mxfp4 weights (the body: matmul_body.glsl). */
#define WT_MXFP4
#include "matmul_body.glsl"
