/* gguf_inspect.c - list a GGUF file (see gguf_inspect.h). */
#include "gguf_inspect.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"

#define HEAD 16

static cJSON *str_json(const char *s, size_t n)
{
    /* GGUF strings are bytes; cJSON wants a C string (a NUL inside ends it) */
    char *tmp = malloc(n + 1);
    if (!tmp) return cJSON_CreateNull();
    memcpy(tmp, s, n);
    tmp[n] = 0;
    cJSON *j = cJSON_CreateString(tmp);
    free(tmp);
    return j;
}

static cJSON *scalar_json(const gguf_kv *kv)
{
    uint64_t u;
    float x;
    const char *s;
    size_t n;
    if (kv->type == GGUF_VT_BOOL) return cJSON_CreateBool(kv->val[0] != 0);
    if (gguf_get_str(kv, &s, &n) == 0) return str_json(s, n);
    if (gguf_get_f32(kv, &x) == 0) return cJSON_CreateNumber(x);
    if (gguf_get_uint(kv, &u) == 0) return cJSON_CreateNumber((double)u);
    /* negative signed integers */
    int64_t v = 0;
    switch (kv->type) {
    case GGUF_VT_INT8: v = (int8_t)kv->val[0]; break;
    case GGUF_VT_INT16: v = (int16_t)(kv->val[0] | kv->val[1] << 8); break;
    case GGUF_VT_INT32: { uint32_t w = 0; for (int i = 3; i >= 0; i--) w = w << 8 | kv->val[i]; v = (int32_t)w; break; }
    default: { uint64_t w = 0; for (int i = 7; i >= 0; i--) w = w << 8 | kv->val[i]; v = (int64_t)w; break; }
    }
    return cJSON_CreateNumber((double)v);
}

static void print_text(const gguf_file *f, const char *path, FILE *out)
{
    uint64_t tb = 0;
    for (size_t i = 0; i < gguf_tensor_count(f); i++) tb += gguf_tensor_at(f, i)->size;
    fprintf(out, "%s: GGUF v%u, %zu KVs, %zu tensors, %" PRIu64 " tensor bytes, alignment %u, data at %" PRIu64 "\n",
            path, gguf_version(f), gguf_kv_count(f), gguf_tensor_count(f), tb, gguf_alignment(f),
            gguf_data_offset(f));
    for (size_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (kv->type == GGUF_VT_ARRAY) {
            fprintf(out, "  %-48s arr[%s] x %" PRIu64 "\n", kv->key, gguf_vtype_name(kv->arr_type), kv->arr_n);
            continue;
        }
        cJSON *v = scalar_json(kv);
        char *s = cJSON_PrintUnformatted(v);
        size_t n = s ? strlen(s) : 0;
        fprintf(out, "  %-48s %-4s %.*s%s\n", kv->key, gguf_vtype_name(kv->type), (int)(n > 100 ? 100 : n),
                s ? s : "", n > 100 ? "..." : "");
        free(s);
        cJSON_Delete(v);
    }
    for (size_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char dims[96];
        int o = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            o += snprintf(dims + o, sizeof dims - (size_t)o, "%s%" PRId64, d ? " x " : "", t->ne[d]);
        fprintf(out, "  %-40s %-8s %-28s %12" PRIu64 " bytes\n", t->name, gguf_type_info(t->type)->name, dims,
                t->size);
    }
}

static cJSON *to_json(const gguf_file *f, const char *path, int tensors)
{
    cJSON *j = cJSON_CreateObject();
    uint64_t tb = 0;
    for (size_t i = 0; i < gguf_tensor_count(f); i++) tb += gguf_tensor_at(f, i)->size;
    /* the keys every inspect --json has (cmd_inspect.c) */
    cJSON_AddStringToObject(j, "file", path);
    cJSON_AddStringToObject(j, "format", "gguf");
    cJSON_AddNumberToObject(j, "version", gguf_version(f));
    cJSON_AddNumberToObject(j, "file_bytes", (double)gguf_file_size(f));
    cJSON_AddNumberToObject(j, "tensor_count", (double)gguf_tensor_count(f));
    cJSON_AddNumberToObject(j, "tensor_bytes", (double)tb);
    /* GGUF's own */
    cJSON_AddNumberToObject(j, "alignment", gguf_alignment(f));
    cJSON_AddNumberToObject(j, "data_offset", (double)gguf_data_offset(f));
    cJSON *kvs = cJSON_AddArrayToObject(j, "kv");
    for (size_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", kv->key);
        cJSON_AddStringToObject(o, "type", gguf_vtype_name(kv->type));
        if (kv->type == GGUF_VT_ARRAY) {
            cJSON_AddStringToObject(o, "elem", gguf_vtype_name(kv->arr_type));
            cJSON_AddNumberToObject(o, "n", (double)kv->arr_n);
            cJSON *h = cJSON_AddArrayToObject(o, "head");
            for (uint64_t k = 0; k < kv->arr_n && k < HEAD; k++) {
                const char *s;
                size_t n;
                double d;
                if (gguf_arr_str(f, kv, k, &s, &n) == 0)
                    cJSON_AddItemToArray(h, str_json(s, n));
                else if (gguf_arr_num(kv, k, &d) == 0)
                    cJSON_AddItemToArray(h, cJSON_CreateNumber(d));
            }
        } else {
            cJSON_AddItemToObject(o, "value", scalar_json(kv));
        }
        cJSON_AddItemToArray(kvs, o);
    }
    (void)tensors; /* GGUF lists its tensors always (the llama.cpp / @huggingface/gguf proofs read them) */
    cJSON *ts = cJSON_AddArrayToObject(j, "tensors");
    for (size_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "type", gguf_type_info(t->type)->name);
        cJSON_AddNumberToObject(o, "ggml_type", t->type);
        cJSON *ne = cJSON_AddArrayToObject(o, "ne");
        for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddNumberToObject(o, "offset", (double)t->offset);
        cJSON_AddNumberToObject(o, "size", (double)t->size);
        cJSON_AddItemToArray(ts, o);
    }
    return j;
}

int gg_inspect(const char *path, int json, int tensors, FILE *out)
{
    char err[512];
    gguf_file *f = gguf_open(path, err, sizeof err);
    if (!f) {
        return gio_fail_json("gptoss-convert inspect", json, EXIT_BAD_INPUT, "%s", err);
    }
    if (json) {
        (void)out; /* JSON always goes to stdout, as every --json does */
        if (gio_json_print(to_json(f, path, tensors))) {
            gguf_close(f);
            return EXIT_IO;
        }
    } else {
        print_text(f, path, out);
    }
    gguf_close(f);
    return EXIT_OK;
}
