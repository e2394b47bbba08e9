/* gk_dot.c - choosing the dot-product path at run time (see gk_dot.h):
 * which instruction set, and for each format which loop, by table lookup
 * (gk_isa_kernels in gk_dot_impl.h). A format with no loop anywhere still
 * works, through the reference built here from quant's decoder. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gk_dot_impl.h"

static int g_isa = -1; /* -1: not chosen yet */

int gk_isa_supported(gk_isa isa)
{
    switch (isa) {
    case GK_ISA_SCALAR:
        return 1;
#ifdef GK_HAVE_X86
    case GK_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GK_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case GK_ISA_NEON:
        return 1; /* Advanced SIMD is mandatory on aarch64 */
#endif
    default:
        return 0;
    }
}

const char *gk_isa_name(gk_isa isa)
{
    static const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    return (unsigned)isa < 4 ? names[isa] : "?";
}

gk_isa gk_isa_best(void)
{
    const char *env = getenv("GQ_ISA");
    if (env && *env) {
        for (int i = 0; i < 4; i++)
            if (!strcmp(env, gk_isa_name((gk_isa)i)) && gk_isa_supported((gk_isa)i))
                return (gk_isa)i;
    }
    if (gk_isa_supported(GK_ISA_NEON))
        return GK_ISA_NEON;
    if (gk_isa_supported(GK_ISA_AVX512))
        return GK_ISA_AVX512;
    if (gk_isa_supported(GK_ISA_AVX2))
        return GK_ISA_AVX2;
    return GK_ISA_SCALAR;
}

gk_isa gk_isa_active(void)
{
    if (g_isa < 0)
        g_isa = (int)gk_isa_best();
    return (gk_isa)g_isa;
}

int gk_set_isa(gk_isa isa)
{
    if (!gk_isa_supported(isa))
        return -1;
    g_isa = (int)isa;
    return 0;
}

/* ---- the reference: quant's decoder, then an fp32 dot ----
 * gk_dot_fn carries no type, so each type index gets a two-line thunk; the
 * thunks read the traits table at call time, so a format added to quant/
 * needs nothing here (up to GK_REF_MAX formats). */
#define GK_REF_MAX 8
_Static_assert(GQ_TYPE_COUNT <= GK_REF_MAX, "add GK_REF thunks for the new formats in gk_dot.c");

enum { REF_CHUNK = 256 };   /* values decoded per step (ggml's largest blocks are 256) */

static float ref_dot(gq_type t, const void *row, const float *x, int64_t n)
{
    const gq_traits *tr = gq_traits_of(t);
    const int64_t step = REF_CHUNK - REF_CHUNK % tr->block_values; /* whole blocks */
    const uint8_t *p = row;
    float buf[REF_CHUNK], s = 0;
    if (step <= 0)
        return NAN;             /* a block larger than REF_CHUNK: raise REF_CHUNK */
    for (int64_t i = 0; i < n; i += step) {
        int64_t m = n - i < step ? n - i : step;
        tr->decode(p, buf, (size_t)m);
        p += (size_t)m / (size_t)tr->block_values * (size_t)tr->block_bytes;
        for (int64_t j = 0; j < m; j++)
            s += buf[j] * x[i + j];
    }
    return s;
}

static void ref_decode(gq_type t, const void *row, float *out, int64_t n)
{
    gq_traits_of(t)->decode(row, out, (size_t)n);
}

#define GK_REF(i)                                                                                              \
    static float ref_dot_##i(const void *row, const float *x, int64_t n) { return ref_dot((gq_type)i, row, x, n); } \
    static void ref_decode_##i(const void *row, float *out, int64_t n) { ref_decode((gq_type)i, row, out, n); }
GK_REF(0)
GK_REF(1)
GK_REF(2)
GK_REF(3)
GK_REF(4)
GK_REF(5)
GK_REF(6)
GK_REF(7)

static const gk_dot_fn ref_dots[GK_REF_MAX] = {ref_dot_0, ref_dot_1, ref_dot_2, ref_dot_3,
                                               ref_dot_4, ref_dot_5, ref_dot_6, ref_dot_7};
static const gk_decode_fn ref_decodes[GK_REF_MAX] = {ref_decode_0, ref_decode_1, ref_decode_2, ref_decode_3,
                                                     ref_decode_4, ref_decode_5, ref_decode_6, ref_decode_7};

/* ---- per instruction set ---- */

/* The table of an instruction set this build has and this CPU runs; NULL otherwise. */
static const gk_isa_kernels *table_of(gk_isa isa)
{
    if (!gk_isa_supported(isa))
        return NULL;
    switch (isa) {
    case GK_ISA_SCALAR: return &gk_kernels_scalar;
#ifdef GK_HAVE_X86
    case GK_ISA_AVX2: return &gk_kernels_avx2;
    case GK_ISA_AVX512: return &gk_kernels_avx512;
#endif
#if defined(__aarch64__)
    case GK_ISA_NEON: return &gk_kernels_neon;
#endif
    default: return NULL;
    }
}

/* Where to look next when a set has no loop for a format; -1 after scalar. */
static int next_isa(int isa)
{
    return isa == GK_ISA_AVX512 ? GK_ISA_AVX2 : isa == GK_ISA_SCALAR ? -1 : GK_ISA_SCALAR;
}

#define LOOKUP(field)                                                                                          \
    for (int i = (int)isa < 0 ? GK_ISA_SCALAR : (int)isa; i >= 0; i = next_isa(i)) {                          \
        const gk_isa_kernels *k = table_of((gk_isa)i);                                                         \
        if (k && k->field)                                                                                     \
            return k->field;                                                                                   \
    }

gk_dot_fn gk_dot_for_isa(gq_type t, gk_isa isa)
{
    if ((unsigned)t >= GQ_TYPE_COUNT)
        return NULL;
    LOOKUP(dot[t])
    return ref_dots[t];
}

gk_decode_fn gk_decode_for_isa(gq_type t, gk_isa isa)
{
    if ((unsigned)t >= GQ_TYPE_COUNT)
        return NULL;
    LOOKUP(decode[t])
    return ref_decodes[t];
}

gk_dotf_fn gk_dotf_for_isa(gk_isa isa)
{
    LOOKUP(dotf)
    return gk_kernels_scalar.dotf;
}

gk_tile_fn gk_tile_for_isa(gk_isa isa)
{
    LOOKUP(tile)
    return gk_kernels_scalar.tile;
}

gk_dot_fn gk_dot_ref_for(gq_type t) { return (unsigned)t < GQ_TYPE_COUNT ? ref_dots[t] : NULL; }
gk_decode_fn gk_decode_ref_for(gq_type t) { return (unsigned)t < GQ_TYPE_COUNT ? ref_decodes[t] : NULL; }

gk_tile_fn gk_tile(void) { return gk_tile_for_isa(gk_isa_active()); }
gk_dot_fn gk_dot_for(gq_type t) { return gk_dot_for_isa(t, gk_isa_active()); }
gk_dotf_fn gk_dotf(void) { return gk_dotf_for_isa(gk_isa_active()); }
gk_decode_fn gk_decode_for(gq_type t) { return gk_decode_for_isa(t, gk_isa_active()); }
