/* gk_dot.c - choosing the dot-product path at run time (see gk_dot.h). */
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

gk_dot_fn gk_dot_for_isa(gq_type t, gk_isa isa)
{
#ifdef GK_HAVE_X86
    if (isa == GK_ISA_AVX512 && gk_isa_supported(GK_ISA_AVX512)) {
        switch (t) {
        case GQ_F32: return gk_dot_f32_avx512;
        case GQ_BF16: return gk_dot_bf16_avx512;
        case GQ_MXFP4: return gk_dot_mxfp4_avx512;
        case GQ_Q8_32: return gk_dot_q8_32_avx512;
        case GQ_Q4_32: return gk_dot_q4_32_avx512;
        default: break;
        }
    }
    if ((isa == GK_ISA_AVX2 || isa == GK_ISA_AVX512) && gk_isa_supported(GK_ISA_AVX2)) {
        switch (t) {
        case GQ_F32: return gk_dot_f32_avx2;
        case GQ_BF16: return gk_dot_bf16_avx2;
        case GQ_MXFP4: return gk_dot_mxfp4_avx2;
        case GQ_Q8_32: return gk_dot_q8_32_avx2;
        case GQ_Q4_32: return gk_dot_q4_32_avx2;
        default: break;
        }
    }
#elif defined(__aarch64__)
    if (isa == GK_ISA_NEON) {
        switch (t) {
        case GQ_F32: return gk_dot_f32_neon;
        case GQ_BF16: return gk_dot_bf16_neon;
        case GQ_MXFP4: return gk_dot_mxfp4_neon;
        case GQ_Q8_32: return gk_dot_q8_32_neon;
        case GQ_Q4_32: return gk_dot_q4_32_neon;
        default: break;
        }
    }
#else
    (void)isa;
#endif
    switch (t) {
    case GQ_F32: return gk_dot_f32_scalar;
    case GQ_F16: return gk_dot_f16_scalar;
    case GQ_BF16: return gk_dot_bf16_scalar;
    case GQ_MXFP4: return gk_dot_mxfp4_scalar;
    case GQ_Q8_32: return gk_dot_q8_32_scalar;
    case GQ_Q4_32: return gk_dot_q4_32_scalar;
    default: return NULL;
    }
}

gk_dotf_fn gk_dotf_for_isa(gk_isa isa)
{
#ifdef GK_HAVE_X86
    if (isa == GK_ISA_AVX512 && gk_isa_supported(GK_ISA_AVX512))
        return gk_dotf_avx512;
    if ((isa == GK_ISA_AVX2 || isa == GK_ISA_AVX512) && gk_isa_supported(GK_ISA_AVX2))
        return gk_dotf_avx2;
#elif defined(__aarch64__)
    if (isa == GK_ISA_NEON)
        return gk_dotf_neon;
#else
    (void)isa;
#endif
    return gk_dotf_scalar;
}

gk_tile_fn gk_tile_for_isa(gk_isa isa)
{
#ifdef GK_HAVE_X86
    if (isa == GK_ISA_AVX512 && gk_isa_supported(GK_ISA_AVX512))
        return gk_tile_avx512;
    if ((isa == GK_ISA_AVX2 || isa == GK_ISA_AVX512) && gk_isa_supported(GK_ISA_AVX2))
        return gk_tile_avx2;
#else
    (void)isa;
#endif
    return gk_tile_scalar;
}

gk_tile_fn gk_tile(void) { return gk_tile_for_isa(gk_isa_active()); }

gk_dot_fn gk_dot_for(gq_type t) { return gk_dot_for_isa(t, gk_isa_active()); }
gk_dotf_fn gk_dotf(void) { return gk_dotf_for_isa(gk_isa_active()); }

gk_decode_fn gk_decode_for(gq_type t) { return gk_decode_for_isa(t, gk_isa_active()); }

gk_decode_fn gk_decode_for_isa(gq_type t, gk_isa isa)
{
#ifdef GK_HAVE_X86
    if (isa == GK_ISA_AVX512 && gk_isa_supported(GK_ISA_AVX512)) {
        switch (t) {
        case GQ_MXFP4: return gk_decode_mxfp4_avx512;
        case GQ_Q8_32: return gk_decode_q8_32_avx512;
        case GQ_Q4_32: return gk_decode_q4_32_avx512;
        case GQ_BF16: return gk_decode_bf16_avx512;
        default: break;
        }
    }
#else
    (void)isa;
#endif
    switch (t) {
    case GQ_F32: return gk_decode_f32;
    case GQ_F16: return gk_decode_f16;
    case GQ_BF16: return gk_decode_bf16;
    case GQ_MXFP4: return gk_decode_mxfp4;
    case GQ_Q8_32: return gk_decode_q8_32;
    case GQ_Q4_32: return gk_decode_q4_32;
    default: return NULL;
    }
}
