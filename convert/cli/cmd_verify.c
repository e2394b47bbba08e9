/* cmd_verify.c - `gptoss-convert verify FILE [--json]`: re-hash every
 * tensor and blob (xxh3-64) and check the padding; exit 5 naming each bad
 * entry. Structural problems (header hash, offsets) fail at open: exit 3. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "gio_read.h"
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

static void usage(FILE *out)
{
    fprintf(out, "usage: gptoss-convert verify FILE [--json]\n\n"
                 "Re-hash every tensor and blob of a .gptoss file (xxh3-64) against its header and check\n"
                 "that the padding is zero; each mismatch is named on stderr. A GGUF carries no checksums:\n"
            "verify refuses it (exit 3); `inspect` describes it.\n"
                 "  --json   one JSON object on stdout: ok, file, tensors, blobs, mismatches, bad[]\n"
                 "           (errors: {\"error\":{\"code\":N,\"message\":...}})\n"
                 GIO_EXIT_HELP);
}

int cmd_verify(int argc, char **argv)
{
    const char *path = NULL;
    verify_ctx v = {0, NULL};
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'J'},
                                       {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-convert verify", argc, argv);
    v.json = p.json;
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return EXIT_OK;
        case 'J': v.json = 1; break;
        default: return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (path)
            return gio_fail(&p, EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        path = argv[i];
    }
    if (!path) {
        gio_fail(&p, EXIT_USAGE, "missing FILE (see --help)");
        if (!v.json)
            usage(stderr);
        return EXIT_USAGE;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return gio_fail(&p, EXIT_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return gio_fail(&p, EXIT_USAGE, "%s is a folder: verify wants a .gptoss file", path);
    char err[1024];
    char magic[4] = {0};
    FILE *mf = gio_fopen_read(path, NULL, 0); /* refuses a FIFO instead of blocking on it */
    size_t got = mf ? fread(magic, 1, 4, mf) : 0;
    if (mf)
        fclose(mf);
    if (got == 4 && !memcmp(magic, "GGUF", 4))
        return gio_fail(&p, EXIT_BAD_INPUT, "%s is a GGUF: it carries no checksums to verify (verify checks .gptoss "
                        "files; 'gptoss-convert inspect' describes a GGUF)", path);
    gf_file *f = gf_open(path, err, sizeof err);
    if (!f)
        return gio_fail(&p, EXIT_BAD_INPUT, "%s", err);
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
        if (gio_json_print(j)) {
            gf_close(f);
            return EXIT_IO;
        }
    } else if (!bad) {
        printf("%s: OK (%zu tensors, %zu blobs verified)\n", path, gf_tensor_count(f), gf_blob_count(f));
    } else {
        printf("%s: %zu mismatch%s\n", path, bad, bad == 1 ? "" : "es");
    }
    gf_close(f);
    return bad ? EXIT_VERIFY : EXIT_OK;
}
