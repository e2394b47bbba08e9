#version 450
/* cm_matmul_f16.comp - matmul_f16 on tensor cores (batched (prefill) product, f16 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_F16
#define GM_PLAIN
#define GM_CM
#include "gemm_body.glsl"
