#version 450
/* attention.comp - attention with sinks for n queries at positions pos0 ..
 * pos0+n-1 (decode: n = 1; prefill: n > 1), one workgroup per (head, query).
 *
 * The workgroup's subgroups split the keys (subgroup g takes keys lo + g,
 * + G, ...; AT_KEYS of them per step so their loads are in flight together);
 * a subgroup's lanes split the head's dims, so each key and value row is read
 * as one contiguous run (lanes on consecutive floats) and a score is one
 * subgroupAdd. Each subgroup keeps its own online softmax (flash-attention
 * style: running max m, denominator l, output accumulators rescaled when m
 * grows; the accumulators live in shared memory, its own slice, so any head
 * size and subgroup size work), and the subgroups' states are merged at the
 * end. The sink joins the denominator only: out = acc / (l + exp(sink - M))
 * with everything rescaled to M = max(m, sink). Key j < pos0 is read from the
 * cache (slot j % cap), j >= pos0 from this batch's k / v; a query at p sees
 * keys max(0, p-window+1) .. p (window 0: all), GQA head h reads kv head
 * h / (n_heads / n_kv).
 *
 * Bindings: 0 q [n, n_heads*hd], 1 k, 2 v [n, n_kv*hd], 3 k_cache, 4 v_cache
 * (bound from slot s0 on), 5 sinks [n_heads] (f32 weight words), 6 out
 * [n, n_heads*hd], 7 pos0 (uint; in a buffer, not a push constant, so a
 * decoded token's command buffer is the same every token). q and out are
 * bound from query t0 of the batch on (the op splits long batches), k / v
 * from the batch's first key (pos0).
 * Grid (n_heads, queries). hd <= AT_MAXHD. */
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define AT_WG 256u
#define AT_MAXHD 256u
#define AT_KEYS 4u
#define AT_ACC 4096u
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
    uint s0;
} p;

uint pos0; /* the batch's first position (binding 7) */

shared float qs[AT_MAXHD];
shared float acc[AT_ACC]; /* [subgroup][hd] */
shared float ms[AT_WG], ls[AT_WG];

/* float index of key / value row j's head kvh (cache or batch) */
uint krow(uint j, uint kvh, uint kvs)
{
    return j < pos0 ? (p.o_kc >> 2u) + ((j % p.cap) - p.s0) * kvs + kvh * p.hd
                      : (p.o_k >> 2u) + (j - pos0) * kvs + kvh * p.hd;
}
float kat(uint j, uint i) { return j < pos0 ? kcb.x[i] : kb.x[i]; }
/* the value at key index i (krow's, + d): the same row in the v bindings */
float vat(uint j, uint i)
{
    return j < pos0 ? vcb.x[i + (p.o_vc >> 2u) - (p.o_kc >> 2u)] : vb.x[i + (p.o_v >> 2u) - (p.o_k >> 2u)];
}

void main()
{
    uint tid = gl_LocalInvocationID.x, lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    pos0 = pb.w[p.o_p >> 2u];
    uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    uint hd = p.hd, kvh = h / (p.n_heads / p.n_kv), kvs = p.n_kv * hd;
    /* subgroups taking keys: as many as have an accumulator slice (all of
     * them for hd 64 on any subgroup size >= 4; the rest only wait) */
    uint g = gl_SubgroupID, G = min(gl_NumSubgroups, AT_ACC / hd);
    uint pos = pos0 + p.t0 + t; /* q / out are bound from query t0 on */
    uint lo = (p.window > 0u && pos + 1u > p.window) ? pos + 1u - p.window : 0u;

    uint qo = (p.o_q >> 2u) + (t * p.n_heads + h) * hd;
    for (uint d = tid; d < hd; d += AT_WG)
        qs[d] = qb.x[qo + d];
    uint ab = g * hd;
    if (g < G)
        for (uint d = lane; d < hd; d += S)
            acc[ab + d] = 0.0;
    barrier();

    float m = -1.0 / 0.0, l = 0.0;
    for (uint j0 = lo + g; g < G && j0 <= pos; j0 += AT_KEYS * G) {
        float sc[AT_KEYS];
        uint kr[AT_KEYS];
        [[unroll]] for (uint i = 0u; i < AT_KEYS; i++) {
            uint j = min(j0 + i * G, pos); /* past the last key: re-read it, weight 0 below */
            kr[i] = krow(j, kvh, kvs);
            float part = 0.0;
            for (uint d = lane; d < hd; d += S)
                part += qs[d] * kat(j, kr[i] + d);
            sc[i] = subgroupAdd(part) * p.scale;
        }
        float mn = m;
        [[unroll]] for (uint i = 0u; i < AT_KEYS; i++)
            if (j0 + i * G <= pos)
                mn = max(mn, sc[i]);
        float a = exp(m - mn); /* m = -inf at the first step: 0 (mn is a real score) */
        float pw[AT_KEYS];
        [[unroll]] for (uint i = 0u; i < AT_KEYS; i++)
            pw[i] = j0 + i * G <= pos ? exp(sc[i] - mn) : 0.0;
        l = l * a + ((pw[0] + pw[1]) + (pw[2] + pw[3]));
        for (uint d = lane; d < hd; d += S) {
            float v = acc[ab + d] * a;
            [[unroll]] for (uint i = 0u; i < AT_KEYS; i++)
                v += pw[i] * vat(min(j0 + i * G, pos), kr[i] + d);
            acc[ab + d] = v;
        }
        m = mn;
    }
    if (subgroupElect() && g < G) {
        ms[g] = m;
        ls[g] = l;
    }
    barrier();

    float sink = uintBitsToFloat(sb.w[(p.o_s >> 2u) + h]);
    float mf = sink;
    for (uint i = 0u; i < G; i++)
        mf = max(mf, ms[i]);
    float den = exp(sink - mf);
    for (uint i = 0u; i < G; i++)
        den += ls[i] * exp(ms[i] - mf); /* a subgroup without keys: 0 * exp(-inf) = 0 */
    float inv = 1.0 / den;
    uint oo = (p.o_o >> 2u) + (t * p.n_heads + h) * hd;
    for (uint d = tid; d < hd; d += AT_WG) {
        float o = 0.0;
        for (uint i = 0u; i < G; i++)
            o += acc[i * hd + d] * exp(ms[i] - mf);
        ob.x[oo + d] = o * inv;
    }
}
