#version 450
// rmsnorm: out[t] = x[t] * (1 / sqrt(mean(x[t]^2) + eps)) * w, one workgroup
// per token. The CPU sums the squares in double so that the mean is the fp32
// nearest the true one; here the squares are summed as a float pair (hi, lo)
// with exact two-sums, per thread and across the shared-memory tree, which
// keeps about 48 bits: the same mean to the last bit but for rare ties.
// The pairs are added over each subgroup with shuffles and then over the
// subgroups in shared memory (one barrier, not one per tree level): a
// decoded token is one workgroup, so its latency is the op's cost.
// args: 0 x, 1 w (f32 weight words), 2 out (may be x). push: 3 dim, 4 eps.
#include "rmsnorm_body.glsl"
