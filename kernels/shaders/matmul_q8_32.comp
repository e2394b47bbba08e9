#version 450
/* matmul_q8_32.comp - batched (prefill) product, q8_32 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_Q8_32
#define GM_PLAIN
#include "gemm_body.glsl"
