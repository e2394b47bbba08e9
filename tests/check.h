/* check.h - the smallest test harness that does the job.
 *
 * CHECK(cond) records a failure and goes on, so one run reports every broken
 * expectation. A test program ends with `return check_done("name");`, which
 * prints "name: N passed, M failed" and returns non-zero on any failure.
 * A test that cannot run here returns CHECK_SKIP (77) after saying why.
 */
#ifndef GQ_CHECK_H
#define GQ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_SKIP 77

static int check_passed_, check_failed_;

#define CHECK(cond) CHECK_MSG(cond, "%s", #cond)
#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (cond) {                                                            \
            check_passed_++;                                                   \
        } else {                                                               \
            check_failed_++;                                                   \
            fprintf(stderr, "%s:%d: check failed: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)
#define CHECK_EQ_INT(a, b) \
    CHECK_MSG((long long)(a) == (long long)(b), "%s == %s (%lld vs %lld)", #a, #b, (long long)(a), (long long)(b))
#define CHECK_STR_CONTAINS(hay, needle) \
    CHECK_MSG((hay) && strstr((hay), (needle)), "'%s' contains '%s'", (hay) ? (hay) : "(null)", (needle))

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
