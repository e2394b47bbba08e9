/* run_cmd_chat.c - `gptoss-run chat`: a terminal conversation.
 *
 * Each line typed is a user turn. The whole conversation is re-rendered with
 * harmony every turn (earlier assistant turns keep only their final answer,
 * as the chat template does) and evaluated from an empty cache: the cache
 * cannot be rewound in place because sliding-window layers keep a ring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "forward_generate.h"
#include "gen_cli.h"
#include "model_cli.h"
#include "run_commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gptoss-run chat FILE [options]\n\n"
               "A conversation in the terminal: reads one user message per line from stdin (an empty\n"
               "line or EOF ends), streams each answer (harmony chat format; earlier answers keep their\n"
               "final channel only). FILE is a .gptoss model or a GGUF. With --tools, when the model\n"
               "calls a function the call is printed ('[tool call] functions.NAME json: ARGS') and the\n"
               "next line read is that tool's result.\n\n"
               GEN_CLI_HELP
               MC_BACKEND_HELP
               "Defaults here: -n 1024, --ctx 8192 (or the model's context if smaller).\n\n"
               GIO_EXIT_HELP);
}

int run_cmd_chat(int argc, char **argv)
{
    const char *model = NULL;
    gen_cli g = {.reasoning = "medium", .temperature = 1.0, .top_p = 1.0, .n = 1024, .ctx = 0};
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, GEN_CLI_LONGOPTS, {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-run chat", argc, argv);
    p.json = 0; /* chat has no --json: its errors are text */
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "h" GEN_CLI_SHORTOPTS, lo)) != -1) {
        int r = gen_cli_apply(&g, &p, c);
        if (r < 0)
            return RUN_EXIT_USAGE;
        if (r)
            continue;
        if (c == 'h') {
            usage(stdout);
            return RUN_EXIT_OK;
        }
        return RUN_EXIT_USAGE;
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
    if (!model)
        return gio_fail(&p, RUN_EXIT_USAGE, "need FILE (see --help)");
    int rc = gio_check_file(&p, model, "a model file");
    if (rc)
        return rc;
    mc_run run;
    rc = mc_open_model(&run, "chat", model);
    if (rc)
        return rc;
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(&run, err, sizeof err);
    if (!tok) {
        fprintf(stderr, "gptoss-run chat: %s\n", err);
        mc_close(&run);
        return RUN_EXIT_BAD_INPUT;
    }
    int max_ctx = run.model->hp.max_ctx;
    mc_opts mo = {.backend = g.backend, .threads = threads, .ctx = ctx > 0 ? ctx : max_ctx < 8192 ? max_ctx : 8192};
    rc = mc_start(&run, &mo);
    if (rc) {
        mc_close(&run);
        tok_free(tok);
        return rc;
    }
    uint8_t *allowed = gen_allowed_ids(tok, run.model->hp.vocab);
    gq_sampler smp;
    if (!allowed || gq_sampler_init(&smp, run.model->hp.vocab, (float)temperature, (float)top_p, seed, allowed)) {
        free(allowed);
        mc_close(&run);
        tok_free(tok);
        return RUN_EXIT_FAIL;
    }
    char *tools = NULL;
    if ((rc = gen_cli_load_tools(&g, &p, &tools)) != 0) {
        gq_sampler_free(&smp);
        free(allowed);
        mc_close(&run);
        tok_free(tok);
        return rc;
    }
    hm_options opt = {.reasoning = reasoning, .tools_json = tools};
    hm_message *msgs = NULL;
    size_t nm = 0;
    char **owned = NULL; /* texts we allocated (user lines, answers, calls) */
    size_t nown = 0;
    int tty = isatty(STDIN_FILENO), pending_call = 0;
    char line[65536];
    if (system) {
        msgs = realloc(msgs, sizeof *msgs);
        msgs[nm++] = (hm_message){.role = "developer", .content = system};
    }
    for (;;) {
        if (tty) {
            /* after a tool call the next line is the tool's result */
            fputs(pending_call ? "tool result> " : "> ", stdout);
            fflush(stdout);
        }
        if (!fgets(line, sizeof line, stdin))
            break;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            break;
        hm_message *nmsgs = realloc(msgs, (nm + 2) * sizeof *msgs);
        char **nown_p = realloc(owned, (nown + 4) * sizeof *owned);
        if (!nmsgs || !nown_p) {
            free(nmsgs ? nmsgs : msgs);
            msgs = NULL;
            owned = nown_p ? nown_p : owned;
            rc = RUN_EXIT_FAIL;
            break;
        }
        msgs = nmsgs;
        owned = nown_p;
        owned[nown] = strdup(line);
        msgs[nm++] = (hm_message){.role = pending_call ? "tool" : "user", .content = owned[nown++]};
        pending_call = 0;
        tok_ids ids = {0};
        if (hm_encode(tok, &opt, msgs, nm, HM_GEN_PROMPT, &ids, err, sizeof err) != 0) {
            fprintf(stderr, "gptoss-run chat: %s\n", err);
            tok_ids_free(&ids);
            rc = RUN_EXIT_USAGE;
            break;
        }
        gq_session_reset(run.session);
        gen_opts go = {n, stdout, show ? stderr : NULL};
        gen_result r;
        int grc = gen_run(run.session, run.model, tok, &smp, ids.ids, ids.n, &go, &r, err, sizeof err);
        if (grc != 0) {
            fprintf(stderr, "\ngptoss-run chat: %s\n", err);
            gen_result_free(&r);
            tok_ids_free(&ids);
            rc = grc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL;
            break;
        }
        if (r.call_recipient && !strncmp(r.call_recipient, "functions.", 10)) {
            /* keep the call as the template wants it: the function name,
             * the arguments as JSON (the model's text as a JSON string if it
             * is not JSON), the analysis before it */
            printf("\n[tool call] %s %s: %s\n", r.call_recipient, r.call_type, r.call_args);
            cJSON *a = cJSON_Parse(r.call_args);
            if (!a)
                a = cJSON_CreateString(r.call_args);
            owned[nown] = strdup(r.call_recipient + 10);
            owned[nown + 1] = a ? cJSON_PrintUnformatted(a) : NULL;
            cJSON_Delete(a);
            owned[nown + 2] = r.call_analysis;
            r.call_analysis = NULL;
            owned[nown + 3] = r.call_type[0] ? strdup(r.call_type) : NULL;
            msgs[nm++] = (hm_message){.role = "assistant", .thinking = owned[nown + 2], .tool_name = owned[nown],
                                      .tool_arguments = owned[nown + 1], .tool_content_type = owned[nown + 3]};
            nown += 4;
            pending_call = 1;
        } else {
            putchar('\n');
            owned[nown] = r.final;
            r.final = NULL;
            msgs[nm++] = (hm_message){.role = "assistant", .content = owned[nown++]};
        }
        gen_result_free(&r);
        tok_ids_free(&ids);
    }
    for (size_t i = 0; i < nown; i++)
        free(owned[i]);
    free(owned);
    free(msgs);
    free(tools);
    gq_sampler_free(&smp);
    free(allowed);
    mc_close(&run);
    tok_free(tok);
    return rc;
}
