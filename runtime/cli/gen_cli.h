/* gen_cli.h - the command-line options that `generate` and `chat` share
 * (sampling, reasoning effort, context, threads, backend), parsed one way for
 * both. */
#ifndef GQ_GEN_CLI_H
#define GQ_GEN_CLI_H

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
} gen_cli;

/* Try argv[*i] as one of the shared options, consuming its value (advancing
 * *i). Returns 1 when it was one, 0 when it is not a shared option, -1 after
 * printing an error that starts with cmd ("gptoss-run chat"). */
int gen_cli_option(gen_cli *o, const char *cmd, int argc, char **argv, int *i);

#endif
