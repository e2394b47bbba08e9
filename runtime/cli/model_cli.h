/* model_cli.h - what the gptoss-run model subcommands (ppl, bench, generate,
 * chat) share: opening FILE, choosing a backend by name (the registry of
 * kernels/backend.h, or the CPU backend for --numerics ggml|fast), preparing the
 * weights on it and starting a session; turning runtime failures into exit
 * codes; reading token ids from a JSON file, JSON string output, and the "is
 * stderr a terminal" test that decides whether progress is shown. */
#ifndef GQ_MODEL_CLI_H
#define GQ_MODEL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "forward.h"
#include "model.h"

/* The --backend line of every model command's --help. */
#define MC_BACKEND_HELP                                                                                              \
    "  --backend NAME      cpu | vulkan | metal | auto (default auto: the first usable GPU, else cpu)\n"
/* The --numerics lines of every command that takes it (CPU backend only). */
#define MC_NUMERICS_HELP                                                                                             \
    "  --numerics M        exact (default: fp32 activations, as the model was trained), fast\n"                \
    "                      (activations rounded to 8-bit blocks, integer products: faster, a\n"               \
    "                      small measured loss; docs/RUNTIME.md) or ggml (matrix inputs rounded as\n"         \
    "                      llama.cpp's CPU kernels do, to predict its figures); CPU backend only\n"

typedef struct {
    const char *backend;      /* registry name ("cpu", "vulkan", "metal", "auto"); NULL = "auto" */
    int numerics;             /* --numerics: GB_EXACT (0, any backend), GB_GGML (the CPU backend
                               * and llama.cpp's rotary table), GB_FAST (the CPU backend's
                               * integer products) or GB_READ (bench only); backend_cpu.h */
    int threads;              /* CPU threads (0: all) */
    int ctx;                  /* session positions (0: min(max_ctx, 4096)) */
    const char *ctx_what;     /* how ctx was asked for, for messages ("--ctx", "-p + -n"); NULL: "--ctx" */
    int max_batch;            /* 0: the default */
} mc_opts;

typedef struct {
    gm_model *model;
    gb_backend *be;
    gq_session *session;
    const char *cmd;
} mc_run;

/* Open and validate PATH once (the model; generate and chat take the
 * tokenizer from run->model->file). Returns an exit code (RUN_EXIT_*),
 * printing the message to stderr prefixed with CMD. */
int mc_open_model(mc_run *r, const char *cmd, const char *path);
/* Start o's backend, prepare the weights on it and create the session.
 * An unknown or unavailable --backend, or a context beyond the model's, is
 * RUN_EXIT_USAGE; a backend failure RUN_EXIT_BACKEND. */
int mc_start(mc_run *r, const mc_opts *o);
/* mc_open_model + mc_start. */
int mc_open(mc_run *r, const char *cmd, const char *path, const mc_opts *o);
void mc_close(mc_run *r);

/* The tokenizer embedded in the open model (a .gptoss's tokenizer.json
 * blob, a GGUF's tokenizer.ggml.* arrays): the file is not opened again.
 * NULL with a message naming the file. */
struct tok_tokenizer;
struct tok_tokenizer *mc_tokenizer(const mc_run *r, char *err, size_t errlen);

/* Parse a --backend or --numerics value into o; 0, or -1 after printing a
 * usage message ("read", GB_READ, is accepted for cmd "bench" only: a
 * measurement, not numerics). mc_check_opts: the combination (every
 * numerics but exact needs the CPU). mc_numerics_name: the option's word. */
int mc_backend_option(mc_opts *o, const char *cmd, const char *value);
int mc_numerics_option(mc_opts *o, const char *cmd, const char *value);
const char *mc_numerics_name(int numerics);
int mc_check_opts(const mc_opts *o, const char *cmd);

/* After a runtime call failed with rc (gq_forward, ppl_run, gen_run):
 * prints "gptoss-run CMD: err" and returns RUN_EXIT_BACKEND for
 * GQ_ERR_BACKEND, else dflt. */
int mc_fail(const mc_run *r, int rc, const char *err, int dflt);

/* ,"backend":NAME,"device":DEVICE for --json outputs. */
void mc_json_backend(FILE *f, const mc_run *r);

/* Token ids from a JSON file: an array of integers, or an object with an
 * "ids" array. malloc'ed into *ids. 0 or -1 with a message. */
int mc_read_ids(const char *path, int32_t **ids, size_t *n, char *err, size_t errlen);

/* Write S as a JSON string literal (quotes included). */
void mc_json_str(FILE *f, const char *s);

int mc_progress_wanted(void);
double mc_now(void);

/* Parse a positive int option value; -1 if invalid. */
int mc_parse_int(const char *s, int lo, int hi);

#endif
