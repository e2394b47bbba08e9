/* test_gptoss_rw.c - .gptoss writer/reader round trip, determinism, verify,
 * and the writer's failure and crash behaviour (no PATH, no temp left). */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <xxhash.h>

#include "check.h"
#include "gf_test_util.h"

static char dir[1024];

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void test_hparams(void)
{
    gf_hparams a, b;
    char js[4096], err[256];
    tiny_hparams(&a);
    a.rope_truncate = 1;
    a.rms_eps = 1e-6;
    a.rope_theta = 1.0 / 3.0;   /* needs all 17 digits to round-trip */
    int n = gf_hparams_to_json(&a, js, sizeof js);
    CHECK(n > 0 && (size_t)n == strlen(js));
    CHECK(gf_hparams_from_json(js, &b, err, sizeof err) == 0);
    CHECK_MSG(memcmp(&a, &b, sizeof a) == 0, "hparams round trip differs: %s", js);
    CHECK_HAS(js, "\"rms_eps\":1e-06");
    CHECK_HAS(js, "\"layer_sliding\":[1,0,1,0]");
    CHECK_HAS(js, "\"rope_truncate\":true");
    CHECK(gf_hparams_to_json(&a, js, 20) == -1);

#define BAD(stmt, want)                                                   \
    do {                                                                  \
        gf_hparams h;                                                     \
        tiny_hparams(&h);                                                 \
        stmt;                                                             \
        err[0] = 0;                                                       \
        CHECK_MSG(gf_hparams_check(&h, err, sizeof err) == -1, "%s accepted", #stmt); \
        CHECK_HAS(err, want);                                    \
    } while (0)
    BAD(h.n_layers = GF_MAX_LAYERS + 1, "hparams.n_layers = 257");
    BAD(h.n_layers = 0, "hparams.n_layers = 0");
    BAD(h.n_experts_per_tok = 9, "hparams.n_experts_per_tok = 9 is outside 1..8");
    BAD(h.n_kv_heads = 3, "not a multiple of n_kv_heads");
    BAD(h.head_dim = 63, "odd");
    BAD(h.n_heads = 1024; h.head_dim = 1024, "n_heads * head_dim");
    BAD(h.eos_ids[1] = 1024, "hparams.eos_ids[1] = 1024");
    BAD(h.pad_id = -2, "hparams.pad_id");
    BAD(h.rope_orig_ctx = h.max_ctx + 1, "rope_orig_ctx");
    BAD(h.rms_eps = 0, "hparams.rms_eps");
    BAD(h.rope_theta = -1, "hparams.rope_theta");
    BAD(h.layer_sliding[1] = 2, "layer_sliding[1]");
    BAD(h.sliding_window = 0, "sliding_window is 0");
    BAD(h.n_eos = 0, "hparams.n_eos");
    BAD(h.vocab = 1 << 25, "hparams.vocab");
#undef BAD
    /* JSON-level problems */
    CHECK(gf_hparams_from_json("{\"n_layers\":4}", &b, err, sizeof err) == -1);
    CHECK_HAS(err, "is missing");
    tiny_hparams(&a);
    gf_hparams_to_json(&a, js, sizeof js);
    char *p = strstr(js, "[1,0,1,0]");
    memcpy(p, "[1,0,1,7]", 9);
    CHECK(gf_hparams_from_json(js, &b, err, sizeof err) == -1);
    CHECK_HAS(err, "layer_sliding[3] is not 0 or 1");
    memcpy(p, "[1,0,1]  ", 9);
    CHECK(gf_hparams_from_json(js, &b, err, sizeof err) == -1);
    CHECK_HAS(err, "layer_sliding has 3 entries, n_layers is 4");
    CHECK(gf_hparams_from_json("[1]", &b, err, sizeof err) == -1);
    CHECK(gf_hparams_from_json("{", &b, err, sizeof err) == -1);
}

static void test_round_trip(void)
{
    char path[1200], err[512];
    path_in(path, sizeof path, "rt.gptoss");
    CHECK(write_sample(path, 1, 7, 0) == 0);   /* odd chunk size: chunks straddle blocks */
    gf_file *f = gf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f) return;
    CHECK_EQ_INT(gf_tensor_count(f), sample_count());
    CHECK_EQ_INT(gf_file_size(f) % GF_ALIGN, 0);
    for (size_t k = 0; k < sample_count(); k++) {
        char name[64];
        gq_type type;
        int nd;
        const uint64_t *sh;
        sample_tensor(k, name, sizeof name, &type, &nd, &sh);
        const gf_tensor *t = gf_tensor_at(f, k);
        CHECK(t && strcmp(t->name, name) == 0);
        CHECK(gf_find_tensor(f, name) == t);
        if (!t) continue;
        CHECK_EQ_INT(t->type, type);
        CHECK_EQ_INT(t->ndim, nd);
        for (int d = 0; d < nd; d++) CHECK_EQ_INT(t->shape[d], sh[d]);
        uint64_t rows = 1;
        for (int d = 0; d < nd - 1; d++) rows *= sh[d];
        CHECK_EQ_INT(t->size, gq_row_bytes(type, sh[nd - 1]) * rows);
        CHECK_EQ_INT(t->offset % GF_ALIGN, 0);
        int same = 1;
        for (uint64_t j = 0; j < t->size; j++) same &= ((const uint8_t *)t->data)[j] == sample_byte(1, k, j);
        CHECK_MSG(same, "payload of %s", name);
        CHECK_EQ_INT(t->xxh3, XXH3_64bits(t->data, t->size));
    }
    CHECK(gf_find_tensor(f, "nope") == NULL);
    CHECK(gf_find_tensor(f, NULL) == NULL);
    CHECK(gf_tensor_at(f, sample_count()) == NULL);
    CHECK_EQ_INT(gf_blob_count(f), 3);
    const gf_blob *b = gf_find_blob(f, "tokenizer.json");
    CHECK(b && b->size == strlen(sample_tokenizer) && memcmp(b->data, sample_tokenizer, b->size) == 0);
    b = gf_find_blob(f, "tokenizer_config.json");
    CHECK(b && b->size == strlen(sample_tok_config) && memcmp(b->data, sample_tok_config, b->size) == 0);
    b = gf_find_blob(f, "chat_template.jinja");
    CHECK(b && b->size == 0 && b->offset % GF_ALIGN == 0);
    CHECK(gf_blob_at(f, 0) && strcmp(gf_blob_at(f, 0)->name, "tokenizer.json") == 0);
    gf_hparams want;
    tiny_hparams(&want);
    CHECK(memcmp(gf_get_hparams(f), &want, sizeof want) == 0);
    const char *h = gf_header_json(f);
    CHECK_HAS(h, "\"format\":\"gptoss\"");
    CHECK_HAS(h, "\"provenance\":{\"source_repo\":\"openai/gpt-oss-20b\"");
    CHECK_HAS(h, "\"quant\":{\"recipe\":\"mxfp4\"");
    CHECK_HAS(h, "\"x_extra\":{\"note\":\"caf\xc3\xa9\"}");
    CHECK(strstr(h, "\"hparams\"") < strstr(h, "\"quant\"") && strstr(h, "\"quant\"") < strstr(h, "\"provenance\""));
    CHECK_EQ_INT(gf_verify(f, NULL, NULL), 0);
    gf_close(f);

    /* determinism: other chunking, same bytes; another seed differs */
    char p2[1200], p3[1200];
    path_in(p2, sizeof p2, "rt2.gptoss");
    path_in(p3, sizeof p3, "rt3.gptoss");
    CHECK(write_sample(p2, 1, 4096, 0) == 0);
    CHECK(write_sample(p3, 2, 4096, 0) == 0);
    size_t l1, l2, l3;
    uint8_t *a = read_whole(path, &l1), *c = read_whole(p2, &l2), *d = read_whole(p3, &l3);
    CHECK(a && c && l1 == l2 && memcmp(a, c, l1) == 0);
    CHECK(d && l3 == l1 && memcmp(a, d, l1) != 0);
    free(a);
    free(c);
    free(d);
    unlink(path);
    unlink(p2);
    unlink(p3);
}

typedef struct {
    int n;
    char names[8][128];
    uint64_t got[8];
} reports;

static void collect(void *ctx, const char *name, uint64_t want, uint64_t got)
{
    reports *r = ctx;
    (void)want;
    if (r->n < 8) {
        snprintf(r->names[r->n], sizeof r->names[0], "%s", name);
        r->got[r->n] = got;
    }
    r->n++;
}

static void test_verify(void)
{
    char path[1200], err[512];
    path_in(path, sizeof path, "v.gptoss");
    CHECK(write_sample(path, 3, 4096, 0) == 0);
    size_t len;
    uint8_t *img = read_whole(path, &len);
    gf_file *f = gf_open_memory(img, len, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f) return;
    const gf_tensor *t = gf_tensor_at(f, 5);
    const gf_blob *b = gf_find_blob(f, "tokenizer.json");
    img[t->offset + t->size / 2] ^= 0x10;              /* a payload byte */
    img[b->offset] ^= 1;                                /* a blob byte */
    img[t->offset + t->size + 100] = 0xAA;              /* padding after it */
    reports r = {0};
    CHECK_EQ_INT(gf_verify(f, collect, &r), 3);
    CHECK_EQ_INT(r.n, 3);
    int saw_t = 0, saw_b = 0, saw_pad = 0;
    char padname[160];
    snprintf(padname, sizeof padname, "padding after %s", t->name);
    for (int i = 0; i < r.n && i < 8; i++) {
        saw_t |= strcmp(r.names[i], t->name) == 0;
        saw_b |= strcmp(r.names[i], "tokenizer.json") == 0;
        if (strcmp(r.names[i], padname) == 0) saw_pad = r.got[i] == t->offset + t->size + 100;
    }
    CHECK_MSG(saw_t && saw_b && saw_pad, "verify named %s / %s / %s", r.names[0], r.names[1], r.names[2]);
    gf_close(f);
    free(img);
    unlink(path);
}

/* Chunks larger than the writer's internal 1 MiB hash/write slice, and
 * chunks that end mid-slice, give the same bytes and hash. */
static void test_large_chunks(void)
{
    char path[1200], err[512], meta[8192];
    path_in(path, sizeof path, "large.gptoss");
    tiny_meta(meta, sizeof meta);
    size_t n = (3u << 20) + 4 * 37;   /* bytes of the first tensor */
    uint64_t sh1[2] = {1, n / 4}, sh2[2] = {5, 64};
    uint8_t *buf = malloc(n);
    for (size_t j = 0; j < n; j++) buf[j] = sample_byte(4, 0, j);
    gf_writer *w = gf_writer_create(path, 0, err, sizeof err);
    CHECK(w && gf_writer_set_meta(w, meta) == 0);
    CHECK(gf_writer_add_tensor(w, "big", GQ_F32, 2, sh1) == 0 && gf_writer_add_tensor(w, "small", GQ_BF16, 2, sh2) == 1);
    CHECK(gf_writer_begin(w) == 0);
    CHECK(gf_writer_write(w, 0, buf, (1u << 20) + 3) == 0);            /* ends mid-slice */
    CHECK(gf_writer_write(w, 0, buf + (1u << 20) + 3, n - (1u << 20) - 3) == 0);
    CHECK(gf_writer_write(w, 1, buf, 640) == 0);
    CHECK_MSG(gf_writer_finish(w) == 0, "%s", gf_writer_error(w));
    gf_writer_abort(w);
    gf_file *f = gf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (f) {
        const gf_tensor *t = gf_find_tensor(f, "big");
        CHECK(t && t->size == n && memcmp(t->data, buf, n) == 0 && t->xxh3 == XXH3_64bits(buf, n));
        t = gf_find_tensor(f, "small");
        CHECK(t && t->size == 640 && memcmp(t->data, buf, 640) == 0 && t->xxh3 == XXH3_64bits(buf, 640));
        CHECK_EQ_INT(gf_verify(f, NULL, NULL), 0);
    }
    gf_close(f);
    free(buf);
    unlink(path);
}

/* Every way a writer can fail leaves the directory as it was. */
static void test_writer_failures(void)
{
    char path[1200], err[512], meta[8192], first[256];
    uint64_t sh[2] = {2, 64};
    tiny_meta(meta, sizeof meta);
    path_in(path, sizeof path, "w.gptoss");
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);

    /* abort mid-write */
    gf_writer *w = gf_writer_create(path, 0, err, sizeof err);
    CHECK(w && dir_entries(dir, first, sizeof first) == 1 && strstr(first, "w.gptoss.tmp."));
    CHECK(gf_writer_set_meta(w, meta) == 0 && gf_writer_add_tensor(w, "a", GQ_BF16, 2, sh) == 0);
    CHECK(gf_writer_add_tensor(w, "b", GQ_Q8_32, 2, sh) == 1);
    CHECK(gf_writer_begin(w) == 0);
    uint8_t buf[512] = {0};
    CHECK(gf_writer_write(w, 0, buf, 100) == 0);
    gf_writer_abort(w);
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);

    /* misuse after begin: out of order, past the end, incomplete at finish */
    struct { int mode; const char *want; } cases[] = {
        {0, "written before \"a\" is complete (100 of 256 bytes)"},
        {1, "would run past the end of tensor \"a\""},
        {2, "tensor \"b\" is incomplete (0 of 136 bytes) at finish"},
        {3, "tensor \"a\" is already complete"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        w = gf_writer_create(path, 0, err, sizeof err);
        CHECK(w != NULL);
        if (!w) continue;
        gf_writer_set_meta(w, meta);
        gf_writer_add_tensor(w, "a", GQ_BF16, 2, sh);
        gf_writer_add_tensor(w, "b", GQ_Q8_32, 2, sh);
        CHECK(gf_writer_begin(w) == 0);
        int rc = 0;
        switch (cases[c].mode) {
        case 0: rc = gf_writer_write(w, 0, buf, 100) || gf_writer_write(w, 1, buf, 10); break;
        case 1: rc = gf_writer_write(w, 0, buf, 257); break;
        case 2: rc = gf_writer_write(w, 0, buf, 256) || gf_writer_finish(w); break;
        case 3: rc = gf_writer_write(w, 0, buf, 256) || gf_writer_write(w, 0, buf, 1); break;
        }
        CHECK(rc != 0);
        CHECK_HAS(gf_writer_error(w), cases[c].want);
        CHECK_EQ_INT(gf_writer_errno(w), EINVAL);
        CHECK_MSG(dir_entries(dir, first, sizeof first) == 0, "case %zu left %s", c, first);
        CHECK(gf_writer_finish(w) != 0);   /* poisoned */
        gf_writer_abort(w);
    }

    /* declaration errors */
    w = gf_writer_create(path, 0, err, sizeof err);
    CHECK(gf_writer_add_tensor(w, "bad name", GQ_F32, 1, sh) == -1);
    CHECK_HAS(gf_writer_error(w), "tensor name \"bad name\"");
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);
    gf_writer_abort(w);
    struct { const char *meta; const char *want; } metas[] = {
        {"[]", "not a JSON object"},
        {"{\"quant\":{},\"provenance\":{}}", "\"hparams\" is missing"},
        {"{\"hparams\":{},\"quant\":{},\"provenance\":{},\"tensors\":[]}", "reserved key \"tensors\""},
        {"{\"hparams\":{},\"provenance\":{}}", "needs a \"quant\" object"},
    };
    for (size_t c = 0; c < sizeof metas / sizeof metas[0]; c++) {
        w = gf_writer_create(path, 0, err, sizeof err);
        CHECK(gf_writer_set_meta(w, metas[c].meta) == -1);
        CHECK_HAS(gf_writer_error(w), metas[c].want);
        gf_writer_abort(w);
    }
    w = gf_writer_create(path, 0, err, sizeof err);
    gf_writer_set_meta(w, meta);
    uint64_t odd[2] = {2, 33};
    CHECK(gf_writer_add_tensor(w, "a", GQ_Q4_32, 2, odd) == -1);
    CHECK_HAS(gf_writer_error(w), "row length 33 is not a multiple of q4_32's block of 32 values");
    gf_writer_abort(w);
    w = gf_writer_create(path, 0, err, sizeof err);
    gf_writer_add_tensor(w, "a", GQ_F32, 1, sh);
    CHECK(gf_writer_add_tensor(w, "a", GQ_F32, 1, sh) == -1);
    CHECK_HAS(gf_writer_error(w), "declared twice");
    gf_writer_abort(w);
    w = gf_writer_create(path, 0, err, sizeof err);
    uint64_t huge[3] = {1ull << 40, 1ull << 40, 64};
    CHECK(gf_writer_add_tensor(w, "a", GQ_F32, 3, huge) == -1);
    CHECK_HAS(gf_writer_error(w), "overflows");
    gf_writer_abort(w);
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);

    /* refuse to overwrite; overwrite when allowed */
    CHECK(write_sample(path, 1, 4096, 0) == 0);
    errno = 0;
    w = gf_writer_create(path, 0, err, sizeof err);
    CHECK(w == NULL && errno == EEXIST);
    CHECK_HAS(err, "already exists; refusing to overwrite");
    CHECK(write_sample(path, 2, 4096, 1) == 0);
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 1);
    gf_file *f = gf_open(path, err, sizeof err);
    CHECK(f && ((const uint8_t *)gf_tensor_at(f, 0)->data)[0] == sample_byte(2, 0, 0));
    gf_close(f);
    unlink(path);

    /* an unwritable place fails at create */
    w = gf_writer_create("/nonexistent-dir-gf/x.gptoss", 0, err, sizeof err);
    CHECK(w == NULL);
    CHECK_HAS(err, "cannot create the temporary file");

    /* no space: a file size limit makes preallocation (or the writes) fail */
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {64 * 1024, 64 * 1024};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = write_sample(path, 1, 4096, 0);
        _exit(rc == 0 ? 1 : dir_entries(dir, NULL, 0) == 0 ? 0 : 2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no-space child: status %d", st);
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);
}

/* Kill a writer mid-write: PATH must not appear; its temporary stays, and
 * the next writer for the same PATH removes it. A live writer's temporary
 * is never touched. */
static void test_crash(void)
{
    char path[1200], err[512], meta[8192], first[256];
    path_in(path, sizeof path, "crash.gptoss");
    tiny_meta(meta, sizeof meta);
    /* fds: child -> parent "mid-write"; hold: never written, so the child
     * blocks mid-write until it is killed (no timing assumptions) */
    int fds[2], hold[2];
    CHECK(pipe(fds) == 0 && pipe(hold) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        close(hold[1]);
        gf_writer *w = gf_writer_create(path, 0, err, sizeof err);
        uint64_t sh[2] = {1024, 8192};   /* 32 MiB of f32 */
        if (!w || gf_writer_set_meta(w, meta) || gf_writer_add_tensor(w, "big", GQ_F32, 2, sh) != 0 ||
            gf_writer_begin(w))
            _exit(3);
        static uint8_t chunk[1 << 20];
        memset(chunk, 0x5A, sizeof chunk);
        for (int i = 0; i < 9; i++) gf_writer_write(w, 0, chunk, sizeof chunk);
        char x;
        if (write(fds[1], "x", 1) != 1 || read(hold[0], &x, 1) < 0) _exit(4);
        _exit(5);   /* not reached: the parent kills us first */
    }
    close(hold[0]);
    close(fds[1]);
    char c;
    CHECK(read(fds[0], &c, 1) == 1);   /* child is mid-write */
    close(fds[0]);

    /* while it is alive, a second writer for the same PATH is refused */
    errno = 0;
    gf_writer *w2 = gf_writer_create(path, 0, err, sizeof err);
    CHECK(w2 == NULL && errno == EBUSY);
    CHECK_HAS(err, "another process is writing it");
    CHECK_EQ_INT(dir_entries(dir, NULL, 0), 1);   /* and the live temporary is intact */

    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st));
    close(hold[1]);
    struct stat sb;
    CHECK_MSG(stat(path, &sb) != 0, "killed writer left %s", path);
    char want[64];
    snprintf(want, sizeof want, "crash.gptoss.tmp.%ld", (long)pid);
    CHECK(dir_entries(dir, first, sizeof first) == 1 && strcmp(first, want) == 0);

    /* the next writer cleans up the dead one's temporary */
    CHECK(write_sample(path, 1, 4096, 0) == 0);
    CHECK(dir_entries(dir, first, sizeof first) == 1 && strcmp(first, "crash.gptoss") == 0);
    gf_file *f = gf_open(path, err, sizeof err);
    CHECK(f && gf_verify(f, NULL, NULL) == 0);
    gf_close(f);
    unlink(path);
}

/* Metadata set again between begin and finish (the converter fills in
 * source hashes that way): the same length is accepted and read back; a
 * different length is refused at finish and leaves nothing behind. */
static void test_meta_after_begin(void)
{
    char path[1200], err[512], meta[8192], meta2[8192];
    uint64_t sh[2] = {2, 64};
    uint8_t buf[256] = {0};
    tiny_meta(meta, sizeof meta);
    const char *old_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *new_hash = "1111111111111111111111111111111111111111111111111111111111111111";
    for (int longer = 0; longer < 2; longer++) {
        snprintf(meta2, sizeof meta2, "%s", meta);
        char *at = strstr(meta2, old_hash);
        CHECK(at != NULL);
        if (!at) return;
        memcpy(at, new_hash, 64);
        if (longer) {   /* one more character in the converter name */
            char *c = strstr(meta2, "\"gptoss-convert\"");
            CHECK(c != NULL);
            if (!c) return;
            memmove(c + 2, c + 1, strlen(c + 1) + 1);
            c[1] = 'x';
        }
        path_in(path, sizeof path, "m.gptoss");
        gf_writer *w = gf_writer_create(path, 0, err, sizeof err);
        CHECK(w && gf_writer_set_meta(w, meta) == 0 && gf_writer_add_tensor(w, "a", GQ_BF16, 2, sh) == 0);
        CHECK(gf_writer_begin(w) == 0 && gf_writer_write(w, 0, buf, sizeof buf) == 0);
        CHECK(gf_writer_set_meta(w, meta2) == 0);
        int rc = gf_writer_finish(w);
        if (longer) {
            CHECK(rc != 0);
            CHECK_HAS(gf_writer_error(w), "changed length after begin");
        } else {
            CHECK(rc == 0);
        }
        gf_writer_abort(w);
        if (longer) {
            CHECK_EQ_INT(dir_entries(dir, NULL, 0), 0);
            continue;
        }
        gf_file *f = gf_open(path, err, sizeof err);
        CHECK(f != NULL);
        if (f) {
            CHECK(strstr(gf_header_json(f), new_hash) && !strstr(gf_header_json(f), old_hash));
            CHECK_EQ_INT(gf_verify(f, NULL, NULL), 0);
            gf_close(f);
        }
        unlink(path);
    }
}

int main(void)
{
    if (!make_tmpdir(dir, sizeof dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_hparams();
    test_round_trip();
    test_verify();
    test_large_chunks();
    test_writer_failures();
    test_meta_after_begin();
    test_crash();
    rm_tree(dir);
    return check_done("test_gptoss_rw");
}
