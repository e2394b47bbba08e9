/* gguf_vocab.h - a Hugging Face tokenizer.json as llama.cpp's GGUF
 * tokenizer arrays.
 *
 * Writes tokenizer.ggml.model "gpt2" (byte-level BPE), .pre "gpt-4o" (the
 * o200k pre-tokenizer llama.cpp implements for gpt-oss), .tokens (every id
 * 0..vocab-1, in the file's byte-level spelling; ids the tokenizer does not
 * define become "[PAD<id>]" of type UNUSED, as llama.cpp's own converter
 * does), .token_type (1 normal, 3 control = special added token, 4 user
 * defined = other added token, 5 unused), .merges ("a b", in rank order),
 * bos / eos / padding ids, add_bos_token / add_eos_token false, and
 * tokenizer.chat_template when a template is given.
 *
 * Refuses (with a message) what llama.cpp would crash or mis-tokenize on:
 * an id >= vocab, two ids with the same text, a model that is not BPE.
 */
#ifndef GQ_CONVERT_GGUF_VOCAB_H
#define GQ_CONVERT_GGUF_VOCAB_H

#include <stddef.h>

#include "gguf.h"

typedef struct {
    const char *tokenizer_json;       /* required */
    size_t tokenizer_json_len;
    const char *tokenizer_config_json;/* may be NULL: bos/eos/pad token names, chat_template */
    size_t tokenizer_config_len;
    const char *chat_template;        /* may be NULL: chat_template.jinja text (wins over the config's) */
    size_t chat_template_len;
    int vocab;                        /* config vocab_size: the array length */
    int bos_id, eos_id, pad_id;       /* fallbacks from config.json, -1 if none */
} gg_vocab_src;

/* Append the tokenizer.* KVs to w (before gguf_writer_begin). Returns 0,
 * or -1 with a message naming `label` (the tokenizer file) and the fix. */
int gg_vocab_write(gguf_writer *w, const gg_vocab_src *src, const char *label, char *err, size_t errlen);

#endif
