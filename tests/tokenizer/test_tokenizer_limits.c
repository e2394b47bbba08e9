/* test_tokenizer_limits.c - what the tokenizer does when its input or its
 * regex is hostile: a pre_tokenizer regex that backtracks catastrophically
 * fails with TOK_ENCODE_REGEX and a message naming the file and PCRE2's match
 * limit (issue 14, item 8), in bounded time, while the same pattern on text
 * it matches cheaply still encodes; the error is cleared by a success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "tokenizer.h"

static const char *BACKTRACK =
    "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[]},\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a+)+$\"},\"behavior\":\"Isolated\","
    "\"invert\":false},\"added_tokens\":[]}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_match_limit(void)
{
    char err[512];
    tok_tokenizer *t = tok_load_json(BACKTRACK, strlen(BACKTRACK), "bt/tokenizer.json", err, sizeof err);
    CHECK_MSG(t != NULL, "loads: %s", err);
    if (!t) return;
    /* "aaaa" matches (a+)+$ at once: 4 ids of 'a' (one pre-token "aaaa", no merges) */
    tok_ids ids = {0};
    CHECK_EQ_INT(tok_encode(t, "aaaa", 4, 0, &ids), 0);
    CHECK_EQ_INT(ids.n, 4);
    CHECK(!strcmp(tok_encode_error(t), ""));
    tok_ids_free(&ids);

    /* "x" + 40 'a' + "b": every start position of the a-run explores 2^k
     * splits of (a+)+ before $ fails at 'b' */
    char text[64];
    text[0] = 'x';
    memset(text + 1, 'a', 40);
    text[41] = 'b';
    double t0 = now_s();
    int rc = tok_encode(t, text, 42, 0, &ids);
    double dt = now_s() - t0;
    CHECK_EQ_INT(rc, TOK_ENCODE_REGEX);
    const char *m = tok_encode_error(t);
    CHECK_STR_CONTAINS(m, "bt/tokenizer.json");
    CHECK_STR_CONTAINS(m, "PCRE2 match limit (");
    CHECK_STR_CONTAINS(m, "from byte 0 ");
    CHECK_MSG(!strstr(m, "out of memory"), "not reported as out of memory: %s", m);
    CHECK_MSG(dt < 20, "gives up in bounded time (%.2f s)", dt);
    tok_ids_free(&ids);

    /* a success clears the error */
    CHECK_EQ_INT(tok_encode(t, "ab", 2, 0, &ids), 0);
    CHECK(!strcmp(tok_encode_error(t), ""));
    tok_ids_free(&ids);
    tok_free(t);
}

int main(void)
{
    test_match_limit();
    return check_done("test_tokenizer_limits");
}
