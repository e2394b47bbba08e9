/* ppl_ref.h - the reference file of `gptoss-run ppl --save-ref / --ref`.
 *
 * For every scored token of a perplexity run it keeps the reference model's
 * top-k next-token log-probabilities (ids and values) and the NLL of the
 * actual next token; the probability mass outside the top k is implied
 * (1 - sum of the k). That is enough for KL divergence with the tail lumped
 * into one bucket (a lower bound of the full KLD, llama.cpp's approach),
 * top-1 agreement and the PPL ratio, at ~8k+4 bytes per token before zlib.
 *
 * Layout (little-endian):
 *   0  char[8]  "GQPPLREF"
 *   8  u32      version (1)
 *  12  u32      k (1..64)
 *  16  u32      vocab
 *  20  u32      ctx (chunk length the run used)
 *  24  u32      n_tokens of the input text, 28 u32 crc32 of its ids (int32 LE)
 *  32  u64      n_scored
 *  40  u64      compressed body length (the rest of the file)
 *  48  body: zlib stream of n_scored records {u32 id[k]; f32 logp[k]; f32 nll}
 * The reader checks every field and length against the file, and that each
 * record's k ids are distinct and its log-probabilities descending; a bad
 * file is an error message naming the record, never a crash (fuzzed by
 * tests/runtime fuzz_ppl_ref).
 */
#ifndef GQ_PPL_REF_H
#define GQ_PPL_REF_H

#include <stddef.h>
#include <stdint.h>

#define PPL_REF_MAX_K 64

typedef struct {
    uint32_t k, vocab, ctx, n_tokens, tokens_crc;
    uint64_t n_scored;
    uint32_t *ids;     /* [n_scored * k] */
    float *logp;       /* [n_scored * k], descending per token */
    float *nll;        /* [n_scored] */
} ppl_ref;

/* Parse an image; 0, or -1 with a message (what is wrong, named with WHAT). */
int ppl_ref_parse(const void *buf, size_t len, const char *what, ppl_ref *out, char *err, size_t errlen);
int ppl_ref_load(const char *path, ppl_ref *out, char *err, size_t errlen);
/* Write atomically-enough (temp + rename). 0 or -1 with a message. */
int ppl_ref_save(const char *path, const ppl_ref *r, char *err, size_t errlen);
void ppl_ref_free(ppl_ref *r);
/* crc32 of int32 ids as little-endian bytes (what n_tokens/tokens_crc hold). */
uint32_t ppl_ids_crc(const int32_t *ids, size_t n);

#endif
