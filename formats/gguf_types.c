/* gguf_types.c - ggml's tensor type table (ids, names, block geometry) and
 * the mapping from our block formats. Only the geometry matters here: it is
 * what a reader needs to check tensor sizes and list other people's files
 * even when we cannot compute with their types. Block sizes are those of
 * ggml's block structs (ggml-common.h) as of the llama.cpp release in
 * tools/node_modules. */
#include "gguf.h"

static const gguf_type_desc TYPES[] = {
    {0, "f32", 1, 4},          {1, "f16", 1, 2},
    {2, "q4_0", 32, 18},       {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},       {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},       {9, "q8_1", 32, 36},
    {10, "q2_K", 256, 84},     {11, "q3_K", 256, 110},
    {12, "q4_K", 256, 144},    {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},    {15, "q8_K", 256, 292},
    {16, "iq2_xxs", 256, 66},  {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98},  {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},    {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82},    {23, "iq4_xs", 256, 136},
    {24, "i8", 1, 1},          {25, "i16", 1, 2},
    {26, "i32", 1, 4},         {27, "i64", 1, 8},
    {28, "f64", 1, 8},         {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},        {34, "tq1_0", 256, 54},
    {35, "tq2_0", 256, 66},    {39, "mxfp4", 32, 17},
    {40, "nvfp4", 64, 36},     {41, "q1_0", 128, 18},
    {42, "q2_0", 64, 18},
};

const gguf_type_desc *gguf_type_info(uint32_t t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].id == t) return &TYPES[i];
    return NULL;
}

int gguf_type_from_gq(gq_type t)
{
    switch (t) {
    case GQ_F32: return GGML_T_F32;
    case GQ_F16: return GGML_T_F16;
    case GQ_BF16: return GGML_T_BF16;
    case GQ_MXFP4: return GGML_T_MXFP4;
    case GQ_Q8_32: return GGML_T_Q8_0;
    case GQ_Q4_32: return GGML_T_Q4_0;
    default: return -1;
    }
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
