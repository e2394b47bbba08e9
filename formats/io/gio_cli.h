/* gio_cli.h - the command-line grammar and JSON output shared by every
 * subcommand of gptoss-convert and gptoss-run (and gptoss-fixture), so that
 * both programs read options and report errors the same way.
 *
 * Options: POSIX getopt_long underneath (glibc and BSD/macOS both have it),
 * so `--opt=value`, `--opt value`, `-j1`, `-j 1`, combined short flags
 * (`-qf`), unambiguous long prefixes and `--` work the same everywhere.
 * Unknown options and missing values are reported with one wording:
 *   "CMD: unknown option '--x' (see --help)"
 *   "CMD: option '--ctx' needs a value"
 * Values are checked against a range that the message names.
 *
 * JSON: when a command was given --json, its stdout carries exactly one
 * JSON document (written with cJSON), also on failure:
 *   {"error": {"code": N, "message": "..."}}
 * and the exit code is N. Messages also go to stderr for people.
 *
 * Exit codes (one table for both programs, README "Exit codes"). */
#ifndef GIO_CLI_H
#define GIO_CLI_H

#include <getopt.h>
#include <stddef.h>

struct cJSON;

enum {
    GIO_EXIT_OK = 0,
    GIO_EXIT_FAIL = 1,        /* anything not covered below */
    GIO_EXIT_USAGE = 2,       /* bad command line */
    GIO_EXIT_BAD_INPUT = 3,   /* malformed or unsupported input (file exists, content is wrong) */
    GIO_EXIT_IO = 4,          /* cannot read (missing, permission) / write / no space */
    GIO_EXIT_VERIFY = 5,      /* verify found a checksum mismatch */
    GIO_EXIT_NETWORK = 6,     /* hub unreachable, HTTP error, integrity failure after retry */
    GIO_EXIT_EXISTS = 7,      /* output exists and --force was not given, or is being written */
    GIO_EXIT_REGRESSION = 8,  /* ppl thresholds exceeded */
    GIO_EXIT_BACKEND = 9,     /* the backend failed (out of memory, device lost) */
    GIO_EXIT_NONFINITE = 10,  /* ppl: the model produced a NaN or Inf logit */
    GIO_EXIT_INTERRUPTED = 130
};

/* The "exit codes" paragraph every --help ends with. */
#define GIO_EXIT_HELP                                                                                                 \
    "exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 cannot read/write (missing file, no space),\n"           \
    "            5 verify mismatch, 6 network, 7 output exists, 8 regression check failed,\n"                       \
    "            9 backend failure, 10 NaN/Inf logits, 130 interrupted (README.md, \"Exit codes\")\n"

typedef struct {
    const char *cmd;       /* "gptoss-run bench": prefix of every message */
    int json;              /* --json appears in argv: errors are JSON on stdout too */
    const char *name;      /* the option just returned as spelled ("--ctx", "-j") */
    char name_buf[64];
    const char *arg;       /* its value (optarg) or NULL */
} gio_opt;

/* Start parsing argv (argv[0] is the subcommand name) and reset getopt's
 * global state, so a process can parse many command lines (tests do).
 * Sets p->json when "--json" is among the arguments (before any "--"). */
void gio_opt_init(gio_opt *p, const char *cmd, int argc, char **argv);

/* The next option: its val from longopts (or the short letter), -1 when
 * the options are done (positionals are then argv[optind..argc-1], in order,
 * after getopt's permutation), or '?' after reporting an unknown option or
 * a missing value (the caller returns GIO_EXIT_USAGE). shortopts must not
 * start with ':' (added here). */
int gio_opt_next(gio_opt *p, int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Integer / real value of the current option in [lo, hi]; 0, or -1 after
 * "CMD: --ctx must be an integer in 1..1048576, not 'x'" (usage error). */
int gio_opt_int(gio_opt *p, long long lo, long long hi, long long *out);
int gio_opt_double(gio_opt *p, double lo, double hi, double *out);

/* Report a usage/runtime error: "CMD: message" on stderr and, in JSON mode,
 * {"error":{"code":code,"message":...}} on stdout. Returns code. */
int gio_fail(const gio_opt *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same without a parser: cmd and json given directly. */
int gio_fail_json(const char *cmd, int json, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* In JSON mode only: {"error":{"code":code,"message":msg}} on stdout, for a
 * failure whose message another module already printed on stderr.
 * Returns code. */
int gio_json_error(int json, int code, const char *msg);

/* An input FILE that must be a readable file: 0, or after the message the
 * exit code: 4 when it is missing or unreadable, 2 when it is a folder
 * ("PATH is a folder: CMD wants WANTED"). */
int gio_check_file(const gio_opt *p, const char *path, const char *wanted);

/* A JSON string of the bytes S[0..n): well-formed UTF-8 kept, every byte
 * that is not part of a well-formed character becomes U+FFFD (a JSON
 * document must be UTF-8); control characters and NUL are \u00XX. *valid (may be NULL): 1 when nothing was
 * replaced. NULL when out of memory. */
struct cJSON *gio_json_utf8(const char *s, size_t n, int *valid);

/* Print J unformatted plus a newline on stdout and delete it. 0, or -1
 * when it could not be printed (out of memory, stdout error). */
int gio_json_print(struct cJSON *j);

#endif
