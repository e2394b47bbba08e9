/* forward_generate.h - the generation loop shared by `generate` and `chat`:
 * prompt ids in, harmony messages out, the final channel streamed as it is
 * produced.
 *
 * Prefills the prompt at the session's current position, then samples one
 * token at a time until <|return|> / <|call|> (harmony parser), an EOS id of
 * the model, max_tokens, or a full context. Text deltas of the "final"
 * channel go to `out` as whole UTF-8 characters (flushed per token); with
 * show_analysis the other channels' deltas go to `analysis_out`.
 */
#ifndef GQ_FORWARD_GENERATE_H
#define GQ_FORWARD_GENERATE_H

#include <stdio.h>

#include "forward.h"
#include "harmony.h"
#include "sampler.h"
#include "tokenizer.h"

typedef struct {
    int max_tokens;
    FILE *out;                /* final-channel stream, or NULL */
    FILE *analysis_out;       /* other channels, or NULL */
} gen_opts;

typedef struct {
    char *final;              /* malloc'ed final-channel text (NUL-terminated) */
    size_t final_len;
    char *analysis;           /* malloc'ed analysis text */
    size_t analysis_len;
    int n_prompt, n_gen;
    const char *stop;         /* "return", "call", "eos", "length", "context" */
    /* stop "call": the tool call (malloc'ed): its recipient as written
     * ("functions.get_weather"), content type ("json", or ""), arguments
     * (the message text), and the analysis message before it, or NULL */
    char *call_recipient, *call_type, *call_args, *call_analysis;
    double prefill_s, decode_s;
} gen_result;

/* 0; -1 with a message; GQ_ERR_BACKEND when the backend failed (its words in err). */
int gen_run(gq_session *s, const gm_model *m, const tok_tokenizer *tok, gq_sampler *smp, const int32_t *prompt,
            size_t n, const gen_opts *o, gen_result *r, char *err, size_t errlen);
void gen_result_free(gen_result *r);

/* vocab bytes: 1 for ids the tokenizer can decode (malloc'ed). */
uint8_t *gen_allowed_ids(const tok_tokenizer *tok, int vocab);

#endif
