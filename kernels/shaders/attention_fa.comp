#version 450
/* attention_fa.comp - attention with sinks for a prefill batch (n > 1),
 * flash-attention style: one workgroup per (tile of 64 query rows, kv head),
 * head_dim 64. The same contract and bindings as attention.comp (the op
 * picks this kernel for batches; decode keeps attention.comp).
 *
 * Why tiles: attention.comp gives each (head, query) a workgroup that reads
 * every key and value row of its window from memory by itself, so a batch
 * of n queries reads the keys n * n_heads times and does one multiply-add
 * per float loaded. Here a workgroup's 64 query rows are the GQA group's
 * query heads for 64 / G consecutive tokens (row r = token * G + head in
 * group, G = n_heads / n_kv), all sharing one kv head: each tile of FA_BK
 * keys and values is loaded into shared memory once and used by all 64
 * rows, 128 multiply-adds per float loaded.
 *
 * The work per tile: 4 threads per row (r = tid / 4, c = tid % 4). Thread c
 * scores keys c, c+4, .. of the tile against its row's query, held in
 * registers (16 vec4); the row's running max m and denominator l are
 * combined over its 4 threads with subgroup shuffles (the 4 lanes of a row
 * are consecutive invocations, so in one subgroup on every device here:
 * lavapipe 8, NVIDIA and Apple 32); the weights exp(s - m) and each row's
 * rescale exp(m_old - m) go to shared memory. For P.V the threads take
 * another shape: thread (rp = tid / 8, dg = tid % 8) accumulates rows rp
 * and rp + 32, dims 8 dg .. +7, over the tile's keys, so each weight and
 * value read from shared memory feeds two rows (80 16-byte reads a thread
 * a tile, where 4 threads a row would need 136); accumulators are rescaled
 * when m grows (online softmax, fp32 throughout). Masked keys (outside the row's causal window,
 * or past the last key) score -inf and weigh 0; m starts at a finite -1e30
 * so a row whose keys are all masked so far rescales by exp(0) = 1, never
 * NaN. The tiles walked are the union of the rows' windows: keys
 * lo(first token) .. pos(last token), so a sliding layer reads about
 * window + 64 / G keys per workgroup, not the whole prefix.
 *
 * The sink joins the denominator only: out = o * exp(m - M) / (l * exp(m -
 * M) + exp(sink - M)), M = max(m, sink). Key j < pos0 is read from the cache
 * (slot j % cap, bound from slot s0), j >= pos0 from this batch's k / v.
 *
 * Bindings: 0 q [n, n_heads*64], 1 k, 2 v [n, n_kv*64], 3 k_cache,
 * 4 v_cache, 5 sinks [n_heads] (f32 words), 6 out [n, n_heads*64], 7 pos0.
 * q and out are bound from query t0 on; push word tc: the queries of this
 * dispatch.
 * Grid (ceil(tc * G / 64), n_kv). Shared memory: 8.5 + 8 + 9 + 0.25 KiB. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#define FA_HD 64u   /* head_dim this kernel is built for */
#define FA_R 64u    /* query rows per workgroup */
#define FA_BK 32u   /* keys per tile */
#define FA_KS 17u   /* vec4s per key row in Ks: 16 + 1 of padding, so the 4
                       threads of a row read 4 different banks */
#define FA_PS 9u    /* vec4s per row in Ps: 8 + 1 of padding */
layout(local_size_x = 256) in;

layout(set = 0, binding = 0) readonly buffer Qb { float x[]; } qb;
layout(set = 0, binding = 1) readonly buffer Kb { float x[]; } kb;
layout(set = 0, binding = 2) readonly buffer Vb { float x[]; } vb;
layout(set = 0, binding = 3) readonly buffer KCb { float x[]; } kcb;
layout(set = 0, binding = 4) readonly buffer VCb { float x[]; } vcb;
layout(set = 0, binding = 5) readonly buffer Sb { uint w[]; } sb;
layout(set = 0, binding = 6) writeonly buffer Ob { float x[]; } ob;
layout(set = 0, binding = 7) readonly buffer Pb { uint w[]; } pb;

layout(push_constant) uniform P {
    uint o_q, o_k, o_v, o_kc, o_vc, o_s, o_o, o_p;
    uint n_heads, n_kv, hd, window, cap, t0;
    float scale;
    uint s0, tc;
} p;

shared vec4 Ks[FA_BK * FA_KS];
shared vec4 Vs[FA_BK * 16u];
shared vec4 Ps[FA_R * FA_PS];
shared float As[FA_R]; /* each row's rescale of this tile; at the end its output factor */

void main()
{
    uint tid = gl_LocalInvocationID.x, r = tid >> 2u, c = tid & 3u;
    uint pos0 = pb.w[p.o_p >> 2u];
    uint G = p.n_heads / p.n_kv, kvh = gl_WorkGroupID.y, kvs = p.n_kv * FA_HD;
    /* the last row tile first: on a full layer it walks the most keys, so
     * the long workgroups start early and the short ones fill the tail */
    uint row0 = (gl_NumWorkGroups.x - 1u - gl_WorkGroupID.x) * FA_R;
    uint gr = row0 + r;
    uint t = gr / G, h = kvh * G + gr % G;
    bool valid = t < p.tc; /* the last workgroup's rows may run past the queries */
    uint pbase = pos0 + p.t0;

    /* the workgroup's key range: the first row's window start .. the last row's position */
    uint t_first = row0 / G, t_last = min((row0 + FA_R - 1u) / G, p.tc - 1u);
    uint kmax = pbase + t_last;
    uint pf = pbase + t_first;
    uint kmin = (p.window > 0u && pf + 1u > p.window) ? pf + 1u - p.window : 0u;
    uint pos = pbase + t;
    uint lo = (p.window > 0u && pos + 1u > p.window) ? pos + 1u - p.window : 0u;

    vec4 q[16];
    uint qo = (p.o_q >> 2u) + (t * p.n_heads + h) * FA_HD;
    [[unroll]] for (uint i = 0u; i < 16u; i++)
        q[i] = valid ? vec4(qb.x[qo + 4u * i], qb.x[qo + 4u * i + 1u], qb.x[qo + 4u * i + 2u], qb.x[qo + 4u * i + 3u])
                     : vec4(0.0);

    /* P.V: thread (rp, dg) accumulates rows rp and rp + 32, dims 8 dg .. +7:
     * each weight and value read from shared memory feeds 2 rows */
    uint rp = tid >> 3u, dg = tid & 7u;
    vec4 o[4]; /* row rp: o[0], o[1]; row rp + 32: o[2], o[3] */
    [[unroll]] for (uint k = 0u; k < 4u; k++)
        o[k] = vec4(0.0);
    float m = -1e30, l = 0.0;

    for (uint j0 = kmin; j0 <= kmax; j0 += FA_BK) {
        /* the tile: keys j0 .. j0+FA_BK-1 (zeros past kmax), 64 floats each */
        for (uint e = tid; e < FA_BK * FA_HD; e += 256u) {
            uint jj = e / FA_HD, d = e % FA_HD, j = j0 + jj;
            float kv = 0.0, vv = 0.0;
            if (j <= kmax) {
                if (j < pos0) {
                    uint i = ((j % p.cap) - p.s0) * kvs + kvh * FA_HD + d;
                    kv = kcb.x[(p.o_kc >> 2u) + i];
                    vv = vcb.x[(p.o_vc >> 2u) + i];
                } else {
                    uint i = (j - pos0) * kvs + kvh * FA_HD + d;
                    kv = kb.x[(p.o_k >> 2u) + i];
                    vv = vb.x[(p.o_v >> 2u) + i];
                }
            }
            Ks[jj * FA_KS + (d >> 2u)][d & 3u] = kv;
            Vs[jj * 16u + (d >> 2u)][d & 3u] = vv;
        }
        barrier();

        float s[FA_BK / 4u];
        float mx = -1.0 / 0.0;
        [[unroll]] for (uint kk = 0u; kk < FA_BK / 4u; kk++) {
            uint jj = c + 4u * kk, j = j0 + jj;
            float acc = 0.0;
            [[unroll]] for (uint i = 0u; i < 16u; i++)
                acc += dot(q[i], Ks[jj * FA_KS + i]);
            s[kk] = (valid && j >= lo && j <= pos) ? acc * p.scale : -1.0 / 0.0;
            mx = max(mx, s[kk]);
        }
        mx = max(mx, subgroupShuffleXor(mx, 1u));
        mx = max(mx, subgroupShuffleXor(mx, 2u));
        float mn = max(m, mx);
        float a = exp(m - mn);
        float sum = 0.0;
        [[unroll]] for (uint kk = 0u; kk < FA_BK / 4u; kk++) {
            float w = exp(s[kk] - mn); /* -inf: 0 */
            sum += w;
            Ps[r * FA_PS + kk][c] = w; /* key 4 kk + c */
        }
        sum += subgroupShuffleXor(sum, 1u);
        sum += subgroupShuffleXor(sum, 2u);
        l = l * a + sum;
        m = mn;
        if (c == 0u)
            As[r] = a;
        barrier();

        float aa = As[rp], ab = As[rp + 32u];
        o[0] *= aa;
        o[1] *= aa;
        o[2] *= ab;
        o[3] *= ab;
        [[unroll]] for (uint jq = 0u; jq < FA_BK / 4u; jq++) {
            vec4 wa = Ps[rp * FA_PS + jq], wb = Ps[(rp + 32u) * FA_PS + jq];
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                uint jj = 4u * jq + e;
                vec4 v0 = Vs[jj * 16u + 2u * dg], v1 = Vs[jj * 16u + 2u * dg + 1u];
                o[0] += wa[e] * v0;
                o[1] += wa[e] * v1;
                o[2] += wb[e] * v0;
                o[3] += wb[e] * v1;
            }
        }
        barrier();
    }

    /* each row's output factor, from the thread that holds its m and l */
    if (c == 0u) {
        float sink = valid ? uintBitsToFloat(sb.w[(p.o_s >> 2u) + h]) : 0.0;
        float M = max(m, sink);
        float a = exp(m - M);
        As[r] = a / (l * a + exp(sink - M));
    }
    barrier();
    [[unroll]] for (uint half_ = 0u; half_ < 2u; half_++) {
        uint rr = rp + 32u * half_, gr2 = row0 + rr, t2 = gr2 / G;
        if (t2 >= p.tc)
            continue;
        float f = As[rr];
        uint oo = (p.o_o >> 2u) + (t2 * p.n_heads + kvh * G + gr2 % G) * FA_HD + 8u * dg;
        vec4 x0 = o[2u * half_] * f, x1 = o[2u * half_ + 1u] * f;
        ob.x[oo] = x0.x;
        ob.x[oo + 1u] = x0.y;
        ob.x[oo + 2u] = x0.z;
        ob.x[oo + 3u] = x0.w;
        ob.x[oo + 4u] = x1.x;
        ob.x[oo + 5u] = x1.y;
        ob.x[oo + 6u] = x1.z;
        ob.x[oo + 7u] = x1.w;
    }
}
