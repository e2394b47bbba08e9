/* tok_bench.c - encode throughput of our tokenizer (bench/tokenizer.mk).
 *
 * usage: tok_bench TOKENIZER.json DOCS.json [REPS]
 * For each of REPS repetitions: a fresh tokenizer (so the word cache starts
 * empty) encodes every document once; prints the median MB/s as JSON, plus
 * the same for a second pass over a warm cache, the pre-tokenization floor
 * (the file's Split regex run alone through PCRE2 JIT over the same text:
 * what any PCRE2-based encoder must pay), the load time and the id count.
 * Rates are given from wall time and from this thread's CPU time: on the
 * shared 2-core development machine the wall figures swing with the load. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer.h"
#include "read_file.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tok_bench TOKENIZER.json DOCS.json [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (reps < 1 || reps > 99) reps = 5;
    size_t tl, dl;
    char *tj = test_read_file(argv[1], &tl), *dj = test_read_file(argv[2], &dl);
    cJSON *docs = dj ? cJSON_ParseWithLength(dj, dl) : NULL;
    cJSON *tjs = tj ? cJSON_ParseWithLength(tj, tl) : NULL;
    if (!cJSON_IsArray(docs) || !tjs) {
        fprintf(stderr, "tok_bench: cannot read %s / %s\n", argv[1], argv[2]);
        return 1;
    }
    size_t bytes = 0;
    for (cJSON *d = docs->child; d; d = d->next) bytes += strlen(d->valuestring);

    double cold[99], warm[99], load[99], floor_s[99], cold_cpu[99], warm_cpu[99], floor_cpu[99];
    size_t n_ids = 0;
    char err[512];
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        tok_tokenizer *t = tok_load_json(tj, tl, argv[1], err, sizeof err);
        load[r] = now_s() - t0;
        if (!t) { fprintf(stderr, "%s\n", err); return 1; }
        for (int pass = 0; pass < 2; pass++) {
            tok_ids ids = {0};
            size_t total = 0;
            t0 = now_s();
            double c0 = cpu_s();
            for (cJSON *d = docs->child; d; d = d->next) {
                ids.n = 0;
                tok_encode(t, d->valuestring, strlen(d->valuestring), 1, &ids);
                total += ids.n;
            }
            (pass ? warm : cold)[r] = now_s() - t0;
            (pass ? warm_cpu : cold_cpu)[r] = cpu_s() - c0;
            n_ids = total;
            tok_ids_free(&ids);
        }
        tok_free(t);
    }

    /* floor: the Split regex alone (with HF's \s it costs the same) */
    const cJSON *pt = cJSON_GetObjectItem(tjs, "pre_tokenizer");
    const cJSON *seq = cJSON_GetObjectItem(pt, "pretokenizers");
    const char *pat = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(seq, 0), "pattern"), "Regex")->valuestring;
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    size_t n_pre = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s(), c0 = cpu_s();
        n_pre = 0;
        for (cJSON *d = docs->child; d; d = d->next) {
            const char *s = d->valuestring;
            size_t len = strlen(s), pos = 0;
            while (pos < len && pcre2_jit_match(re, (PCRE2_SPTR)s, len, pos, 0, md, NULL) > 0) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
                n_pre++;
            }
        }
        floor_s[r] = now_s() - t0;
        floor_cpu[r] = cpu_s() - c0;
    }
    qsort(cold, (size_t)reps, sizeof *cold, cmp_d);
    qsort(warm, (size_t)reps, sizeof *warm, cmp_d);
    qsort(load, (size_t)reps, sizeof *load, cmp_d);
    qsort(floor_s, (size_t)reps, sizeof *floor_s, cmp_d);
    qsort(cold_cpu, (size_t)reps, sizeof *cold_cpu, cmp_d);
    qsort(warm_cpu, (size_t)reps, sizeof *warm_cpu, cmp_d);
    qsort(floor_cpu, (size_t)reps, sizeof *floor_cpu, cmp_d);
    double mb = (double)bytes / 1e6;
    printf("{\"bytes\":%zu,\"documents\":%d,\"ids\":%zu,\"reps\":%d,\"load_s\":%.3f,"
           "\"encode_cold_mb_s\":%.2f,\"encode_warm_mb_s\":%.2f,\"pretokenize_floor_mb_s\":%.2f,"
           "\"cpu_encode_cold_mb_s\":%.2f,\"cpu_encode_warm_mb_s\":%.2f,\"cpu_pretokenize_floor_mb_s\":%.2f,"
           "\"pretokens\":%zu}\n",
           bytes, cJSON_GetArraySize(docs), n_ids, reps, load[reps / 2], mb / cold[reps / 2], mb / warm[reps / 2],
           mb / floor_s[reps / 2], mb / cold_cpu[reps / 2], mb / warm_cpu[reps / 2], mb / floor_cpu[reps / 2], n_pre);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    cJSON_Delete(docs);
    cJSON_Delete(tjs);
    free(tj);
    free(dj);
    return 0;
}
