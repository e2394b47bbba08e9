#version 450
/* matvec_f32.comp - decode matrix-vector product for f32 weights (the body:
 * matvec_body.glsl). */
#define WT_F32
#include "matvec_body.glsl"
