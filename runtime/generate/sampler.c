/* sampler.c - greedy / temperature / top-p sampling (see sampler.h). */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

/* splitmix64: tiny, fast, good enough for sampling, identical everywhere. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int gq_sampler_init(gq_sampler *s, int vocab, float temperature, float top_p, uint64_t seed, const uint8_t *allowed)
{
    s->temperature = temperature;
    s->top_p = top_p > 0 && top_p <= 1 ? top_p : 1;
    s->state = seed;
    s->allowed = allowed;
    s->vocab = vocab;
    s->idx = malloc((size_t)vocab * sizeof *s->idx);
    s->p = malloc((size_t)vocab * sizeof *s->p);
    return s->idx && s->p ? 0 : -1;
}

void gq_sampler_free(gq_sampler *s)
{
    free(s->idx);
    free(s->p);
    s->idx = NULL;
    s->p = NULL;
}

static const double *g_p; /* qsort has no context argument; sampling is single-threaded */
static int by_prob(const void *a, const void *b)
{
    double x = g_p[*(const int *)a], y = g_p[*(const int *)b];
    return x > y ? -1 : x < y ? 1 : (*(const int *)a - *(const int *)b);
}

int32_t gq_sample(gq_sampler *s, const float *logits)
{
    int V = s->vocab, best = -1;
    for (int i = 0; i < V; i++)
        if ((!s->allowed || s->allowed[i]) && (best < 0 || logits[i] > logits[best]))
            best = i;
    if (best < 0 || s->temperature <= 0)
        return best < 0 ? 0 : best;
    /* Candidates within a factor 1e-12 of the best: the rest cannot matter. */
    double inv_t = 1.0 / s->temperature, mx = logits[best], cut = mx - 27.6 * s->temperature, sum = 0;
    int n = 0;
    for (int i = 0; i < V; i++) {
        if ((s->allowed && !s->allowed[i]) || logits[i] < cut)
            continue;
        s->p[i] = exp(((double)logits[i] - mx) * inv_t);
        sum += s->p[i];
        s->idx[n++] = i;
    }
    g_p = s->p;
    qsort(s->idx, (size_t)n, sizeof *s->idx, by_prob);
    double keep = 0;
    int m = 0;
    while (m < n) {
        keep += s->p[s->idx[m++]] / sum;
        if (keep >= s->top_p)
            break;
    }
    double u = (double)(next_u64(&s->state) >> 11) * 0x1.0p-53 * keep * sum, acc = 0;
    for (int j = 0; j < m; j++) {
        acc += s->p[s->idx[j]];
        if (u < acc)
            return s->idx[j];
    }
    return s->idx[m - 1];
}
