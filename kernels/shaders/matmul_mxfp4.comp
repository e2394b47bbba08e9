#version 450
/* matmul_mxfp4.comp - batched (prefill) product, mxfp4 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_MXFP4
#define GM_PLAIN
#include "gemm_body.glsl"
