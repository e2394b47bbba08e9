/* golden.h - reading the HF golden outputs of fixtures/golden/ (written by
 * make_golden.py) in the runtime tests. Test-only, header-only. */
#ifndef GQ_TEST_GOLDEN_H
#define GQ_TEST_GOLDEN_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "read_file.h"

typedef struct {
    cJSON *root;
    int n, vocab;
    int32_t *ids;
    double *lse, *nll;      /* [n], [n-1] */
    int *argmax;            /* [n] */
    int n_rows;
    int *row_pos;           /* positions with full rows */
    float *rows;            /* n_rows * vocab */
} golden;

static inline double *golden_dvec(cJSON *root, const char *key, int n)
{
    cJSON *a = cJSON_GetObjectItem(root, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return NULL;
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
        v[i] = cJSON_GetArrayItem(a, i)->valuedouble;
    return v;
}

/* dir/name.json + dir/name.f32; 0 or -1. */
static inline int golden_load(const char *dir, const char *name, golden *g)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    char *txt = test_read_file(path, &len);
    if (!txt)
        return -1;
    g->root = cJSON_Parse(txt);
    free(txt);
    if (!g->root)
        return -1;
    g->n = cJSON_GetObjectItem(g->root, "n")->valueint;
    g->vocab = cJSON_GetObjectItem(g->root, "vocab")->valueint;
    double *ids = golden_dvec(g->root, "ids", g->n);
    g->lse = golden_dvec(g->root, "logsumexp", g->n);
    g->nll = golden_dvec(g->root, "nll_next", g->n - 1);
    double *am = golden_dvec(g->root, "argmax", g->n);
    cJSON *rp = cJSON_GetObjectItem(g->root, "row_positions");
    if (!ids || !g->lse || !g->nll || !am || !cJSON_IsArray(rp))
        return -1;
    g->ids = malloc(sizeof(int32_t) * (size_t)g->n);
    g->argmax = malloc(sizeof(int) * (size_t)g->n);
    for (int i = 0; i < g->n; i++) {
        g->ids[i] = (int32_t)ids[i];
        g->argmax[i] = (int)am[i];
    }
    free(ids);
    free(am);
    g->n_rows = cJSON_GetArraySize(rp);
    g->row_pos = malloc(sizeof(int) * (size_t)(g->n_rows ? g->n_rows : 1));
    for (int i = 0; i < g->n_rows; i++)
        g->row_pos[i] = cJSON_GetArrayItem(rp, i)->valueint;
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    char *raw = test_read_file(path, &len);
    if (!raw || len != (size_t)g->n_rows * (size_t)g->vocab * 4) {
        free(raw);
        return -1;
    }
    g->rows = (float *)(void *)raw; /* little-endian hosts only (x86-64, arm64) */
    return 0;
}

static inline void golden_free(golden *g)
{
    cJSON_Delete(g->root);
    free(g->ids);
    free(g->lse);
    free(g->nll);
    free(g->argmax);
    free(g->row_pos);
    free(g->rows);
}

/* ||a - b|| / ||b|| */
static inline double rel_err(const float *a, const float *b, int n)
{
    double d = 0, r = 0;
    for (int i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        r += (double)b[i] * b[i];
    }
    return sqrt(d / (r > 0 ? r : 1e-300));
}

#endif
