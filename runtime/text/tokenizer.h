/* tokenizer.h - gpt-oss's byte-level BPE tokenizer, id-for-id identical to
 * Hugging Face `tokenizers` on the model's tokenizer.json.
 *
 * What it promises:
 *  - Loads a tokenizer.json (the real 28 MB file, or the tiny fixture's) from
 *    a path, from memory, or from the "tokenizer.json" blob of a .gptoss file.
 *    Supported shape (anything else is refused with a message naming the key):
 *    normalizer null; pre_tokenizer = Split(Regex, Isolated) [+ ByteLevel
 *    with use_regex false], or a bare ByteLevel(use_regex false) / Split;
 *    model BPE (merges as "a b" strings or [a, b] pairs, ignore_merges,
 *    no dropout, no continuing-subword prefix); added_tokens without
 *    lstrip/rstrip/single_word/normalized (what gpt-oss ships).
 *  - encode: text bytes -> ids. With parse_special the text is first split on
 *    added tokens (leftmost-longest, like HF's AddedVocabulary); without it
 *    special-token strings are ordinary text (HF's encode_special_tokens).
 *    Pre-tokenization runs the file's Split regex through PCRE2 (UTF + UCP,
 *    JIT when available); see tokenizer_encode.c for the one rewrite made to
 *    match HF's regex engine (the meaning of \s).
 *  - Invalid UTF-8 never crashes and is lossless: each byte that is not part
 *    of a well-formed UTF-8 sequence becomes its own pre-token (so its own
 *    byte token) and is a hard boundary for the regex. decode(encode(x)) == x
 *    for every byte string x. docs/TOKENIZER.md has the details.
 *  - decode: ids -> the exact bytes (added tokens included as their text).
 *    tok_stream_* hands out only complete UTF-8 characters while streaming.
 *
 * Threading: tok_encode keeps a word cache inside the tokenizer, so one
 * tokenizer must not be used by two threads at once for encoding; the
 * lookup and decode functions are read-only and may be shared.
 */
#ifndef GQ_TOKENIZER_H
#define GQ_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tok_tokenizer tok_tokenizer;

/* A growable id array filled by tok_encode (appends). Free with tok_ids_free. */
typedef struct {
    int32_t *ids;
    size_t n, cap;
} tok_ids;

void tok_ids_free(tok_ids *v);
/* Appends one id (the array grows by doubling). 0, or -1 on out of memory. */
int tok_ids_push(tok_ids *v, int32_t id);

/* PATH may be a tokenizer.json, a .gptoss file or a GGUF file (recognised
 * by its magic; a GGUF's tokenizer.ggml.* arrays, see tok_load_gguf).
 * NULL on failure, with a message naming PATH and the fix in err. */
tok_tokenizer *tok_load_file(const char *path, char *err, size_t errlen);
/* JSON text in memory (need not be NUL-terminated); copied, may be freed after. */
tok_tokenizer *tok_load_json(const char *json, size_t len, const char *what, char *err, size_t errlen);
/* The tokenizer of an open GGUF file (llama.cpp's "gpt2" byte-level BPE
 * with the "gpt-4o" pre-tokenizer, as gpt-oss GGUFs carry it): tokens
 * (byte-level spelling) with token_type 1 form the BPE vocabulary, types 3
 * (control) and 4 (user) the added tokens (special and not), type 5
 * (unused, "[PAD<id>]") are holes; merges in rank order; the pre-tokenizer
 * is o200k's regex. The same ids and encode results as the tokenizer.json
 * the GGUF was exported from. Another tokenizer model or pre-tokenizer is
 * refused with a message naming the key. WHAT names the file in messages. */
struct gguf_file;
tok_tokenizer *tok_load_gguf(const struct gguf_file *g, const char *what, char *err, size_t errlen);
/* gguf_open(PATH) + tok_load_gguf. */
tok_tokenizer *tok_load_gguf_file(const char *path, char *err, size_t errlen);
void tok_free(tok_tokenizer *t);

/* Highest token id + 1 (model vocabulary and added tokens). */
int32_t tok_n_ids(const tok_tokenizer *t);

/* Appends the ids of text[0..len) to out. 0 on success, or (with the reason
 * in tok_encode_error):
 *  TOK_ENCODE_NOMEM  out of memory, or a single pre-token over 1 GiB (e.g. a
 *                    1 GiB run of spaces);
 *  TOK_ENCODE_REGEX  the pre_tokenizer regex gave up: PCRE2's match or depth
 *                    limit was exceeded (a pattern that backtracks
 *                    catastrophically, such as (a+)+$ on "aaaa...b"). The
 *                    limits are explicit, not the library's build defaults:
 *                    10,000,000 steps plus 64 per byte of the remaining text
 *                    per match attempt, far above what a sane pattern needs.
 *                    This is bad input (the tokenizer file), not a crash. */
enum { TOK_ENCODE_NOMEM = -1, TOK_ENCODE_REGEX = -2 };
int tok_encode(tok_tokenizer *t, const char *text, size_t len, int parse_special, tok_ids *out);
/* Why the last tok_encode on T failed: a message naming the tokenizer, the
 * limit and the byte offset in the text where the failed search started; "" after a success. */
const char *tok_encode_error(const tok_tokenizer *t);

/* The bytes of token ID (for added tokens, their content). NULL if ID is not
 * a token of this tokenizer (out of range, or a hole such as the reserved
 * ids 200019..201087 of gpt-oss that the model's vocab_size covers but the
 * tokenizer does not define). */
const char *tok_token_bytes(const tok_tokenizer *t, int32_t id, size_t *len);
/* Id of the token whose bytes (model vocabulary) or content (added token)
 * equal s[0..len); -1 if none. Added tokens win on a tie (HF's order). */
int32_t tok_token_id(const tok_tokenizer *t, const char *s, size_t len);
/* Id of an added/special token by its content, e.g. "<|start|>"; -1 if none. */
int32_t tok_special_id(const tok_tokenizer *t, const char *name);
/* 1 if ID is an added token flagged special. */
int tok_is_special(const tok_tokenizer *t, int32_t id);

/* Decode ids into a malloc'ed buffer (NUL-terminated for convenience; the
 * bytes may contain NULs, use *len). NULL if an id is not a token (its index
 * in *bad_index, if not NULL) or on out of memory (*bad_index = (size_t)-1). */
char *tok_decode(const tok_tokenizer *t, const int32_t *ids, size_t n, size_t *len, size_t *bad_index);

/* Streaming decode: push ids one at a time; each push writes the bytes that
 * are now complete UTF-8 characters. A trailing prefix of a multi-byte
 * character is held back (at most 3 bytes) until the next token completes it;
 * bytes that can never become valid UTF-8 are released at once, unchanged,
 * so the concatenated output always equals tok_decode of the same ids. */
typedef struct {
    unsigned char held[4];
    int n_held;
} tok_stream;

void tok_stream_init(tok_stream *s);
/* Writes up to (token length + 3) bytes to out (cap must be at least
 * TOK_STREAM_MAX_OUT); returns the count, or -1 if ID is not a token. */
#define TOK_STREAM_MAX_OUT 1024
int tok_stream_push(tok_stream *s, const tok_tokenizer *t, int32_t id, char *out, size_t cap);
/* Releases held bytes (an incomplete character at the end of the output). */
int tok_stream_flush(tok_stream *s, char *out, size_t cap);

/* Length of the well-formed UTF-8 character starting at s[0] (1..4), or 0 if
 * the bytes there do not start one (overlong, surrogate, > U+10FFFF, cut). */
int tok_utf8_char_len(const unsigned char *s, size_t avail);

#endif
