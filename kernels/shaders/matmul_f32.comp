#version 450
/* matmul_f32.comp - batched (prefill) product, f32 weights: the shared-memory tiles of gemm_body.glsl. */
#define WT_F32
#define GM_PLAIN
#include "gemm_body.glsl"
