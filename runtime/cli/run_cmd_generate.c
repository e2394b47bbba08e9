/* run_cmd_generate.c - `gptoss-run generate`: one harmony turn, the final
 * channel streamed to stdout (analysis to stderr with --show-analysis). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "forward_generate.h"
#include "gen_cli.h"
#include "gio_read.h"
#include "model_cli.h"
#include "run_commands.h"

static double round3(double x) { return round(x * 1000) / 1000; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gptoss-run generate FILE (--prompt TEXT | --messages CONV.json) [options]\n\n"
            "Generate the model's next turn: the conversation is rendered in the harmony format\n"
            "exactly as gpt-oss's chat template renders it, the final channel is streamed to stdout.\n"
            "FILE is a .gptoss model or a GGUF.\n\n"
            "  -p, --prompt TEXT        the user message (after --messages, if given)\n"
            "  --messages FILE          the conversation so far, in the chat template's terms: a JSON array\n"
            "                           of {\"role\": system|developer|user|assistant|tool, \"content\",\n"
            "                           \"thinking\", \"tool_calls\": [{\"function\": {\"name\", \"arguments\"}}]}\n"
            "                           (or {\"messages\": [...], \"tools\": [...]}); a \"tool\" message is the\n"
            "                           result of the assistant's call before it\n"
            GEN_CLI_HELP
            MC_BACKEND_HELP
            "  --json                   print one JSON object at the end instead of streaming\n"
            "                           (errors: {\"error\":{\"code\":N,\"message\":...}})\n\n"
            "When the model calls a tool (it stops at <|call|>), the call is printed as\n"
            "'[tool call] functions.NAME json: ARGS' (--json: \"tool_call\": {\"name\", \"arguments\", ...});\n"
            "append it and the tool's result to the conversation and run again.\n"
            "Defaults here: -n 512, --ctx = prompt + n.\n\n"
            GIO_EXIT_HELP);
}

/* The messages: --system (a developer message), --messages FILE, --prompt
 * (a user message), in that order. 0, or the exit code after the message. */
static int build_conversation(gio_opt *p, const gen_cli *g, const char *messages_path, const char *prompt,
                              hm_conversation *conv, hm_message **msgs, size_t *nm)
{
    if (messages_path) {
        int rc = gio_check_file(p, messages_path, "a JSON file of messages");
        if (rc)
            return rc;
        char why[1024];
        size_t len = 0;
        char *d = gio_read_file(messages_path, (size_t)256 << 20, &len, why, sizeof why);
        if (!d)
            return gio_fail(p, RUN_EXIT_IO, "%s", why);
        rc = hm_conversation_parse(d, len, messages_path, conv, why, sizeof why);
        free(d);
        if (rc)
            return gio_fail(p, RUN_EXIT_BAD_INPUT, "%s", why);
        if (g->system && conv->n && (!strcmp(conv->msgs[0].role, "system") || !strcmp(conv->msgs[0].role, "developer")))
            return gio_fail(p, RUN_EXIT_USAGE, "--system and a leading %s message in %s: give one",
                            conv->msgs[0].role, messages_path);
    }
    *msgs = calloc(conv->n + 2, sizeof **msgs);
    if (!*msgs)
        return gio_fail(p, RUN_EXIT_FAIL, "out of memory");
    size_t n = 0;
    if (g->system)
        (*msgs)[n++] = (hm_message){.role = "developer", .content = g->system};
    for (size_t i = 0; i < conv->n; i++)
        (*msgs)[n++] = conv->msgs[i];
    if (prompt)
        (*msgs)[n++] = (hm_message){.role = "user", .content = prompt};
    *nm = n;
    return 0;
}

int run_cmd_generate(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL, *messages_path = NULL;
    int json = 0;
    gen_cli g = {.reasoning = "medium", .temperature = 1.0, .top_p = 1.0, .n = 512, .ctx = 0};
    enum { O_JSON = 256, O_MESSAGES };
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, O_JSON},
                                       {"prompt", required_argument, NULL, 'p'},
                                       {"messages", required_argument, NULL, O_MESSAGES}, GEN_CLI_LONGOPTS,
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
        case O_MESSAGES: messages_path = p.arg; break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (model)
            return gio_fail(&p, RUN_EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        model = argv[i];
    }
    const char *reasoning = g.reasoning;
    double temperature = g.temperature, top_p = g.top_p;
    unsigned long long seed = g.seed;
    int n = g.n, ctx = g.ctx, threads = g.threads, show = g.show_analysis;
    if (!model || (!prompt && !messages_path))
        return gio_fail(&p, RUN_EXIT_USAGE, "need FILE and --prompt or --messages (see --help)");
    int rc = gio_check_file(&p, model, "a model file");
    if (rc)
        return rc;
    hm_conversation conv = {0};
    hm_message *msgs = NULL;
    size_t nm = 0;
    char *tools = NULL;
    if ((rc = build_conversation(&p, &g, messages_path, prompt, &conv, &msgs, &nm)) != 0 ||
        (rc = gen_cli_load_tools(&g, &p, &tools)) != 0) {
        hm_conversation_free(&conv);
        free(msgs);
        return rc;
    }
    mc_run run;
    if ((rc = mc_open_model(&run, "generate", model)) != 0) {
        hm_conversation_free(&conv);
        free(msgs);
        free(tools);
        return gio_json_error(json, rc, "cannot open the model (the reason is on stderr)");
    }
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(&run, err, sizeof err);
    if (!tok) {
        mc_close(&run);
        hm_conversation_free(&conv);
        free(msgs);
        free(tools);
        return gio_fail(&p, RUN_EXIT_BAD_INPUT, "%s", err);
    }
    hm_options opt = {.reasoning = reasoning, .tools_json = tools ? tools : conv.tools_json};
    tok_ids ids = {0};
    rc = hm_encode(tok, &opt, msgs, nm, HM_GEN_PROMPT, &ids, err, sizeof err);
    hm_conversation_free(&conv);
    free(msgs);
    free(tools);
    if (rc != 0) {
        tok_ids_free(&ids);
        tok_free(tok);
        mc_close(&run);
        return gio_fail(&p, RUN_EXIT_BAD_INPUT, "%s", err); /* the conversation or tools cannot be rendered */
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
            if (r.call_recipient)
                cJSON_AddItemToObject(j, "tool_call", gen_cli_call_json(r.call_recipient, r.call_type, r.call_args));
            else
                cJSON_AddNullToObject(j, "tool_call");
            /* rounded to 3 decimals as before */
            cJSON_AddNumberToObject(j, "prefill_tok_s", round3(r.prefill_s > 0 ? r.n_prompt / r.prefill_s : 0));
            cJSON_AddNumberToObject(j, "decode_tok_s", round3(r.decode_s > 0 ? r.n_gen / r.decode_s : 0));
            if (gio_json_print(j))
                rc = RUN_EXIT_IO;
        } else {
            if (r.call_recipient)
                printf("\n[tool call] %s %s: %s", r.call_recipient, r.call_type, r.call_args);
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
