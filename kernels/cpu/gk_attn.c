/* gk_attn.c - one query head's attention (gk_attn.h): AVX-512 for head
 * sizes that are a multiple of 16 (gpt-oss: 64) when that path is active,
 * else portable loops. Both: a score is the fp32 dot over the head's
 * dimensions, the softmax max-subtracted with expf, the output accumulated
 * key by key in position order. */
#include "gk_attn.h"

#include <math.h>
#include <string.h>

#include "gk_dot.h"

static inline const float *key_at(const gk_attn_kv *kv, const float *cache, const float *batch, int j)
{
    return j < kv->pos0 ? cache + (size_t)(j % kv->cap) * (size_t)kv->stride
                        : batch + (size_t)(j - kv->pos0) * (size_t)kv->stride;
}

/* exp of every score minus the max, the sink's share; returns 1 / denominator */
static float softmax_with_sink(float *s, int n, float sink)
{
    float m = sink;
    for (int i = 0; i < n; i++)
        m = s[i] > m ? s[i] : m;
    float denom = expf(sink - m);
    for (int i = 0; i < n; i++) {
        s[i] = expf(s[i] - m);
        denom += s[i];
    }
    return 1.0f / denom;
}

static void attn_scalar(const gk_attn_kv *kv, const float *q, int lo, int pos, float *s, float *out)
{
    int hd = kv->head_dim, n = pos - lo + 1;
    gk_dotf_fn dotf = gk_dotf(); /* the active path's fp32 dot (AVX2 where there is no AVX-512) */
    for (int j = lo; j <= pos; j++)
        s[j - lo] = dotf(q, key_at(kv, kv->kc, kv->k, j), hd) * kv->scale;
    float inv = softmax_with_sink(s, n, kv->sink);
    memset(out, 0, (size_t)hd * sizeof *out);
    for (int j = lo; j <= pos; j++) {
        const float *v = key_at(kv, kv->vc, kv->v, j);
        float w = s[j - lo];
        for (int i = 0; i < hd; i++)
            out[i] += w * v[i];
    }
    for (int i = 0; i < hd; i++)
        out[i] *= inv;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define GK_ATTN512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
enum { MAXV = 16 }; /* head_dim <= 256 */

GK_ATTN512 static void attn_avx512(const gk_attn_kv *kv, const float *q, int lo, int pos, float *s, float *out)
{
    int nv = kv->head_dim / 16, n = pos - lo + 1;
    __m512 qv[MAXV], o[MAXV];
    for (int i = 0; i < nv; i++) {
        qv[i] = _mm512_loadu_ps(q + 16 * i);
        o[i] = _mm512_setzero_ps();
    }
    for (int j = lo; j <= pos; j++) {
        const float *k = key_at(kv, kv->kc, kv->k, j);
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_loadu_ps(k));
        for (int i = 1; i < nv; i++)
            acc = _mm512_fmadd_ps(qv[i], _mm512_loadu_ps(k + 16 * i), acc);
        s[j - lo] = _mm512_reduce_add_ps(acc) * kv->scale;
    }
    float inv = softmax_with_sink(s, n, kv->sink);
    for (int j = lo; j <= pos; j++) {
        const float *v = key_at(kv, kv->vc, kv->v, j);
        __m512 w = _mm512_set1_ps(s[j - lo]);
        for (int i = 0; i < nv; i++)
            o[i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 16 * i), o[i]);
    }
    __m512 iv = _mm512_set1_ps(inv);
    for (int i = 0; i < nv; i++)
        _mm512_storeu_ps(out + 16 * i, _mm512_mul_ps(o[i], iv));
}
#endif

void gk_attn_one(const gk_attn_kv *kv, const float *q, int lo, int pos, float *scores, float *out)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (kv->head_dim % 16 == 0 && kv->head_dim <= 16 * MAXV && gk_isa_active() == GK_ISA_AVX512) {
        attn_avx512(kv, q, lo, pos, scores, out);
        return;
    }
#endif
    attn_scalar(kv, q, lo, pos, scores, out);
}
