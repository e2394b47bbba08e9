#version 450
// score: the perplexity reductions of one row of logits per workgroup, so
// that only scalars go back to the host (backend.h, gb_score_in):
//   lse = max + log(sum exp(x - max)); nll = lse - x[target];
//   top-k log-probabilities (descending, lower id first among equals, <= 0);
//   KLD(ref || this): dense (a reference row of logits on the device) or
//   sparse (the reference's top ids and log-probabilities, the rest of the
//   mass one bucket, as runtime/eval/ppl.c computes it).
// Sums are Kahan-compensated per thread and combined by a fixed tree.
// args: 0 logits [rows, vocab], 1 reference logits (dense; else any
// buffer), 2 inputs (uint: targets [rows], ref ids [rows * ref_k], ref
// log-probabilities as float bits [rows * ref_k]), 3 out (per row: nll,
// kld, top ids [k], top logp [k]).
// push: 4 vocab, 5 top_k, 6 ref_k, 7 flags (1 target, 2 dense, 4 sparse),
// 8 rows. grid: (rows, 1, 1).
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer L { float x[]; };
layout(set = 0, binding = 1) readonly buffer R { float rx[]; };
layout(set = 0, binding = 2) readonly buffer I { uint in_[]; };
layout(set = 0, binding = 3) writeonly buffer O { uint o[]; };
layout(push_constant) uniform P { uint x_off, r_off, i_off, o_off, vocab, top_k, ref_k, flags, rows; } p;

#define NT 256u
#define KMAX 64
shared float sf[NT];
shared float sg[NT];
shared uint su[NT];

float reduce_max(float v)
{
    uint tid = gl_LocalInvocationID.x;
    sf[tid] = v;
    barrier();
    for (uint h = NT / 2u; h > 0u; h >>= 1) {
        if (tid < h)
            sf[tid] = max(sf[tid], sf[tid + h]);
        barrier();
    }
    float r = sf[0];
    barrier();
    return r;
}

// a compensated pair (s, c) summed over the workgroup
float reduce_sum(float s, float c)
{
    uint tid = gl_LocalInvocationID.x;
    sf[tid] = s;
    sg[tid] = c;
    barrier();
    for (uint h = NT / 2u; h > 0u; h >>= 1) {
        if (tid < h) {
            precise float a = sf[tid], b = sf[tid + h];
            precise float t = a + b;
            precise float bb = t - a;
            precise float e = (a - (t - bb)) + (b - bb);
            sf[tid] = t;
            sg[tid] = sg[tid] + sg[tid + h] + e;
        }
        barrier();
    }
    float r = sf[0] + sg[0];
    barrier();
    return r;
}

void kahan(inout float s, inout float c, float v)
{
    precise float y = v - c;
    precise float t = s + y;
    c = (t - s) - y;
    s = t;
}

void main()
{
    uint tid = gl_LocalInvocationID.x, row = gl_WorkGroupID.x;
    uint V = p.vocab;
    uint xb = p.x_off / 4u + row * V;
    // log-sum-exp
    float m = -1.0 / 0.0;
    for (uint i = tid; i < V; i += NT)
        m = max(m, x[xb + i]);
    m = reduce_max(m);
    float s = 0.0, c = 0.0;
    for (uint i = tid; i < V; i += NT)
        kahan(s, c, exp(x[xb + i] - m));
    float lse = m + log(reduce_sum(s, -c));
    uint ob = p.o_off / 4u + row * (2u + 2u * p.top_k);
    if (tid == 0u) {
        float nll = 0.0;
        if ((p.flags & 1u) != 0u)
            nll = lse - x[xb + in_[p.i_off / 4u + row]];
        o[ob] = floatBitsToUint(nll);
    }
    // top-k: each thread keeps its own k best (sorted), then k rounds pick
    // the best head among the threads; ids are tid + NT * m, so a winning id
    // names its thread
    if (p.top_k > 0u) {
        float tv[KMAX];
        uint ti[KMAX];
        uint have = 0u, k = p.top_k;
        for (uint i = tid; i < V; i += NT) {
            float v = x[xb + i];
            if (have == k && !(v > tv[k - 1u]))
                continue;
            uint j = have < k ? have++ : k - 1u;
            while (j > 0u && tv[j - 1u] < v) {
                tv[j] = tv[j - 1u];
                ti[j] = ti[j - 1u];
                j--;
            }
            tv[j] = v;
            ti[j] = i;
        }
        uint head = 0u;
        for (uint r = 0u; r < k; r++) {
            sf[tid] = head < have ? tv[head] : -1.0 / 0.0;
            su[tid] = head < have ? ti[head] : 0xffffffffu;
            barrier();
            for (uint h = NT / 2u; h > 0u; h >>= 1) {
                if (tid < h) {
                    float a = sf[tid], b = sf[tid + h];
                    uint ia = su[tid], ib = su[tid + h];
                    if (b > a || (b == a && ib < ia)) {
                        sf[tid] = b;
                        su[tid] = ib;
                    }
                }
                barrier();
            }
            float best = sf[0];
            uint id = su[0];
            barrier();
            if (id != 0xffffffffu && id % NT == tid)
                head++;
            if (tid == 0u) {
                o[ob + 2u + r] = id;
                o[ob + 2u + k + r] = floatBitsToUint(min(best - lse, 0.0));
            }
        }
    }
    // KLD(ref || this)
    float kl = 0.0;
    if ((p.flags & 2u) != 0u) {
        uint rb = p.r_off / 4u + row * V;
        float rm = -1.0 / 0.0;
        for (uint i = tid; i < V; i += NT)
            rm = max(rm, rx[rb + i]);
        rm = reduce_max(rm);
        s = 0.0;
        c = 0.0;
        for (uint i = tid; i < V; i += NT)
            kahan(s, c, exp(rx[rb + i] - rm));
        float rlse = rm + log(reduce_sum(s, -c));
        s = 0.0;
        c = 0.0;
        for (uint i = tid; i < V; i += NT) {
            float lr = rx[rb + i] - rlse, pr = exp(lr);
            if (pr > 0.0)
                kahan(s, c, pr * (lr - (x[xb + i] - lse)));
        }
        kl = reduce_sum(s, -c);
    } else if ((p.flags & 4u) != 0u && tid == 0u) {
        uint ib = p.i_off / 4u + p.rows + row * p.ref_k;
        uint lb = p.i_off / 4u + p.rows + p.rows * p.ref_k + row * p.ref_k;
        float pref = 0.0, pnew = 0.0;
        for (uint j = 0u; j < p.ref_k; j++) {
            float lr = uintBitsToFloat(in_[lb + j]), ln = x[xb + in_[ib + j]] - lse;
            float pr = exp(lr);
            kl += pr * (lr - ln);
            pref += pr;
            pnew += exp(ln);
        }
        float tr = 1.0 - pref, tn = 1.0 - pnew;
        if (tr > 1e-12)
            kl += tr * (log(tr) - log(max(tn, 1e-30)));
    }
    if (tid == 0u)
        o[ob + 1u] = floatBitsToUint(kl);
}
