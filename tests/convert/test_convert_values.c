/* test_convert_values.c - every recipe converts the tiny fixture, the file
 * reads back, and every output tensor decodes to what an INDEPENDENT decode
 * of the source says (bf16 by bit shifting, HF MXFP4 by its spec with
 * ldexp): exact where the recipe promises exact (bf16 copies, f32 norms,
 * MXFP4 experts kept or turned into q8), and for lossy classes the error
 * measured here equals the error the converter reported. Also: the root and
 * original/ layouts give the same tensors, 1 and 2 threads give identical
 * bytes, inspect/verify --json parse. */
#include <math.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "conv_util.h"
#include "gptoss_format.h"
#include "quant.h"
#include "safetensors.h"

/* ---- independent source decoding ---- */

static float bf16(const uint8_t *p)
{
    uint32_t u = (uint32_t)(p[0] | (p[1] << 8)) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static const double FP4[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};

/* Canonical name -> HF tensor name(s) and class. Written from the
 * reference table, independently of convert/plan/plan.c. */
typedef struct {
    char hf[160];
    int mxfp4;
    const char *cls;
} src_map;

static int map_name(const char *name, src_map *m)
{
    memset(m, 0, sizeof *m);
    int L;
    char rest[64];
    m->cls = "f32";
    if (!strcmp(name, "embed"))
        return snprintf(m->hf, sizeof m->hf, "model.embed_tokens.weight"), m->cls = "embed", 0;
    if (!strcmp(name, "head"))
        return snprintf(m->hf, sizeof m->hf, "lm_head.weight"), m->cls = "head", 0;
    if (!strcmp(name, "norm"))
        return snprintf(m->hf, sizeof m->hf, "model.norm.weight"), 0;
    if (sscanf(name, "blk.%d.%63s", &L, rest) != 2)
        return -1;
    static const struct { const char *c, *hf, *cls; int mx; } tab[] = {
        {"attn_norm", "input_layernorm.weight", "f32", 0},
        {"attn_q", "self_attn.q_proj.weight", "attn", 0},
        {"attn_q_bias", "self_attn.q_proj.bias", "f32", 0},
        {"attn_k", "self_attn.k_proj.weight", "attn", 0},
        {"attn_k_bias", "self_attn.k_proj.bias", "f32", 0},
        {"attn_v", "self_attn.v_proj.weight", "attn", 0},
        {"attn_v_bias", "self_attn.v_proj.bias", "f32", 0},
        {"attn_out", "self_attn.o_proj.weight", "attn", 0},
        {"attn_out_bias", "self_attn.o_proj.bias", "f32", 0},
        {"attn_sinks", "self_attn.sinks", "f32", 0},
        {"ffn_norm", "post_attention_layernorm.weight", "f32", 0},
        {"router", "mlp.router.weight", "f32", 0},
        {"router_bias", "mlp.router.bias", "f32", 0},
        {"exp_gate_up", "mlp.experts.gate_up_proj", "experts", 1},
        {"exp_gate_up_bias", "mlp.experts.gate_up_proj_bias", "f32", 0},
        {"exp_down", "mlp.experts.down_proj", "experts", 1},
        {"exp_down_bias", "mlp.experts.down_proj_bias", "f32", 0},
    };
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
        if (!strcmp(rest, tab[i].c)) {
            snprintf(m->hf, sizeof m->hf, "model.layers.%d.%s", L, tab[i].hf);
            m->cls = tab[i].cls;
            m->mxfp4 = tab[i].mx;
            return 0;
        }
    return -1;
}

/* Source values as doubles; NULL if the source is missing. */
static double *source_values(const st_checkpoint *ck, const src_map *m, uint64_t *n)
{
    if (!m->mxfp4) {
        const st_tensor *t = st_find(ck, m->hf);
        if (!t || t->dtype != ST_BF16)
            return NULL;
        *n = t->nbytes / 2;
        double *v = malloc(*n * sizeof *v);
        for (uint64_t i = 0; i < *n; i++)
            v[i] = bf16((const uint8_t *)t->data + 2 * i);
        return v;
    }
    char b[200], s[200];
    snprintf(b, sizeof b, "%s_blocks", m->hf);
    snprintf(s, sizeof s, "%s_scales", m->hf);
    const st_tensor *tb = st_find(ck, b), *ts = st_find(ck, s);
    if (!tb || !ts || tb->nbytes != ts->nbytes * 16)
        return NULL;
    *n = ts->nbytes * 32;
    double *v = malloc(*n * sizeof *v);
    const uint8_t *codes = tb->data, *sc = ts->data;
    for (uint64_t blk = 0; blk < ts->nbytes; blk++)
        for (int k = 0; k < 16; k++) {
            uint8_t byte = codes[blk * 16 + (uint64_t)k];
            v[blk * 32 + 2 * (uint64_t)k] = ldexp(FP4[byte & 15], sc[blk] - 127);
            v[blk * 32 + 2 * (uint64_t)k + 1] = ldexp(FP4[byte >> 4], sc[blk] - 127);
        }
    return v;
}

typedef struct {
    double sq_err[8];
    uint64_t values[8];
    uint64_t inexact_values[8];
} class_err;

static int cls_index(const char *c)
{
    static const char *names[] = {"embed", "attn", "head", "experts", "f32"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(c, names[i]))
            return i;
    return 7;
}

/* Compare every tensor of OUT with the checkpoint. types: expected type
 * name per class (embed, attn, head, experts). */
static void check_file(const char *out, const st_checkpoint *ck, const char *const types[4], const cJSON *report,
                       const char *label)
{
    char err[1024];
    gf_file *f = gf_open(out, err, sizeof err);
    CHECK_MSG(f, "%s: gf_open: %s", label, err);
    if (!f)
        return;
    CHECK_EQ_INT(gf_tensor_count(f), 3 + 4 * 17);
    CHECK_MSG(gf_find_blob(f, "tokenizer.json") && gf_find_blob(f, "tokenizer_config.json"), "%s: blobs", label);
    const gf_hparams *hp = gf_get_hparams(f);
    CHECK(hp->n_layers == 4 && hp->n_experts == 8 && hp->hidden == 128 && hp->vocab == 1024);
    CHECK(hp->layer_sliding[0] == 1 && hp->layer_sliding[1] == 0 && hp->rope_truncate == 0);
    class_err ce;
    memset(&ce, 0, sizeof ce);
    for (size_t i = 0; i < gf_tensor_count(f); i++) {
        const gf_tensor *t = gf_tensor_at(f, i);
        src_map m;
        if (map_name(t->name, &m)) {
            CHECK_MSG(0, "%s: unexpected tensor %s", label, t->name);
            continue;
        }
        int ci = cls_index(m.cls);
        const char *want = ci < 4 ? types[ci] : "f32";
        const gq_traits *tr = gq_traits_of(t->type);
        CHECK_MSG(tr && !strcmp(tr->name, want), "%s: %s is %s, expected %s", label, t->name, tr ? tr->name : "?", want);
        uint64_t n = 0;
        double *src = source_values(ck, &m, &n);
        CHECK_MSG(src, "%s: no source for %s", label, t->name);
        uint64_t elems = 1;
        for (int d = 0; d < t->ndim; d++)
            elems *= t->shape[d];
        CHECK_MSG(elems == n, "%s: %s has %llu elements, source %llu", label, t->name, (unsigned long long)elems,
                  (unsigned long long)n);
        if (!src || !tr || elems != n) {
            free(src);
            continue;
        }
        float *dec = malloc(n * sizeof *dec);
        tr->decode(t->data, dec, n);
        for (uint64_t k = 0; k < n; k++) {
            double d = (double)dec[k] - src[k];
            ce.sq_err[ci] += d * d;
            ce.inexact_values[ci] += d != 0;
        }
        ce.values[ci] += n;
        free(dec);
        free(src);
    }
    /* Exactness promises. */
    CHECK_MSG(ce.inexact_values[4] == 0, "%s: f32 class not exact", label);
    for (int c = 0; c < 4; c++) {
        int exact = !strcmp(types[c], "bf16") || (c == 3 && (!strcmp(types[c], "mxfp4") || !strcmp(types[c], "q8_32")));
        if (exact)
            CHECK_MSG(ce.inexact_values[c] == 0, "%s: class %d (%s) should be exact: %llu values differ", label, c,
                      types[c], (unsigned long long)ce.inexact_values[c]);
    }
    /* The converter's reported error equals the one measured here. */
    static const char *names[] = {"embed", "attn", "head", "experts", "f32"};
    const cJSON *classes = cJSON_GetObjectItem(report, "classes");
    for (int c = 0; c < 5; c++) {
        const cJSON *o = cJSON_GetObjectItem(classes, names[c]);
        CHECK_MSG(o, "%s: report lacks class %s", label, names[c]);
        if (!o)
            continue;
        double sq = cJSON_GetObjectItem(o, "sq_err")->valuedouble;
        double rel = fabs(sq - ce.sq_err[c]) / (ce.sq_err[c] > 0 ? ce.sq_err[c] : 1);
        CHECK_MSG(rel < 1e-6, "%s: class %s sq_err reported %.9g, measured %.9g", label, names[c], sq, ce.sq_err[c]);
        CHECK_MSG((uint64_t)cJSON_GetObjectItem(o, "values")->valuedouble == ce.values[c], "%s: %s value count",
                  label, names[c]);
        double rmse = cJSON_GetObjectItem(o, "rmse")->valuedouble;
        double mine = sqrt(ce.sq_err[c] / (double)ce.values[c]);
        CHECK_MSG(fabs(rmse - mine) <= 1e-9 + 1e-6 * mine, "%s: %s rmse %.9g vs %.9g", label, names[c], rmse, mine);
        if (ce.inexact_values[c] == 0)
            CHECK_MSG(cJSON_GetObjectItem(o, "inexact_blocks")->valuedouble == 0, "%s: %s inexact blocks reported",
                      label, names[c]);
        if (!strcmp(names[c], "experts") && !strcmp(types[3], "q8_32"))
            CHECK_MSG(cJSON_GetObjectItem(o, "inexact_blocks")->valuedouble == 0,
                      "%s: q8 experts must be lossless (0 inexact blocks)", label);
    }
    /* q4 really loses something, q8 little. */
    if (!strcmp(types[1], "q4_32"))
        CHECK_MSG(ce.sq_err[1] > 0, "%s: q4 attn cannot be exact on gaussian weights", label);
    gf_close(f);
}

static cJSON *convert(const char *src, const char *out, const char *const *extra, const char *label)
{
    char *argv[24];
    int k = 0;
    argv[k++] = (char *)bin("gptoss-convert");
    argv[k++] = "convert";
    argv[k++] = (char *)src;
    argv[k++] = "-o";
    argv[k++] = (char *)out;
    argv[k++] = "--json";
    for (; *extra; extra++)
        argv[k++] = (char *)*extra;
    argv[k] = NULL;
    run_result r = run(argv);
    CHECK_MSG(r.status == 0, "%s: convert exit %d: %s", label, r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    CHECK_MSG(j && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")), "%s: --json output: %s", label, r.out);
    CHECK_MSG(!strchr(r.err, '\r'), "%s: progress bar printed although stderr is not a terminal", label);
    run_free(&r);
    return j;
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

int main(void)
{
    int s = conv_setup("convert-values");
    if (s == -1)
        return CHECK_SKIP;
    CHECK(s == 0);
    if (s)
        return check_done("test_convert_values");
    char err[1024];
    st_checkpoint *ck = st_open(path_in("ck"), err, sizeof err);
    CHECK_MSG(ck, "st_open: %s", err);
    if (!ck)
        return check_done("test_convert_values");

    struct {
        const char *label;
        const char *args[12];
        const char *types[4]; /* embed, attn, head, experts */
    } recipes[] = {
        {"mxfp4", {"--quant", "mxfp4", "-j", "2", NULL}, {"bf16", "bf16", "bf16", "mxfp4"}},
        {"q8", {"--quant", "q8", "-j", "2", NULL}, {"q8_32", "q8_32", "q8_32", "q8_32"}},
        {"q4", {"--quant", "q4", "-j", "2", NULL}, {"q4_32", "q4_32", "q4_32", "q4_32"}},
        {"q8e", {"--quant", "q8", "--experts", "mxfp4", "-j", "2", NULL}, {"q8_32", "q8_32", "q8_32", "mxfp4"}},
        {"mixed", {"--quant", "mxfp4", "--embed", "q4", "--head", "q8", "--attn", "bf16", NULL},
         {"q4_32", "bf16", "q8_32", "mxfp4"}},
    };
    for (size_t i = 0; i < sizeof recipes / sizeof *recipes; i++) {
        char *out = path_in("%s.gptoss", recipes[i].label);
        cJSON *j = convert(path_in("ck"), out, recipes[i].args, recipes[i].label);
        if (j)
            check_file(out, ck, recipes[i].types, j, recipes[i].label);
        cJSON_Delete(j);
    }

    /* Thread count does not change a byte (q4 exercises the most code). */
    const char *j1[] = {"--quant", "q4", "-j", "1", NULL};
    cJSON_Delete(convert(path_in("ck"), path_in("q4-j1.gptoss"), j1, "q4 -j1"));
    CHECK_MSG(same_file(path_in("q4.gptoss"), path_in("q4-j1.gptoss")), "-j 1 and -j 2 differ");
    const char *j3[] = {"--quant", "q8", "--experts", "mxfp4", "-j", "3", NULL};
    cJSON_Delete(convert(path_in("ck"), path_in("q8e-j3.gptoss"), j3, "q8e -j3"));
    CHECK_MSG(same_file(path_in("q8e.gptoss"), path_in("q8e-j3.gptoss")), "-j 3 and -j 2 differ");
    /* Nor does the I/O path: 4 KiB chunks put range starts and ends off the
     * 4096-byte alignment of the direct reads and make the writer jump
     * between partial blocks; then the same without O_DIRECT (reads and
     * writes through the page cache, the fallback where a file system
     * refuses it). */
    const char *m1[] = {"--quant", "mxfp4", "-j", "1", NULL}, *m3[] = {"--quant", "mxfp4", "-j", "3", NULL};
    setenv("GPTOSS_CONVERT_CHUNK", "4096", 1);
    cJSON_Delete(convert(path_in("ck"), path_in("mxfp4-small.gptoss"), m1, "mxfp4 -j1 4 KiB chunks"));
    CHECK_MSG(same_file(path_in("mxfp4.gptoss"), path_in("mxfp4-small.gptoss")), "mxfp4: 4 KiB chunks -j 1 differ");
    setenv("GPTOSS_NO_DIRECT_IO", "1", 1);
    cJSON_Delete(convert(path_in("ck"), path_in("mxfp4-buffered.gptoss"), m3, "mxfp4 -j3 buffered"));
    CHECK_MSG(same_file(path_in("mxfp4.gptoss"), path_in("mxfp4-buffered.gptoss")), "mxfp4: page-cache I/O differs");
    unsetenv("GPTOSS_NO_DIRECT_IO");
    unsetenv("GPTOSS_CONVERT_CHUNK");

    /* original/ layout: the same tensors, blobs and hparams; only the
     * provenance (which source files, their hashes) differs. */
    const char *oq[] = {"--quant", "q8", "--experts", "mxfp4", NULL};
    cJSON *jo = convert(path_in("ck/original"), path_in("orig.gptoss"), oq, "original");
    CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(jo, "layout")), "original");
    cJSON_Delete(jo);
    gf_file *a = gf_open(path_in("q8e.gptoss"), err, sizeof err), *b = gf_open(path_in("orig.gptoss"), err, sizeof err);
    CHECK_MSG(a && b, "open for layout compare: %s", err);
    if (a && b) {
        CHECK_EQ_INT(gf_tensor_count(a), gf_tensor_count(b));
        for (size_t i = 0; i < gf_tensor_count(a) && i < gf_tensor_count(b); i++) {
            const gf_tensor *x = gf_tensor_at(a, i), *y = gf_tensor_at(b, i);
            CHECK_MSG(!strcmp(x->name, y->name) && x->type == y->type && x->size == y->size && x->offset == y->offset &&
                          !memcmp(x->data, y->data, x->size),
                      "layouts differ at %s", x->name);
        }
        CHECK_EQ_INT(gf_blob_count(a), gf_blob_count(b));
        for (size_t i = 0; i < gf_blob_count(a) && i < gf_blob_count(b); i++)
            CHECK_MSG(gf_blob_at(a, i)->xxh3 == gf_blob_at(b, i)->xxh3, "blob %s differs", gf_blob_at(a, i)->name);
        CHECK_MSG(!memcmp(gf_get_hparams(a), gf_get_hparams(b), sizeof(gf_hparams)), "hparams differ");
    }
    gf_close(a);
    gf_close(b);

    /* inspect / verify --json */
    char *ia[] = {(char *)bin("gptoss-convert"), "inspect", path_in("q8e.gptoss"), "--json", "--tensors", NULL};
    run_result r = run(ia);
    CHECK_EQ_INT(r.status, 0);
    cJSON *ij = cJSON_Parse(r.out);
    const cJSON *h = cJSON_GetObjectItem(ij, "header");
    CHECK_MSG(ij && h, "inspect --json: %s", r.out);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(h, "tensors")), 71);
    CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "quant"), "recipe")),
                       "q8,experts=mxfp4");
    const cJSON *files = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "provenance"), "files");
    int shas = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, files) shas += strlen(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256"))) == 64;
    CHECK_MSG(shas >= 4 && shas == cJSON_GetArraySize(files), "provenance sha256 of every source file");
    cJSON_Delete(ij);
    run_free(&r);
    char *va[] = {(char *)bin("gptoss-convert"), "verify", path_in("q8e.gptoss"), "--json", NULL};
    r = run(va);
    CHECK_EQ_INT(r.status, 0);
    cJSON *vj = cJSON_Parse(r.out);
    CHECK_MSG(vj && cJSON_IsTrue(cJSON_GetObjectItem(vj, "ok")), "verify --json: %s", r.out);
    cJSON_Delete(vj);
    run_free(&r);

    st_close(ck);
    rm_rf(g_tmp);
    return check_done("test_convert_values");
}
