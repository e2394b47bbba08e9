#version 450
/* matvec_q8_32.comp - decode matrix-vector product for q8_32 weights (the body:
 * matvec_body.glsl). */
#define WT_Q8_32
#include "matvec_body.glsl"
