/* ppl_ref.h - the reference file of `gptoss-run ppl --save-ref / --ref`.
 *
 * For every scored token of a perplexity run it keeps the reference model's
 * next-token distribution, the NLL of the actual next token and its argmax,
 * plus what the run was made from (text, context, vocabulary, tokenizer and
 * model digests) so that a reference from something else is refused.
 *
 * Two kinds (docs/RUNTIME.md, "The reference file"):
 *  - full (default): every token's log-probability in 16 bits (code below),
 *    enough for the full-vocabulary KL divergence llama.cpp reports;
 *  - top-k (--ref-top-k K): the K largest log-probabilities and their ids;
 *    the rest of the mass is one bucket, so the KLD is a lower bound.
 *
 * 16-bit code of x >= 0 (ppl_ref_encode(-x)): x < 2^-21 is code 0 (decoded
 * 0); otherwise x rounded to 12 significant bits (11 stored), exponent
 * 2^-21 .. 2^10 (5 bits); x >= 2048 saturates. Decoded error: |x' - x| <=
 * 2^-12 x + 2^-21. A full row stores x_i = max_j l_j - l_i for its
 * log-probabilities l (a constant shift cancels in the softmax, which the
 * reader's user, be->score, applies): the argmax is exact (code 0) and a flat
 * row keeps its small differences to 2^-21.
 *
 * Layout (little-endian), version 2:
 *   0  char[8] "GQPPLREF"     8 u32 version (2)   12 u32 kind (1 full, 2 top-k)
 *  16  u32 k (top-k; 0 full)  20 u32 vocab        24 u32 ctx (chunk length)
 *  28  u32 n_tokens of the input   32 u32 crc32 of its ids (int32 LE)   36 u32 0
 *  40  u64 n_scored
 *  48  u64 source digest: FNV-1a 64 of the .gptoss provenance's source files
 *      (name + sha256): the same for every recipe of one checkpoint (0: unknown)
 *  56  u64 tokenizer digest: xxh3-64 of the embedded tokenizer.json (0: unknown)
 *  64  u64 file digest: FNV-1a 64 of the model file's tensor xxh3 checksums
 *  72  u64 rows length (full; 0 top-k)   80 u64 records length
 *  88  rows: zlib stream of n_scored rows of vocab u16 codes (full only)
 *      records: zlib stream of n_scored records:
 *        full  {f32 nll; u32 argmax id}
 *        top-k {u32 id[k]; f32 logp[k]; f32 nll}   (version 1's records)
 * Version 1 (48-byte header: magic, version, k, vocab, ctx, n_tokens, crc,
 * n_scored, body length; top-k records) is still read.
 *
 * The reader checks every field and length against the file, that top-k ids
 * are distinct and their log-probabilities descending, and (full) that each
 * row inflates to exactly vocab codes with the stored argmax among its
 * largest; a bad file is an error naming the record, never a crash (fuzzed by
 * tests/runtime fuzz_ppl_ref). Full rows are read one at a time as the run
 * needs them (ppl_ref_next_row), so a reference of any length fits memory.
 */
#ifndef GQ_PPL_REF_H
#define GQ_PPL_REF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PPL_REF_MAX_K 64
#define PPL_REF_FULL 1u
#define PPL_REF_TOPK 2u

typedef struct ppl_ref_rows ppl_ref_rows;

typedef struct {
    uint32_t version, kind, k, vocab, ctx, n_tokens, tokens_crc;
    uint64_t n_scored, model_digest, tok_digest, file_digest;
    uint32_t *ids;     /* top-k: [n_scored * k] */
    float *logp;       /* top-k: [n_scored * k], descending per token */
    float *nll;        /* [n_scored] */
    uint32_t *top1;    /* [n_scored] the reference's argmax */
    ppl_ref_rows *rows; /* full: the row stream (reader side) */
} ppl_ref;

/* Parse an image (the buffer must outlive *out when it is a full
 * reference: rows are inflated from it); 0, or -1 with a message. */
int ppl_ref_parse(const void *buf, size_t len, const char *what, ppl_ref *out, char *err, size_t errlen);
/* Open a file (full rows stay in it, read as needed). */
int ppl_ref_load(const char *path, ppl_ref *out, char *err, size_t errlen);
/* The next full row as logits ([vocab] floats: -x_i, log-probabilities up
 * to a constant). 0, or -1 with a
 * message (corrupt or truncated stream, no row left). */
int ppl_ref_next_row(ppl_ref *r, float *logp, char *err, size_t errlen);
/* After the last row: 0 if the stream ends exactly there, else -1. */
int ppl_ref_rows_done(ppl_ref *r, char *err, size_t errlen);
void ppl_ref_free(ppl_ref *r);

/* The 16-bit code of -x (see above): encode(l) codes x = -l. */
uint16_t ppl_ref_encode(double logp);
float ppl_ref_decode(uint16_t code);

/* Writing, crash-safely (gio_out): header fields from *hdr (kind, k, vocab,
 * ctx, n_tokens, tokens_crc, n_scored, digests). overwrite 0 refuses an
 * existing PATH (errno EEXIST). Full rows are appended as the run makes
 * them; ppl_ref_writer_finish adds the records (hdr's nll/top1, or top-k
 * arrays) and publishes. NULL / -1 with a message. */
typedef struct ppl_ref_writer ppl_ref_writer;
ppl_ref_writer *ppl_ref_writer_open(const char *path, int overwrite, char *err, size_t errlen);
int ppl_ref_writer_row(ppl_ref_writer *w, const double *logp, uint32_t vocab, char *err, size_t errlen);
int ppl_ref_writer_finish(ppl_ref_writer *w, const ppl_ref *hdr, char *err, size_t errlen);
void ppl_ref_writer_free(ppl_ref_writer *w); /* discards unless finished */

/* A whole top-k reference in one call (tests, tools). */
int ppl_ref_save(const char *path, const ppl_ref *r, int overwrite, char *err, size_t errlen);

/* crc32 of int32 ids as little-endian bytes (what n_tokens/tokens_crc hold). */
uint32_t ppl_ids_crc(const int32_t *ids, size_t n);

#endif
