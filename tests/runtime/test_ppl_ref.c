/* test_ppl_ref.c - the ppl reference reader on files written by its own
 * writer: a valid reference reads back exactly; a record whose top-k ids
 * repeat (issue 14, item 15: all 16 the same) is refused with a message
 * naming the record, as is one repeated id among distinct ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ppl_ref.h"
#include "read_file.h"

enum { K = 16, N = 5 };

static void fill(ppl_ref *r, uint32_t *ids, float *logp, float *nll)
{
    memset(r, 0, sizeof *r);
    r->k = K;
    r->vocab = 1024;
    r->ctx = 8;
    r->n_tokens = N + 1;
    r->tokens_crc = 1234;
    r->n_scored = N;
    r->ids = ids;
    r->logp = logp;
    r->nll = nll;
    for (int t = 0; t < N; t++) {
        for (int j = 0; j < K; j++) {
            ids[t * K + j] = (uint32_t)(t * 37 + j * 5) % 1024; /* distinct within a record */
            logp[t * K + j] = -0.5f - (float)j;
        }
        nll[t] = 1.0f + (float)t;
    }
}

/* Saves R, parses the file; returns the parse result, message in err. */
static int roundtrip(const ppl_ref *r, const char *path, ppl_ref *back, char *err, size_t errlen)
{
    if (ppl_ref_save(path, r, 1, err, errlen))
        return -2;
    return ppl_ref_load(path, back, err, errlen);
}

int main(void)
{
    char path[512], errbuf[512], *err = errbuf;
    snprintf(path, sizeof path, "%s/gq_ppl_ref_%ld.bin", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    static uint32_t ids[N * K];
    static float logp[N * K], nll[N];
    ppl_ref r, back;

    fill(&r, ids, logp, nll);
    CHECK_MSG(roundtrip(&r, path, &back, err, sizeof errbuf) == 0, "valid reference: %s", err);
    CHECK(back.k == K && back.n_scored == N && !memcmp(back.ids, ids, sizeof ids) &&
          !memcmp(back.logp, logp, sizeof logp) && !memcmp(back.nll, nll, sizeof nll));
    ppl_ref_free(&back);

    /* record 3: all 16 ids the same */
    for (int j = 0; j < K; j++)
        ids[3 * K + j] = 77;
    CHECK(roundtrip(&r, path, &back, err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, path);
    CHECK_STR_CONTAINS(err, "record 3 of 5");
    CHECK_STR_CONTAINS(err, "id 77 appears twice");

    /* record 4: one repeat at the end of otherwise distinct ids */
    fill(&r, ids, logp, nll);
    ids[4 * K + K - 1] = ids[4 * K + 2];
    CHECK(roundtrip(&r, path, &back, err, sizeof errbuf) == -1);
    CHECK_STR_CONTAINS(err, "record 4 of 5");
    CHECK_STR_CONTAINS(err, "entries 2 and 15");

    remove(path);
    return check_done("test_ppl_ref");
}
