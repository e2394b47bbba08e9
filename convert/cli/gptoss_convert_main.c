/* gptoss_convert_main.c - `gptoss-convert`: dispatch to subcommands.
 * Each subcommand lives in its own cmd_*.c file and parses its own options. */
#include <stdio.h>
#include <string.h>

#include "gio_cli.h"

#include "cli.h"
#include "commands.h"

typedef struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} command;

static const command commands[] = {
#define GQ_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef GQ_COMMAND
    {NULL, NULL, NULL}
};

static void usage(FILE *out)
{
    fprintf(out,
            "gptoss-convert %s - convert gpt-oss checkpoints into .gptoss / GGUF files\n\n"
            "usage: gptoss-convert COMMAND [options]\n\ncommands:\n",
            GPTOSS_VERSION);
    for (size_t i = 0; commands[i].name; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'gptoss-convert COMMAND --help' describes a command.\n"
            GIO_EXIT_HELP);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("gptoss-convert %s\n", GPTOSS_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "gptoss-convert: unknown command '%s' (try 'gptoss-convert --help')\n", argv[1]);
    return EXIT_USAGE;
}
