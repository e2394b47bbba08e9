/* replay_main.c - runs a libFuzzer target without libFuzzer.
 *
 * ctest runs every fuzz target through this driver so that each test run
 * (and the ASan/UBSan run in CI) exercises the parsers on hostile input:
 * every file of the seed corpus directory given as argv[1], then a fixed
 * number of deterministic mutations of each seed (bit flips, byte
 * overwrites with boundary values, truncations, splices). The real coverage-
 * guided fuzzing is the NAME-libfuzzer binary built with -DGPTOSS_FUZZ=ON.
 * GQ_FUZZ_ITERS overrides the mutation count per seed (default 2000).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void mutate(unsigned char *buf, size_t *len, size_t cap)
{
    static const unsigned char special[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '{', '}', '[', ']', ',', ':', '-', '9'};
    int rounds = 1 + (int)(next_rand() % 4);
    for (int r = 0; r < rounds; r++) {
        size_t n = *len;
        switch (next_rand() % 6) {
        case 0: if (n) buf[next_rand() % n] ^= (unsigned char)(1u << (next_rand() % 8)); break;
        case 1: if (n) buf[next_rand() % n] = special[next_rand() % sizeof special]; break;
        case 2: if (n) *len = next_rand() % n; break;
        case 3: if (n >= 8) { size_t at = next_rand() % (n - 7); uint64_t v = next_rand(); if (next_rand() & 1) v = ~0ull >> (next_rand() % 64); memcpy(buf + at, &v, 8); } break;
        case 4: if (n && n < cap) { size_t at = next_rand() % n; memmove(buf + at + 1, buf + at, n - at); buf[at] = special[next_rand() % sizeof special]; (*len)++; } break;
        case 5: if (n > 2) { size_t a = next_rand() % n, b = next_rand() % n, l = next_rand() % (n - (a > b ? a : b)); memmove(buf + a, buf + b, l); } break;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    long iters = 2000;
    const char *it = getenv("GQ_FUZZ_ITERS");
    if (it) iters = atol(it);
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: no seed corpus at %s\n", argv[0], argv[1]);
        return 1;
    }
    struct dirent *e;
    long seeds = 0, runs = 0;
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        size_t len = 0;
        unsigned char *seed = read_file(path, &len);
        if (!seed) continue;
        seeds++;
        LLVMFuzzerTestOneInput(seed, len);
        runs++;
        size_t cap = len + 64;
        unsigned char *work = malloc(cap);
        for (long i = 0; work && i < iters; i++) {
            memcpy(work, seed, len);
            size_t wl = len;
            mutate(work, &wl, cap);
            /* an exact-size heap copy so ASan sees reads past the end */
            unsigned char *exact = malloc(wl ? wl : 1);
            if (!exact) break;
            memcpy(exact, work, wl);
            LLVMFuzzerTestOneInput(exact, wl);
            free(exact);
            runs++;
        }
        free(work);
        free(seed);
    }
    closedir(d);
    if (seeds == 0) {
        fprintf(stderr, "%s: seed corpus %s is empty\n", argv[0], argv[1]);
        return 1;
    }
    printf("%s: %ld passed, 0 failed (%ld seeds)\n", argv[0], runs, seeds);
    return 0;
}
