/* cmd_verify.c - `gptoss-convert verify FILE [--json]`: re-hash every
 * tensor and blob (xxh3-64) and check the padding; exit 5 naming each bad
 * entry. Structural problems (header hash, offsets) fail at open: exit 3. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "commands.h"
#include "gptoss_format.h"

typedef struct {
    int json;
    cJSON *list;
} verify_ctx;

static void on_mismatch(void *ctx, const char *name, uint64_t want, uint64_t got)
{
    verify_ctx *v = ctx;
    char w[17], g[17];
    snprintf(w, sizeof w, "%016" PRIx64, want);
    snprintf(g, sizeof g, "%016" PRIx64, got);
    if (!strncmp(name, "padding", 7))
        fprintf(stderr, "MISMATCH %s: non-zero byte at offset %" PRIu64 "\n", name, got);
    else
        fprintf(stderr, "MISMATCH %s: xxh3 recorded %s, computed %s\n", name, w, g);
    if (v->list) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "want", w);
        cJSON_AddStringToObject(o, "got", g);
        cJSON_AddItemToArray(v->list, o);
    }
}

int cmd_verify(int argc, char **argv)
{
    const char *path = NULL;
    verify_ctx v = {0, NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: gptoss-convert verify FILE [--json]\n\n"
                   "Re-hash every tensor and blob of a .gptoss file against its header.\n"
                   "exit codes: 0 all good, 3 not a valid file, 5 checksum mismatch\n");
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--json"))
            v.json = 1;
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "gptoss-convert verify: unexpected argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        } else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: gptoss-convert verify FILE [--json]\n");
        return EXIT_USAGE;
    }
    char err[1024];
    gf_file *f = gf_open(path, err, sizeof err);
    if (!f) {
        fprintf(stderr, "gptoss-convert verify: %s\n", err);
        if (v.json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddBoolToObject(j, "ok", 0);
            cJSON_AddStringToObject(j, "file", path);
            cJSON_AddStringToObject(j, "error", err);
            char *t = cJSON_PrintUnformatted(j);
            printf("%s\n", t ? t : "{}");
            free(t);
            cJSON_Delete(j);
        }
        return EXIT_BAD_INPUT;
    }
    if (v.json)
        v.list = cJSON_CreateArray();
    size_t bad = gf_verify(f, on_mismatch, &v);
    if (v.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "ok", bad == 0);
        cJSON_AddStringToObject(j, "file", path);
        cJSON_AddNumberToObject(j, "tensors", (double)gf_tensor_count(f));
        cJSON_AddNumberToObject(j, "blobs", (double)gf_blob_count(f));
        cJSON_AddNumberToObject(j, "mismatches", (double)bad);
        cJSON_AddItemToObject(j, "bad", v.list);
        char *t = cJSON_PrintUnformatted(j);
        printf("%s\n", t ? t : "{}");
        free(t);
        cJSON_Delete(j);
    } else if (!bad) {
        printf("%s: OK (%zu tensors, %zu blobs verified)\n", path, gf_tensor_count(f), gf_blob_count(f));
    } else {
        printf("%s: %zu mismatch%s\n", path, bad, bad == 1 ? "" : "es");
    }
    gf_close(f);
    return bad ? EXIT_VERIFY : EXIT_OK;
}
