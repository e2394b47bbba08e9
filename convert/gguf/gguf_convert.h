/* gguf_convert.h - what `gptoss-convert convert --format gguf` (or -o X.gguf)
 * plugs into the converter's pipeline: a cv_sink writing GGUF and the
 * GGUF-ordered tensor list to stream into it, built from the opened source
 * (its plan, hyper-parameters and tokenizer files).
 *
 * Usage (cmd_convert.c): after cv_plan_build,
 *   gg_sink *g = gg_sink_open(&src, &plan, out, force, &sink, &tensors, &n, &werr, err, errlen);
 *   cv_pipeline_run(tensors, n, &sink, ...);   // begin / writes / finish or abort
 *   size = gg_sink_file_size(g); gg_sink_free(g);
 * The output is atomic: nothing at OUT unless finish succeeded.
 */
#ifndef GQ_CONVERT_GGUF_CONVERT_H
#define GQ_CONVERT_GGUF_CONVERT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"
#include "plan.h"
#include "source.h"

typedef struct gg_sink gg_sink;

/* 1 if PATH names a GGUF output (ends in ".gguf", any case). */
int gg_wants_gguf(const char *path);

/* Writes the KVs (hyper-parameters, tokenizer from the source's
 * tokenizer.json / tokenizer_config.json / chat_template.jinja) and the
 * tensor infos, and hands back the sink and the tensor list (owned by the
 * returned object). NULL with a message; *werr (may be NULL) is the
 * output writer's errno when the output could not be created (EEXIST: OUT
 * exists and force is 0; EBUSY: another process is writing OUT; else an
 * I/O error such as EROFS or ENOSPC), and 0 when the input was the problem. */
gg_sink *gg_sink_open(const cv_source *src, const cv_plan *plan, const char *out, int force, cv_sink *sink,
                      const cv_out_tensor **tensors, size_t *n, int *werr, char *err, size_t errlen);
/* Finish refuses to publish (EINTR) if *flag is set just before the move
 * onto OUT (gguf_writer_set_cancel). */
void gg_sink_set_cancel(gg_sink *g, volatile sig_atomic_t *flag);
/* errno of the failed write or finish (ENOSPC, EINTR when cancelled...), else 0. */
int gg_sink_errno(const gg_sink *g);
/* Size of the finished file (0 before finish). */
uint64_t gg_sink_file_size(const gg_sink *g);
/* Frees; aborts the writer (removing the temporary) if it did not finish. */
void gg_sink_free(gg_sink *g);

#endif
