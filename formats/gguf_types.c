/* gguf_types.c - ggml's tensor type table (ids, names, block geometry) and
 * the mapping from our block formats. Only the geometry matters here: it is
 * what a reader needs to check tensor sizes and list other people's files
 * even when we cannot compute with their types. Block sizes are those of
 * ggml's block structs (ggml-common.h) as of the llama.cpp release in
 * tools/node_modules. */
#include "gguf.h"

/* Ours (f32, f16, bf16, q4_0, q8_0, mxfp4) take their geometry from quant/,
 * the one definition; the other rows are ggml's own numbers, for reading
 * other people's files (an 18 there is a coincidence, not Q4_32). */
static const gguf_type_desc TYPES[] = {
    {GGML_T_F32, "f32", 1, GQ_F32_BYTES},
    {GGML_T_F16, "f16", 1, GQ_F16_BYTES},
    {GGML_T_Q4_0, "q4_0", GQ_BLOCK_VALUES, GQ_Q4_32_BLOCK_BYTES},
    {GGML_T_Q4_1, "q4_1", 32, 20},
    {GGML_T_Q5_0, "q5_0", 32, 22},
    {GGML_T_Q5_1, "q5_1", 32, 24},
    {GGML_T_Q8_0, "q8_0", GQ_BLOCK_VALUES, GQ_Q8_32_BLOCK_BYTES},
    {GGML_T_Q8_1, "q8_1", 32, 36},
    {GGML_T_Q2_K, "q2_K", 256, 84},
    {GGML_T_Q3_K, "q3_K", 256, 110},
    {GGML_T_Q4_K, "q4_K", 256, 144},
    {GGML_T_Q5_K, "q5_K", 256, 176},
    {GGML_T_Q6_K, "q6_K", 256, 210},
    {GGML_T_Q8_K, "q8_K", 256, 292},
    {GGML_T_IQ2_XXS, "iq2_xxs", 256, 66},
    {GGML_T_IQ2_XS, "iq2_xs", 256, 74},
    {GGML_T_IQ3_XXS, "iq3_xxs", 256, 98},
    {GGML_T_IQ1_S, "iq1_s", 256, 50},
    {GGML_T_IQ4_NL, "iq4_nl", 32, 18},
    {GGML_T_IQ3_S, "iq3_s", 256, 110},
    {GGML_T_IQ2_S, "iq2_s", 256, 82},
    {GGML_T_IQ4_XS, "iq4_xs", 256, 136},
    {GGML_T_I8, "i8", 1, 1},
    {GGML_T_I16, "i16", 1, 2},
    {GGML_T_I32, "i32", 1, 4},
    {GGML_T_I64, "i64", 1, 8},
    {GGML_T_F64, "f64", 1, 8},
    {GGML_T_IQ1_M, "iq1_m", 256, 56},
    {GGML_T_BF16, "bf16", 1, GQ_BF16_BYTES},
    {GGML_T_TQ1_0, "tq1_0", 256, 54},
    {GGML_T_TQ2_0, "tq2_0", 256, 66},
    {GGML_T_MXFP4, "mxfp4", GQ_BLOCK_VALUES, GQ_MXFP4_BLOCK_BYTES},
    {GGML_T_NVFP4, "nvfp4", 64, 36},
    {GGML_T_Q1_0, "q1_0", 128, 18},
    {GGML_T_Q2_0, "q2_0", 64, 18},
};

const gguf_type_desc *gguf_type_info(uint32_t t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].id == t) return &TYPES[i];
    return NULL;
}

int gguf_type_from_gq(gq_type t)
{
    const gq_traits *tr = gq_traits_of(t);
    return tr ? tr->ggml_type : -1;
}

uint64_t gguf_tensor_bytes(uint32_t ggml_type, int n_dims, const int64_t *ne)
{
    const gguf_type_desc *d = gguf_type_info(ggml_type);
    if (!d || n_dims < 1 || n_dims > GGUF_MAX_DIMS) return UINT64_MAX;
    for (int i = 0; i < n_dims; i++)
        if (ne[i] < 0) return UINT64_MAX;
    if ((uint64_t)ne[0] % d->block_values) return UINT64_MAX;
    uint64_t rows = 1;
    for (int i = 1; i < n_dims; i++) {
        uint64_t n = (uint64_t)ne[i];
        if (n && rows > UINT64_MAX / n) return UINT64_MAX;
        rows *= n;
    }
    uint64_t row_bytes = (uint64_t)ne[0] / d->block_values * d->block_bytes;
    if (row_bytes && rows > UINT64_MAX / row_bytes) return UINT64_MAX;
    uint64_t total = rows * row_bytes;
    /* keep sizes far from the top so offset + size + padding cannot wrap */
    if (total > (UINT64_MAX >> 2)) return UINT64_MAX;
    return total;
}

const char *gguf_vtype_name(uint32_t vt)
{
    static const char *const N[GGUF_VT_COUNT] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                 "bool", "str", "arr", "u64", "i64", "f64"};
    return vt < GGUF_VT_COUNT ? N[vt] : "?";
}
