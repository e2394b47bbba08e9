/* fuzz_convert_config.c - config.json / generation_config.json parsing
 * (convert/plan/plan_config.c) on hostile bytes. Input: byte 0 picks the layout
 * (even: Hugging Face keys, odd: original/ keys); the rest is the config
 * text, optionally followed by a NUL and a generation_config text. Whatever
 * is accepted must satisfy the invariants the plan relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cv_layout layout = (data[0] & 1) ? CV_LAYOUT_ORIGINAL : CV_LAYOUT_HF;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    size_t first = strlen(text);
    const char *gen = first + 1 < size ? text + first + 1 : NULL;
    gf_hparams hp;
    char err[512];
    if (cv_hparams_from_config(&hp, layout, text, gen, gen, "fuzz", err, sizeof err) == 0) {
        if (hp.n_layers < 1 || hp.n_layers > GF_MAX_LAYERS || hp.hidden % 32 || hp.intermediate % 32 ||
            hp.n_experts_per_tok > hp.n_experts || hp.n_heads % hp.n_kv_heads || hp.n_eos < 0 || hp.n_eos > GF_MAX_EOS)
            abort();
        if (!(hp.rms_eps > 0))
            abort(); /* RMSNorm divides by sqrt(mean square + eps) */
        for (int i = 0; i < hp.n_layers; i++)
            if (hp.layer_sliding[i] && hp.sliding_window <= 0)
                abort(); /* a sliding layer needs a window */
        for (int i = 0; i < hp.n_eos; i++)
            if (hp.eos_ids[i] < 0 || hp.eos_ids[i] >= hp.vocab)
                abort();
    } else if (!err[0]) {
        abort(); /* every refusal says why */
    }
    free(text);
    return 0;
}
