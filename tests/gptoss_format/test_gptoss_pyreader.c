/* test_gptoss_pyreader.c - a file our writer produced must be readable by
 * an independent reader written from docs/FORMAT.md (read_gptoss.py).
 *
 * This program builds payloads of every type from known numbers, writes
 * the values each element must decode to (computed here from the spec's
 * formulas with exact ldexp arithmetic, not with quant/'s decoders), and
 * runs the python reader on the file and the expectations. */
#include <math.h>
#include <sys/wait.h>

#include "check.h"
#include "gf_test_util.h"

static const int kval[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* value of a normal or zero binary16, from its bits */
static double half_value(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return h & 0x8000 ? -v : v;
}

typedef struct {
    const char *name;
    gq_type type;
    int ndim;
    uint64_t shape[4];
    size_t bytes, count;
    uint8_t buf[1024];
    double val[512];
} spec;

static void build(spec *s)
{
    uint8_t *p = s->buf;
    s->count = 1;
    for (int d = 0; d < s->ndim; d++) s->count *= (size_t)s->shape[d];
    switch (s->type) {
    case GQ_F32:
        for (size_t j = 0; j < s->count; j++) {
            float f = (float)ldexp((double)j - 20.0, -3) + 1e-3f * (float)j;
            memcpy(p + 4 * j, &f, 4);   /* little-endian hosts only, as the format */
            s->val[j] = f;
        }
        s->bytes = 4 * s->count;
        break;
    case GQ_F16:
    case GQ_BF16:
        for (size_t j = 0; j < s->count; j++) {
            uint16_t h = (uint16_t)(0x3C00 + 37 * j) ^ (j & 1 ? 0x8000 : 0);
            put16(p + 2 * j, h);
            if (s->type == GQ_F16) {
                s->val[j] = half_value(h);
            } else {   /* bf16: sign, 8-bit exponent (bias 127), 7-bit mantissa */
                int e = (h >> 7) & 255, m = h & 127;
                double v = ldexp(128 + m, e - 134);
                s->val[j] = h & 0x8000 ? -v : v;
            }
        }
        s->bytes = 2 * s->count;
        break;
    case GQ_Q8_32:
        for (size_t b = 0; b < s->count / 32; b++) {
            uint16_t d = b & 1 ? 0x2C00 : 0x3400;   /* 1/16, 1/4 */
            put16(p + 34 * b, d);
            for (int j = 0; j < 32; j++) {
                int q = (int)((b * 32 + (size_t)j) * 7 % 255) - 127;
                p[34 * b + 2 + (size_t)j] = (uint8_t)(int8_t)q;
                s->val[b * 32 + (size_t)j] = q * half_value(d);
            }
        }
        s->bytes = 34 * (s->count / 32);
        break;
    case GQ_Q4_32:
        for (size_t b = 0; b < s->count / 32; b++) {
            uint16_t d = 0x3E00;   /* 1.5 */
            put16(p + 18 * b, d);
            for (int j = 0; j < 16; j++) {
                int lo = (j * 5 + (int)b) & 15, hi = (j * 3 + 7) & 15;
                p[18 * b + 2 + (size_t)j] = (uint8_t)(lo | hi << 4);
                s->val[b * 32 + (size_t)j] = (lo - 8) * 1.5;
                s->val[b * 32 + 16 + (size_t)j] = (hi - 8) * 1.5;
            }
        }
        s->bytes = 18 * (s->count / 32);
        break;
    case GQ_MXFP4:
        for (size_t b = 0; b < s->count / 32; b++) {
            int e = 120 + 3 * (int)b;
            p[17 * b] = (uint8_t)e;
            for (int j = 0; j < 16; j++) {
                int lo = (j + (int)b) & 15, hi = (15 - j) & 15;
                p[17 * b + 1 + (size_t)j] = (uint8_t)(lo | hi << 4);
                s->val[b * 32 + (size_t)j] = ldexp(kval[lo], e - 128);
                s->val[b * 32 + 16 + (size_t)j] = ldexp(kval[hi], e - 128);
            }
        }
        s->bytes = 17 * (s->count / 32);
        break;
    default:
        break;
    }
}

int main(void)
{
    char dir[1024], path[1200], expect[1200], cmd[4096], err[512], meta[8192];
    const char *src = getenv("GQ_SOURCE_DIR");
    if (!src || system("python3 -c pass >/dev/null 2>&1") != 0) {
        printf("test_gptoss_pyreader: no python3 or GQ_SOURCE_DIR, skipped\n");
        return CHECK_SKIP;
    }
    if (!make_tmpdir(dir, sizeof dir)) return 1;
    snprintf(path, sizeof path, "%s/py.gptoss", dir);
    snprintf(expect, sizeof expect, "%s/expect.txt", dir);
    static spec specs[] = {
        {"norm", GQ_F32, 1, {64}, 0, 0, {0}, {0}},
        {"x_bf16", GQ_BF16, 2, {4, 64}, 0, 0, {0}, {0}},
        {"x_f16", GQ_F16, 1, {96}, 0, 0, {0}, {0}},
        {"blk.0.attn_q", GQ_Q8_32, 2, {3, 64}, 0, 0, {0}, {0}},
        {"blk.0.attn_k", GQ_Q4_32, 2, {2, 64}, 0, 0, {0}, {0}},
        {"blk.0.exp_down", GQ_MXFP4, 3, {2, 2, 64}, 0, 0, {0}, {0}},
    };
    size_t ns = sizeof specs / sizeof specs[0];
    gf_writer *w = gf_writer_create(path, 0, err, sizeof err);
    CHECK_MSG(w != NULL, "%s", err);
    if (!w) return check_done("test_gptoss_pyreader");
    tiny_meta(meta, sizeof meta);
    int rc = gf_writer_set_meta(w, meta);
    for (size_t i = 0; i < ns; i++) {
        build(&specs[i]);
        rc = rc || gf_writer_add_tensor(w, specs[i].name, specs[i].type, specs[i].ndim, specs[i].shape) < 0;
    }
    rc = rc || gf_writer_add_blob(w, "tokenizer.json", sample_tokenizer, strlen(sample_tokenizer)) < 0;
    rc = rc || gf_writer_add_blob(w, "chat_template.jinja", "", 0) < 0;
    rc = rc || gf_writer_begin(w);
    for (size_t i = 0; i < ns; i++) rc = rc || gf_writer_write(w, i, specs[i].buf, specs[i].bytes);
    rc = rc || gf_writer_finish(w);
    CHECK_MSG(rc == 0, "%s", gf_writer_error(w));
    gf_writer_abort(w);

    FILE *e = fopen(expect, "w");
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < specs[i].count; j++) fprintf(e, "t %s %zu %.17g\n", specs[i].name, j, specs[i].val[j]);
    fprintf(e, "blob tokenizer.json ");
    for (const char *c = sample_tokenizer; *c; c++) fprintf(e, "%02x", (unsigned char)*c);
    fprintf(e, "\nblob chat_template.jinja\n");
    fclose(e);

    /* our own reader must agree with the same expectations */
    gf_file *f = gf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    for (size_t i = 0; f && i < ns; i++) {
        const gf_tensor *t = gf_find_tensor(f, specs[i].name);
        float out[512];
        gq_traits_of(t->type)->decode(t->data, out, specs[i].count);
        int same = 1;
        for (size_t j = 0; j < specs[i].count; j++) same &= (double)out[j] == specs[i].val[j];
        CHECK_MSG(same, "C decode of %s", specs[i].name);
    }
    gf_close(f);

    snprintf(cmd, sizeof cmd, "python3 '%s/tests/gptoss_format/read_gptoss.py' '%s' '%s'", src, path, expect);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python reader failed (status %d)", st);

    /* and it must notice damage: flip a payload value, expect a mismatch */
    f = gf_open(path, err, sizeof err);
    uint64_t off = f ? gf_find_tensor(f, "blk.0.attn_q")->offset : 0;
    gf_close(f);
    FILE *fp = fopen(path, "r+b");
    fseek(fp, (long)off + 5, SEEK_SET);
    fputc(0x55, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/gptoss_format/read_gptoss.py' '%s' '%s' | grep -q 'blk.0.attn_q\\[3\\]'",
             src, path, expect);
    st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python reader missed a changed value");
    rm_tree(dir);
    return check_done("test_gptoss_pyreader");
}
