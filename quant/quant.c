/* quant.c - the traits table, lookups, and the three plain float formats.
 *
 * The block codecs live one per file (mxfp4.c, q8.c, q4.c); this file only
 * binds them into the table that the rest of the project dispatches through.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

/* One row per format; every other module looks formats up here. Columns:
 * type, name, block values, block bytes, decode, encode, short name, uses,
 * ggml type, llama file type, ggml activation type (see quant.h). */
static const gq_traits traits[GQ_TYPE_COUNT] = {
    [GQ_F32] = {GQ_F32, "f32", 1, GQ_F32_BYTES, gq__f32_decode, gq__f32_encode, "f32",
                GQ_USE_DENSE | GQ_USE_EXPERTS, GQ_GGML_TYPE_F32, GQ_LLAMA_FTYPE_ALL_F32, GQ_F32},
    [GQ_F16] = {GQ_F16, "f16", 1, GQ_F16_BYTES, gq__f16_decode, gq__f16_encode, "f16",
                GQ_USE_DENSE | GQ_USE_EXPERTS, GQ_GGML_TYPE_F16, GQ_LLAMA_FTYPE_MOSTLY_F16, GQ_F16},
    [GQ_BF16] = {GQ_BF16, "bf16", 1, GQ_BF16_BYTES, gq__bf16_decode, gq__bf16_encode, "bf16",
                 GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_GGML_TYPE_BF16, GQ_LLAMA_FTYPE_MOSTLY_BF16, GQ_BF16},
    [GQ_MXFP4] = {GQ_MXFP4, "mxfp4", GQ_BLOCK_VALUES, GQ_MXFP4_BLOCK_BYTES, gq__mxfp4_decode, gq__mxfp4_encode,
                  "mxfp4", GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_GGML_TYPE_MXFP4, GQ_LLAMA_FTYPE_MOSTLY_MXFP4_MOE,
                  GQ_Q8_32},
    [GQ_Q8_32] = {GQ_Q8_32, "q8_32", GQ_BLOCK_VALUES, GQ_Q8_32_BLOCK_BYTES, gq__q8_decode, gq__q8_encode, "q8",
                  GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_GGML_TYPE_Q8_0, GQ_LLAMA_FTYPE_MOSTLY_Q8_0,
                  GQ_Q8_32},
    [GQ_Q4_32] = {GQ_Q4_32, "q4_32", GQ_BLOCK_VALUES, GQ_Q4_32_BLOCK_BYTES, gq__q4_decode, gq__q4_encode, "q4",
                  GQ_USE_DENSE | GQ_USE_EXPERTS | GQ_USE_RECIPE, GQ_GGML_TYPE_Q4_0, GQ_LLAMA_FTYPE_MOSTLY_Q4_0,
                  GQ_Q8_32},
};

const gq_traits *gq_traits_of(gq_type type)
{
    if ((int)type < 0 || type >= GQ_TYPE_COUNT)
        return NULL;
    return &traits[type];
}

const gq_traits *gq_traits_by_name(const char *name)
{
    if (!name)
        return NULL;
    /* the short names are what the CLI recipes use (--attn q8) */
    for (int i = 0; i < GQ_TYPE_COUNT; i++)
        if (strcmp(name, traits[i].name) == 0 || strcmp(name, traits[i].short_name) == 0)
            return &traits[i];
    return NULL;
}

size_t gq_row_bytes(gq_type type, uint64_t n)
{
    const gq_traits *t = gq_traits_of(type);
    if (!t)
        return 0;
    uint64_t bv = (uint64_t)t->block_values, bb = (uint64_t)t->block_bytes;
    if (n % bv)
        return 0;
    uint64_t blocks = n / bv;
    if (blocks > SIZE_MAX / bb || blocks > UINT64_MAX / bb)
        return 0;
    return (size_t)(blocks * bb);
}

/* ---- which SIMD path the q4 / q8 encoders take ---- */

int gq__isa_supported(int isa)
{
    if (isa == GQ_ISA_PORTABLE)
        return 1;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();             /* (checks that the OS saves the wide registers too) */
    if (isa == GQ_ISA_AVX2)
        return __builtin_cpu_supports("avx2") != 0;
    if (isa == GQ_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx2") != 0;
#endif
    return 0;
}

int gq__isa_cap(void)
{
    const char *e = getenv("GPTOSS_QUANT_ISA");
    if (!e || !*e)
        return GQ_ISA_AVX512;
    return strcmp(e, "portable") == 0 ? GQ_ISA_PORTABLE : strcmp(e, "avx2") == 0 ? GQ_ISA_AVX2 : GQ_ISA_AVX512;
}

int gq__isa(void)
{
    /* asked once per process; every thread computes the same value, so
     * the relaxed atomic only keeps the first calls from racing */
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v >= 0)
        return v;
    int cap = gq__isa_cap();
    v = GQ_ISA_PORTABLE;
    for (int i = cap; i > GQ_ISA_PORTABLE; i--)
        if (gq__isa_supported(i)) {
            v = i;
            break;
        }
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

static void encode_portable(const float *in, uint8_t *out, size_t nb, int bytes,
                            void (*block)(const float *, uint8_t *),
                            void (*decode)(const void *, float *, size_t), gq_stats *stats)
{
    float dec[GQ_BLOCK_VALUES];
    for (size_t b = 0; b < nb; b++, out += bytes, in += GQ_BLOCK_VALUES) {
        block(in, out);
        if (stats) {
            decode(out, dec, GQ_BLOCK_VALUES);
            gq__stats_add(stats, in, dec, GQ_BLOCK_VALUES, 1);
        }
    }
}

void gq__encode_blocks(int isa, const float *in, uint8_t *out, size_t nb, int block_bytes, gq__lanes_fn lanes16,
                       gq__lanes_fn lanes8, void (*block)(const float *in, uint8_t *out),
                       void (*decode)(const void *blocks, float *out, size_t n), gq_stats *stats)
{
    gq__lanes_fn lanes = isa >= GQ_ISA_AVX512 ? lanes16 : isa == GQ_ISA_AVX2 ? lanes8 : NULL;
    size_t w = isa >= GQ_ISA_AVX512 ? 16 : 8, b = 0;
    if (lanes)
        for (size_t k; b < nb; b += k) {
            k = nb - b < w ? nb - b : w;
            if (!lanes(in + b * GQ_BLOCK_VALUES, out + b * (size_t)block_bytes, k, stats))
                encode_portable(in + b * GQ_BLOCK_VALUES, out + b * (size_t)block_bytes, k, block_bytes, block, decode,
                                stats);
        }
    encode_portable(in + b * GQ_BLOCK_VALUES, out + b * (size_t)block_bytes, nb - b, block_bytes, block, decode, stats);
}

static int same_value(float a, float b)
{
    return a == b || (isnan(a) && isnan(b));
}

void gq__stats_add(gq_stats *stats, const float *in, const float *dec, size_t n, uint64_t blocks)
{
    if (!stats || blocks == 0)
        return;
    size_t per = n / blocks;
    double se = 0.0, sr = 0.0;
    uint64_t inexact = 0;
    for (size_t b = 0; b < n; b += per) {
        int differs = 0;
        for (size_t i = b; i < b + per; i++) {
            /* equal values (infinities included) contribute no error */
            int same = same_value(dec[i], in[i]);
            double d = same ? 0.0 : (double)dec[i] - (double)in[i];
            se += d * d;
            sr += (double)in[i] * in[i];
            differs |= !same;
        }
        inexact += (uint64_t)differs;
    }
    stats->blocks += blocks;
    stats->inexact_blocks += inexact;
    stats->sq_err += se;
    stats->sq_ref += sr;
    stats->values += n;
}

/* ---- plain float formats: a "block" is one value ---- */

void gq__f32_decode(const void *blocks, float *out, size_t n)
{
    if (n)                            /* memcpy forbids NULL even for 0 bytes */
        memcpy(out, blocks, n * sizeof(float));
}

void gq__f32_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    if (n)
        memcpy(blocks, in, n * sizeof(float));
    gq__stats_add(stats, in, in, n, n);
}

/* Scalar formats are stored little-endian; build bytes explicitly so the
 * file layout does not depend on the host. */
static uint16_t load16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void store16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

#define CHUNK 256

void gq__f16_decode(const void *blocks, float *out, size_t n)
{
    const unsigned char *p = blocks;
    for (size_t i = 0; i < n; i++)
        out[i] = gq_f16_to_f32(load16(p + 2 * i));
}

void gq__bf16_decode(const void *blocks, float *out, size_t n)
{
    /* the converter's hot path for bf16 sources: plain shifts into a u32
     * view, which compilers vectorize (the byte-wise load16 they do not) */
    const unsigned char *p = blocks;
    uint32_t tmp[CHUNK];
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < m; i++)
            tmp[i] = (uint32_t)p[2 * (at + i)] << 16 | (uint32_t)p[2 * (at + i) + 1] << 24;
        memcpy(out + at, tmp, m * sizeof(float));
    }
}

static void encode16(const float *in, void *blocks, size_t n, gq_stats *stats,
                     uint16_t (*to)(float), float (*from)(uint16_t))
{
    unsigned char *p = blocks;
    float dec[CHUNK];
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < m; i++) {
            uint16_t h = to(in[at + i]);
            store16(p + 2 * (at + i), h);
            dec[i] = from(h);
        }
        gq__stats_add(stats, in + at, dec, m, m);
    }
}

void gq__f16_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    encode16(in, blocks, n, stats, gq_f32_to_f16, gq_f16_to_f32);
}

void gq__bf16_encode(const float *in, void *blocks, size_t n, gq_stats *stats)
{
    encode16(in, blocks, n, stats, gq_f32_to_bf16, gq_bf16_to_f32);
}
