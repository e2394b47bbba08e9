/* cli.h - what every gptoss-convert subcommand shares: its entry point
 * signature and the exit codes (documented in README.md, stable for CI).
 * gptoss-fixture uses the same codes (fixtures/fixture_main.c includes this). */
#ifndef GQ_CLI_H
#define GQ_CLI_H

#include "gio_cli.h"

/* The one exit-code table of both programs (gio_cli.h) under this
 * program's names. */
enum {
    EXIT_OK = GIO_EXIT_OK,
    EXIT_FAIL = GIO_EXIT_FAIL,
    EXIT_USAGE = GIO_EXIT_USAGE,
    EXIT_BAD_INPUT = GIO_EXIT_BAD_INPUT,
    EXIT_IO = GIO_EXIT_IO,
    EXIT_VERIFY = GIO_EXIT_VERIFY,
    EXIT_NETWORK = GIO_EXIT_NETWORK,
    EXIT_EXISTS = GIO_EXIT_EXISTS,
    EXIT_INTERRUPTED = GIO_EXIT_INTERRUPTED
};

/* Each subcommand: argv[0] is the subcommand name. Returns an exit code. */
typedef int (*cli_command_fn)(int argc, char **argv);

#endif
