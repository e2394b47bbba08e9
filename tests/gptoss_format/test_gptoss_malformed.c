/* test_gptoss_malformed.c - every way a .gptoss file can be wrong is
 * refused with a message naming the file, the entry and the problem.
 * Header edits re-hash the header, so each case reaches the check it aims at. */
#include <fcntl.h>
#include <xxhash.h>

#include "check.h"
#include "gf_test_util.h"

static uint8_t *base;
static size_t base_len;
static char base_path[1200];

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *copy(size_t *len)
{
    uint8_t *c = malloc(base_len);
    memcpy(c, base, base_len);
    *len = base_len;
    return c;
}

/* Replace the header with text (padding to data_offset stays zero). */
static void set_header(uint8_t *img, const char *text, size_t n)
{
    uint64_t data_offset = rd64(img + 32);
    if (40 + n > data_offset) {
        fprintf(stderr, "test header too long\n");
        abort();
    }
    memset(img + 40, 0, (size_t)data_offset - 40);
    memcpy(img + 40, text, n);
    wr64(img + 16, n);
    wr64(img + 24, XXH3_64bits(text, n));
}

/* The base image with the first `old` in the header replaced by `new`. */
static uint8_t *edit(const char *old, const char *new, size_t *len)
{
    uint8_t *img = copy(len);
    size_t hl = (size_t)rd64(img + 16);
    char *h = malloc(hl + 1), *out = malloc(hl + strlen(new) + 1);
    memcpy(h, img + 40, hl);
    h[hl] = 0;
    char *at = strstr(h, old);
    if (!at) {
        fprintf(stderr, "test bug: '%s' not in header\n", old);
        abort();
    }
    size_t pre = (size_t)(at - h);
    memcpy(out, h, pre);
    strcpy(out + pre, new);
    strcat(out + pre, at + strlen(old));
    set_header(img, out, strlen(out));
    free(h);
    free(out);
    return img;
}

static void expect_fail(uint8_t *img, size_t len, const char *want, const char *what)
{
    char err[1024] = "";
    gf_file *f = gf_open_memory(img, len, err, sizeof err);
    CHECK_MSG(f == NULL, "%s: accepted", what);
    gf_close(f);
    CHECK_MSG(strncmp(err, "<memory>: ", 10) == 0, "%s: error does not name the file: %s", what, err);
    CHECK_MSG(strstr(err, want) != NULL, "%s: error '%s' lacks '%s'", what, err, want);
    free(img);
}

#define HDR(old, new, want)                              \
    do {                                                 \
        size_t l_;                                       \
        uint8_t *i_ = edit((old), (new), &l_);           \
        expect_fail(i_, l_, (want), (want));             \
    } while (0)

/* "offset":N of the k-th tensor entry, as text. */
static void offset_text(size_t k, char *buf, size_t len, uint64_t *value)
{
    char err[512];
    gf_file *f = gf_open_memory(base, base_len, err, sizeof err);
    *value = gf_tensor_at(f, k)->offset;
    snprintf(buf, len, "\"offset\":%llu,", (unsigned long long)*value);
    gf_close(f);
}

static void test_preamble(void)
{
    size_t len;
    uint8_t *img;
    img = copy(&len); img[0] = 'X'; expect_fail(img, len, "bad magic", "magic");
    img = copy(&len); img[8] = 2; expect_fail(img, len, "format version 2; this reader reads version 1 (upgrade", "version 2");
    img = copy(&len); img[8] = 0; expect_fail(img, len, "format version 0", "version 0");
    img = copy(&len); img[12] = 1; expect_fail(img, len, "unknown flags 0x00000001", "flags");
    img = copy(&len); wr64(img + 16, 1); expect_fail(img, len, "header length 1 is outside", "header_len 1");
    img = copy(&len); wr64(img + 16, 1ull << 63); expect_fail(img, len, "header length 9223372036854775808", "header_len huge");
    img = copy(&len); wr64(img + 16, len - 39); expect_fail(img, len, "runs past the end of the file", "header_len past end");
    img = copy(&len); img[24] ^= 1; expect_fail(img, len, "header checksum mismatch", "stored hash");
    img = copy(&len); img[60] ^= 0x20; expect_fail(img, len, "header checksum mismatch", "header byte");
    img = copy(&len); wr64(img + 32, 100); expect_fail(img, len, "data_offset 100 is not a multiple of 16384", "data_offset unaligned");
    img = copy(&len); wr64(img + 32, len + GF_ALIGN); expect_fail(img, len, "data_offset", "data_offset past end");
    img = copy(&len); wr64(img + 32, 0); expect_fail(img, len, "data_offset 0", "data_offset 0");
    img = copy(&len); expect_fail(img, 30, "30 bytes, shorter than the 40-byte preamble", "30 bytes");
    img = copy(&len); expect_fail(img, 0, "0 bytes, shorter than", "empty");
    img = copy(&len); expect_fail(img, len - 100, "not a multiple of 16384 (truncated", "truncated mid-page");
    img = copy(&len); expect_fail(img, len - GF_ALIGN, "lie outside the file", "truncated a page");
    /* extra zero pages at the end are harmless and allowed */
    uint8_t *big = calloc(1, base_len + GF_ALIGN);
    memcpy(big, base, base_len);
    char err[512];
    gf_file *f = gf_open_memory(big, base_len + GF_ALIGN, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    CHECK(f && gf_verify(f, NULL, NULL) == 0);
    gf_close(f);
    big[base_len + 5] = 1;
    f = gf_open_memory(big, base_len + GF_ALIGN, err, sizeof err);
    CHECK(f && gf_verify(f, NULL, NULL) == 1);
    gf_close(f);
    free(big);
}

static void test_json(void)
{
    size_t len;
    uint8_t *img = copy(&len);
    set_header(img, "{\"format\":", 10);
    expect_fail(img, len, "header is not valid JSON", "cut JSON");
    img = copy(&len);
    set_header(img, "[1,2]", 5);
    expect_fail(img, len, "header is not a JSON object", "array");
    HDR("\n]}\n", "\n]}\nx", "trailing bytes after the JSON object");
    HDR("caf\xc3\xa9", "caf\xc3\x28", "is not valid UTF-8");
    HDR("caf\xc3\xa9", "caf\xed\xa0\x80", "is not valid UTF-8");     /* a surrogate */
    HDR("caf\xc3\xa9", "caf\xc0\xaf", "is not valid UTF-8");         /* overlong */
    {
        img = edit("caf\xc3\xa9", "cafXe", &len);
        uint64_t hl = rd64(img + 16);
        char *h = (char *)img + 40;
        char *x = memchr(h, 'X', (size_t)hl);
        *x = 0;
        wr64(img + 24, XXH3_64bits(h, (size_t)hl));
        expect_fail(img, len, "is not valid UTF-8 (or is NUL)", "NUL in header");
    }
    HDR("\"format\":\"gptoss\"", "\"format\":\"gguf\"", "header \"format\" is not \"gptoss\"");
    HDR("\"version\":1", "\"version\":2", "header \"version\" does not match");
    HDR("\"provenance\":", "\"provenancX\":", "header \"provenance\" is missing");
    HDR("\"quant\":", "\"quanta\":", "header \"quant\" is missing");
    HDR("\"hparams\":", "\"hparamz\":", "\"hparams\" is missing or not an object");
    HDR("\"tensors\":[", "\"tensorz\":[", "header \"tensors\" is missing");
    HDR("\"blobs\":[", "\"blobs\":7,\"x\":[", "header \"blobs\" is missing or not an array");
    HDR("\"n_layers\":4", "\"n_layers\":300", "hparams.n_layers = 300 is outside 1..256");
    HDR("\"n_layers\":4", "\"n_layers\":4.5", "hparams.n_layers is not an integer");
    HDR("\"n_experts_per_tok\":4", "\"n_experts_per_tok\":9", "hparams.n_experts_per_tok = 9 is outside 1..8");
    HDR("\"layer_sliding\":[1,0,1,0]", "\"layer_sliding\":[1,0,1]", "layer_sliding has 3 entries, n_layers is 4");
    HDR("\"eos_ids\":[1004", "\"eos_ids\":[5000", "hparams.eos_ids[0] = 5000 is outside 0..1023");
    HDR("\"head_dim\":64", "\"head_dim\":1e300", "hparams.head_dim is not an integer");
    HDR("\"rms_eps\":1e-05", "\"rms_eps\":\"small\"", "hparams.rms_eps is not a finite number");
    HDR("\"rope_truncate\":false", "\"rope_truncate\":0", "hparams.rope_truncate is missing or not true/false");
    /* unknown keys are ignored (forward compatibility) */
    img = edit("\"format\":\"gptoss\"", "\"format\":\"gptoss\",\"future\":{\"x\":[1,2]}", &len);
    char err[512];
    gf_file *f = gf_open_memory(img, len, err, sizeof err);
    CHECK_MSG(f != NULL, "unknown key refused: %s", err);
    gf_close(f);
    free(img);
}

static void test_entries(void)
{
    char o0[64], o1[64], rep[64];
    uint64_t v0, v1;
    offset_text(0, o0, sizeof o0, &v0);
    offset_text(1, o1, sizeof o1, &v1);
    HDR("\"type\":\"f32\"", "\"type\":\"q3_k\"", "tensor \"blk.0.f32_1d\": unknown type \"q3_k\"");
    HDR("\"type\":\"f32\"", "\"type\":\"Q8_0\"", "unknown type \"Q8_0\"");
    HDR("\"type\":\"f32\"", "\"typo\":\"f32\"", "tensor \"blk.0.f32_1d\": \"type\" is missing");
    HDR("\"shape\":[64]", "\"shape\":[1,1,1,1,64]", "\"shape\" must be an array of 1..4 dimensions (has 5)");
    HDR("\"shape\":[64]", "\"shape\":[]", "(has 0)");
    HDR("\"shape\":[64]", "\"shape\":64", "(has -1)");
    HDR("\"shape\":[64]", "\"shape\":[65]", "size 256 does not match its shape and type f32 (260 bytes)");
    HDR("\"shape\":[64]", "\"shape\":[1e300]", "shape[0] is not an integer");
    HDR("\"shape\":[64]", "\"shape\":[-64]", "shape[0] is not an integer");
    HDR("\"shape\":[64]", "\"shape\":[64.5]", "shape[0] is not an integer");
    HDR("\"shape\":[64]", "\"shape\":[0]", "dimension 0 is 0");
    HDR("\"shape\":[64]", "\"shape\":[4294967296,4294967296,64]", "byte size overflows");
    HDR("\"shape\":[64]", "\"shape\":[9007199254740993]", "shape[0] is not an integer");
    HDR("\"name\":\"blk.16.q8_32_1d\",\"type\":\"q8_32\",\"shape\":[64]",
        "\"name\":\"blk.16.q8_32_1d\",\"type\":\"q8_32\",\"shape\":[48]",
        "tensor \"blk.16.q8_32_1d\": row length 48 is not a multiple of q8_32's block of 32 values");
    HDR("\"size\":256", "\"size\":1e300", "tensor \"blk.0.f32_1d\": \"size\" is missing or not an integer");
    HDR("\"size\":256", "\"size\":1e400", "\"size\" is missing or not an integer");
    HDR("\"size\":256", "\"size\":18446744073709551615", "\"size\" is missing or not an integer");
    HDR("\"size\":256", "\"size\":-256", "\"size\" is missing or not an integer");
    snprintf(rep, sizeof rep, "\"offset\":%llu,", (unsigned long long)v0 + 1);
    HDR(o0, rep, "tensor \"blk.0.f32_1d\": offset");
    HDR(o0, rep, "is not a multiple of 16384");
    HDR(o0, "\"offset\":0,", "offset 0 is before data_offset");
    snprintf(rep, sizeof rep, "\"offset\":%llu,", (unsigned long long)base_len);
    HDR(o0, rep, "lie outside the file");
    HDR(o0, "\"offset\":18014398509481984,", "\"offset\" is missing or not an integer");
    HDR(o0, "\"offset\":\"16384\",", "\"offset\" is missing or not an integer");
    HDR(o1, o0, "overlaps tensor \"blk.0.f32_1d\"");
    HDR("\"name\":\"blk.1.f32_2d\"", "\"name\":\"blk.0.f32_1d\"", "tensor \"blk.0.f32_1d\" appears twice");
    HDR("\"name\":\"blk.1.f32_2d\"", "\"name\":\"blk 1\"", "tensor entry 1: name is not 1..96 characters");
    HDR("\"name\":\"blk.1.f32_2d\"", "\"name\":\"\"", "tensor entry 1: name is not");
    HDR("\"name\":\"blk.1.f32_2d\"", "\"name\":7", "tensor entry 1 has no \"name\" string");
    HDR("\"xxh3\":\"", "\"xxh3\":\"Z", "tensor \"blk.0.f32_1d\": \"xxh3\" is not 16 lowercase hex digits");
    HDR("\"xxh3\":\"", "\"xxh3\":\"0", "\"xxh3\" is not 16 lowercase hex digits");
    HDR("\"name\":\"tokenizer_config.json\"", "\"name\":\"tokenizer.json\"", "blob \"tokenizer.json\" appears twice");
    HDR("\"name\":\"tokenizer.json\",\"offset\":16384,", "\"name\":\"tokenizer.json\",\"offset\":16385,",
        "blob \"tokenizer.json\": offset 16385 is not a multiple of 16384");
    /* a blob over a tensor */
    char boff[128];
    snprintf(boff, sizeof boff, "\"name\":\"tokenizer.json\",%s", o0);
    HDR("\"name\":\"tokenizer.json\",\"offset\":16384,", boff, "overlaps");
}

static void test_files(void)
{
    char err[1024], p[1300];
    gf_file *f = gf_open("/nonexistent/x.gptoss", err, sizeof err);
    CHECK(!f);
    CHECK_HAS(err, "/nonexistent/x.gptoss: cannot open");
    f = gf_open("/", err, sizeof err);
    CHECK(!f);
    CHECK_HAS(err, "/: not a regular file");
    /* a truncated file on disk: the message names the path */
    snprintf(p, sizeof p, "%s.cut", base_path);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, base, base_len - GF_ALIGN) == (ssize_t)(base_len - GF_ALIGN));
    close(fd);
    f = gf_open(p, err, sizeof err);
    CHECK(!f);
    CHECK_MSG(strncmp(err, p, strlen(p)) == 0, "error names the file: %s", err);
    CHECK_HAS(err, "lie outside the file");
    fd = open(p, O_WRONLY | O_TRUNC);
    close(fd);
    f = gf_open(p, err, sizeof err);
    CHECK(!f);
    CHECK_HAS(err, "0 bytes, shorter than the 40-byte preamble");
    unlink(p);
}

/* The committed fuzz seeds must stay valid files, or fuzzing stops at the
 * magic check without anyone noticing. */
static void test_seeds(void)
{
    char d[1200], p[1500], err[512];
    const char *src = getenv("GQ_SOURCE_DIR");
    if (!src) return;
    snprintf(d, sizeof d, "%s/tests/fuzz/corpus/fuzz_gptoss", src);
    DIR *dd = opendir(d);
    CHECK(dd != NULL);
    if (!dd) return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        gf_file *f = gf_open(p, err, sizeof err);
        CHECK_MSG(f && gf_verify(f, NULL, NULL) == 0, "seed %s: %s", p, f ? "verify" : err);
        gf_close(f);
        n++;
    }
    closedir(dd);
    CHECK(n >= 1);
}

/* Small valid files for the fuzz corpus (regenerate with --write-seed N PATH
 * after a format change): 1: one f32 tensor (32 KiB); 2: mxfp4 + q8_32
 * tensors and a tokenizer.json blob (64 KiB). */
static int write_seed(int which, const char *path)
{
    char err[512], meta[8192];
    gf_writer *w = gf_writer_create(path, 1, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    tiny_meta(meta, sizeof meta);
    uint64_t sh[2] = {2, 64};
    uint8_t buf[256];
    for (size_t j = 0; j < sizeof buf; j++) buf[j] = sample_byte(9, (size_t)which, j);
    int rc = gf_writer_set_meta(w, meta);
    if (which == 1) {
        rc = rc || gf_writer_add_tensor(w, "norm", GQ_F32, 1, sh + 1) < 0 || gf_writer_begin(w) ||
             gf_writer_write(w, 0, buf, 256);
    } else {
        rc = rc || gf_writer_add_tensor(w, "blk.0.exp_down", GQ_MXFP4, 2, sh) < 0 ||
             gf_writer_add_tensor(w, "head", GQ_Q8_32, 2, sh) < 0 ||
             gf_writer_add_blob(w, "tokenizer.json", sample_tokenizer, strlen(sample_tokenizer)) < 0 ||
             gf_writer_begin(w) || gf_writer_write(w, 0, buf, 68) || gf_writer_write(w, 1, buf, 136);
    }
    rc = rc || gf_writer_finish(w);
    if (rc) fprintf(stderr, "%s\n", gf_writer_error(w));
    gf_writer_abort(w);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    char dir[1024];
    if (argc == 4 && strcmp(argv[1], "--write-seed") == 0) return write_seed(atoi(argv[2]), argv[3]);
    if (!make_tmpdir(dir, sizeof dir)) return 1;
    snprintf(base_path, sizeof base_path, "%s/base.gptoss", dir);
    if (write_sample(base_path, 1, 4096, 0)) return 1;
    base = read_whole(base_path, &base_len);
    test_preamble();
    test_json();
    test_entries();
    test_files();
    test_seeds();
    free(base);
    rm_tree(dir);
    return check_done("test_gptoss_malformed");
}
