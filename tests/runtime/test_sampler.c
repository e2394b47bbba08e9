/* test_sampler.c - the sampler against its definition:
 *  - temperature 0 is the argmax (ties: the lower id); masked ids never win;
 *  - top-p keeps the smallest prefix of the sorted distribution reaching p:
 *    with p just below the top probability only the top id is drawn;
 *  - draws follow softmax(logits / T): the empirical frequencies of 200000
 *    draws match the exact probabilities (chi-square-like bound);
 *  - the same seed gives the same sequence, another seed another one. */
#include <math.h>

#include "check.h"
#include "sampler.h"

int main(void)
{
    float logits[6] = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 0.5f};
    gq_sampler s;
    CHECK(gq_sampler_init(&s, 6, 0, 1, 1, NULL) == 0);
    CHECK_EQ_INT(gq_sample(&s, logits), 1);
    uint8_t mask[6] = {1, 0, 1, 0, 1, 1};
    s.allowed = mask;
    CHECK_EQ_INT(gq_sample(&s, logits), 2);
    gq_sampler_free(&s);

    /* distribution at T = 0.7 */
    double T = 0.7, z = 0, p[6];
    for (int i = 0; i < 6; i++)
        z += exp(logits[i] / T);
    for (int i = 0; i < 6; i++)
        p[i] = exp(logits[i] / T) / z;
    CHECK(gq_sampler_init(&s, 6, (float)T, 1, 42, NULL) == 0);
    int cnt[6] = {0}, N = 200000;
    for (int i = 0; i < N; i++)
        cnt[gq_sample(&s, logits)]++;
    for (int i = 0; i < 6; i++) {
        double sd = sqrt(N * p[i] * (1 - p[i]));
        CHECK_MSG(fabs(cnt[i] - N * p[i]) < 5 * sd + 1, "id %d drawn %d times, expected %.0f +/- %.0f", i, cnt[i],
                  N * p[i], sd);
    }
    gq_sampler_free(&s);

    /* top-p: ids 1 and 3 tie for the top (p ~ 0.4 each); p = 0.5 keeps both */
    CHECK(gq_sampler_init(&s, 6, (float)T, 0.5f, 7, NULL) == 0);
    int other = 0;
    for (int i = 0; i < 20000; i++) {
        int id = gq_sample(&s, logits);
        other += id != 1 && id != 3;
    }
    CHECK_MSG(other == 0, "top-p 0.5 draws only the two top ids (%d others)", other);
    gq_sampler_free(&s);

    /* seeds */
    int a[64], b[64], c[64];
    for (int k = 0; k < 3; k++) {
        CHECK(gq_sampler_init(&s, 6, 1.0f, 1, k == 2 ? 99 : 5, NULL) == 0);
        for (int i = 0; i < 64; i++)
            (k == 0 ? a : k == 1 ? b : c)[i] = gq_sample(&s, logits);
        gq_sampler_free(&s);
    }
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
    return check_done("test_sampler");
}
