/* test_ppl_kld.c - the full-vocabulary KL divergence and llama.cpp's
 * statistics of `gptoss-run ppl`, against a direct float64 computation.
 *  - the 16-bit code of the full reference keeps its stated error bound
 *    (|l' - l| <= 2^-12 |l| + 2^-21) over the whole range;
 *  - on the small fixture (real 201088 vocabulary) this test runs both
 *    recipes (q4 = "this", mxfp4 = the reference) through the forward API,
 *    reads every logits row and computes per token, in double: log-softmax,
 *    KLD(ref || this), NLL, dp, argmax; then the statistics with its own
 *    code. `ppl --ref-model` must match them (the exact value), `--save-ref`
 *    + `--ref` (16-bit file) within the first-order bound of docs/RUNTIME.md;
 *  - a model whose final norm is NaN exits 10 with valid JSON naming chunk 1;
 *  - --save-ref refuses to overwrite (exit 7) and --force replaces;
 *  - references from another vocabulary, context or text are refused (exit 3
 *    naming which), as is a --ref-model with another vocabulary.
 * usage: test_ppl_kld GOLDEN_DIR MODELS_DIR (gptoss-run from $GQ_BIN_DIR)
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "backend_cpu.h"
#include "check.h"
#include "sh_capture.h"
#include "forward.h"
#include "gptoss_format.h"
#include "model.h"
#include "ppl_ref.h"

static const char *out_text = out_buf;

enum { CTX = 32, NCHUNK = 2, NTOK = CTX * NCHUNK, FIRST = CTX / 2, PER = CTX - 1 - FIRST, N = NCHUNK * PER };

typedef struct {
    gb_backend *be;
    int vocab;
    double *lp;               /* [N * vocab] log-softmax of each scored row */
    int chunk;
    float *row;
} grab;

static gb_status on_rows(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    grab *g = user;
    for (int j = 0; j < n_rows; j++) {
        int pos = index + j;
        if (pos > CTX - 2)
            continue;
        gb_status s = g->be->read(g->be, gb_ref_f32(logits, (uint64_t)j * (uint64_t)vocab), g->row,
                                  (uint64_t)vocab * 4);
        if (s != GB_OK)
            return s;
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < vocab; i++)
            mx = g->row[i] > mx ? g->row[i] : mx;
        for (int i = 0; i < vocab; i++)
            sum += exp((double)g->row[i] - mx);
        double *out = g->lp + ((size_t)g->chunk * PER + (size_t)(pos - FIRST)) * (size_t)vocab;
        for (int i = 0; i < vocab; i++)
            out[i] = (double)g->row[i] - mx - log(sum);
    }
    return GB_OK;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least q*N values <= it */
static double quant(const double *v, size_t n, double q)
{
    double *s = malloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmpd);
    size_t k = (size_t)ceil(q * (double)n - 1e-9);
    double r = s[k ? k - 1 : 0];
    free(s);
    return r;
}

static int close_to(double got, double want, double rel, double abs_tol)
{
    return fabs(got - want) <= abs_tol + rel * fabs(want);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *gd = argv[1], *md = argv[2], *bin = getenv("GQ_BIN_DIR");
    if (!bin)
        bin = "bin";
    char tmp[] = "/tmp/gq_kld_XXXXXX";
    if (!mkdtemp(tmp))
        return 1;

    /* 1. the 16-bit code's bound, over the whole range and at its edges */
    double worst = 0;
    for (long i = 0; i <= 2000000; i++) {
        double l = i < 1000000 ? -2047.0 * (double)i / 1e6 : -exp(-15.0 + 22.6 * (double)(i - 1000000) / 1e6);
        if (l < -2047.4)
            continue;
        double d = ppl_ref_decode(ppl_ref_encode(l));
        double bound = 0x1p-12 * fabs(l) + 0x1p-21;
        if (fabs(d - l) > bound * (1 + 1e-12)) {
            CHECK_MSG(0, "code error %.3g at %.9g exceeds the bound %.3g", fabs(d - l), l, bound);
            break;
        }
        worst = fmax(worst, fabs(d - l) / bound);
    }
    printf("16-bit code: worst error %.3f of the bound\n", worst);
    CHECK(worst > 0.4 && worst <= 1.0);
    CHECK(ppl_ref_decode(ppl_ref_encode(0.0)) == 0.0f && ppl_ref_encode(-1e9) == 0xFFFF);

    /* a version-1 file (top-k, 48-byte header) still reads: k 2, vocab 10, 2 records */
    {
        uint8_t raw[2 * 20], img[48 + 256];
        uint32_t rid[4] = {3, 7, 1, 9};
        float rlp[4] = {-0.1f, -2.5f, -0.3f, -1.5f}, rnll[2] = {2.5f, 4.0f};
        for (int t = 0; t < 2; t++) {
            memcpy(raw + t * 20, rid + 2 * t, 8);
            memcpy(raw + t * 20 + 8, rlp + 2 * t, 8);
            memcpy(raw + t * 20 + 16, rnll + t, 4);
        }
        uLongf cl = 256;
        CHECK(compress2(img + 48, &cl, raw, sizeof raw, 6) == Z_OK);
        uint32_t h[10] = {0, 0, 1, 2, 10, 4, 5, 42, 2, 0};
        memcpy(img, "GQPPLREF", 8);
        memcpy(img + 8, h + 2, 24);
        uint64_t n2 = 2, c64 = cl;
        memcpy(img + 32, &n2, 8);
        memcpy(img + 40, &c64, 8);
        ppl_ref v1;
        char e1[256];
        CHECK_MSG(ppl_ref_parse(img, 48 + cl, "v1", &v1, e1, sizeof e1) == 0, "v1: %s", e1);
        CHECK(v1.version == 1 && v1.kind == PPL_REF_TOPK && v1.k == 2 && v1.vocab == 10 && v1.ctx == 4 &&
              v1.top1[1] == 1 && v1.nll[1] == 4.0f && v1.model_digest == 0);
        ppl_ref_free(&v1);
    }

    char ref_path[1024], this_path[1024];
    snprintf(ref_path, sizeof ref_path, "%s/small-mxfp4.gptoss", md);
    snprintf(this_path, sizeof this_path, "%s/small-q4.gptoss", md);
    if (access(ref_path, R_OK) != 0 || access(this_path, R_OK) != 0) {
        printf("test_ppl_kld: no small fixture (real tokenizer not installed): skipped the model checks\n");
        return check_done("test_ppl_kld");
    }

    /* 2. the logits of both models, directly */
    char err[1024];
    int32_t ids[NTOK];
    uint32_t x = 12345;
    for (int i = 0; i < NTOK; i++) {
        x = x * 1664525u + 1013904223u;
        ids[i] = (int32_t)(x % 199998u);
    }
    char ids_path[1200];
    snprintf(ids_path, sizeof ids_path, "%s/ids.json", tmp);
    FILE *f = fopen(ids_path, "w");
    CHECK(f != NULL);
    fputc('[', f);
    for (int i = 0; i < NTOK; i++)
        fprintf(f, "%s%d", i ? "," : "", ids[i]);
    fputs("]\n", f);
    fclose(f);
    gb_backend *be = gb_cpu_create(2, GB_EXACT, err, sizeof err);
    CHECK(be != NULL);
    gm_model *mr = gm_open(ref_path, err, sizeof err), *mq = gm_open(this_path, err, sizeof err);
    CHECK_MSG(mr && mq, "%s", err);
    CHECK(gm_prepare(mr, be, err, sizeof err) == 0 && gm_prepare(mq, be, err, sizeof err) == 0);
    int V = mr->hp.vocab;
    CHECK_EQ_INT(V, 201088);
    grab gr = {be, V, malloc((size_t)N * (size_t)V * sizeof(double)), 0, malloc((size_t)V * 4)};
    grab gq = {be, V, malloc((size_t)N * (size_t)V * sizeof(double)), 0, malloc((size_t)V * 4)};
    CHECK(gr.lp && gq.lp && gr.row && gq.row);
    gq_session *sr = gq_session_create(mr, be, CTX, 0, err, sizeof err), *sq = gq_session_create(mq, be, CTX, 0, err, sizeof err);
    CHECK(sr && sq);
    for (int c = 0; c < NCHUNK; c++) {
        gr.chunk = gq.chunk = c;
        gq_session_reset(sr);
        gq_session_reset(sq);
        CHECK(gq_forward(sr, ids + c * CTX, CTX, FIRST, on_rows, &gr, err, sizeof err) == 0);
        CHECK(gq_forward(sq, ids + c * CTX, CTX, FIRST, on_rows, &gq, err, sizeof err) == 0);
    }
    static double kld[N], dp[N], nll[N], nllr[N], bnd[N];
    double same = 0;
    for (int t = 0; t < N; t++) {
        const double *p = gr.lp + (size_t)t * (size_t)V, *q = gq.lp + (size_t)t * (size_t)V;
        int y = ids[(t / PER) * CTX + FIRST + t % PER + 1];
        double k = 0, eb = 0, pm = p[0];
        int ar = 0, aq = 0;
        for (int i = 1; i < V; i++)
            pm = p[i] > pm ? p[i] : pm;
        for (int i = 0; i < V; i++) {
            k += exp(p[i]) * (p[i] - q[i]);
            eb += exp(p[i]) * (0x1p-12 * (pm - p[i]) + 0x1p-21);
            ar = p[i] > p[ar] ? i : ar;
            aq = q[i] > q[aq] ? i : aq;
        }
        double b = 0;
        for (int i = 0; i < V; i++)
            b += exp(p[i]) * (0x1p-12 * (pm - p[i]) + 0x1p-21 + eb) * fabs(p[i] - q[i]);
        kld[t] = k;
        bnd[t] = b;
        nll[t] = -q[y];
        nllr[t] = -p[y];
        dp[t] = exp(q[y]) - exp(p[y]);
        same += ar == aq;
    }
    double km = 0, dm = 0, lr = 0, bm = 0, ks = 0, lrs = 0;
    for (int t = 0; t < N; t++) {
        km += kld[t] / N;
        dm += dp[t] / N;
        lr += (nll[t] - nllr[t]) / N;
        bm += bnd[t] / N;
    }
    for (int t = 0; t < N; t++) {
        ks += (kld[t] - km) * (kld[t] - km);
        lrs += (nll[t] - nllr[t] - lr) * (nll[t] - nllr[t] - lr);
    }
    double kerr = sqrt(ks / (N - 1) / N), lrerr = sqrt(lrs / (N - 1) / N);
    same /= N;
    printf("direct: KLD %.8g +/- %.3g, ln ratio %.6g +/- %.3g, same top %.4f, mean dp %.3g; file bound %.3g\n", km,
           kerr, lr, lrerr, same, dm, bm);

    /* 3. --ref-model: the exact value */
    int rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --ref-model %s --backend cpu --json", bin, this_path, ids_path,
                CTX, ref_path);
    CHECK_EQ_INT(rc, 0);
    cJSON *j = cJSON_Parse(out_buf);
    CHECK_MSG(j != NULL, "valid JSON: %s", out_buf);
    printf("--ref-model: KLD %.8g, median %.6g, p99 %.6g, top1 %.4f\n", num(j, "ref.kld_mean"), num(j, "ref.kld_median"),
           num(j, "ref.kld_p99"), num(j, "ref.top1"));
    CHECK_EQ_INT((int)num(j, "scored"), N);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ref"), "kld_kind")) &&
          !strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ref"), "kld_kind")->valuestring, "full"));
    CHECK_MSG(close_to(num(j, "ref.kld_mean"), km, 1e-5, 1e-9), "KLD mean %.10g vs direct %.10g",
              num(j, "ref.kld_mean"), km);
    CHECK(close_to(num(j, "ref.kld_err"), kerr, 1e-4, 1e-9));
    CHECK(close_to(num(j, "ref.kld_median"), quant(kld, N, 0.5), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.kld_p90"), quant(kld, N, 0.9), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.kld_p95"), quant(kld, N, 0.95), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.kld_p99"), quant(kld, N, 0.99), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.kld_max"), quant(kld, N, 1), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.kld_min"), quant(kld, N, 0), 1e-5, 1e-9));
    CHECK(close_to(num(j, "ref.top1"), same, 0, 1e-12));
    CHECK(close_to(num(j, "ref.top1_err"), sqrt(same * (1 - same) / (N - 1)), 1e-9, 1e-12));
    CHECK(close_to(num(j, "ref.ln_ppl_ratio"), lr, 1e-4, 1e-7));
    CHECK(close_to(num(j, "ref.ln_ppl_ratio_err"), lrerr, 1e-4, 1e-7));
    CHECK(close_to(num(j, "ref.ppl_ratio"), exp(lr), 1e-6, 1e-7));
    CHECK(close_to(num(j, "ref.dp_mean"), dm, 1e-4, 1e-9));
    CHECK(close_to(num(j, "ref.dp_quantiles.median"), quant(dp, N, 0.5), 1e-4, 1e-9));
    CHECK(close_to(num(j, "ref.dp_quantiles.p5"), quant(dp, N, 0.05), 1e-4, 1e-9));
    CHECK(close_to(num(j, "ref.dp_quantiles.max"), quant(dp, N, 1), 1e-4, 1e-9));
    cJSON_Delete(j);

    /* 4. the full reference file: within the first-order bound */
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --save-ref %s/full.ref --json", bin, ref_path, ids_path, CTX, tmp);
    CHECK_EQ_INT(rc, 0);
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --ref %s/full.ref --json", bin, this_path, ids_path, CTX, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    double kf = num(j, "ref.kld_mean");
    printf("--ref (16-bit file): KLD %.8g, error %.3g, bound %.3g\n", kf, fabs(kf - km), bm);
    CHECK_MSG(fabs(kf - km) <= 1.5 * bm + 1e-9, "file KLD %.10g vs exact %.10g: error above the bound %.3g", kf, km,
              bm);
    CHECK(close_to(num(j, "ref.top1"), same, 0, 1e-12));
    CHECK(close_to(num(j, "ref.ln_ppl_ratio"), lr, 1e-4, 1e-7));
    cJSON_Delete(j);
    /* top-k: a lower bound, said so */
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --save-ref %s/top.ref --ref-top-k 16 --json", bin, ref_path,
            ids_path, CTX, tmp);
    CHECK_EQ_INT(rc, 0);
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --ref %s/top.ref --json", bin, this_path, ids_path, CTX, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    cJSON *kk = cJSON_GetObjectItem(j, "kld_kind");
    CHECK(cJSON_IsString(kk) && !strcmp(kk->valuestring, "lower_bound"));
    CHECK(num(j, "ref.kld_mean") <= km * (1 + 1e-6));
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --ref %s/top.ref", bin, this_path, ids_path, CTX, tmp);
    CHECK(strstr(out_buf, "LOWER BOUND") != NULL);

    /* 5. --save-ref never overwrites without --force */
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --save-ref %s/full.ref --json 2>/dev/null", bin, ref_path, ids_path,
            CTX, tmp);
    CHECK_EQ_INT(rc, 7);
    j = cJSON_Parse(out_buf);
    CHECK(j && num(j, "error.code") == 7 && cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message")));
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --save-ref %s/full.ref --force --json", bin, ref_path, ids_path,
            CTX, tmp);
    CHECK_EQ_INT(rc, 0);

    /* 6. mismatched references, each named */
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx 16 --ref %s/full.ref 2>&1", bin, this_path, ids_path, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "context length");
    ids[5] = (ids[5] + 1) % 199998;
    snprintf(ids_path, sizeof ids_path, "%s/ids2.json", tmp);
    f = fopen(ids_path, "w");
    fputc('[', f);
    for (int i = 0; i < NTOK; i++)
        fprintf(f, "%s%d", i ? "," : "", ids[i]);
    fputs("]\n", f);
    fclose(f);
    rc = sh("%s/gptoss-run ppl %s --ids %s --ctx %d --ref %s/full.ref 2>&1", bin, this_path, ids_path, CTX, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "text (token ids)");
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx %d --ref %s/full.ref --json 2>/dev/null",
            bin, md, gd, CTX, tmp);
    CHECK_EQ_INT(rc, 3);
    j = cJSON_Parse(out_buf);
    {
        const cJSON *m = j ? cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message") : NULL;
        CHECK(cJSON_IsString(m) && strstr(m->valuestring, "vocabulary size"));
    }
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx %d --ref-model %s 2>&1", bin, md, gd, CTX,
            ref_path);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "vocabulary size");

    /* 6b. a truncated full reference is refused */
    rc = sh("head -c 3000 %s/full.ref > %s/trunc.ref && %s/gptoss-run ppl %s --ids %s/ids.json --ctx %d --ref %s/trunc.ref "
            "2>&1", tmp, tmp, bin, this_path, tmp, CTX, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "corrupt");
    /* thresholds: every one evaluated, the failures named */
    rc = sh("%s/gptoss-run ppl %s --ids %s/ids.json --ctx %d --ref %s/full.ref --max-kld 1e-9 --min-top1 1 "
            "--max-ppl-ratio 100 --json 2>/dev/null", bin, this_path, tmp, CTX, tmp);
    CHECK_EQ_INT(rc, 8);
    j = cJSON_Parse(out_buf);
    cJSON *fl = j ? cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ref"), "failed") : NULL;
    CHECK(cJSON_GetArraySize(fl) == 2 && !strcmp(cJSON_GetArrayItem(fl, 0)->valuestring, "max_kld") &&
          !strcmp(cJSON_GetArrayItem(fl, 1)->valuestring, "min_top1"));
    CHECK(num(j, "ref.thresholds.max_ppl_ratio") == 100 && cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ref"), "pass")));
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s --ids %s/ids.json --ctx %d --ref %s/full.ref --min-top1 95 --json 2>/dev/null", bin,
            this_path, tmp, CTX, tmp);
    CHECK_EQ_INT(rc, 2);
    j = cJSON_Parse(out_buf);
    CHECK(j && num(j, "error.code") == 2);
    cJSON_Delete(j);
    /* model identity: the same checkpoint with one source file changed
     * (config.json: a trailing newline) is another checkpoint: a warning,
     * refused with --strict; a changed tokenizer.json is refused always */
    rc = sh("cp -r %s/small %s/other && printf '\n' >> %s/other/config.json && %s/gptoss-convert convert %s/other "
            "-o %s/other.gptoss --quant q4 -q", md, tmp, tmp, bin, tmp, tmp);
    CHECK_EQ_INT(rc, 0);
    rc = sh("%s/gptoss-run ppl %s/other.gptoss --ids %s/ids.json --ctx %d --ref %s/full.ref --json 2>%s/warn", bin, tmp,
            tmp, CTX, tmp, tmp);
    CHECK_EQ_INT(rc, 0);
    rc = sh("cat %s/warn", tmp);
    CHECK_STR_CONTAINS(out_text, "another checkpoint");
    rc = sh("%s/gptoss-run ppl %s/other.gptoss --ids %s/ids.json --ctx %d --ref %s/full.ref --strict 2>&1", bin, tmp,
            tmp, CTX, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "another checkpoint");
    rc = sh("%s/gptoss-run ppl %s --ids %s/ids.json --ctx %d --ref %s/full.ref --strict --json", bin, this_path, tmp,
            CTX, tmp);
    CHECK_EQ_INT(rc, 0);   /* q4 and mxfp4 of one checkpoint: the same source */
    rc = sh("%s/gptoss-run ppl %s/other.gptoss --ids %s/ids.json --ctx %d --ref-model %s --strict 2>&1", bin, tmp,
            tmp, CTX, ref_path);
    CHECK_EQ_INT(rc, 3);
    rc = sh("rm -rf %s/other/*.gptoss && printf ' ' >> %s/other/tokenizer.json && %s/gptoss-convert convert %s/other "
            "-o %s/othertok.gptoss --quant q4 -q", tmp, tmp, bin, tmp, tmp);
    CHECK_EQ_INT(rc, 0);
    rc = sh("%s/gptoss-run ppl %s/othertok.gptoss --ids %s/ids.json --ctx %d --ref %s/full.ref 2>&1", bin, tmp, tmp,
            CTX, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "tokenizer");
    rc = sh("%s/gptoss-run ppl %s/othertok.gptoss --ids %s/ids.json --ctx %d --ref-model %s 2>&1", bin, tmp, tmp, CTX,
            ref_path);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "tokenizer");

    /* 7. a NaN model: the final norm patched to NaN (payload hashes are only
     * checked by verify, so the file opens) */
    char nan_path[1200];
    snprintf(nan_path, sizeof nan_path, "%s/nan.gptoss", tmp);
    CHECK_EQ_INT(sh("cp %s/tiny-q8.gptoss %s", md, nan_path), 0);
    gf_file *gf = gf_open(nan_path, err, sizeof err);
    CHECK(gf != NULL);
    const gf_tensor *nt = gf_find_tensor(gf, "norm");
    CHECK(nt && nt->type == GQ_F32);
    uint64_t off = nt->offset, sz = nt->size;
    gf_close(gf);
    f = fopen(nan_path, "r+b");
    CHECK(f && fseek(f, (long)off, SEEK_SET) == 0);
    float qnan = NAN;
    for (uint64_t i = 0; i < sz / 4; i++)
        fwrite(&qnan, 4, 1, f);
    fclose(f);
    rc = sh("%s/gptoss-run ppl %s --ids %s/tiny.json --ctx 100 --json 2>/dev/null", bin, nan_path, gd);
    CHECK_EQ_INT(rc, 10);
    j = cJSON_Parse(out_buf);
    CHECK_MSG(j != NULL, "NaN model: valid JSON (%s)", out_buf);
    cJSON *e = j ? cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message") : NULL;
    CHECK(cJSON_IsString(e) && strstr(e->valuestring, "NaN") && strstr(e->valuestring, "chunk 1, token 51"));
    CHECK(num(j, "error.code") == 10 && !cJSON_GetObjectItem(j, "ppl"));
    cJSON_Delete(j);

    gq_session_free(sr);
    gq_session_free(sq);
    free(gr.lp);
    free(gq.lp);
    free(gr.row);
    free(gq.row);
    be->destroy(be);
    gm_close(mr);
    gm_close(mq);
    sh("rm -rf %s", tmp);
    return check_done("test_ppl_kld");
}
