/* test_convert_plan.c - the plan's pieces without files: recipes and their
 * refusals, config parsing of both layouts (the real gpt-oss-20b numbers
 * from the reference doc, HF keys vs OpenAI's keys -> the same hparams),
 * config errors naming the key, and producer row views (the affine
 * selection the GGUF split relies on), checked row by row against the
 * index arithmetic written out here. */
#include "check.h"
#include "pipeline.h"
#include "plan.h"

static const char *HF20B =
    "{\"num_hidden_layers\": 24, \"num_local_experts\": 32, \"num_experts_per_tok\": 4,"
    " \"hidden_size\": 2880, \"intermediate_size\": 2880, \"num_attention_heads\": 64,"
    " \"num_key_value_heads\": 8, \"head_dim\": 64, \"vocab_size\": 201088, \"sliding_window\": 128,"
    " \"max_position_embeddings\": 131072, \"rope_theta\": 150000, \"rms_norm_eps\": 1e-05,"
    " \"swiglu_limit\": 7.0, \"eos_token_id\": 200002, \"pad_token_id\": 199999,"
    " \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 32.0, \"original_max_position_embeddings\": 4096,"
    " \"beta_fast\": 32.0, \"beta_slow\": 1.0, \"truncate\": false},"
    " \"layer_types\": [\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\","
    "\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\",\"sliding_attention\","
    "\"full_attention\",\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\","
    "\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\",\"sliding_attention\","
    "\"full_attention\",\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\"]}";

static const char *ORIG20B =
    "{\"num_hidden_layers\": 24, \"num_experts\": 32, \"experts_per_token\": 4, \"vocab_size\": 201088,"
    " \"hidden_size\": 2880, \"intermediate_size\": 2880, \"swiglu_limit\": 7.0, \"head_dim\": 64,"
    " \"num_attention_heads\": 64, \"num_key_value_heads\": 8, \"sliding_window\": 128,"
    " \"initial_context_length\": 4096, \"rope_theta\": 150000, \"rope_scaling_factor\": 32.0,"
    " \"rope_ntk_alpha\": 1, \"rope_ntk_beta\": 32}";

static const char *GEN = "{\"eos_token_id\": [200002, 199999, 200012], \"pad_token_id\": 199999}";

static void test_recipes(void)
{
    cv_recipe r;
    char errbuf[256], *err = errbuf;
    CHECK(cv_recipe_make(&r, NULL, NULL, NULL, NULL, NULL, err, sizeof errbuf) == 0);
    CHECK(r.type[CV_CLASS_EXPERTS] == GQ_MXFP4 && r.type[CV_CLASS_EMBED] == GQ_BF16 && r.type[CV_CLASS_F32] == GQ_F32);
    CHECK(cv_recipe_make(&r, "q8", NULL, NULL, NULL, "mxfp4", err, sizeof errbuf) == 0);
    CHECK(r.type[CV_CLASS_EXPERTS] == GQ_MXFP4 && r.type[CV_CLASS_ATTN] == GQ_Q8_32 && r.type[CV_CLASS_HEAD] == GQ_Q8_32);
    CHECK(!strcmp(r.name, "q8,experts=mxfp4"));
    CHECK(cv_recipe_make(&r, "q4", NULL, NULL, NULL, NULL, err, sizeof errbuf) == 0);
    for (int c = 0; c < CV_CLASS_F32; c++)
        CHECK(r.type[c] == GQ_Q4_32);
    CHECK(r.type[CV_CLASS_F32] == GQ_F32);
    CHECK(cv_recipe_make(&r, "q5", NULL, NULL, NULL, NULL, err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "q5");
    CHECK(cv_recipe_make(&r, "q8", "mxfp4", NULL, NULL, NULL, err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "only the experts");
    CHECK(cv_recipe_make(&r, "q8", NULL, "f16", NULL, NULL, err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "--attn");
}

static void test_configs(void)
{
    gf_hparams a, b;
    char errbuf[512], *err = errbuf;
    CHECK_MSG(cv_hparams_from_config(&a, CV_LAYOUT_HF, HF20B, GEN, NULL, "config.json", err, sizeof errbuf) == 0, "%s", err);
    CHECK(a.n_layers == 24 && a.n_experts == 32 && a.n_experts_per_tok == 4 && a.hidden == 2880);
    CHECK(a.n_heads == 64 && a.n_kv_heads == 8 && a.head_dim == 64 && a.vocab == 201088);
    CHECK(a.max_ctx == 131072 && a.rope_orig_ctx == 4096 && a.rope_factor == 32 && a.rope_truncate == 0);
    CHECK(a.rope_beta_fast == 32 && a.rope_beta_slow == 1 && a.rms_eps == 1e-5 && a.swiglu_limit == 7);
    CHECK(a.layer_sliding[0] == 1 && a.layer_sliding[1] == 0 && a.layer_sliding[22] == 1 && a.layer_sliding[23] == 0);
    CHECK(a.n_eos == 3 && a.eos_ids[0] == 200002 && a.eos_ids[1] == 199999 && a.eos_ids[2] == 200012);
    CHECK(a.pad_id == 199999 && a.bos_id == -1);
    /* original/ keys + the root's token ids -> identical hparams */
    CHECK_MSG(cv_hparams_from_config(&b, CV_LAYOUT_ORIGINAL, ORIG20B, GEN, HF20B, "original/config.json", err,
                                     sizeof errbuf) == 0, "%s", err);
    CHECK_MSG(!memcmp(&a, &b, sizeof a), "HF and original/ configs give different hparams");
    /* without generation_config the HF eos is the config's single id */
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, HF20B, NULL, NULL, "config.json", err, sizeof errbuf) == 0);
    CHECK(a.n_eos == 1 && a.eos_ids[0] == 200002);

    /* errors name the file and the key */
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", HF20B);
    char *p = strstr(bad, "\"hidden_size\": 2880");
    memcpy(p, "\"hidden_size\": -288", 19);
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, bad, NULL, NULL, "cfg.json", err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "cfg.json");
    CHECK_STR_CONTAINS(err, "hidden_size");
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, "[1,2]", NULL, NULL, "cfg.json", err, sizeof errbuf) == -1);
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, "{\"num_hidden_layers\": 1e9}", NULL, NULL, "c", err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "num_hidden_layers");
    snprintf(bad, sizeof bad, "%s", HF20B);
    p = strstr(bad, "\"sliding_attention\",\"full");
    memcpy(p, "\"slidinG", 8);
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, bad, NULL, NULL, "c", err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "layer_types[0]");
    CHECK(cv_hparams_from_config(&a, CV_LAYOUT_HF, HF20B, "{\"eos_token_id\": [1, 300000]}", NULL, "c", err,
                                 sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "eos_token_id");
}

static void test_producers(void)
{
    /* A fake dense [E=3, 2I=8, D=4] bf16 source: rows of 4. */
    static uint8_t data[3 * 8 * 4 * 2];
    st_tensor src = {"gate_up", ST_BF16, 3, {3, 8, 4}, sizeof data, data, 0};
    cv_producer base = {CV_SRC_DENSE, &src, NULL, GQ_BF16, 4, 24, 0, 1};
    char errbuf[256], *err = errbuf;
    CHECK(cv_producer_check(&base, 24, err, sizeof errbuf) == 0);
    CHECK(cv_producer_check(&base, 25, err, sizeof errbuf) == -1);
    /* gate rows (even) and up rows (odd) of the interleaved tensor */
    cv_producer gate, up;
    CHECK(cv_producer_select(&gate, &base, 4, 0, 2) == 0);
    CHECK(cv_producer_select(&up, &base, 4, 1, 2) == 0);
    CHECK(cv_producer_check(&gate, 12, err, sizeof errbuf) == 0 && cv_producer_check(&up, 12, err, sizeof errbuf) == 0);
    CHECK(cv_producer_check(&up, 13, err, sizeof errbuf) == -1);
    for (uint64_t e = 0; e < 3; e++)
        for (uint64_t i = 0; i < 4; i++) {
            CHECK(cv_producer_src_row(&gate, e * 4 + i) == e * 8 + 2 * i);
            CHECK(cv_producer_src_row(&up, e * 4 + i) == e * 8 + 2 * i + 1);
        }
    /* bias [E, 2I] viewed as single elements: gate element (e, i) = (e, 2i) */
    cv_producer b2 = {CV_SRC_DENSE, &src, NULL, GQ_BF16, 8, 12, 0, 1}, bg;
    CHECK(cv_producer_select(&bg, &b2, 1, 0, 2) == 0);
    CHECK(bg.src_rows == 96 && cv_producer_src_row(&bg, 5) == 10);
    /* a slice with an offset (fused qkv: k rows start at row 4), then a sub-view */
    cv_producer k = base, ks;
    k.row_offset = 4;
    CHECK(cv_producer_select(&ks, &k, 2, 1, 2) == 0);
    CHECK(cv_producer_src_row(&ks, 0) == 9 && cv_producer_src_row(&ks, 1) == 11);
    /* regrouping a strided view is not affine: refused */
    CHECK(cv_producer_select(&ks, &gate, 2, 0, 1) == -1);
    /* byte ranges for madvise */
    const uint8_t *rb[2], *re[2];
    CHECK(cv_producer_ranges(&up, 2, 3, rb, re) == 1);
    CHECK(rb[0] == data + 5 * 8 && re[0] == data + 10 * 8);
}

/* The direct MXFP4 -> q8_32 path equals decode-to-floats + the q8 encoder,
 * byte for byte, for every scale byte and code patterns that hit every
 * trailing-zero case (odd K, K in {2,6}, {4,12}, {8}, zeros, -0). */
static void test_mxfp4_to_q8(void)
{
    static const uint8_t pools[][8] = {
        {1, 3, 9, 11, 2, 5, 14, 0},   /* mixed: min ctz 0 */
        {2, 5, 10, 13, 0, 8, 2, 5},   /* K 2, 6: ctz 1 */
        {4, 7, 12, 15, 0, 8, 4, 7},   /* K 4, 12... ctz 2 with 8 too? 7 is K=12 (ctz 2) */
        {6, 14, 6, 14, 0, 8, 6, 14},  /* K 8: ctz 3 */
        {0, 8, 0, 8, 0, 8, 0, 8},     /* all zero / -0 */
        {7, 15, 7, 15, 7, 15, 7, 15}, /* K 12 only */
    };
    uint64_t rng = 0x1234567u;
    uint8_t codes[16], scale;
    uint8_t a[34], b[34];
    float scratch[32];
    int mismatches = 0, checked = 0;
    for (int e = 0; e < 256; e++) {
        for (int pat = 0; pat < 6 * 8; pat++) {
            const uint8_t *pool = pools[pat % 6];
            for (int k = 0; k < 16; k++) {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                codes[k] = (uint8_t)(pool[rng & 7] | (pool[(rng >> 3) & 7] << 4));
                if (pat >= 36) /* fully random codes */
                    codes[k] = (uint8_t)(rng >> 11);
            }
            scale = (uint8_t)e;
            gq_stats sa = {0}, sb = {0};
            cv_mxfp4_hf_to_q8(codes, &scale, 1, a, scratch, &sa);
            gq_mxfp4_hf_decode(codes, &scale, 1, scratch);
            gq_traits_of(GQ_Q8_32)->encode(scratch, b, 32, &sb);
            checked++;
            if (memcmp(a, b, 34) || sa.blocks != sb.blocks || sa.values != sb.values ||
                sa.inexact_blocks != sb.inexact_blocks) {
                if (mismatches++ < 5)
                    CHECK_MSG(0, "direct q8 differs: scale %d pattern %d", e, pat);
            }
        }
    }
    CHECK_MSG(mismatches == 0, "%d of %d blocks differ", mismatches, checked);

    /* many blocks per call (the vector path runs blocks until one needs the
     * scalar path, which then takes that block): every block as if alone */
    enum { NB = 4096 };
    static uint8_t mc[NB * 16], ms[NB], ma[NB * 34], mb[NB * 34];
    for (int i = 0; i < NB; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        const uint8_t *pool = pools[rng % 6];
        for (int k = 0; k < 16; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            mc[i * 16 + k] = i % 3 ? (uint8_t)(pool[rng & 7] | (pool[(rng >> 3) & 7] << 4)) : (uint8_t)(rng >> 11);
        }
        ms[i] = (uint8_t)(i % 5 ? 100 + (rng >> 40) % 60 : (rng >> 40)); /* mostly the exact range, all 256 too */
    }
    gq_stats all = {0}, one = {0};
    cv_mxfp4_hf_to_q8(mc, ms, NB, ma, scratch, &all);
    for (int i = 0; i < NB; i++)
        cv_mxfp4_hf_to_q8(mc + 16 * i, ms + i, 1, mb + 34 * i, scratch, &one);
    CHECK_MSG(!memcmp(ma, mb, sizeof ma), "a %d-block call differs from one block at a time", NB);
    CHECK(all.blocks == one.blocks && all.values == one.values && all.inexact_blocks == one.inexact_blocks &&
          all.sq_err == one.sq_err);
}

int main(void)
{
    test_mxfp4_to_q8();
    test_recipes();
    test_configs();
    test_producers();
    return check_done("test_convert_plan");
}
