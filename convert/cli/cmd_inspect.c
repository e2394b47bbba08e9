/* cmd_inspect.c - `gptoss-convert inspect FILE [--json] [--tensors]`.
 *
 * Dispatches on the file magic so that other formats (GGUF) can add their
 * own printer next to the .gptoss one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "commands.h"
#include "gio_read.h"
#include "gguf_inspect.h"
#include "gptoss_format.h"

typedef struct {
    const char *path;
    int json, tensors;
} inspect_opts;

static void usage(FILE *out)
{
    fprintf(out, "usage: gptoss-convert inspect FILE [--json] [--tensors]\n\n"
                 "Describe a .gptoss file (hyper-parameters, quantization recipe, provenance, embedded\n"
                 "blobs) or any GGUF file (ours or llama.cpp's: version, every metadata key/value).\n"
                 "  -t, --tensors   also list every tensor (name, type, shape, offset, bytes)\n"
                 "  --json          one JSON object on stdout. Same keys first for both formats:\n"
                 "                  file, format (\"gptoss\"|\"gguf\"), version, file_bytes, tensor_count,\n"
                 "                  tensor_bytes; then .gptoss: blob_count, header (header.tensors with\n"
                 "                  --tensors); GGUF: alignment, data_offset, kv, tensors.\n"
                 "                  Errors: {\"error\":{\"code\":N,\"message\":...}}\n"
                 GIO_EXIT_HELP);
}

static void shape_str(char *b, size_t n, const gf_tensor *t)
{
    size_t o = 0;
    o += (size_t)snprintf(b + o, n - o, "[");
    for (int d = 0; d < t->ndim && o < n; d++)
        o += (size_t)snprintf(b + o, n - o, "%s%" PRIu64, d ? ", " : "", t->shape[d]);
    if (o < n)
        snprintf(b + o, n - o, "]");
}

static void print_obj(const cJSON *o, const char *indent)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        if (cJSON_IsObject(e) || (cJSON_IsArray(e) && cJSON_GetArraySize(e) > 0 && cJSON_IsObject(e->child)))
            continue; /* nested lists are printed by their own section */
        char *v = cJSON_IsString(e) ? NULL : cJSON_PrintUnformatted(e);
        printf("%s%-26s %s\n", indent, e->string, v ? v : e->valuestring);
        free(v);
    }
}

static int inspect_gptoss(const inspect_opts *o)
{
    char err[1024];
    gf_file *f = gf_open(o->path, err, sizeof err);
    if (!f)
        return gio_fail_json("gptoss-convert inspect", o->json, EXIT_BAD_INPUT, "%s", err);
    cJSON *h = cJSON_Parse(gf_header_json(f));
    uint64_t tbytes = 0;
    for (size_t i = 0; i < gf_tensor_count(f); i++)
        tbytes += gf_tensor_at(f, i)->size;
    if (o->json) {
        /* the keys every inspect --json has (gguf_inspect.c too), then ours */
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", o->path);
        cJSON_AddStringToObject(j, "format", "gptoss");
        cJSON_AddNumberToObject(j, "version", GF_VERSION);
        cJSON_AddNumberToObject(j, "file_bytes", (double)gf_file_size(f));
        cJSON_AddNumberToObject(j, "tensor_count", (double)gf_tensor_count(f));
        cJSON_AddNumberToObject(j, "tensor_bytes", (double)tbytes);
        cJSON_AddNumberToObject(j, "blob_count", (double)gf_blob_count(f));
        if (h && !o->tensors)
            cJSON_DeleteItemFromObjectCaseSensitive(h, "tensors");
        cJSON_AddItemToObject(j, "header", h ? h : cJSON_CreateNull());
        int rc = gio_json_print(j) ? EXIT_IO : EXIT_OK;
        gf_close(f);
        return rc;
    }
    printf("%s: .gptoss version %u, %" PRIu64 " bytes, %zu tensors (%" PRIu64 " bytes), %zu blobs\n", o->path,
           GF_VERSION, gf_file_size(f), gf_tensor_count(f), tbytes, gf_blob_count(f));
    static const char *const sections[] = {"hparams", "quant", "provenance"};
    for (int s = 0; s < 3; s++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(h, sections[s]);
        if (!cJSON_IsObject(sec))
            continue;
        printf("%s:\n", sections[s]);
        print_obj(sec, "  ");
        const cJSON *files = cJSON_GetObjectItemCaseSensitive(sec, "files");
        const cJSON *e;
        if (cJSON_IsArray(files)) {
            printf("  source files:\n");
            cJSON_ArrayForEach(e, files) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
                const cJSON *sha = cJSON_GetObjectItemCaseSensitive(e, "sha256");
                const cJSON *sz = cJSON_GetObjectItemCaseSensitive(e, "size");
                printf("    %-40s %14.0f  sha256 %s\n", cJSON_IsString(n) ? n->valuestring : "?",
                       cJSON_IsNumber(sz) ? sz->valuedouble : 0, cJSON_IsString(sha) ? sha->valuestring : "?");
            }
        }
    }
    printf("blobs:\n");
    for (size_t i = 0; i < gf_blob_count(f); i++) {
        const gf_blob *b = gf_blob_at(f, i);
        printf("  %-26s %10" PRIu64 " bytes  xxh3 %016" PRIx64 "\n", b->name, b->size, b->xxh3);
    }
    if (o->tensors) {
        printf("tensors:\n  %-28s %-6s %-22s %14s %14s %s\n", "name", "type", "shape", "offset", "bytes", "xxh3");
        for (size_t i = 0; i < gf_tensor_count(f); i++) {
            const gf_tensor *t = gf_tensor_at(f, i);
            char sh[96];
            shape_str(sh, sizeof sh, t);
            const gq_traits *tr = gq_traits_of(t->type);
            printf("  %-28s %-6s %-22s %14" PRIu64 " %14" PRIu64 " %016" PRIx64 "\n", t->name, tr ? tr->name : "?",
                   sh, t->offset, t->size, t->xxh3);
        }
    } else {
        printf("(--tensors lists the %zu tensors)\n", gf_tensor_count(f));
    }
    cJSON_Delete(h);
    gf_close(f);
    return EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
    inspect_opts o = {0};
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"tensors", no_argument, NULL, 't'},
                                       {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-convert inspect", argc, argv);
    o.json = p.json;
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "ht", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return EXIT_OK;
        case 'J': o.json = 1; break;
        case 't': o.tensors = 1; break;
        default: return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o.path)
            return gio_fail(&p, EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        o.path = argv[i];
    }
    if (!o.path) {
        gio_fail(&p, EXIT_USAGE, "missing FILE (see --help)");
        if (!o.json)
            usage(stderr);
        return EXIT_USAGE;
    }
    char err[512];
    struct stat st;
    if (stat(o.path, &st) == 0 && S_ISDIR(st.st_mode))
        return gio_fail(&p, EXIT_USAGE, "%s is a folder: inspect wants a .gptoss or .gguf file (to convert a "
                                        "checkpoint folder: gptoss-convert convert)", o.path);
    FILE *fp = gio_fopen_read(o.path, err, sizeof err); /* a FIFO is refused, not waited on */
    if (!fp) {
        int e = errno;
        /* missing or unreadable: 4 (I/O), as in every command; a FIFO/device: 3 */
        return gio_fail(&p, e == EINVAL ? EXIT_BAD_INPUT : EXIT_IO, "%s", err);
    }
    unsigned char magic[8] = {0};
    size_t n = fread(magic, 1, sizeof magic, fp);
    fclose(fp);
    if (n == 8 && !memcmp(magic, GF_MAGIC, 8))
        return inspect_gptoss(&o);
    if (n >= 4 && !memcmp(magic, "GGUF", 4))
        return gg_inspect(o.path, o.json, o.tensors, stdout);
    return gio_fail(&p, EXIT_BAD_INPUT, "%s: neither a .gptoss nor a GGUF file (bad magic)", o.path);
}
