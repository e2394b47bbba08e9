/* test_ppl_cli.c - `gptoss-run ppl` and `bench` end to end on the tiny files.
 *  - ppl --ctx 300 on the golden ids scores positions 150..298 with the same
 *    context HF had: its PPL must equal exp(mean of HF's NLLs there);
 *  - --save-ref then --ref on the same file: KLD ~ 0, top-1 1.0, exit 0;
 *  - the lossless q8-experts file passes the same strict thresholds;
 *  - the q4 file has KLD > 0 and a tight --max-kld makes it exit 8;
 *  - a corrupt or mismatched reference is a clear error (exit 3);
 *  - bench --json reports positive speeds and bytes per token, and the
 *    share of the weights on huge pages (a number on Linux, else null);
 *  - bench --numerics read (decode reading the weights, no arithmetic) says
 *    so in its JSON and reads the same bytes per token; ppl refuses it.
 * usage: test_ppl_cli GOLDEN_DIR MODELS_DIR (gptoss-run from $GQ_BIN_DIR)
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "sh_capture.h"
#include "golden.h"

static const char *out_text = out_buf;

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *gd = argv[1], *md = argv[2], *bin = getenv("GQ_BIN_DIR");
    if (!bin)
        bin = "bin";
    char tmp[] = "/tmp/gq_ppl_XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    golden g = {0};
    CHECK(golden_load(gd, "tiny", &g) == 0);

    /* 1. one 300-token chunk: same context as the HF run */
    int rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 300 --json --save-ref %s/ref300",
                bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 0);
    cJSON *j = cJSON_Parse(out_buf);
    double want = 0;
    for (int p = 150; p <= 298; p++)
        want += g.nll[p];
    want = exp(want / 149);
    double got = num(j, "ppl");
    printf("ppl ctx 300: ours %.6f, HF %.6f\n", got, want);
    CHECK_MSG(fabs(got / want - 1) < 1e-4, "PPL equals HF's over the same positions (%.6f vs %.6f)", got, want);
    CHECK_EQ_INT((int)num(j, "scored"), 149);
    cJSON_Delete(j);

    /* 2. reference on itself, 3 chunks of 100 */
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --json --save-ref %s/ref", bin, md,
            gd, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    CHECK_EQ_INT((int)num(j, "chunks"), 3);
    CHECK_EQ_INT((int)num(j, "scored"), 147);
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref "
            "--max-kld 1e-6 --min-top1 1 --max-ppl-ratio 1.00001", bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    printf("self: kld %.3g top1 %.4f ratio %.8f\n", num(j, "ref.kld_mean"), num(j, "ref.top1"), num(j, "ref.ppl_ratio"));
    CHECK(fabs(num(j, "ref.kld_mean")) < 1e-6);
    CHECK(num(j, "ref.top1") == 1.0);
    CHECK(fabs(num(j, "ref.ppl_ratio") - 1) < 1e-6);
    cJSON_Delete(j);

    /* 3. lossless q8 experts pass the strict check */
    rc = sh("%s/gptoss-run ppl %s/tiny-q8e.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref --max-kld 1e-6 "
            "--min-top1 1", bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 0);

    /* 4. q4: KLD > 0, threshold -> exit 8 */
    rc = sh("%s/gptoss-run ppl %s/tiny-q4.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref", bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    double kq4 = num(j, "ref.kld_mean");
    printf("q4: kld mean %.3g median %.3g p99 %.3g top1 %.4f ratio %.6f +/- %.6f\n", kq4, num(j, "ref.kld_median"),
           num(j, "ref.kld_p99"), num(j, "ref.top1"), num(j, "ref.ppl_ratio"), num(j, "ref.ppl_ratio_err"));
    CHECK(kq4 > 1e-6);
    CHECK(num(j, "ref.kld_p99") >= num(j, "ref.kld_median"));
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s/tiny-q4.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref --max-kld %g "
            "2>/dev/null", bin, md, gd, tmp, kq4 / 10);
    CHECK_EQ_INT(rc, 8);

    /* q8 of every class: much closer to the reference than q4 */
    rc = sh("%s/gptoss-run ppl %s/tiny-q8.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref", bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    double kq8 = num(j, "ref.kld_mean");
    printf("q8: kld mean %.3g top1 %.4f\n", kq8, num(j, "ref.top1"));
    CHECK_MSG(kq8 > 1e-9 && kq8 < kq4 / 10, "q8 KLD %.3g is positive and far below q4's %.3g", kq8, kq4);
    cJSON_Delete(j);

    /* --numerics ggml rounds matrix inputs as llama.cpp does, --numerics
     * fast the experts' inputs to 8-bit blocks (integer products): on the
     * lossless file each is an error of its own (KLD > 0), below q4's */
    static const char *const modes[] = {"ggml", "fast"};
    for (int m = 0; m < 2; m++) {
        rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --json --ref %s/ref --numerics %s",
                bin, md, gd, tmp, modes[m]);
        CHECK_EQ_INT(rc, 0);
        j = cJSON_Parse(out_buf);
        double k = num(j, "ref.kld_mean");
        printf("%s numerics: kld mean %.3g top1 %.4f\n", modes[m], k, num(j, "ref.top1"));
        CHECK_MSG(k > 1e-9 && k < kq4, "%s-numerics KLD %.3g is positive and below q4's %.3g", modes[m], k, kq4);
        cJSON_Delete(j);
    }
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --numerics turbo 2>&1", bin, md, gd);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out_text, "exact, fast or ggml");

    /* 5. corrupt / mismatched references */
    rc = sh("echo garbage > %s/bad && %s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --ref %s/bad "
            "2>&1", tmp, bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "not a ppl reference file");
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --ref %s/ref300 2>&1", bin, md, gd, tmp);
    CHECK_EQ_INT(rc, 3);
    CHECK_STR_CONTAINS(out_text, "different input");
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 400 2>&1", bin, md, gd);
    CHECK_EQ_INT(rc, 3);
    rc = sh("%s/gptoss-run ppl 2>&1", bin);
    CHECK_EQ_INT(rc, 2);

    /* text input through the model's own tokenizer */
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --file %s/../../README.md --ctx 64 --json", bin, md, gd);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    CHECK(j && num(j, "tokens") > 128 && num(j, "ppl") > 1);
    cJSON_Delete(j);

    /* 6. bench */
    rc = sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 32 -n 8 -r 1 --json", bin, md);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    CHECK(num(j, "prefill_tok_s") > 0 && num(j, "decode_tok_s") > 0 && num(j, "bytes_per_token") > 0);
    cJSON *be = j ? cJSON_GetObjectItem(j, "backend") : NULL, *dev = j ? cJSON_GetObjectItem(j, "device") : NULL;
    CHECK_MSG(cJSON_IsString(be) && !strcmp(be->valuestring, "cpu"), "bench --json names the backend (auto = cpu)");
    CHECK_MSG(cJSON_IsString(dev) && strstr(dev->valuestring, "thread"), "bench --json names the device");
    /* the share of the streamed weights on 2 MiB pages: a number in [0, 1]
     * where /proc says (Linux), else null; present either way */
    cJSON *hf = j ? cJSON_GetObjectItem(j, "weights_huge_fraction") : NULL;
    if (access("/proc/self/smaps", R_OK) == 0)
        CHECK_MSG(cJSON_IsNumber(hf) && hf->valuedouble >= 0 && hf->valuedouble <= 1,
                  "bench --json: weights_huge_fraction in [0, 1] where /proc/self/smaps exists");
    else
        CHECK_MSG(cJSON_IsNull(hf), "bench --json: weights_huge_fraction null where unknowable");
    cJSON_Delete(j);
    /* --numerics read: decode reading the same weight bytes, no arithmetic;
     * said in the JSON, bench only, decode only */
    rc = sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 0 -n 8 -r 1 --json", bin, md);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    double bpt_exact = num(j, "bytes_per_token");
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 0 -n 8 -r 1 --numerics read --json", bin, md);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    cJSON *nu = j ? cJSON_GetObjectItem(j, "numerics") : NULL, *isa = j ? cJSON_GetObjectItem(j, "isa") : NULL;
    CHECK_MSG(cJSON_IsString(nu) && !strcmp(nu->valuestring, "read"), "bench --numerics read: numerics \"read\"");
    CHECK_MSG(cJSON_IsString(isa) && !strcmp(isa->valuestring, "read-only"), "bench --numerics read: isa \"read-only\"");
    CHECK(num(j, "decode_tok_s") > 0 && num(j, "bytes_per_token") == bpt_exact);
    cJSON_Delete(j);
    CHECK_EQ_INT(sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 0 -n 2 -r 1 --numerics read -o md", bin, md), 0);
    CHECK_STR_CONTAINS(out_text, "cpu-read-only"); /* a table row cannot pass for a model run */
    /* usage errors: a prompt (read measures decode), another command */
    char refused[2][1024];
    const char *why[2] = {"-p 0", "bench` only"};
    snprintf(refused[0], sizeof refused[0], "%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 4 -n 8 -r 1 --numerics read",
             bin, md);
    snprintf(refused[1], sizeof refused[1], "%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --numerics read",
             bin, md, gd);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(sh("%s 2>&1", refused[i]), 2);
        CHECK_STR_CONTAINS(out_text, why[i]);
    }
    /* a context beyond the model's is a usage error naming the limit (tiny: 131072) */
    rc = sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 131072 -n 1 -r 1 2>&1", bin, md);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out_text, "131072");
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 200000 2>&1", bin, md, gd);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out_text, "limit is 131072");
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss --prompt hi --ctx 200000 2>&1", bin, md);
    CHECK_EQ_INT(rc, 2);

    /* 6b. backends: cpu by name; unknown or not built in: usage errors naming what is missing */
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --ctx 100 --backend cpu --json", bin, md, gd);
    CHECK_EQ_INT(rc, 0);
    j = cJSON_Parse(out_buf);
    be = j ? cJSON_GetObjectItem(j, "backend") : NULL;
    CHECK_MSG(cJSON_IsString(be) && !strcmp(be->valuestring, "cpu"), "ppl --json names the backend");
    CHECK(j && num(j, "ppl") > 1);
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --backend tpu 2>&1", bin, md, gd);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out_text, "--backend takes cpu, vulkan, metal or auto");
    int have_metal = 0;
    for (const gb_backend_entry *const *e = gb_backends(); *e; e++)
        have_metal |= !strcmp((*e)->name, "metal");
    if (!have_metal) {
        rc = sh("%s/gptoss-run bench %s/tiny-mxfp4.gptoss -p 4 -n 1 -r 1 --backend metal 2>&1", bin, md);
        CHECK_EQ_INT(rc, 2);
        CHECK_STR_CONTAINS(out_text, "'metal' is not built into this binary");
    }
    rc = sh("%s/gptoss-run ppl %s/tiny-mxfp4.gptoss --ids %s/tiny.json --numerics ggml --backend vulkan 2>&1", bin,
            md, gd);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out_text, "CPU backend option");
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss --prompt hi --backend nope 2>&1", bin, md);
    CHECK_EQ_INT(rc, 2);

    /* 7. generate: deterministic for a seed, JSON report, usage errors */
    static char first[sizeof out_buf];
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss --prompt 'Hello there' -n 12 --seed 5 --json", bin, md);
    CHECK_EQ_INT(rc, 0);
    memcpy(first, out_buf, sizeof first);
    j = cJSON_Parse(out_buf);
    CHECK(j && num(j, "generated_tokens") >= 1 && num(j, "generated_tokens") <= 12 && num(j, "prompt_tokens") > 10);
    CHECK(j && cJSON_IsString(cJSON_GetObjectItem(j, "final")));
    cJSON_Delete(j);
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss --prompt 'Hello there' -n 12 --seed 5 --json", bin, md);
    CHECK_EQ_INT(rc, 0);
    /* same seed, same tokens (timings differ: compare up to them) */
    char *cut1 = strstr(first, "\"prefill_tok_s\""), *cut2 = strstr(out_buf, "\"prefill_tok_s\"");
    CHECK(cut1 && cut2 && cut1 - first == cut2 - out_buf && !strncmp(first, out_buf, (size_t)(cut1 - first)));
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss --prompt hi --reasoning extreme 2>&1", bin, md);
    CHECK_EQ_INT(rc, 2);
    rc = sh("%s/gptoss-run generate %s/tiny-mxfp4.gptoss 2>&1", bin, md);
    CHECK_EQ_INT(rc, 2);
    rc = sh("printf 'hi\\n\\n' | %s/gptoss-run chat %s/tiny-mxfp4.gptoss -n 4 2>&1", bin, md);
    CHECK_EQ_INT(rc, 0);

    sh("rm -rf %s", tmp);
    golden_free(&g);
    return check_done("test_ppl_cli");
}
