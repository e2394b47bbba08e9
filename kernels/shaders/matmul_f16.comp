#version 450
/* matmul_f16.comp - batched (prefill) product, f16 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_F16
#define GM_PLAIN
#include "gemm_body.glsl"
