/* test_gguf_run.c - a GGUF runs as the .gptoss of the same recipe does.
 *
 *   test_gguf_run A.gptoss B.gguf [TEXT...]
 * The reference is the .gptoss runtime path (gm_open + its tokenizer.json
 * blob), which has its own proofs against HF; the GGUF path must give:
 *  - the same hyper-parameters, field by field;
 *  - the same gb_weights: type, shape, row bytes, and byte-identical host
 *    bytes (the expert gate/up pair re-interleaved from GGUF's two tensors);
 *  - the same tokenizer: every id's bytes and special flag, and the same ids
 *    for built-in varied texts and each TEXT file, with and without special
 *    tokens parsed;
 *  - bit-identical logits over a prompt and 24 greedy steps on the CPU.
 *
 *   test_gguf_run --replace IN OUT OLD NEW
 * writes IN with the first occurrence of the string OLD (in the header)
 * replaced by NEW (same length): the malformed-file cases of gguf_run.sh.
 *   test_gguf_run --retype IN OUT TENSOR GGML_TYPE
 * writes IN with TENSOR's ggml type changed (its size shrinks or the file
 * becomes unreadable, whichever the reader says). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_read.h"
#include "gguf.h"
#include "model_cli.h"
#include "tokenizer.h"

static int fails;
#define CHECK(c, ...)                                                                                                \
    do {                                                                                                             \
        if (!(c)) {                                                                                                  \
            fails++;                                                                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                    \
            fprintf(stderr, __VA_ARGS__);                                                                            \
            fputc('\n', stderr);                                                                                     \
        }                                                                                                            \
    } while (0)

static const char *const TEXTS[] = {
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog. It's 12345678 o'clock; we'll see.",
    "def f(x):\n    return x ** 2  # square\n\n\n\tif x != 0: print('ok')\r\n",
    "日本語のテキストと中文混合，还有한국어도 있어요.",
    "Emoji 🙂🚀👍🏽 and symbols ∑∫√ — “quotes” ‘single’ …",
    "   leading and trailing spaces   \n\n   ",
    "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant",
    "numbers 3.14159 1,000,000 -42 0x1F 1e-9",
    "CamelCaseWords and ALLCAPS and lowerUPPER MiXeD",
    "\xff\xfe invalid \xc3 utf-8 \xe2\x82 bytes",
    "",
};

static int rw_file(const char *in, const char *out, char *buf_out[1], size_t *len)
{
    char err[512];
    *buf_out = gio_read_file(in, 0, len, err, sizeof err);
    if (!*buf_out) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    (void)out;
    return 0;
}

static int write_file(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) return -1;
    return 0;
}

/* The GGUF string OLD (u64 length + bytes) in buf: its first byte, or NULL. */
static char *find_gguf_str(char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 8; i + n <= len; i++) {
        uint64_t l;
        memcpy(&l, buf + i - 8, 8);
        if (l == n && !memcmp(buf + i, s, n)) return buf + i;
    }
    return NULL;
}

static int patch(int argc, char **argv)
{
    if (argc != 6) return 2;
    char *buf;
    size_t len;
    if (rw_file(argv[2], argv[3], &buf, &len)) return 1;
    int rc = 1;
    if (!strcmp(argv[1], "--replace")) {
        char *p = strlen(argv[4]) == strlen(argv[5]) ? find_gguf_str(buf, len, argv[4]) : NULL;
        if (p) {
            memcpy(p, argv[5], strlen(argv[5]));
            rc = 0;
        }
    } else {
        char *p = find_gguf_str(buf, len, argv[4]);
        if (p) {
            p += strlen(argv[4]);
            uint32_t nd;
            memcpy(&nd, p, 4);
            int32_t ty = atoi(argv[5]);
            memcpy(p + 4 + 8 * (size_t)nd, &ty, 4);
            rc = 0;
        }
    }
    if (rc) fprintf(stderr, "%s: '%s' not found\n", argv[2], argv[4]);
    if (!rc && write_file(argv[3], buf, len)) rc = 1;
    free(buf);
    return rc;
}

static void compare_hparams(const gf_hparams *a, const gf_hparams *b)
{
#define F(x) CHECK(a->x == b->x, "hparams." #x ": %g (.gptoss) vs %g (GGUF)", (double)a->x, (double)b->x)
    F(n_layers); F(n_experts); F(n_experts_per_tok); F(hidden); F(intermediate); F(n_heads); F(n_kv_heads);
    F(head_dim); F(vocab); F(sliding_window); F(max_ctx); F(rope_theta); F(rope_factor); F(rope_orig_ctx);
    F(rope_beta_fast); F(rope_beta_slow); F(rope_truncate); F(swiglu_limit); F(bos_id); F(pad_id);
    CHECK((float)a->rms_eps == (float)b->rms_eps, "hparams.rms_eps (as the f32 the runtime uses)");
#undef F
    for (int l = 0; l < a->n_layers; l++) CHECK(a->layer_sliding[l] == b->layer_sliding[l], "layer %d sliding", l);
    /* the end-of-sequence ids: the same set */
    CHECK(a->n_eos == b->n_eos, "n_eos %d vs %d", a->n_eos, b->n_eos);
    for (int i = 0; i < a->n_eos; i++) {
        int found = 0;
        for (int k = 0; k < b->n_eos; k++) found |= a->eos_ids[i] == b->eos_ids[k];
        CHECK(found, "eos id %d of the .gptoss is not an eos of the GGUF", a->eos_ids[i]);
    }
}

static void compare_weights(const gm_model *a, const gm_model *b)
{
    CHECK(a->n_weights == b->n_weights, "%d vs %d weights", a->n_weights, b->n_weights);
    for (int i = 0; i < a->n_weights && i < b->n_weights; i++) {
        const gb_weight *x = a->weights[i], *y = b->weights[i];
        int same = x->type == y->type && x->n_mat == y->n_mat && x->rows == y->rows && x->cols == y->cols &&
                   x->row_bytes == y->row_bytes;
        CHECK(same, "weight %s: type/shape differ from GGUF %s", x->name, y->name);
        if (same)
            CHECK(!memcmp(x->host, y->host, (size_t)x->n_mat * (size_t)x->rows * x->row_bytes),
                  "weight %s: bytes differ from GGUF %s", x->name, y->name);
    }
}

static void compare_encode(tok_tokenizer *a, tok_tokenizer *b, const char *text, size_t len, const char *what)
{
    for (int sp = 0; sp < 2; sp++) {
        tok_ids x = {0}, y = {0};
        int ra = tok_encode(a, text, len, sp, &x), rb = tok_encode(b, text, len, sp, &y);
        CHECK(ra == 0 && rb == 0, "%s: encode failed", what);
        int same = x.n == y.n && (!x.n || !memcmp(x.ids, y.ids, x.n * sizeof *x.ids));
        CHECK(same, "%s (special %d): %zu ids from the .gptoss, %zu from the GGUF, or different ids", what, sp, x.n,
              y.n);
        tok_ids_free(&x);
        tok_ids_free(&y);
    }
}

static size_t total_ids;

static void compare_tokenizers(const mc_run *ra, const mc_run *rb, int argc, char **argv)
{
    char err[1024];
    tok_tokenizer *a = mc_tokenizer(ra, err, sizeof err);
    CHECK(a, "%s", err);
    tok_tokenizer *b = mc_tokenizer(rb, err, sizeof err);
    CHECK(b, "%s", err);
    if (!a || !b) {
        tok_free(a);
        tok_free(b);
        return;
    }
    CHECK(tok_n_ids(a) == tok_n_ids(b), "n_ids %d vs %d", tok_n_ids(a), tok_n_ids(b));
    for (int32_t id = 0; id < tok_n_ids(a); id++) {
        size_t la = 0, lb = 0;
        const char *x = tok_token_bytes(a, id, &la), *y = tok_token_bytes(b, id, &lb);
        int same = (!x && !y) || (x && y && la == lb && !memcmp(x, y, la));
        CHECK(same && tok_is_special(a, id) == tok_is_special(b, id), "token %d differs", id);
        if (!same) break;
    }
    for (size_t i = 0; i < sizeof TEXTS / sizeof *TEXTS; i++) compare_encode(a, b, TEXTS[i], strlen(TEXTS[i]), TEXTS[i]);
    for (int i = 0; i < argc; i++) {
        size_t len;
        char *t = gio_read_file(argv[i], 0, &len, err, sizeof err);
        CHECK(t, "%s", err);
        if (!t) continue;
        compare_encode(a, b, t, len, argv[i]);
        tok_ids x = {0};
        if (!tok_encode(a, t, len, 0, &x)) total_ids += x.n;
        tok_ids_free(&x);
        free(t);
    }
    tok_free(a);
    tok_free(b);
}

typedef struct {
    gb_backend *be;
    float *out;
    int vocab;
} cap;

static gb_status on_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cap *c = user;
    (void)index;
    return c->be->read(c->be, gb_ref_f32(logits, (uint64_t)(n_rows - 1) * (uint64_t)vocab), c->out,
                       sizeof(float) * (size_t)vocab);
}

/* Prompt + 24 greedy steps on both: logits bit for bit. */
static void compare_greedy(mc_run *ra, mc_run *rb)
{
    int V = ra->model->hp.vocab;
    float *la = malloc(sizeof(float) * (size_t)V), *lb = malloc(sizeof(float) * (size_t)V);
    cap ca = {ra->be, la, V}, cb = {rb->be, lb, V};
    int32_t ids[8] = {1, 17, 2, 300, 42, 99, 7, 250};
    for (int i = 0; i < 8; i++) ids[i] %= V;
    char err[1024];
    int n = 8, steps = 0;
    const int32_t *feed = ids;
    int32_t next;
    for (; steps < 25; steps++) {
        int r1 = gq_forward(ra->session, feed, n, n - 1, on_logits, &ca, err, sizeof err);
        int r2 = r1 ? r1 : gq_forward(rb->session, feed, n, n - 1, on_logits, &cb, err, sizeof err);
        CHECK(!r1 && !r2, "forward: %s", err);
        if (r1 || r2) break;
        if (memcmp(la, lb, sizeof(float) * (size_t)V)) {
            CHECK(0, "greedy step %d: logits differ", steps);
            break;
        }
        next = 0;
        for (int v = 1; v < V; v++)
            if (la[v] > la[next]) next = v;
        feed = &next;
        n = 1;
    }
    printf("greedy: %d steps with bit-identical logits\n", steps);
    free(la);
    free(lb);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--replace") || !strcmp(argv[1], "--retype"))) return patch(argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: test_gguf_run A.gptoss B.gguf [TEXT...]\n");
        return 2;
    }
    mc_run ra, rb;
    mc_opts o = {.backend = "cpu", .threads = 2, .ctx = 64};
    if (mc_open(&ra, "test", argv[1], &o)) return 1;
    if (mc_open(&rb, "test", argv[2], &o)) {
        mc_close(&ra);
        return 1;
    }
    CHECK(ra.model->file && !ra.model->gguf && rb.model->gguf && !rb.model->file, "file kinds");
    compare_hparams(&ra.model->hp, &rb.model->hp);
    compare_weights(ra.model, rb.model);
    CHECK(gm_bytes_per_token(ra.model) == gm_bytes_per_token(rb.model), "bytes per token");
    compare_tokenizers(&ra, &rb, argc - 3, argv + 3);
    compare_greedy(&ra, &rb);
    printf("%s vs %s: %d weights, %zu ids of text files compared; %d failures\n", argv[1], argv[2],
           ra.model->n_weights, total_ids, fails);
    mc_close(&ra);
    mc_close(&rb);
    return fails ? 1 : 0;
}
