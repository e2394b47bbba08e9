#version 450
/* matvec_bf16.comp - decode matrix-vector product for bf16 weights (the body:
 * matvec_body.glsl). */
#define WT_BF16
#include "matvec_body.glsl"
