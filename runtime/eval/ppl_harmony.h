/* ppl_harmony.h - `ppl --harmony`: the text scored as what gpt-oss was
 * trained to write, an assistant's final answer in a harmony conversation.
 *
 * Raw text is far from anything gpt-oss saw in training: every document it
 * learned from came wrapped in harmony messages, so raw-text perplexity is
 * high and says more about that mismatch than about the model. With
 * --harmony each chunk of --ctx tokens is
 *
 *   PREFIX = <|start|>system<|message|>{the chat template's system message,
 *            current date PPL_HARMONY_DATE}<|end|>
 *            <|start|>user<|message|>PPL_HARMONY_PROMPT<|end|>
 *            <|start|>assistant<|channel|>final<|message|>
 *   then the next ctx - |PREFIX| tokens of the text,
 *
 * exactly the ids the chat template and the tokenizer give for the
 * conversation [user: PPL_HARMONY_PROMPT, assistant: TEXT] up to the
 * answer's end (tests/runtime harmony_ppl checks this against the jinja
 * template and the JS tokenizer). The date is fixed so that a reference
 * saved one day is comparable the next. Scoring is unchanged (llama.cpp's
 * second half of each chunk): since the prefix is shorter than half a chunk,
 * only tokens of the text are scored, never the fixed conversation tokens
 * (they are the same for every model and would only dilute the figure),
 * and each scored token sees the conversation and at least
 * ctx/2 - |PREFIX| tokens of text before it.
 */
#ifndef GQ_PPL_HARMONY_H
#define GQ_PPL_HARMONY_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

#define PPL_HARMONY_DATE "2025-08-05"
#define PPL_HARMONY_PROMPT "Write a passage of text."

/* The PREFIX ids (appended to out). 0, or -1 with a message (a tokenizer
 * without the harmony special tokens). */
int ppl_harmony_prefix(tok_tokenizer *t, tok_ids *out, char *err, size_t errlen);

/* The ids ppl evaluates: floor(n / (ctx - np)) chunks of ctx ids, each the
 * prefix followed by the next ctx - np text ids (a trailing partial chunk is
 * left out, as without --harmony). *out is malloc'ed, *nout = chunks * ctx.
 * 0, or -1 with a message (ctx too small for the prefix, too little text,
 * out of memory). */
int ppl_harmony_chunks(const int32_t *prefix, size_t np, const int32_t *text, size_t n, int ctx, int32_t **out,
                       size_t *nout, char *err, size_t errlen);

#endif
