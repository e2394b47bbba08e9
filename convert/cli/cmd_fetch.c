/* cmd_fetch.c - `gptoss-convert fetch`: the command line over hub_fetch().
 * Standard output carries only results (a JSON line with --json, then the
 * snapshot folder as the LAST line, for scripts); progress and errors go to
 * standard error, progress only when it is a terminal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd_fetch.h"
#include "commands.h"
#include "hub.h"

int fetch_exit_code(hub_status s)
{
    switch (s) {
    case HUB_OK: return EXIT_OK;
    case HUB_ERR_USAGE: return EXIT_USAGE;
    case HUB_ERR_BAD_LISTING: return EXIT_BAD_INPUT;
    case HUB_ERR_IO: return EXIT_IO;
    case HUB_ERR_NETWORK:
    case HUB_ERR_NOT_FOUND:
    case HUB_ERR_AUTH:
    case HUB_ERR_INTEGRITY:
    case HUB_ERR_TIMEOUT:
    case HUB_ERR_OFFLINE: return EXIT_NETWORK;
    case HUB_ERR_INTERRUPTED: return EXIT_INTERRUPTED;
    case HUB_ERR_INTERNAL: return EXIT_FAIL;
    }
    return EXIT_FAIL;
}

int fetch_parse_timeout(const char *v, double *seconds)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x <= 0 || x > 1e7) return -1;
    *seconds = x;
    return 0;
}

static char *convert_snapshot; /* what fetch_snapshot_for_convert() handed out */

static void free_convert_snapshot(void)
{
    free(convert_snapshot);
    convert_snapshot = NULL;
}

const char *fetch_snapshot_for_convert(const char *repo_id, double timeout_s, int *exit_code)
{
    hub_fetch_opts o = {0};
    o.repo_id = repo_id;
    o.connections = 8;
    o.chunk_size = 64u << 20;
    o.progress = isatty(2);
    o.timeout_s = timeout_s;
    hub_fetch_result r;
    char err[4096] = "";
    hub_install_signal_handlers();
    hub_status st = hub_fetch(&o, &r, err, sizeof err);
    *exit_code = fetch_exit_code(st);
    if (st != HUB_OK) {
        fprintf(stderr, "gptoss-convert: '%s' is no local folder, and fetching it from the Hub failed: %s\n",
                repo_id, err);
        hub_fetch_result_free(&r);
        return NULL;
    }
    if (!convert_snapshot) atexit(free_convert_snapshot);
    free(convert_snapshot);
    convert_snapshot = r.snapshot_dir;
    r.snapshot_dir = NULL;
    hub_fetch_result_free(&r);
    return convert_snapshot;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gptoss-convert fetch REPO_ID [options]\n\n"
            "Downloads a Hugging Face Hub model repository (e.g. openai/gpt-oss-20b) into the shared\n"
            "huggingface_hub cache ($HF_HUB_CACHE, default ~/.cache/huggingface/hub), resumable, parallel and\n"
            "verified (sha256 of every LFS file). The last line printed is the snapshot folder.\n\n"
            "options:\n"
            "  --revision REV     branch, tag or commit (default main); resolved to one commit\n"
            "  --include GLOB     fetch the files matching GLOB instead of the default selection (repeatable)\n"
            "  --exclude GLOB     skip matching files (repeatable)\n"
            "  --local-dir DIR    write plain files into DIR instead of the cache\n"
            "  --connections N    parallel transfers (default 8)\n"
            "  --chunk-mb N       split files larger than N MiB into parallel ranges (default 64)\n"
            "  --timeout S        give up after S seconds in all (exit 6; partial data kept for the next run)\n"
            "  --json             print a JSON summary line before the folder line\n"
            "  --no-progress      no progress line even on a terminal\n\n"
            "default selection: config.json, generation_config.json, model.safetensors.index.json, the root\n"
            "*.safetensors shards, tokenizer.json, tokenizer_config.json, chat_template.jinja.\n\n"
            "environment: HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token (sent only to the hub host),\n"
            "HF_ENDPOINT (another hub or mirror), HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE=1 (cache only).\n\n"
            "exit codes: 0 ok, 2 usage, 3 unsafe listing, 4 disk / I/O, 6 network or verification, 130 interrupted\n");
}

static int print_json(const char *repo, const char *rev, const hub_fetch_result *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "repo", repo);
    cJSON_AddStringToObject(j, "revision", rev);
    cJSON_AddStringToObject(j, "commit", r->commit);
    cJSON_AddStringToObject(j, "snapshot", r->snapshot_dir ? r->snapshot_dir : "");
    cJSON_AddBoolToObject(j, "offline", r->offline);
    cJSON_AddNumberToObject(j, "bytes_total", (double)r->bytes_total);
    cJSON_AddNumberToObject(j, "bytes_fetched", (double)r->bytes_fetched);
    cJSON_AddNumberToObject(j, "requests", (double)r->requests);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON *files = cJSON_AddArrayToObject(j, "files");
    for (size_t i = 0; i < r->n_files; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", r->files[i].path);
        cJSON_AddNumberToObject(f, "size", (double)r->files[i].size);
        cJSON_AddStringToObject(f, "status", r->files[i].downloaded ? "downloaded" : "cached");
        cJSON_AddItemToArray(files, f);
    }
    char *s = cJSON_PrintUnformatted(j);
    int ok = s != NULL;
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
    return ok ? 0 : -1;
}

int cmd_fetch(int argc, char **argv)
{
    hub_fetch_opts o = {0};
    o.connections = 8;
    o.chunk_size = 64u << 20;
    o.progress = isatty(2);
    const char **inc = calloc((size_t)argc, sizeof *inc), **exc = calloc((size_t)argc, sizeof *exc);
    int json = 0, rc = EXIT_USAGE;
    if (!inc || !exc) goto out;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); rc = EXIT_OK; goto out; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--no-progress")) o.progress = 0;
        else if (!strcmp(a, "--revision") && v) { o.revision = v; i++; }
        else if (!strcmp(a, "--include") && v) { inc[o.n_include++] = v; i++; }
        else if (!strcmp(a, "--exclude") && v) { exc[o.n_exclude++] = v; i++; }
        else if (!strcmp(a, "--local-dir") && v) { o.local_dir = v; i++; }
        else if (!strcmp(a, "--timeout") && v) {
            if (fetch_parse_timeout(v, &o.timeout_s)) {
                fprintf(stderr, "gptoss-convert fetch: --timeout wants a number of seconds > 0, not '%s'\n", v);
                goto out;
            }
            i++;
        }
        else if ((!strcmp(a, "--connections") || !strcmp(a, "--chunk-mb")) && v) {
            char *end;
            long x = strtol(v, &end, 10);
            if (*end || x < 1 || x > (a[2] == 'c' && a[3] == 'o' ? 64 : 1 << 20)) {
                fprintf(stderr, "gptoss-convert fetch: %s wants a number (connections 1..64, chunk-mb >= 1)\n", a);
                goto out;
            }
            if (a[3] == 'o') o.connections = (int)x;
            else o.chunk_size = (uint64_t)x << 20;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "gptoss-convert fetch: unknown or incomplete option '%s' (see --help)\n", a);
            goto out;
        } else if (!o.repo_id) {
            o.repo_id = a;
        } else {
            fprintf(stderr, "gptoss-convert fetch: one REPO_ID only ('%s' is extra)\n", a);
            goto out;
        }
    }
    if (!o.repo_id) {
        usage(stderr);
        goto out;
    }
    o.include = inc;
    o.exclude = exc;
    hub_install_signal_handlers();
    hub_fetch_result r;
    char err[4096] = "";
    rc = fetch_exit_code(hub_fetch(&o, &r, err, sizeof err));
    if (rc) {
        fprintf(stderr, "gptoss-convert fetch: %s\n", err);
    } else {
        size_t fetched = 0;
        for (size_t i = 0; i < r.n_files; i++) fetched += r.files[i].downloaded;
        if (isatty(2))
            fprintf(stderr, "fetch: %zu files (%zu downloaded, %zu from the cache) at commit %s\n", r.n_files, fetched,
                    r.n_files - fetched, r.commit[0] ? r.commit : "(local dir)");
        if (json && print_json(o.repo_id, o.revision ? o.revision : "main", &r)) rc = EXIT_FAIL;
        printf("%s\n", r.snapshot_dir);
        if (fflush(stdout)) rc = EXIT_IO;
    }
    hub_fetch_result_free(&r);
out:
    free(inc);
    free(exc);
    return rc;
}
