/* run_cmd_ppl.c - `gptoss-run ppl`: perplexity, and the KL-divergence
 * regression check against a saved reference (method in ppl.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cli.h"
#include "ppl.h"
#include "run_commands.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gptoss-run ppl FILE (--file TEXT | --ids IDS.json) [options]\n\n"
            "Perplexity of FILE (.gptoss) on a text, llama.cpp's method: chunks of --ctx tokens, each\n"
            "from an empty cache, the second half of each chunk scored.\n\n"
            "  --file TEXT         text file, tokenized with the model's own tokenizer\n"
            "  --ids IDS.json      token ids instead (a JSON array)\n"
            "  --ctx N             chunk length (default 512)\n"
            "  --threads N         CPU threads (default: all)\n"
            "  --save-ref REF      store this run's distributions (top-k log-probs) as a reference\n"
            "  --topk K            log-probs kept per token in REF (default 16, max 64)\n"
            "  --ref REF           compare with a reference: KL divergence, top-1 agreement, PPL ratio\n"
            "  --max-kld X         exit 8 if the mean KLD exceeds X\n"
            "  --min-top1 Y        exit 8 if top-1 agreement is below Y (0..1)\n"
            "  --max-ppl-ratio Z   exit 8 if PPL / reference PPL exceeds Z\n"
            MC_BACKEND_HELP
            "  --numerics M        exact (default: fp32 activations) or ggml: round matrix inputs as\n"
            "                      llama.cpp's CPU kernels do, to predict its figures for this model\n"
            "                      (CPU backend only)\n"
            "  --json              one JSON object on stdout (with \"backend\" and \"device\")\n\n"
            "exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 I/O, 8 regression threshold exceeded,\n"
            "9 backend failure (out of memory, device lost)\n");
}

/* --ids: the ids; --file: the text's bytes, tokenized once the model is open. */
static int load_input(const char *text_path, const char *ids_path, int32_t **ids, size_t *n, char **text,
                      size_t *text_len)
{
    char err[1024];
    if (ids_path) {
        if (mc_read_ids(ids_path, ids, n, err, sizeof err) != 0) {
            fprintf(stderr, "gptoss-run ppl: %s\n", err);
            return RUN_EXIT_BAD_INPUT;
        }
        return RUN_EXIT_OK;
    }
    FILE *f = fopen(text_path, "rb");
    if (!f) {
        fprintf(stderr, "gptoss-run ppl: cannot open %s\n", text_path);
        return RUN_EXIT_IO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return RUN_EXIT_FAIL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (!got)
            break;
    }
    fclose(f);
    *text = buf;
    *text_len = len;
    return RUN_EXIT_OK;
}

/* The text through the model's own tokenizer (from the already open file). */
static int tokenize(const mc_run *run, const char *text_path, const char *text, size_t len, int32_t **ids, size_t *n)
{
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(run, err, sizeof err);
    if (!tok) {
        fprintf(stderr, "gptoss-run ppl: %s\n", err);
        return RUN_EXIT_BAD_INPUT;
    }
    tok_ids v = {0};
    int rc = tok_encode(tok, text, len, 0, &v);
    tok_free(tok);
    if (rc != 0) {
        tok_ids_free(&v);
        fprintf(stderr, "gptoss-run ppl: out of memory while tokenizing %s\n", text_path);
        return RUN_EXIT_FAIL;
    }
    *ids = v.ids;
    *n = v.n;
    return RUN_EXIT_OK;
}

int run_cmd_ppl(int argc, char **argv)
{
    const char *model = NULL, *text = NULL, *ids_path = NULL, *save_ref = NULL, *ref_path = NULL;
    int ctx = 512, threads = 0, json = 0, topk = 16;
    mc_opts mo = {0};
    double max_kld = -1, min_top1 = -1, max_ratio = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return RUN_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1] == '-' && !v) {
            fprintf(stderr, "gptoss-run ppl: %s needs a value\n", a);
            return RUN_EXIT_USAGE;
        } else if (!strcmp(a, "--file")) {
            text = argv[++i];
        } else if (!strcmp(a, "--ids")) {
            ids_path = argv[++i];
        } else if (!strcmp(a, "--save-ref")) {
            save_ref = argv[++i];
        } else if (!strcmp(a, "--ref")) {
            ref_path = argv[++i];
        } else if (!strcmp(a, "--numerics")) {
            if (mc_numerics_option(&mo, "ppl", argv[++i]) != 0)
                return RUN_EXIT_USAGE;
        } else if (!strcmp(a, "--backend")) {
            if (mc_backend_option(&mo, "ppl", argv[++i]) != 0)
                return RUN_EXIT_USAGE;
        } else if (!strcmp(a, "--ctx") || !strcmp(a, "--threads") || !strcmp(a, "--topk")) {
            int is_ctx = !strcmp(a, "--ctx"), is_topk = !strcmp(a, "--topk");
            int x = mc_parse_int(argv[++i], is_ctx ? 4 : 1, is_topk ? PPL_REF_MAX_K : 1 << 20);
            if (x < 0) {
                fprintf(stderr, "gptoss-run ppl: bad value for %s: '%s'\n", a, argv[i]);
                return RUN_EXIT_USAGE;
            }
            *(is_ctx ? &ctx : is_topk ? &topk : &threads) = x;
        } else if (!strcmp(a, "--max-kld") || !strcmp(a, "--min-top1") || !strcmp(a, "--max-ppl-ratio")) {
            char *end;
            double x = strtod(argv[++i], &end);
            if (*end || !(x >= 0)) {
                fprintf(stderr, "gptoss-run ppl: bad value for %s: '%s'\n", a, argv[i]);
                return RUN_EXIT_USAGE;
            }
            *(!strcmp(a, "--max-kld") ? &max_kld : !strcmp(a, "--min-top1") ? &min_top1 : &max_ratio) = x;
        } else if (a[0] == '-') {
            fprintf(stderr, "gptoss-run ppl: unknown option %s (see --help)\n", a);
            return RUN_EXIT_USAGE;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "gptoss-run ppl: unexpected argument %s\n", a);
            return RUN_EXIT_USAGE;
        }
    }
    if (!model || (!text == !ids_path)) {
        fprintf(stderr, "gptoss-run ppl: need FILE and exactly one of --file / --ids (see --help)\n");
        return RUN_EXIT_USAGE;
    }
    if ((max_kld >= 0 || min_top1 >= 0 || max_ratio >= 0) && !ref_path) {
        fprintf(stderr, "gptoss-run ppl: --max-kld / --min-top1 / --max-ppl-ratio need --ref REF\n");
        return RUN_EXIT_USAGE;
    }
    if (mc_check_opts(&mo, "ppl") != 0)
        return RUN_EXIT_USAGE;
    mo.threads = threads;
    mo.ctx = ctx;
    char err[1024];
    ppl_ref ref = {0};
    if (ref_path && ppl_ref_load(ref_path, &ref, err, sizeof err) != 0) {
        fprintf(stderr, "gptoss-run ppl: %s\n", err);
        return RUN_EXIT_BAD_INPUT;
    }
    int32_t *ids = NULL;
    size_t n = 0, text_len = 0;
    char *text_buf = NULL;
    int rc = load_input(text, ids_path, &ids, &n, &text_buf, &text_len);
    mc_run run = {0};
    if (rc == RUN_EXIT_OK)
        rc = mc_open_model(&run, "ppl", model);
    if (rc == RUN_EXIT_OK && text)
        rc = tokenize(&run, text, text_buf, text_len, &ids, &n);
    free(text_buf);
    if (rc == RUN_EXIT_OK)
        rc = mc_start(&run, &mo);
    if (rc != RUN_EXIT_OK) {
        mc_close(&run);
        free(ids);
        ppl_ref_free(&ref);
        return rc;
    }
    ppl_opts o = {ctx, topk, mc_progress_wanted() && !json, ref_path ? &ref : NULL};
    ppl_result r;
    rc = ppl_run(run.session, run.model->hp.vocab, ids, n, &o, &r, err, sizeof err);
    if (rc != 0) {
        rc = mc_fail(&run, rc, err, RUN_EXIT_BAD_INPUT);
        mc_close(&run);
        free(ids);
        ppl_ref_free(&ref);
        return rc;
    }
    rc = RUN_EXIT_OK;
    if (save_ref && ppl_ref_save(save_ref, &r.own, err, sizeof err) != 0) {
        fprintf(stderr, "gptoss-run ppl: %s\n", err);
        rc = RUN_EXIT_IO;
    }
    const char *why = NULL;
    if (ref_path) {
        if (max_kld >= 0 && !(r.kld_mean <= max_kld))
            why = "mean KLD above --max-kld";
        else if (min_top1 >= 0 && !(r.top1 >= min_top1))
            why = "top-1 agreement below --min-top1";
        else if (max_ratio >= 0 && !(r.ppl_ratio <= max_ratio))
            why = "PPL ratio above --max-ppl-ratio";
    }
    if (json) {
        printf("{\"file\":");
        mc_json_str(stdout, model);
        printf(",\"tokens\":%zu,\"ctx\":%d,\"chunks\":%zu,\"scored\":%zu,\"ppl\":%.6f,\"ppl_err\":%.6f,"
               "\"mean_nll\":%.8f,\"seconds\":%.3f,\"tokens_per_s\":%.3f",
               n, ctx, r.n_chunks, r.n_scored, r.ppl, r.ppl_err, r.mean_nll, r.seconds, r.tokens_per_s);
        if (ref_path)
            printf(",\"ref\":{\"ppl\":%.6f,\"ppl_ratio\":%.8f,\"ppl_ratio_err\":%.8f,\"kld_mean\":%.8g,"
                   "\"kld_median\":%.8g,\"kld_p99\":%.8g,\"kld_max\":%.8g,\"top1\":%.6f,\"pass\":%s}",
                   r.ref_ppl, r.ppl_ratio, r.ppl_ratio_err, r.kld_mean, r.kld_median, r.kld_p99, r.kld_max, r.top1,
                   why ? "false" : "true");
        mc_json_backend(stdout, &run);
        printf("}\n");
    } else {
        printf("tokens %zu, %zu chunks of %d, %zu scored\n", n, r.n_chunks, ctx, r.n_scored);
        printf("PPL = %.4f +/- %.4f (%.1f tokens/s)\n", r.ppl, r.ppl_err, r.tokens_per_s);
        if (ref_path) {
            printf("reference PPL %.4f, ratio %.6f +/- %.6f\n", r.ref_ppl, r.ppl_ratio, r.ppl_ratio_err);
            printf("KLD mean %.6g, median %.6g, p99 %.6g, max %.6g\n", r.kld_mean, r.kld_median, r.kld_p99, r.kld_max);
            printf("top-1 agreement %.4f\n", r.top1);
        }
    }
    if (why) {
        fprintf(stderr, "gptoss-run ppl: regression: %s\n", why);
        rc = RUN_EXIT_REGRESSION;
    }
    ppl_result_free(&r);
    mc_close(&run);
    free(ids);
    ppl_ref_free(&ref);
    return rc;
}
