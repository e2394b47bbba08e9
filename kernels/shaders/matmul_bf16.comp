#version 450
/* matmul_bf16.comp - batched (prefill) product, bf16 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_BF16
#define GM_PLAIN
#include "gemm_body.glsl"
