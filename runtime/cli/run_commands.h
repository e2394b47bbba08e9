/* run_commands.h - entry points and exit codes of the gptoss-run subcommands
 * (table in run_commands.def). */
#ifndef GQ_RUN_COMMANDS_H
#define GQ_RUN_COMMANDS_H

enum {
    RUN_EXIT_OK = 0,
    RUN_EXIT_FAIL = 1,
    RUN_EXIT_USAGE = 2,
    RUN_EXIT_BAD_INPUT = 3,
    RUN_EXIT_IO = 4,
    RUN_EXIT_EXISTS = 7,      /* ppl --save-ref: the file exists (add --force), as gptoss-convert */
    RUN_EXIT_REGRESSION = 8,  /* ppl --ref thresholds exceeded */
    RUN_EXIT_BACKEND = 9,     /* the backend failed during the run (out of memory, device lost) */
    RUN_EXIT_NONFINITE = 10   /* the model produced a NaN or Inf logit (ppl) */
};

typedef int (*run_command_fn)(int argc, char **argv);

int cmd_tokenize(int argc, char **argv);   /* run_cmd_tokenize.c */
int cmd_detokenize(int argc, char **argv); /* run_cmd_tokenize.c */

int run_cmd_ppl(int argc, char **argv);      /* run_cmd_ppl.c */
int run_cmd_bench(int argc, char **argv);    /* run_cmd_bench.c */
int run_cmd_generate(int argc, char **argv); /* run_cmd_generate.c */
int run_cmd_chat(int argc, char **argv);     /* run_cmd_chat.c */

#endif
