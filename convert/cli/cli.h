/* cli.h - what every gptoss-convert subcommand shares: its entry point
 * signature and the exit codes (documented in README.md, stable for CI).
 * gptoss-fixture uses the same codes (fixtures/fixture_main.c includes this). */
#ifndef GQ_CLI_H
#define GQ_CLI_H

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,       /* anything not covered below */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_BAD_INPUT = 3,  /* malformed or unsupported input file / checkpoint */
    EXIT_IO = 4,         /* cannot read / write / no space */
    EXIT_VERIFY = 5,     /* verify found a checksum mismatch */
    EXIT_NETWORK = 6,    /* hub unreachable, HTTP error, integrity failure after retry */
    EXIT_EXISTS = 7,     /* output exists and --force was not given, or another
                            process is writing it right now */
    EXIT_INTERRUPTED = 130
};

/* Each subcommand: argv[0] is the subcommand name. Returns an exit code. */
typedef int (*cli_command_fn)(int argc, char **argv);

#endif
