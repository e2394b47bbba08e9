#version 450
/* matvec_mxfp4.comp - decode matrix-vector product for mxfp4 weights (the body:
 * matvec_body.glsl). */
#define WT_MXFP4
#include "matvec_body.glsl"
