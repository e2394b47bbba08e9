/* gptoss_format.h - the .gptoss single-file model format: reader and writer.
 *
 * The byte-level specification is docs/FORMAT.md; this header is the C API.
 * In short: a fixed 40-byte preamble (magic, version, flags, header length,
 * header hash, data offset), a JSON header (hyper-parameters, quantization
 * recipe, provenance, tensor and blob directory with xxh3-64 of every
 * payload), then payloads, each starting on a 16 KiB boundary so that it can
 * be mapped zero-copy (Apple GPUs need page-aligned buffers; 16 KiB is their
 * page). The file length is a multiple of 16 KiB too, so every payload's
 * page-rounded span lies inside the file.
 *
 * The reader treats the file as untrusted: every offset, size, shape and
 * type is checked against the file before a pointer is handed out.
 */
#ifndef GQ_GPTOSS_FORMAT_H
#define GQ_GPTOSS_FORMAT_H

#include <signal.h>
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
#define GF_MAX_NAME 96              /* tensor / blob name length limit, bytes */
#define GF_MAX_HEADER (64u << 20)   /* header JSON length limit, bytes */

/* Model hyper-parameters, as stored under "hparams" in the header (the JSON
 * keys are the field names; docs/FORMAT.md gives units and HF sources). */
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

/* Map (read-only) and validate PATH: preamble, header hash, JSON, hparams
 * ranges, every tensor and blob entry (type, shape, size, alignment, bounds,
 * overlaps, unique names). Payload hashes are checked by gf_verify.
 * NULL with a message naming the file, the entry and the problem. */
gf_file *gf_open(const char *path, char *err, size_t errlen);
/* Same checks on an image in memory (fuzz target); buf must outlive it. */
gf_file *gf_open_memory(const void *buf, size_t len, char *err, size_t errlen);
void gf_close(gf_file *f);

const gf_hparams *gf_get_hparams(const gf_file *f);
size_t gf_tensor_count(const gf_file *f);
const gf_tensor *gf_tensor_at(const gf_file *f, size_t i);   /* header order; NULL if out of range */
const gf_tensor *gf_find_tensor(const gf_file *f, const char *name); /* NULL if absent */
size_t gf_blob_count(const gf_file *f);
const gf_blob *gf_blob_at(const gf_file *f, size_t i);
const gf_blob *gf_find_blob(const gf_file *f, const char *name);
/* The whole JSON header text (NUL-terminated copy owned by f). */
const char *gf_header_json(const gf_file *f);
/* Total file (or image) length in bytes. */
uint64_t gf_file_size(const gf_file *f);

/* Re-hash every payload (tensors and blobs) and check that every byte
 * outside the header and the payloads is zero. Returns the number of
 * problems (0 = good); calls report (if not NULL) for each: name is the
 * tensor or blob name, or "padding after NAME" / "padding after header"
 * (want 0, got the offset of the first non-zero byte). */
typedef void (*gf_mismatch_fn)(void *ctx, const char *name, uint64_t want, uint64_t got);
size_t gf_verify(const gf_file *f, gf_mismatch_fn report, void *ctx);

/* ---- writer ----
 * Usage: create; set_meta; declare every tensor and blob; begin; stream
 * each tensor's bytes, one tensor at a time, the tensors in any order (the
 * converter follows the order of the source files); finish; then always
 * gf_writer_abort (which only frees once finish has succeeded).
 *
 * Output goes through the crash-safe writer of formats/io/gio_out.h:
 * "PATH.tmp.<pid>" next to PATH, held under an exclusive flock while
 * written; finish fsyncs it (F_FULLFSYNC on macOS), moves it onto PATH
 * atomically and fsyncs the directory. Abort and every failure remove the
 * temporary; a process killed mid-write leaves its temporary, which the
 * next writer for the same PATH removes (its flock is free once the owner
 * is dead); while a live process writes PATH, create refuses (EBUSY).
 * Every failing call returns -1 (or NULL), keeps a message for
 * gf_writer_error and sets errno: EEXIST (PATH exists, overwrite not
 * allowed), EBUSY (another process is writing PATH), ENOSPC / EFBIG (no
 * room), EINVAL (misuse or bad metadata), EINTR (cancelled, see
 * gf_writer_set_cancel), other errno values for I/O errors. After a failure the writer
 * only accepts gf_writer_error / gf_writer_errno / gf_writer_abort. */

typedef struct gf_writer gf_writer;

/* Refuses an existing PATH unless overwrite; creates and locks the
 * temporary (so an unwritable directory fails here, before any work). */
gf_writer *gf_writer_create(const char *path, int overwrite, char *err, size_t errlen);
/* finish refuses to publish (errno EINTR, temporary removed) if *flag is
 * set just before the file would be moved onto PATH: a SIGINT during the
 * final fsync still cancels. NULL: no check. */
void gf_writer_set_cancel(gf_writer *w, volatile sig_atomic_t *flag);
/* meta_json: a JSON object text with "hparams" (checked like the reader
 * does), "quant" and "provenance" objects, and anything else except the
 * reserved keys "format", "version", "tensors", "blobs". Written in the
 * order hparams, quant, provenance, then the other keys in given order.
 * May be called again between begin and finish to fill in values known only
 * later (the converter's source hashes), provided the header keeps its
 * length: write fixed-width placeholders first; finish refuses otherwise. */
int gf_writer_set_meta(gf_writer *w, const char *meta_json);
/* Declare a tensor; returns its index (declaration order) or -1. */
int gf_writer_add_tensor(gf_writer *w, const char *name, gq_type type, int ndim, const uint64_t *shape);
/* Declare a blob; data is copied. Returns its index or -1. */
int gf_writer_add_blob(gf_writer *w, const char *name, const void *data, size_t len);
/* Lay the file out, preallocate it (no space is reported here), write the
 * header (hashes still zero) and the blobs. */
int gf_writer_begin(gf_writer *w);
/* Append bytes to tensor i (tensors in any order, one at a time: the tensor
 * begun must be complete before another starts; writing past a tensor's
 * size is an error). The bytes go out through gio_out_write's stream. */
int gf_writer_write(gf_writer *w, size_t i, const void *buf, size_t len);
/* The same without copying buf where direct I/O allows (gio_out.h): buf
 * must stay valid and unchanged until gf_writer_release of a range holding
 * it (or finish / abort) has returned. */
int gf_writer_write_borrowed(gf_writer *w, size_t i, const void *buf, size_t len);
/* Two threads, one hashing ahead while the other writes (the converter
 * hashes each piece on the worker that computed it, while it is in that
 * core's cache): gf_writer_hash feeds tensor i's running XXH3 with its next
 * len bytes (tensors one at a time, in order; one call at a time, from any
 * thread); gf_writer_write_hashed then writes bytes that gf_writer_hash has
 * already seen, as gf_writer_write_borrowed does, without hashing them
 * again. A tensor is written one way or the other, not both. The caller
 * orders each hash call before the write of the same bytes (a mutex). -1
 * from gf_writer_hash changes nothing else: the message is in
 * gf_writer_error and the writer's own failure comes from the next write. */
int gf_writer_hash(gf_writer *w, size_t i, const void *buf, size_t len);
int gf_writer_write_hashed(gf_writer *w, size_t i, const void *buf, size_t len);
/* With wait, the memory [lo, hi) given to gf_writer_write_borrowed is the
 * caller's again (also after an error); without, its writes are started.
 * 0, or -1 (a write failed; the writer is then failed as by
 * gf_writer_write). */
int gf_writer_release(gf_writer *w, const void *lo, const void *hi, int wait);
/* Absolute file offset of tensor i's first byte, between begin and finish
 * (UINT64_MAX otherwise): a caller that borrows aligns its buffers to it. */
uint64_t gf_writer_tensor_offset(const gf_writer *w, size_t i);
/* Check every tensor is complete, patch hashes, fsync, move onto PATH,
 * fsync the directory. If only that last fsync fails, PATH is complete and
 * stays, but -1 is returned so the caller can warn about durability. */
int gf_writer_finish(gf_writer *w);
/* Free w (NULL is fine); if finish has not succeeded, remove the temporary
 * and leave PATH untouched. */
void gf_writer_abort(gf_writer *w);
const char *gf_writer_error(const gf_writer *w);
int gf_writer_errno(const gf_writer *w);
/* The temporary's path (NULL once removed). A SIGINT handler should call
 * gio_out_signal_cleanup() instead, which knows every writer's temporary
 * and whether it has been published. */
const char *gf_writer_temp_path(const gf_writer *w);
/* Bytes the finished file will have (valid after begin). */
uint64_t gf_writer_total_size(const gf_writer *w);

/* ---- hparams <-> JSON (shared by writer, reader and converter) ---- */

/* Writes the "hparams" object text (fixed key order, no whitespace).
 * Returns the length, or -1 if buflen is too small. */
int gf_hparams_to_json(const gf_hparams *hp, char *buf, size_t buflen);
/* Parses an "hparams" object text and range-checks it (gf_hparams_check).
 * 0 or -1 with a message naming the key. */
int gf_hparams_from_json(const char *json, gf_hparams *hp, char *err, size_t errlen);
/* Range and consistency checks the reader applies. 0 or -1 with message. */
int gf_hparams_check(const gf_hparams *hp, char *err, size_t errlen);

#endif
