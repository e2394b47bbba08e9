/* gptoss_run_main.c - `gptoss-run`: dispatch to subcommands.
 * Each subcommand lives in its own run_cmd_*.c file and parses its own options. */
#include <stdio.h>
#include <string.h>

#include "gio_cli.h"

#include "run_commands.h"

typedef struct {
    const char *name;
    run_command_fn fn;
    const char *summary;
} command;

static const command commands[] = {
#define GQ_RUN_COMMAND(name, fn, summary) {name, fn, summary},
#include "run_commands.def"
#undef GQ_RUN_COMMAND
    {NULL, NULL, NULL}
};

static void usage(FILE *out)
{
    fprintf(out,
            "gptoss-run %s - run, measure and check converted gpt-oss models\n\n"
            "usage: gptoss-run COMMAND [options]\n\ncommands:\n",
            GPTOSS_VERSION);
    for (size_t i = 0; commands[i].name; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'gptoss-run COMMAND --help' describes a command.\n"
            GIO_EXIT_HELP);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? RUN_EXIT_USAGE : RUN_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("gptoss-run %s\n", GPTOSS_VERSION);
        return RUN_EXIT_OK;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "gptoss-run: unknown command '%s' (try 'gptoss-run --help')\n", argv[1]);
    return RUN_EXIT_USAGE;
}
