#version 450
// add_rmsnorm: x[t] += y[t], then out[t] = x[t] * (1 / sqrt(mean(x[t]^2) +
// eps)) * w, one workgroup per token (rmsnorm_body.glsl; the rmsnorm
// numerics are rmsnorm.comp's). backend.h's optional add_rmsnorm.
// args: 0 x (read and written), 1 w (f32 weight words), 2 out (not x),
// 3 y. push: 4 dim, 5 eps.
#define RN_ADD
#include "rmsnorm_body.glsl"
