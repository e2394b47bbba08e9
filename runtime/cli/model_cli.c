/* model_cli.c - shared plumbing of the model subcommands (see model_cli.h). */
#include "model_cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gio_read.h"
#include "run_commands.h"

int mc_open(mc_run *r, const char *cmd, const char *path, int n_threads, int ctx, int max_batch)
{
    return mc_open_numerics(r, cmd, path, n_threads, ctx, max_batch, GB_EXACT);
}

int mc_open_numerics(mc_run *r, const char *cmd, const char *path, int n_threads, int ctx, int max_batch,
                     gb_numerics numerics)
{
    char err[1024];
    memset(r, 0, sizeof *r);
    r->model = gm_open(path, err, sizeof err);
    if (!r->model) {
        fprintf(stderr, "gptoss-run %s: %s\n", cmd, err);
        return RUN_EXIT_BAD_INPUT;
    }
    if (numerics == GB_GGML)
        gm_use_ggml_rope(r->model);
    r->be = gb_cpu_create_numerics(n_threads, numerics);
    if (!r->be) {
        fprintf(stderr, "gptoss-run %s: cannot start the CPU backend (threads)\n", cmd);
        mc_close(r);
        return RUN_EXIT_FAIL;
    }
    if (ctx <= 0)
        ctx = r->model->hp.max_ctx < 4096 ? r->model->hp.max_ctx : 4096;
    r->session = gq_session_create(r->model, r->be, ctx, max_batch, err, sizeof err);
    if (!r->session) {
        fprintf(stderr, "gptoss-run %s: %s: %s\n", cmd, path, err);
        mc_close(r);
        return RUN_EXIT_FAIL;
    }
    return RUN_EXIT_OK;
}

void mc_close(mc_run *r)
{
    gq_session_free(r->session);
    if (r->be)
        r->be->destroy(r->be);
    gm_close(r->model);
    memset(r, 0, sizeof *r);
}

int mc_read_ids(const char *path, int32_t **ids, size_t *n, char *err, size_t errlen)
{
    *ids = NULL;
    *n = 0;
    size_t len = 0;
    char *buf = gio_read_file(path, 0, &len, err, errlen); /* refuses a FIFO */
    if (!buf)
        return -1;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    cJSON *arr = root && cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ids") : root;
    if (!arr || !cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "%s: expected a JSON array of token ids (or an object with an \"ids\" array)", path);
        return -1;
    }
    int count = cJSON_GetArraySize(arr);
    *ids = malloc((size_t)(count > 0 ? count : 1) * sizeof **ids);
    if (!*ids) {
        cJSON_Delete(root);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
        if (v < 0 || v > 2147483647.0 || v != (double)(int32_t)v) {
            snprintf(err, errlen, "%s: element %d is not a token id (a non-negative integer)", path, i);
            free(*ids);
            *ids = NULL;
            cJSON_Delete(root);
            return -1;
        }
        (*ids)[i++] = (int32_t)v;
    }
    *n = (size_t)i;
    cJSON_Delete(root);
    return 0;
}

void mc_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

int mc_progress_wanted(void) { return isatty(STDERR_FILENO); }

double mc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mc_parse_int(const char *s, int lo, int hi)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -1;
    return (int)v;
}
