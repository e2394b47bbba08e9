/* cmd_fetch.c - `gptoss-convert fetch`: the command line over hub_fetch().
 * Standard output carries only results (a JSON line with --json, then the
 * snapshot folder as the LAST line, for scripts); progress and errors go to
 * standard error, progress only when it is a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "commands.h"
#include "hub.h"

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
    rc = hub_fetch(&o, &r, err, sizeof err);
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
