/* sampler.h - choosing the next token from logits: greedy (temperature 0)
 * or temperature + nucleus (top-p) sampling with a seeded generator, so a
 * given --seed reproduces a generation exactly. An optional mask removes ids
 * that must never be produced (ids the tokenizer cannot decode). */
#ifndef GQ_SAMPLER_H
#define GQ_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float temperature;        /* <= 0: greedy */
    float top_p;              /* (0, 1]; 1 = no nucleus cut */
    uint64_t state;           /* generator state (seeded) */
    const uint8_t *allowed;   /* vocab bytes, 1 = may be sampled; NULL = all */
    int vocab;
    /* scratch */
    int *idx;
    double *p;
} gq_sampler;

/* 0, or -1 if out of memory. */
int gq_sampler_init(gq_sampler *s, int vocab, float temperature, float top_p, uint64_t seed, const uint8_t *allowed);
void gq_sampler_free(gq_sampler *s);
int32_t gq_sample(gq_sampler *s, const float *logits);

#endif
