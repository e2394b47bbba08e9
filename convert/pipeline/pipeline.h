/* pipeline.h - stream a list of output tensors through workers into a sink.
 *
 * Each tensor is cut into chunks of whole rows (at most `chunk_bytes` of
 * output each); chunks are cut into fixed sub-tasks that a small pthread
 * pool decodes from the source (bf16 / f16 / f32 / HF-MXFP4) and encodes to
 * the tensor's type. The calling thread hands the finished sub-tasks to the
 * sink IN ORDER, each as soon as it is done (while its bytes are still in
 * the cache for the sink's hash and copy), and the workers go on with the
 * next chunk meanwhile (two chunk buffers, so I/O and compute overlap and
 * memory stays bounded: about 2 x chunk_bytes plus one row of scratch per
 * worker, plus the input buffers below). A sink that borrows (write_borrowed,
 * below) writes straight from the chunk buffers; then there are four (two
 * being written to the disk, two being computed) and the sink keeps none
 * of its own. The cut into sub-tasks does not depend on
 * the thread count, and every sub-task writes its own byte range, so the
 * output is byte-identical for any number of threads; statistics are summed
 * in sub-task order, so they are identical too.
 *
 * Reading the source: given a srcio (opts.io: the converter always gives
 * one), the tensors are taken in the order of their bytes in the source
 * files, and a reader thread preads each chunk's input into one of NIN
 * reused buffers ahead of the workers, with read-ahead and drop-behind in
 * the page cache and the shards' sha256 computed from the same bytes
 * (srcio.h says why this beats the mapping). The sink then sees the tensors
 * in that order, each from its first byte to its last and one at a time,
 * except stride siblings (tensors taking alternate rows of one source, as
 * GGUF's gate and up rows of gate_up), whose chunks alternate so that their
 * common input is read once: a sink given such tensors must take writes to
 * two tensors interleaved (the GGUF writer does; .gptoss plans have none).
 * Without a srcio (a checkpoint image in memory, some tests) the workers
 * read the mapping in place, in the given order: consumed pages are
 * dropped from the process (MADV_DONTNEED) and the next chunk's announced
 * (MADV_WILLNEED).
 *
 * MXFP4 -> MXFP4 is a pure re-layout (gq_mxfp4_from_hf, no float round
 * trip); MXFP4 -> q8_32 maps codes to int8 directly (gq_mxfp4_hf_to_q8);
 * bf16 -> bf16 and f32 -> f32 are copies; everything else goes through one
 * row of floats and the target's encoder.
 */
#ifndef GQ_CONVERT_PIPELINE_H
#define GQ_CONVERT_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "srcio.h"

/* Where the bytes go. The tensors were declared to the sink by its owner
 * beforehand, in the same order as the list given to cv_pipeline_run.
 * Each function returns 0 on success; error() then says what failed. */
typedef struct {
    void *ctx;
    int (*begin)(void *ctx);
    int (*write)(void *ctx, size_t tensor, const void *buf, size_t len);
    int (*finish)(void *ctx);
    void (*abort)(void *ctx);
    const char *(*error)(void *ctx);
    /* Optional, all three or none (NULL: write copies buf before it
     * returns). write_borrowed takes the bytes like write but may keep
     * reading buf until release(lo, hi, 1) of a range holding it has
     * returned; release(lo, hi, 0) only starts what is pending there.
     * offset: the file offset of the tensor's first byte (after begin), so
     * that the pipeline places each chunk at the same offset modulo the
     * page size in memory as in the file (direct I/O from its buffers, no
     * copy: gio_stream.h). release is called for every chunk buffer before
     * finish or abort, also after an error. */
    int (*write_borrowed)(void *ctx, size_t tensor, const void *buf, size_t len);
    int (*release)(void *ctx, const void *lo, const void *hi, int wait);
    uint64_t (*offset)(void *ctx, size_t tensor);
    /* Optional, only with the three above: the sink's checksum of the
     * bytes. The pipeline then gives every byte to hash, in write order and
     * one call at a time, before write_borrowed gets it; hash runs on the
     * worker that computed the bytes, right after, while they are in its
     * cache (issue 16: hashing them on the writing thread read them back
     * from another core, 21 % of a q8 conversion's CPU). */
    int (*hash)(void *ctx, size_t tensor, const void *buf, size_t len);
} cv_sink;

/* Progress callback, called from the calling thread after each chunk. */
typedef void (*cv_progress_fn)(void *ctx, uint64_t done_bytes, uint64_t total_bytes);

typedef struct {
    int threads;                       /* workers; <= 0: all online CPUs */
    size_t chunk_bytes;                /* output (and, with io, input) bytes per chunk; 0: 32 MiB */
    volatile sig_atomic_t *cancel;     /* set by a signal handler: stop, abort the sink */
    cv_progress_fn progress;
    void *progress_ctx;
    cv_srcio *io;                      /* read the source files through it (see above); NULL: the mapping */
} cv_pipeline_opts;

typedef struct {
    gq_stats cls[CV_CLASS_COUNT];      /* per class: blocks, inexact blocks, errors */
    uint64_t cls_tensors[CV_CLASS_COUNT];
    uint64_t cls_bytes[CV_CLASS_COUNT];   /* output bytes */
    uint64_t cls_values[CV_CLASS_COUNT];  /* weights */
    uint64_t in_bytes, out_bytes;
    int threads;
} cv_pipeline_result;

typedef enum {
    CV_PIPE_OK = 0,
    CV_PIPE_SINK_ERROR,      /* the sink failed (I/O, no space): err holds its message */
    CV_PIPE_CANCELLED,       /* *cancel was set */
    CV_PIPE_NOMEM,
    CV_PIPE_BAD_INPUT,       /* a producer is inconsistent with its source */
    CV_PIPE_READ_ERROR       /* reading (or hashing) the source failed: err names the shard */
} cv_pipe_status;

/* Stream tensors t[0..n) into the sink: begin, every write, finish. On any
 * failure or cancellation the sink is aborted. `res` may be NULL. */
cv_pipe_status cv_pipeline_run(const cv_out_tensor *t, size_t n, const cv_sink *sink,
                               const cv_pipeline_opts *opts, cv_pipeline_result *res, char *err,
                               size_t errlen);

/* Produce rows [r0, r0+nrows) of one tensor into out (rows * row bytes of
 * t->type). scratch: at least t->prod.cols floats. Stats are added to st
 * for lossy conversions; a lossless conversion adds its blocks/values with
 * zero error. The unit the pipeline's workers run; also used by tests. */
void cv_produce_rows(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch,
                     gq_stats *st);

#endif
