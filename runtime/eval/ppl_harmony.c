/* ppl_harmony.c - see ppl_harmony.h. */
#include "ppl_harmony.h"

#include <stdlib.h>
#include <string.h>

#include "gio_err.h"
#include "harmony.h"

int ppl_harmony_prefix(tok_tokenizer *t, tok_ids *out, char *err, size_t errlen)
{
    hm_options opt = {.current_date = PPL_HARMONY_DATE};
    hm_message m = {.role = "user", .content = PPL_HARMONY_PROMPT};
    return hm_encode(t, &opt, &m, 1, HM_GEN_FINAL, out, err, errlen);
}

int ppl_harmony_chunks(const int32_t *prefix, size_t np, const int32_t *text, size_t n, int ctx, int32_t **out,
                       size_t *nout, char *err, size_t errlen)
{
    *out = NULL;
    *nout = 0;
    /* llama.cpp scores positions ctx/2 .. ctx-2: with np < ctx/2 those
     * predict text tokens only, each with text before it */
    if (ctx < 4 || 2 * np + 2 > (size_t)ctx)
        return gio_errf(err, errlen, "--ctx %d is too small for --harmony: the conversation before the text is %zu "
                        "tokens and must fit in the first half of a chunk (use --ctx %zu or more)", ctx, np,
                        2 * np + 2);
    size_t per = (size_t)ctx - np, chunks = n / per;
    if (chunks == 0)
        return gio_errf(err, errlen, "the text has %zu tokens, fewer than one --harmony chunk holds (%zu: --ctx %d "
                        "less the %zu-token conversation); use a smaller --ctx or more text", n, per, ctx, np);
    int32_t *ids = malloc(chunks * (size_t)ctx * sizeof *ids);
    if (!ids)
        return gio_errf(err, errlen, "out of memory");
    for (size_t c = 0; c < chunks; c++) {
        memcpy(ids + c * (size_t)ctx, prefix, np * sizeof *ids);
        memcpy(ids + c * (size_t)ctx + np, text + c * per, per * sizeof *ids);
    }
    *out = ids;
    *nout = chunks * (size_t)ctx;
    return 0;
}
