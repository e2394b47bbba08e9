#version 450
/* cm_matmul_mxfp4.comp - matmul_mxfp4 on tensor cores (batched (prefill) product, mxfp4 weights; gemm_body.glsl + gemm_cm_tile.glsl). */
#define WT_MXFP4
#define GM_PLAIN
#define GM_CM
#include "gemm_body.glsl"
