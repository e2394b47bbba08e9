/* fuzz_ppl_ref.c - the ppl reference reader on arbitrary bytes (versions 1
 * and 2, top-k and full): it must return an error or a fully checked
 * reference, never crash or overread; full rows are streamed to the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ppl_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ppl_ref r;
    char err[256];
    if (size > (1u << 20))
        return 0;
    if (ppl_ref_parse(data, size, "fuzz", &r, err, sizeof err) == 0) {
        /* touch every entry so ASan sees any overread */
        float s = 0;
        for (uint64_t i = 0; i < r.n_scored * r.k; i++)
            s += r.logp[i] + (float)r.ids[i];
        for (uint64_t i = 0; i < r.n_scored; i++)
            s += r.nll[i] + (float)r.top1[i];
        if (r.kind == PPL_REF_FULL && (uint64_t)r.vocab * r.n_scored <= (1u << 22)) {
            float *row = malloc((size_t)r.vocab * sizeof *row);
            int ok = row != NULL;
            for (uint64_t t = 0; ok && t < r.n_scored; t++)
                ok = ppl_ref_next_row(&r, row, err, sizeof err) == 0 && (s += row[0], 1);
            if (ok)
                (void)ppl_ref_rows_done(&r, err, sizeof err);
            free(row);
        }
        volatile float sink = s;
        (void)sink;
        ppl_ref_free(&r);
    }
    return 0;
}
