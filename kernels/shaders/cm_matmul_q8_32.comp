#version 450
/* cm_matmul_q8_32.comp - matmul_q8_32 on tensor cores (batched (prefill) product, q8_32 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_Q8_32
#define GM_PLAIN
#define GM_CM
#include "gemm_body.glsl"
