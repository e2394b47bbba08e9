/* gen_cli.h - the command-line options that `generate` and `chat` share
 * (sampling, reasoning effort, context, threads, backend), parsed one way for
 * both through the one grammar of gio_cli.h. llama.cpp's spellings work
 * too: -t threads, -c ctx, -s seed, --temp. */
#ifndef GQ_GEN_CLI_H
#define GQ_GEN_CLI_H

#include "gio_cli.h"

typedef struct {
    const char *system;        /* --system: developer instructions, or NULL */
    const char *reasoning;     /* --reasoning low|medium|high */
    double temperature;        /* --temperature >= 0 (0: greedy) */
    double top_p;              /* --top-p in (0, 1] */
    unsigned long long seed;   /* --seed */
    int n;                     /* -n: tokens to generate at most */
    int ctx;                   /* --ctx */
    int threads;               /* --threads (0: all cores) */
    const char *backend;       /* --backend (NULL: auto) */
    int show_analysis;         /* --show-analysis */
    const char *tools;         /* --tools FILE, or NULL */
} gen_cli;

enum { GEN_OPT_SYSTEM = 300, GEN_OPT_REASONING, GEN_OPT_TEMP, GEN_OPT_TOP_P, GEN_OPT_BACKEND, GEN_OPT_SHOW, GEN_OPT_TOOLS };

/* The short options and the long-option entries of the shared options, to
 * splice into a command's own tables. */
#define GEN_CLI_SHORTOPTS "n:c:t:s:"
#define GEN_CLI_LONGOPTS                                                                                             \
    {"system", required_argument, NULL, GEN_OPT_SYSTEM}, {"reasoning", required_argument, NULL, GEN_OPT_REASONING}, \
        {"temperature", required_argument, NULL, GEN_OPT_TEMP}, {"temp", required_argument, NULL, GEN_OPT_TEMP},    \
        {"top-p", required_argument, NULL, GEN_OPT_TOP_P}, {"seed", required_argument, NULL, 's'},                  \
        {"ctx", required_argument, NULL, 'c'}, {"threads", required_argument, NULL, 't'},                           \
        {"backend", required_argument, NULL, GEN_OPT_BACKEND}, {"show-analysis", no_argument, NULL, GEN_OPT_SHOW}, \
        {"tools", required_argument, NULL, GEN_OPT_TOOLS}

/* The --help lines of the shared options. */
#define GEN_CLI_HELP                                                                                                  \
    "  --system TEXT            developer instructions\n"                                                          \
    "  --reasoning L            low | medium | high (default medium)\n"                                            \
    "  --temperature T, --temp  0..100, 0 = greedy (default 1.0)\n"                                                \
    "  --top-p P                nucleus sampling, in 0..1, > 0 (default 1.0)\n"                                    \
    "  -s, --seed N             sampling seed (default 0)\n"                                                       \
    "  -n N                     at most N generated tokens, 1..1048576\n"                                          \
    "  -c, --ctx N              context length 1..1048576\n"                                                       \
    "  -t, --threads N          CPU threads 1..1048576 (default: all)\n"                                           \
    "  --show-analysis          also stream the analysis channel (to stderr)\n"                                 \
    "  --tools FILE             functions the model may call: a JSON array of the chat template's tool\n"         \
    "                           definitions [{\"type\":\"function\",\"function\":{\"name\",\"description\",\n"      \
    "                           \"parameters\"}}], rendered in the developer message as the template does\n"

/* Apply option c (as returned by gio_opt_next) if it is a shared one.
 * Returns 1 when it was one, 0 when it is not a shared option, -1 after
 * printing a usage error. */
int gen_cli_apply(gen_cli *o, gio_opt *p, int c);

/* --tools FILE read into *json (malloc'ed; NULL when not given), checked to
 * be a JSON array. 0, or the exit code after the message. */
int gen_cli_load_tools(const gen_cli *o, const gio_opt *p, char **json);

/* The tool call of a generation that stopped at <|call|>, for --json:
 * {"recipient", "name" (the function, without "functions."), "content_type",
 * "arguments" (the text the model wrote)}. NULL when out of memory. */
struct cJSON *gen_cli_call_json(const char *recipient, const char *type, const char *args);

#endif
