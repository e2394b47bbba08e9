/* gptoss_format.h - the .gptoss single-file model format: reader and writer.
 *
 * The byte-level specification is docs/FORMAT.md; this header is the C API.
 * In short: a fixed 40-byte preamble (magic, version, header length and
 * hash, data offset), a JSON header (hyper-parameters, quantization recipe,
 * provenance, tensor and blob directory with xxh3-64 of every payload), then
 * payloads, each starting on a 16 KiB boundary so that it can be mapped
 * zero-copy (Apple GPUs need page-aligned buffers; 16 KiB is their page).
 *
 * The reader treats the file as untrusted: every offset, size, shape and
 * type is checked against the file before a pointer is handed out.
 */
#ifndef GQ_GPTOSS_FORMAT_H
#define GQ_GPTOSS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

#define GF_MAGIC "GPTOSS\0\0"       /* 8 bytes */
#define GF_VERSION 1u
#define GF_ALIGN 16384u
#define GF_PREAMBLE_BYTES 40u
#define GF_MAX_DIMS 4
#define GF_MAX_LAYERS 256
#define GF_MAX_EOS 8

/* Model hyper-parameters, as stored under "hparams" in the header. */
typedef struct {
    int n_layers;
    int n_experts;
    int n_experts_per_tok;
    int hidden;               /* hidden_size */
    int intermediate;         /* per expert */
    int n_heads;
    int n_kv_heads;
    int head_dim;
    int vocab;
    int sliding_window;
    int max_ctx;              /* max_position_embeddings */
    double rope_theta;
    double rope_factor;       /* yarn factor */
    int rope_orig_ctx;        /* original_max_position_embeddings */
    double rope_beta_fast;
    double rope_beta_slow;
    int rope_truncate;        /* 0: fractional yarn bounds (HF truncate=false) */
    double rms_eps;
    double swiglu_limit;
    uint8_t layer_sliding[GF_MAX_LAYERS]; /* 1: sliding_attention, 0: full */
    int n_eos;
    int eos_ids[GF_MAX_EOS];
    int pad_id;               /* -1 if none */
    int bos_id;               /* -1 if none */
} gf_hparams;

typedef struct {
    const char *name;
    gq_type type;
    int ndim;
    uint64_t shape[GF_MAX_DIMS];  /* logical element shape, row-major, last = row */
    uint64_t offset;              /* absolute file offset, multiple of GF_ALIGN */
    uint64_t size;                /* bytes */
    uint64_t xxh3;                /* xxh3-64 of the payload */
    const void *data;             /* mapped payload (reader only) */
} gf_tensor;

typedef struct {
    const char *name;             /* "tokenizer.json", "tokenizer_config.json", "chat_template.jinja" */
    uint64_t offset, size, xxh3;
    const void *data;
} gf_blob;

/* ---- reader ---- */

typedef struct gf_file gf_file;

/* Map and validate PATH (structure only; payload hashes are checked by
 * gf_verify). NULL with a message naming the file and the problem. */
gf_file *gf_open(const char *path, char *err, size_t errlen);
/* Same checks on an image in memory (fuzz target); buf must outlive it. */
gf_file *gf_open_memory(const void *buf, size_t len, char *err, size_t errlen);
void gf_close(gf_file *f);

const gf_hparams *gf_get_hparams(const gf_file *f);
size_t gf_tensor_count(const gf_file *f);
const gf_tensor *gf_tensor_at(const gf_file *f, size_t i);
const gf_tensor *gf_find_tensor(const gf_file *f, const char *name);
size_t gf_blob_count(const gf_file *f);
const gf_blob *gf_blob_at(const gf_file *f, size_t i);
const gf_blob *gf_find_blob(const gf_file *f, const char *name);
/* The whole JSON header text (NUL-terminated copy owned by f). */
const char *gf_header_json(const gf_file *f);

/* Re-hash every payload. Returns the number of mismatches (0 = good);
 * calls report (if not NULL) for each mismatch. */
typedef void (*gf_mismatch_fn)(void *ctx, const char *name, uint64_t want, uint64_t got);
size_t gf_verify(const gf_file *f, gf_mismatch_fn report, void *ctx);

/* ---- writer ----
 * Usage: create; declare every tensor and blob; begin; stream each
 * tensor's bytes in declaration order; finish (or abort). Output goes to a
 * temporary file next to PATH, is fsynced (F_FULLFSYNC on macOS) and renamed
 * onto PATH only by finish; abort and every failure remove the temporary. */

typedef struct gf_writer gf_writer;

gf_writer *gf_writer_create(const char *path, int overwrite, char *err, size_t errlen);
/* meta_json: a JSON object text with "hparams", "quant", "provenance" (and
 * anything else); the writer adds "tensors" and "blobs". */
int gf_writer_set_meta(gf_writer *w, const char *meta_json);
int gf_writer_add_tensor(gf_writer *w, const char *name, gq_type type, int ndim, const uint64_t *shape);
int gf_writer_add_blob(gf_writer *w, const char *name, const void *data, size_t len);
int gf_writer_begin(gf_writer *w);
/* Append bytes to tensor i (declaration order; tensor i must be complete
 * before i+1 starts). */
int gf_writer_write(gf_writer *w, size_t i, const void *buf, size_t len);
int gf_writer_finish(gf_writer *w);
void gf_writer_abort(gf_writer *w);
const char *gf_writer_error(const gf_writer *w);

/* hparams <-> JSON object text helpers shared by writer and converter. */
int gf_hparams_to_json(const gf_hparams *hp, char *buf, size_t buflen);

#endif
