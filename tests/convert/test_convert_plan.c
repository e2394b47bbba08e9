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

int main(void)
{
    test_recipes();
    test_configs();
    test_producers();
    return check_done("test_convert_plan");
}
