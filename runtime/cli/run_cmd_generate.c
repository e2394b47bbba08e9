/* run_cmd_generate.c - `gptoss-run generate`: one harmony turn, the final
 * channel streamed to stdout (analysis to stderr with --show-analysis). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward_generate.h"
#include "gen_cli.h"
#include "model_cli.h"
#include "run_commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gptoss-run generate FILE --prompt TEXT [options]\n\n"
            "  --prompt TEXT            the user message\n"
            "  --system TEXT            developer instructions\n"
            "  --reasoning L            low | medium | high (default medium)\n"
            "  --temperature T          0 = greedy (default 1.0)\n"
            "  --top-p P                nucleus sampling (default 1.0)\n"
            "  --seed N                 sampling seed (default 0)\n"
            "  -n N                     at most N generated tokens (default 512)\n"
            "  --ctx N                  context length (default: prompt + N)\n"
            "  --threads N              CPU threads (default: all)\n"
            MC_BACKEND_HELP
            "  --show-analysis          also stream the analysis channel (to stderr)\n"
            "  --json                   print one JSON object at the end instead of streaming\n\n"
            MC_EXIT_HELP "\n");
}

int run_cmd_generate(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL;
    int json = 0;
    gen_cli g = {.reasoning = "medium", .temperature = 1.0, .top_p = 1.0, .n = 512, .ctx = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = gen_cli_option(&g, "gptoss-run generate", argc, argv, &i);
        if (r < 0)
            return RUN_EXIT_USAGE;
        if (r)
            continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return RUN_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--prompt")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gptoss-run generate: --prompt needs a value\n");
                return RUN_EXIT_USAGE;
            }
            prompt = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "gptoss-run generate: unknown option %s (see --help)\n", a);
            return RUN_EXIT_USAGE;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "gptoss-run generate: unexpected argument %s\n", a);
            return RUN_EXIT_USAGE;
        }
    }
    const char *system = g.system, *reasoning = g.reasoning;
    double temperature = g.temperature, top_p = g.top_p;
    unsigned long long seed = g.seed;
    int n = g.n, ctx = g.ctx, threads = g.threads, show = g.show_analysis;
    if (!model || !prompt) {
        fprintf(stderr, "gptoss-run generate: need FILE and --prompt (see --help)\n");
        return RUN_EXIT_USAGE;
    }
    mc_run run;
    int rc = mc_open_model(&run, "generate", model);
    if (rc)
        return rc;
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(&run, err, sizeof err);
    if (!tok) {
        fprintf(stderr, "gptoss-run generate: %s\n", err);
        mc_close(&run);
        return RUN_EXIT_BAD_INPUT;
    }
    hm_options opt = {NULL, NULL, NULL, reasoning};
    hm_message msgs[2];
    size_t nm = 0;
    if (system)
        msgs[nm++] = (hm_message){"developer", system, NULL};
    msgs[nm++] = (hm_message){"user", prompt, NULL};
    tok_ids ids = {0};
    if (hm_encode(tok, &opt, msgs, nm, 1, &ids, err, sizeof err) != 0) {
        fprintf(stderr, "gptoss-run generate: %s\n", err);
        tok_ids_free(&ids);
        tok_free(tok);
        mc_close(&run);
        return RUN_EXIT_USAGE;
    }
    mc_opts mo = {.backend = g.backend, .threads = threads, .ctx = ctx > 0 ? ctx : (int)ids.n + n,
                  .ctx_what = ctx > 0 ? "--ctx" : "the prompt plus -n"};
    rc = mc_start(&run, &mo);
    if (rc) {
        mc_close(&run);
        tok_ids_free(&ids);
        tok_free(tok);
        return rc;
    }
    uint8_t *allowed = gen_allowed_ids(tok, run.model->hp.vocab);
    gq_sampler smp;
    gen_result r = {0};
    if (!allowed || gq_sampler_init(&smp, run.model->hp.vocab, (float)temperature, (float)top_p, seed, allowed)) {
        fprintf(stderr, "gptoss-run generate: out of memory\n");
        rc = RUN_EXIT_FAIL;
    } else {
        gen_opts go = {n, json ? NULL : stdout, json || !show ? NULL : stderr};
        int grc = gen_run(run.session, run.model, tok, &smp, ids.ids, ids.n, &go, &r, err, sizeof err);
        if (grc != 0) {
            rc = mc_fail(&run, grc, err, RUN_EXIT_FAIL);
        } else if (json) {
            printf("{\"final\":");
            mc_json_str(stdout, r.final);
            printf(",\"analysis\":");
            mc_json_str(stdout, r.analysis);
            printf(",\"prompt_tokens\":%d,\"generated_tokens\":%d,\"stop\":\"%s\",\"prefill_tok_s\":%.3f,"
                   "\"decode_tok_s\":%.3f}\n",
                   r.n_prompt, r.n_gen, r.stop, r.prefill_s > 0 ? r.n_prompt / r.prefill_s : 0,
                   r.decode_s > 0 ? r.n_gen / r.decode_s : 0);
        } else {
            putchar('\n');
        }
        gq_sampler_free(&smp);
    }
    gen_result_free(&r);
    free(allowed);
    mc_close(&run);
    tok_ids_free(&ids);
    tok_free(tok);
    return rc;
}
