/* cmd_fetch.c - `gptoss-convert fetch`: the command line over hub_fetch().
 * Standard output carries only results: the snapshot folder (one line, for
 * scripts), or with --json one JSON object and nothing else (its "snapshot"
 * is the folder); progress and errors go to standard error, progress only
 * when it is a terminal. */
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

const char *fetch_snapshot_for_convert(const char *repo_id, const char *revision, double timeout_s, int *exit_code,
                                       char *msg, size_t msglen)
{
    hub_fetch_opts o = {0};
    o.repo_id = repo_id;
    o.revision = revision;
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
        snprintf(msg, msglen, "'%s' is no local folder, and fetching it from the Hub failed: %s", repo_id, err);
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
            "verified (sha256 of every LFS file). Prints the snapshot folder (with --json: one JSON object\n"
            "whose \"snapshot\" is that folder, and nothing else).\n\n"
            "options:\n"
            "  --revision REV     branch, tag or commit (default main); resolved to one commit\n"
            "  --include GLOB     fetch the files matching GLOB instead of the default selection (repeatable)\n"
            "  --exclude GLOB     skip matching files (repeatable)\n"
            "  --local-dir DIR    write plain files into DIR instead of the cache\n"
            "  --connections N    parallel transfers 1..64 (default 8)\n"
            "  --chunk-mb N       split files larger than N MiB into parallel ranges (default 64)\n"
            "  --timeout S        give up after S seconds in all (exit 6; partial data kept for the next run)\n"
            "  --json             print one JSON summary object on stdout (errors: {\"error\":...})\n"
            "  --no-progress      no progress line even on a terminal\n\n"
            "default selection: config.json, generation_config.json, model.safetensors.index.json, the root\n"
            "*.safetensors shards, tokenizer.json, tokenizer_config.json, chat_template.jinja.\n\n"
            "environment: HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token (sent only to the hub host),\n"
            "HF_ENDPOINT (another hub or mirror), HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE=1 (cache only).\n\n"
            GIO_EXIT_HELP);
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
    return gio_json_print(j);
}

int cmd_fetch(int argc, char **argv)
{
    hub_fetch_opts o = {0};
    o.connections = 8;
    o.chunk_size = 64u << 20;
    o.progress = isatty(2);
    const char **inc = calloc((size_t)argc, sizeof *inc), **exc = calloc((size_t)argc, sizeof *exc);
    int json = 0, rc = EXIT_USAGE;
    enum { O_JSON = 256, O_NOPROG, O_REV, O_INC, O_EXC, O_LOCAL, O_TIMEOUT, O_CONN, O_CHUNK };
    static const struct option lo[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, O_JSON},
        {"no-progress", no_argument, NULL, O_NOPROG}, {"revision", required_argument, NULL, O_REV},
        {"include", required_argument, NULL, O_INC}, {"exclude", required_argument, NULL, O_EXC},
        {"local-dir", required_argument, NULL, O_LOCAL}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"connections", required_argument, NULL, O_CONN}, {"chunk-mb", required_argument, NULL, O_CHUNK},
        {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-convert fetch", argc, argv);
    json = p.json;
    if (!inc || !exc) goto out;
    int c;
    long long x;
    while ((c = gio_opt_next(&p, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); rc = EXIT_OK; goto out;
        case O_JSON: json = 1; break;
        case O_NOPROG: o.progress = 0; break;
        case O_REV: o.revision = p.arg; break;
        case O_INC: inc[o.n_include++] = p.arg; break;
        case O_EXC: exc[o.n_exclude++] = p.arg; break;
        case O_LOCAL: o.local_dir = p.arg; break;
        case O_TIMEOUT:
            if (fetch_parse_timeout(p.arg, &o.timeout_s)) {
                gio_fail(&p, EXIT_USAGE, "--timeout must be a number of seconds in (0, 1e7], not '%s'", p.arg);
                goto out;
            }
            break;
        case O_CONN:
            if (gio_opt_int(&p, 1, 64, &x)) goto out;
            o.connections = (int)x;
            break;
        case O_CHUNK:
            if (gio_opt_int(&p, 1, 1 << 20, &x)) goto out;
            o.chunk_size = (uint64_t)x << 20;
            break;
        default: goto out;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o.repo_id) {
            gio_fail(&p, EXIT_USAGE, "one REPO_ID only ('%s' is extra)", argv[i]);
            goto out;
        }
        o.repo_id = argv[i];
    }
    if (!o.repo_id) {
        gio_fail(&p, EXIT_USAGE, "missing REPO_ID (see --help)");
        if (!json) usage(stderr);
        goto out;
    }
    o.include = inc;
    o.exclude = exc;
    hub_install_signal_handlers();
    hub_fetch_result r;
    char err[4096] = "";
    rc = fetch_exit_code(hub_fetch(&o, &r, err, sizeof err));
    if (rc) {
        gio_fail(&p, rc, "%s", err);
    } else {
        size_t fetched = 0;
        for (size_t i = 0; i < r.n_files; i++) fetched += r.files[i].downloaded;
        if (isatty(2))
            fprintf(stderr, "fetch: %zu files (%zu downloaded, %zu from the cache) at commit %s\n", r.n_files, fetched,
                    r.n_files - fetched, r.commit[0] ? r.commit : "(local dir)");
        if (json) {
            if (print_json(o.repo_id, o.revision ? o.revision : "main", &r)) rc = EXIT_IO;
        } else {
            printf("%s\n", r.snapshot_dir);
            if (fflush(stdout)) rc = EXIT_IO;
        }
    }
    hub_fetch_result_free(&r);
out:
    free(inc);
    free(exc);
    return rc;
}
