/* model_cli.h - what the gptoss-run model subcommands (ppl, bench, generate,
 * chat) share: opening FILE with a CPU backend and a session, reading token
 * ids from a JSON file, JSON string output, and the "is stderr a terminal"
 * test that decides whether progress is shown. */
#ifndef GQ_MODEL_CLI_H
#define GQ_MODEL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "forward.h"
#include "model.h"

typedef struct {
    gm_model *model;
    gb_backend *be;
    gq_session *session;
} mc_run;

/* Open PATH, a CPU backend with n_threads, a session of ctx positions (0: min(max_ctx, 4096)).
 * Returns an exit code (RUN_EXIT_*), printing the message to stderr prefixed with CMD. */
int mc_open(mc_run *r, const char *cmd, const char *path, int n_threads, int ctx, int max_batch);
/* The same with a choice of numerics (backend.h); GB_GGML also switches the
 * model to llama.cpp's rotary frequencies (gm_use_ggml_rope). */
int mc_open_numerics(mc_run *r, const char *cmd, const char *path, int n_threads, int ctx, int max_batch,
                     gb_numerics numerics);
void mc_close(mc_run *r);

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
