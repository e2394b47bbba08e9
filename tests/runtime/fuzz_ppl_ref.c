/* fuzz_ppl_ref.c - the ppl reference reader on arbitrary bytes: it must
 * return an error or a fully checked reference, never crash or overread. */
#include <stddef.h>
#include <stdint.h>

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
        volatile float sink = s;
        (void)sink;
        ppl_ref_free(&r);
    }
    return 0;
}
