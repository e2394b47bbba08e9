#version 450
/* matmul_q4_32.comp - batched (prefill) product, q4_32 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_Q4_32
#define GM_PLAIN
#include "gemm_body.glsl"
