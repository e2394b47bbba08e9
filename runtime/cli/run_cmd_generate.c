/* run_cmd_generate.c - `gptoss-run generate`: one harmony turn, the final
 * channel streamed to stdout (analysis to stderr with --show-analysis). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "forward_generate.h"
#include "gen_cli.h"
#include "model_cli.h"
#include "run_commands.h"

static double round3(double x) { return round(x * 1000) / 1000; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gptoss-run generate FILE --prompt TEXT [options]\n\n"
            "Generate the model's answer to one user message: the prompt is rendered as a harmony\n"
            "conversation, the final channel is streamed to stdout. FILE is a .gptoss model.\n\n"
            "  -p, --prompt TEXT        the user message\n"
            GEN_CLI_HELP
            MC_BACKEND_HELP
            "  --json                   print one JSON object at the end instead of streaming\n"
            "                           (errors: {\"error\":{\"code\":N,\"message\":...}})\n\n"
            "Defaults here: -n 512, --ctx = prompt + n.\n"
            GIO_EXIT_HELP);
}

int run_cmd_generate(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL;
    int json = 0;
    gen_cli g = {.reasoning = "medium", .temperature = 1.0, .top_p = 1.0, .n = 512, .ctx = 0};
    enum { O_JSON = 256 };
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, O_JSON},
                                       {"prompt", required_argument, NULL, 'p'}, GEN_CLI_LONGOPTS,
                                       {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-run generate", argc, argv);
    json = p.json;
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "hp:" GEN_CLI_SHORTOPTS, lo)) != -1) {
        int r = gen_cli_apply(&g, &p, c);
        if (r < 0)
            return RUN_EXIT_USAGE;
        if (r)
            continue;
        switch (c) {
        case 'h': usage(stdout); return RUN_EXIT_OK;
        case O_JSON: json = 1; break;
        case 'p': prompt = p.arg; break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (model)
            return gio_fail(&p, RUN_EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        model = argv[i];
    }
    const char *system = g.system, *reasoning = g.reasoning;
    double temperature = g.temperature, top_p = g.top_p;
    unsigned long long seed = g.seed;
    int n = g.n, ctx = g.ctx, threads = g.threads, show = g.show_analysis;
    if (!model || !prompt)
        return gio_fail(&p, RUN_EXIT_USAGE, "need FILE and --prompt (see --help)");
    int rc = gio_check_file(&p, model, "a model file");
    if (rc)
        return rc;
    mc_run run;
    if ((rc = mc_open_model(&run, "generate", model)) != 0)
        return gio_json_error(json, rc, "cannot open the model (the reason is on stderr)");
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(&run, err, sizeof err);
    if (!tok) {
        mc_close(&run);
        return gio_fail(&p, RUN_EXIT_BAD_INPUT, "%s", err);
    }
    hm_options opt = {NULL, NULL, NULL, reasoning};
    hm_message msgs[2];
    size_t nm = 0;
    if (system)
        msgs[nm++] = (hm_message){"developer", system, NULL};
    msgs[nm++] = (hm_message){"user", prompt, NULL};
    tok_ids ids = {0};
    if (hm_encode(tok, &opt, msgs, nm, 1, &ids, err, sizeof err) != 0) {
        tok_ids_free(&ids);
        tok_free(tok);
        mc_close(&run);
        return gio_fail(&p, RUN_EXIT_USAGE, "%s", err);
    }
    mc_opts mo = {.backend = g.backend, .threads = threads, .ctx = ctx > 0 ? ctx : (int)ids.n + n,
                  .ctx_what = ctx > 0 ? "--ctx" : "the prompt plus -n"};
    rc = mc_start(&run, &mo);
    if (rc) {
        mc_close(&run);
        tok_ids_free(&ids);
        tok_free(tok);
        return gio_json_error(json, rc, "cannot start the backend (the reason is on stderr)");
    }
    uint8_t *allowed = gen_allowed_ids(tok, run.model->hp.vocab);
    gq_sampler smp;
    gen_result r = {0};
    if (!allowed || gq_sampler_init(&smp, run.model->hp.vocab, (float)temperature, (float)top_p, seed, allowed)) {
        rc = gio_fail(&p, RUN_EXIT_FAIL, "out of memory");
    } else {
        gen_opts go = {n, json ? NULL : stdout, json || !show ? NULL : stderr};
        int grc = gen_run(run.session, run.model, tok, &smp, ids.ids, ids.n, &go, &r, err, sizeof err);
        if (grc != 0) {
            rc = mc_fail(&run, grc, err, RUN_EXIT_FAIL);
            gio_json_error(json, rc, err);
        } else if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddItemToObject(j, "final", gio_json_utf8(r.final ? r.final : "", r.final ? strlen(r.final) : 0, NULL));
            cJSON_AddItemToObject(j, "analysis",
                                  gio_json_utf8(r.analysis ? r.analysis : "", r.analysis ? strlen(r.analysis) : 0, NULL));
            cJSON_AddNumberToObject(j, "prompt_tokens", r.n_prompt);
            cJSON_AddNumberToObject(j, "generated_tokens", r.n_gen);
            cJSON_AddStringToObject(j, "stop", r.stop ? r.stop : "");
            /* rounded to 3 decimals as before */
            cJSON_AddNumberToObject(j, "prefill_tok_s", round3(r.prefill_s > 0 ? r.n_prompt / r.prefill_s : 0));
            cJSON_AddNumberToObject(j, "decode_tok_s", round3(r.decode_s > 0 ? r.n_gen / r.decode_s : 0));
            if (gio_json_print(j))
                rc = RUN_EXIT_IO;
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
