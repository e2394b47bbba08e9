#version 450
/* attention.comp - attention with sinks for n queries at positions pos0 ..
 * pos0+n-1 (decode: n = 1; prefill: n > 1), one workgroup per (head, token).
 *
 * Keys are visited in chunks of AT_WG with an online softmax (flash-attention
 * style: a running max m, a running denominator l and output accumulators
 * rescaled when m grows), so no score array of the context's length exists.
 * The sink joins the denominator at the end: out = acc / (l + exp(sink - m))
 * after rescaling to max(m, sink). Key j < pos0 is read from the cache (slot
 * j % cap), j >= pos0 from this batch's k / v; a query at p sees keys
 * max(0, p-window+1) .. p (window 0: all), GQA head h reads kv head
 * h / (n_heads / n_kv).
 *
 * Bindings: 0 q [n, n_heads*hd], 1 k, 2 v [n, n_kv*hd], 3 k_cache, 4 v_cache
 * (bound from slot s0 on), 5 sinks [n_heads] (f32 weight words), 6 out
 * [n, n_heads*hd]. q and out are bound from query t0 of the batch on
 * (the op splits long batches), k / v from the batch's first key (pos0).
 * Grid (n_heads, queries). head_dim <= 256. */
#extension GL_EXT_control_flow_attributes : require

#define AT_WG 64u
#define AT_MAXD 4u /* head_dim <= AT_WG * AT_MAXD */
layout(local_size_x = 64) in;

layout(set = 0, binding = 0) readonly buffer Qb { float x[]; } qb;
layout(set = 0, binding = 1) readonly buffer Kb { float x[]; } kb;
layout(set = 0, binding = 2) readonly buffer Vb { float x[]; } vb;
layout(set = 0, binding = 3) readonly buffer KCb { float x[]; } kcb;
layout(set = 0, binding = 4) readonly buffer VCb { float x[]; } vcb;
layout(set = 0, binding = 5) readonly buffer Sb { uint w[]; } sb;
layout(set = 0, binding = 6) writeonly buffer Ob { float x[]; } ob;

layout(push_constant) uniform P {
    uint o_q, o_k, o_v, o_kc, o_vc, o_s, o_o;
    uint n_heads, n_kv, hd, window, cap, pos0, t0;
    float scale;
    uint s0;
} p;

shared float qs[AT_WG * AT_MAXD];
shared float sc[AT_WG];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    uint hd = p.hd, kvh = h / (p.n_heads / p.n_kv), kvs = p.n_kv * hd;
    uint pos = p.pos0 + p.t0 + t; /* q / out are bound from query t0 on */
    uint lo = (p.window > 0u && pos + 1u > p.window) ? pos + 1u - p.window : 0u;

    uint qo = (p.o_q >> 2u) + (t * p.n_heads + h) * hd;
    for (uint d = tid; d < hd; d += AT_WG)
        qs[d] = qb.x[qo + d];
    barrier();

    float m = -1.0 / 0.0, l = 0.0;
    float acc[AT_MAXD];
    [[unroll]] for (uint i = 0u; i < AT_MAXD; i++)
        acc[i] = 0.0;

    for (uint c = lo; c <= pos; c += AT_WG) {
        uint j = c + tid;
        float s = -1.0 / 0.0;
        if (j <= pos) {
            float dot = 0.0;
            if (j < p.pos0) {
                uint ko = (p.o_kc >> 2u) + ((j % p.cap) - p.s0) * kvs + kvh * hd;
                for (uint d = 0u; d < hd; d++)
                    dot += qs[d] * kcb.x[ko + d];
            } else {
                uint ko = (p.o_k >> 2u) + (j - p.pos0) * kvs + kvh * hd;
                for (uint d = 0u; d < hd; d++)
                    dot += qs[d] * kb.x[ko + d];
            }
            s = dot * p.scale;
        }
        sc[tid] = s;
        barrier();
        uint cnt = min(AT_WG, pos + 1u - c);
        float cm = m;
        for (uint i = 0u; i < cnt; i++)
            cm = max(cm, sc[i]);
        float alpha = exp(m - cm);
        barrier();
        sc[tid] = j <= pos ? exp(s - cm) : 0.0;
        barrier();
        float ps = 0.0;
        for (uint i = 0u; i < cnt; i++)
            ps += sc[i];
        l = l * alpha + ps;
        [[unroll]] for (uint q = 0u; q < AT_MAXD; q++) {
            uint d = tid + q * AT_WG;
            if (d < hd) {
                float a = acc[q] * alpha;
                for (uint i = 0u; i < cnt; i++) {
                    uint jj = c + i;
                    float vv;
                    if (jj < p.pos0)
                        vv = vcb.x[(p.o_vc >> 2u) + ((jj % p.cap) - p.s0) * kvs + kvh * hd + d];
                    else
                        vv = vb.x[(p.o_v >> 2u) + (jj - p.pos0) * kvs + kvh * hd + d];
                    a += sc[i] * vv;
                }
                acc[q] = a;
            }
        }
        m = cm;
        barrier();
    }

    float sink = uintBitsToFloat(sb.w[(p.o_s >> 2u) + h]);
    float mf = max(m, sink);
    float r = exp(m - mf);
    float inv = 1.0 / (l * r + exp(sink - mf));
    uint oo = (p.o_o >> 2u) + (t * p.n_heads + h) * hd;
    [[unroll]] for (uint q = 0u; q < AT_MAXD; q++) {
        uint d = tid + q * AT_WG;
        if (d < hd)
            ob.x[oo + d] = acc[q] * r * inv;
    }
}
