#version 450
// kv_store: copy `len` floats of k and v into their cache slots (the host
// splits a batch into runs of consecutive ring slots, one dispatch each).
// args: 0 k, 1 v, 2 k_cache (at the run's first slot), 3 v_cache. push: 4 len.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) readonly buffer K { float k[]; };
layout(set = 0, binding = 1) readonly buffer V { float v[]; };
layout(set = 0, binding = 2) writeonly buffer KC { float kc[]; };
layout(set = 0, binding = 3) writeonly buffer VC { float vc[]; };
layout(push_constant) uniform P { uint k_off, v_off, kc_off, vc_off, len; } p;
void main()
{
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u;
    if (i >= p.len)
        return;
    kc[p.kc_off / 4u + i] = k[p.k_off / 4u + i];
    vc[p.vc_off / 4u + i] = v[p.v_off / 4u + i];
}
