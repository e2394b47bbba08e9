#version 450
/* matvec_q4_32.comp - decode matrix-vector product for q4_32 weights (the body:
 * matvec_body.glsl). */
#define WT_Q4_32
#include "matvec_body.glsl"
