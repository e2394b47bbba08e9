#version 450
/* matvec_f16.comp - decode matrix-vector product for f16 weights (the body:
 * matvec_body.glsl). */
#define WT_F16
#include "matvec_body.glsl"
