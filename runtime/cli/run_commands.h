/* run_commands.h - entry points and exit codes of the gptoss-run subcommands
 * (table in run_commands.def). */
#ifndef GQ_RUN_COMMANDS_H
#define GQ_RUN_COMMANDS_H

#include "gio_cli.h"

/* The one exit-code table of both programs (gio_cli.h). */
enum {
    RUN_EXIT_OK = GIO_EXIT_OK,
    RUN_EXIT_FAIL = GIO_EXIT_FAIL,
    RUN_EXIT_USAGE = GIO_EXIT_USAGE,
    RUN_EXIT_BAD_INPUT = GIO_EXIT_BAD_INPUT,
    RUN_EXIT_IO = GIO_EXIT_IO,                   /* cannot read a file (missing, permission) */
    RUN_EXIT_EXISTS = GIO_EXIT_EXISTS,           /* ppl --save-ref: the file exists (add --force) */
    RUN_EXIT_REGRESSION = GIO_EXIT_REGRESSION,   /* ppl --ref thresholds exceeded */
    RUN_EXIT_BACKEND = GIO_EXIT_BACKEND,         /* the backend failed during the run (out of memory, device lost) */
    RUN_EXIT_NONFINITE = GIO_EXIT_NONFINITE      /* the model produced a NaN or Inf logit (ppl) */
};

typedef int (*run_command_fn)(int argc, char **argv);

int cmd_tokenize(int argc, char **argv);   /* run_cmd_tokenize.c */
int cmd_detokenize(int argc, char **argv); /* run_cmd_tokenize.c */

int run_cmd_ppl(int argc, char **argv);      /* run_cmd_ppl.c */
int run_cmd_bench(int argc, char **argv);    /* run_cmd_bench.c */
int run_cmd_generate(int argc, char **argv); /* run_cmd_generate.c */
int run_cmd_chat(int argc, char **argv);     /* run_cmd_chat.c */

#endif
