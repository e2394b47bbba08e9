/* test_convert_inputs.c - hostile or broken side files of a checkpoint are
 * refused at conversion time, exit 3, with the right file named (issue 14,
 * items 1, 2, 3 and 11): tokenizer.json checked with the runtime's own loader
 * (truncated, an id past vocab_size, merges over unknown tokens, a regex
 * that does not compile, an empty vocabulary, a NUL in a token), malformed
 * generation_config.json / tokenizer_config.json, a bad eos id blamed on
 * generation_config.json, rms_norm_eps 0, sliding layers with a window of 0,
 * rope_scaling as a string, a NUL in a config value. Each case runs on a
 * fresh copy of the tiny fixture, for both output formats; the unmodified
 * copy converts (exit 0), so every refusal is the edit's doing. */
#include <cjson/cJSON.h>

#include "check.h"
#include "conv_util.h"

static void write_text(const char *p, const char *s)
{
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

/* Replaces the first occurrence of OLD in file P by NEW; 0 if found. */
static int edit(const char *p, const char *old, const char *new_)
{
    size_t n;
    char *s = test_read_file(p, &n);
    char *at = s ? strstr(s, old) : NULL;
    if (!at) {
        free(s);
        return -1;
    }
    FILE *f = fopen(p, "wb");
    fwrite(s, 1, (size_t)(at - s), f);
    fputs(new_, f);
    fputs(at + strlen(old), f);
    fclose(f);
    free(s);
    return 0;
}

/* Rewrites tokenizer.json of CK through cJSON: fn edits the root. */
static void edit_tokenizer(const char *ck, void (*fn)(cJSON *))
{
    char p[4300];
    snprintf(p, sizeof p, "%s/tokenizer.json", ck);
    char *s = test_read_file(p, NULL);
    cJSON *root = s ? cJSON_Parse(s) : NULL;
    free(s);
    if (!root)
        return;
    fn(root);
    char *out = cJSON_PrintUnformatted(root);
    write_text(p, out);
    free(out);
    cJSON_Delete(root);
}

static void big_id(cJSON *r)
{
    cJSON *a = cJSON_GetObjectItem(r, "added_tokens");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", 5000000);
    cJSON_AddStringToObject(t, "content", "<|far|>");
    cJSON_AddBoolToObject(t, "special", 1);
    cJSON_AddItemToArray(a, t);
}

static void bad_merge(cJSON *r)
{
    cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "model"), "merges");
    cJSON_AddItemToArray(m, cJSON_CreateString("zq_not_a_token qz_neither"));
}

static void bad_regex(cJSON *r)
{
    cJSON *pt = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "pre_tokenizer"), "pretokenizers"), 0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(pt, "pattern"), "Regex", cJSON_CreateString("(unclosed"));
}

static void empty_vocab(cJSON *r)
{
    cJSON *model = cJSON_GetObjectItem(r, "model");
    cJSON_ReplaceItemInObject(model, "vocab", cJSON_CreateObject());
    cJSON_ReplaceItemInObject(model, "merges", cJSON_CreateArray());
    cJSON_ReplaceItemInObject(r, "added_tokens", cJSON_CreateArray());
}

static void truncate_file(const char *p)
{
    size_t n;
    char *s = test_read_file(p, &n);
    FILE *f = fopen(p, "wb");
    if (s && f)
        fwrite(s, 1, n / 2, f);
    if (f)
        fclose(f);
    free(s);
}

/* Fresh copy of the fixture in g_tmp/NAME. */
static const char *fresh(const char *name)
{
    const char *dst = path_in("%s", name);
    rm_rf(dst);
    cp_r(path_in("ck"), dst);
    return dst;
}

/* Converts CK to both formats: each must exit WANT and, when refused, name
 * NEEDLE1 and NEEDLE2 in stderr and leave no output. */
static void expect(const char *what, const char *ck, int want, const char *needle1, const char *needle2)
{
    static const char *ext[] = {"gptoss", "gguf"};
    for (int k = 0; k < 2; k++) {
        char out[4300];
        snprintf(out, sizeof out, "%s/../out-%s.%s", ck, what, ext[k]);
        char *argv[] = {(char *)bin("gptoss-convert"), "convert", (char *)ck, "-o", out, "-q", NULL};
        run_result r = run(argv);
        CHECK_MSG(r.status == want, "%s (%s): exit %d, want %d: %s", what, ext[k], r.status, want, r.err);
        if (want != 0) {
            CHECK_MSG(strstr(r.err, needle1) && (!needle2 || strstr(r.err, needle2)),
                      "%s (%s): message '%s' lacks '%s' / '%s'", what, ext[k], r.err, needle1, needle2 ? needle2 : "");
            CHECK_MSG(!file_exists(out), "%s (%s): no output after a refusal", what, ext[k]);
        }
        run_free(&r);
        unlink(out);
    }
}

int main(void)
{
    int s = conv_setup("inputs");
    if (s)
        return s == -1 ? CHECK_SKIP : 1;
    const char *ck;
    char p[4300];

    expect("pristine", fresh("pristine"), 0, NULL, NULL);

    /* item 1: tokenizer.json, through the runtime's loader */
    ck = fresh("tok_trunc");
    snprintf(p, sizeof p, "%s/tokenizer.json", ck);
    truncate_file(p);
    expect("tok_trunc", ck, 3, "tokenizer.json", "not valid JSON");
    ck = fresh("tok_bigid");
    edit_tokenizer(ck, big_id);
    expect("tok_bigid", ck, 3, "token id 5000000", "vocab_size 1024");
    ck = fresh("tok_merge");
    edit_tokenizer(ck, bad_merge);
    expect("tok_merge", ck, 3, "tokenizer.json", "merge #");
    ck = fresh("tok_regex");
    edit_tokenizer(ck, bad_regex);
    expect("tok_regex", ck, 3, "tokenizer.json", "does not compile");
    ck = fresh("tok_empty");
    edit_tokenizer(ck, empty_vocab);
    expect("tok_empty", ck, 3, "tokenizer.json", "empty vocabulary");
    ck = fresh("tok_nul");
    snprintf(p, sizeof p, "%s/tokenizer.json", ck);
    CHECK(edit(p, "\"<|endoftext|>\"", "\"<|endoftext|>\\u0000x\"") == 0);
    expect("tok_nul", ck, 3, "tokenizer.json", "NUL character");

    /* item 2: the side configs */
    ck = fresh("gen_bad");
    snprintf(p, sizeof p, "%s/generation_config.json", ck);
    write_text(p, "{\"eos_token_id\": [1004, 1001");
    expect("gen_bad", ck, 3, "generation_config.json", "not a JSON object");
    ck = fresh("gen_eos");
    snprintf(p, sizeof p, "%s/generation_config.json", ck);
    write_text(p, "{\"eos_token_id\": [1004, 99999]}");
    expect("gen_eos", ck, 3, "generation_config.json: key 'eos_token_id'", NULL);
    ck = fresh("tokcfg_bad");
    snprintf(p, sizeof p, "%s/tokenizer_config.json", ck);
    truncate_file(p);
    expect("tokcfg_bad", ck, 3, "tokenizer_config.json", "not a JSON object");

    /* item 3: values the model math cannot use */
    ck = fresh("eps0");
    snprintf(p, sizeof p, "%s/config.json", ck);
    CHECK(edit(p, "\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 0") == 0);
    expect("eps0", ck, 3, "config.json", "rms_norm_eps");
    ck = fresh("window0");
    snprintf(p, sizeof p, "%s/config.json", ck);
    CHECK(edit(p, "\"sliding_window\": 128", "\"sliding_window\": 0") == 0);
    expect("window0", ck, 3, "config.json", "sliding_window");
    ck = fresh("rope_str");
    snprintf(p, sizeof p, "%s/config.json", ck);
    CHECK(edit(p, "\"rope_scaling\": {", "\"rope_scaling\": \"yarn\", \"x_was_rope\": {") == 0);
    expect("rope_str", ck, 3, "config.json", "rope_scaling must be an object");

    /* item 11: a NUL in a value read as a name */
    ck = fresh("cfg_nul");
    snprintf(p, sizeof p, "%s/config.json", ck);
    CHECK(edit(p, "\"full_attention\"", "\"full_attention\\u0000x\"") == 0);
    expect("cfg_nul", ck, 3, "config.json", "NUL character");

    rm_rf(g_tmp);
    return check_done("test_convert_inputs");
}
