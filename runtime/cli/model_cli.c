/* model_cli.c - shared plumbing of the model subcommands (see model_cli.h). */
#include "model_cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_cpu.h"
#include "gio_read.h"
#include "run_commands.h"
#include "tokenizer.h"

int mc_open_model(mc_run *r, const char *cmd, const char *path)
{
    char err[1024];
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->model = gm_open(path, err, sizeof err);
    if (!r->model) {
        fprintf(stderr, "gptoss-run %s: %s\n", cmd, err);
        return RUN_EXIT_BAD_INPUT;
    }
    return RUN_EXIT_OK;
}

int mc_start(mc_run *r, const mc_opts *o)
{
    char err[1024], note[512];
    const char *cmd = r->cmd;
    const gf_hparams *hp = &r->model->hp;
    int ctx = o->ctx;
    if (ctx > hp->max_ctx) {
        fprintf(stderr, "gptoss-run %s: %s asks for a %d-token context; this model's limit is %d "
                "(max_position_embeddings)\n", cmd, o->ctx_what ? o->ctx_what : "--ctx", ctx, hp->max_ctx);
        return RUN_EXIT_USAGE;
    }
    if (ctx <= 0)
        ctx = hp->max_ctx < 4096 ? hp->max_ctx : 4096;
    if (o->numerics != GB_EXACT) {
        /* CPU-only numerics (mc_check_opts refused another backend) */
        if (o->numerics == GB_GGML)
            gm_use_ggml_rope(r->model);
        r->be = gb_cpu_create(o->threads, (gb_numerics)o->numerics, err, sizeof err);
        if (!r->be) {
            fprintf(stderr, "gptoss-run %s: %s\n", cmd, err);
            return RUN_EXIT_BACKEND;
        }
    } else {
        gb_config c = {o->threads, NULL};
        const char *name = o->backend ? o->backend : "auto";
        gb_status s = gb_backend_create(name, &c, &r->be, note, sizeof note, err, sizeof err);
        if (s != GB_OK) {
            fprintf(stderr, "gptoss-run %s: --backend %s: %s\n", cmd, name, err);
            /* asked for by name: the command line cannot be run here */
            return strcmp(name, "auto") ? RUN_EXIT_USAGE : RUN_EXIT_BACKEND;
        }
        if (note[0])
            fprintf(stderr, "gptoss-run %s: %s\n", cmd, note);
    }
    int rc = gm_prepare(r->model, r->be, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "gptoss-run %s: %s\n", cmd, err);
        return rc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL;
    }
    /* the CPU backend decodes each weight block once per micro-batch and
     * groups the MoE's tokens per expert: 512-token batches amortize both
     * four times better than the session's default of 128 */
    int batch = o->max_batch > 0 ? o->max_batch : !strcmp(r->be->name, "cpu") ? 512 : 0;
    r->session = gq_session_create(r->model, r->be, ctx, batch, err, sizeof err);
    if (!r->session) {
        fprintf(stderr, "gptoss-run %s: %s: %s\n", cmd, r->model->path, err);
        return r->be->status != GB_OK ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL;
    }
    return RUN_EXIT_OK;
}

int mc_open(mc_run *r, const char *cmd, const char *path, const mc_opts *o)
{
    int rc = mc_open_model(r, cmd, path);
    if (rc == RUN_EXIT_OK)
        rc = mc_start(r, o);
    if (rc != RUN_EXIT_OK)
        mc_close(r);
    return rc;
}

void mc_close(mc_run *r)
{
    gq_session_free(r->session);
    if (r->be)
        r->be->destroy(r->be);
    gm_close(r->model);
    memset(r, 0, sizeof *r);
}

tok_tokenizer *mc_tokenizer(const mc_run *r, char *err, size_t errlen)
{
    const char *path = r->model->path;
    if (r->model->gguf) /* the tokenizer.ggml.* arrays */
        return tok_load_gguf(r->model->gguf, path, err, errlen);
    const gf_blob *b = gf_find_blob(r->model->file, "tokenizer.json");
    if (!b || !b->data) {
        snprintf(err, errlen, "%s: this .gptoss file has no tokenizer.json blob; re-convert it with a current "
                 "gptoss-convert or pass the model's tokenizer.json instead", path);
        return NULL;
    }
    char what[1024];
    snprintf(what, sizeof what, "%s (blob tokenizer.json)", path);
    return tok_load_json(b->data, (size_t)b->size, what, err, errlen);
}

int mc_backend_option(mc_opts *o, const char *cmd, const char *value)
{
    static const char *const names[] = {"cpu", "vulkan", "metal", "auto"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(value, names[i])) {
            o->backend = names[i];
            return 0;
        }
    fprintf(stderr, "gptoss-run %s: --backend takes cpu, vulkan, metal or auto, not '%s'\n", cmd, value);
    return -1;
}

static const char *const numerics_names[] = {[GB_EXACT] = "exact", [GB_GGML] = "ggml", [GB_FAST] = "fast",
                                              [GB_READ] = "read"};

const char *mc_numerics_name(int numerics)
{
    return numerics >= 0 && numerics <= GB_READ ? numerics_names[numerics] : "?";
}

int mc_numerics_option(mc_opts *o, const char *cmd, const char *value)
{
    int bench = !strcmp(cmd, "bench");
    for (int i = 0; i <= GB_READ; i++)
        if (!strcmp(value, numerics_names[i]) && (i != GB_READ || bench)) {
            o->numerics = i;
            return 0;
        }
    if (!strcmp(value, "read"))
        fprintf(stderr, "gptoss-run %s: --numerics read is for `gptoss-run bench` only: it replaces the weight "
                "products by reads of their bytes, so its outputs mean nothing\n", cmd);
    else
        fprintf(stderr, "gptoss-run %s: --numerics takes exact, fast or ggml%s, not '%s'\n", cmd,
                bench ? " (or read)" : "", value);
    return -1;
}

int mc_check_opts(const mc_opts *o, const char *cmd)
{
    if (o->numerics != GB_EXACT && o->backend && strcmp(o->backend, "cpu") && strcmp(o->backend, "auto")) {
        fprintf(stderr, "gptoss-run %s: --numerics %s is a CPU backend option; it cannot run on --backend %s\n",
                cmd, mc_numerics_name(o->numerics), o->backend);
        return -1;
    }
    return 0;
}

int mc_fail(const mc_run *r, int rc, const char *err, int dflt)
{
    fprintf(stderr, "gptoss-run %s: %s\n", r->cmd, err);
    return rc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : dflt;
}

void mc_json_backend(FILE *f, const mc_run *r)
{
    fputs(",\"backend\":", f);
    mc_json_str(f, r->be ? r->be->name : "");
    fputs(",\"device\":", f);
    mc_json_str(f, r->be ? r->be->device : "");
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
