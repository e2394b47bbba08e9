/* source.c - see source.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "gio_read.h"
#include "source.h"
#include "tokenizer_check.h"

char *cv_read_file(const char *path, size_t *len, size_t max)
{
    /* errno: EINVAL for a FIFO or other non-regular file (refused before it
     * is opened), EFBIG over max, else the open's or read's */
    return gio_read_file(path, max, len, NULL, 0);
}

static int exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return 0;
    return stat(p, &st) == 0;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static void add_blob(cv_source *s, const char *name, char *data, size_t len)
{
    s->blobs[s->nblobs].name = name;
    s->blobs[s->nblobs].data = data;
    s->blobs[s->nblobs].len = len;
    s->nblobs++;
}

/* Register root-relative NAME for provenance if it exists. */
static int prov_add(cv_source *s, const char *name, char *err, size_t errlen)
{
    if (!exists(s->root, name))
        return 0;
    char *p = join(s->root, name);
    int rc = p ? cv_provenance_add(&s->prov, p, name, err, errlen) : -1;
    free(p);
    return rc;
}

static cv_source_status load_tokenizer(cv_source *s, char *err, size_t errlen)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2; i++) {
        char *p = join(s->root, names[i]);
        size_t len = 0;
        char why[1024] = "out of memory";
        char *d = p ? gio_read_file(p, (size_t)1 << 30, &len, why, sizeof why) : NULL;
        if (!d) {
            int e = p ? errno : ENOMEM;
            snprintf(err, errlen, "%s (the tokenizer files belong next to config.json; download them with the checkpoint)",
                     why);
            free(p);
            return e == ENOENT || e == EINVAL ? CV_SRC_BAD : CV_SRC_IO;
        }
        /* what converts must tokenize at run time: checked with the runtime's loader */
        const char *cfg_name = strcmp(s->dir, s->root) ? "original/config.json" : "config.json";
        int bad = i == 0 ? cv_tokenizer_json_check(d, len, p, s->hp.vocab, cfg_name, err, errlen)
                         : cv_tokenizer_config_check(d, len, p, err, errlen);
        free(p);
        if (bad) {
            free(d);
            return CV_SRC_BAD;
        }
        add_blob(s, names[i], d, len);
    }
    /* chat_template.jinja, or the chat_template string of tokenizer_config.json */
    char *p = join(s->root, "chat_template.jinja");
    size_t len = 0;
    char *d = p ? cv_read_file(p, &len, (size_t)64 << 20) : NULL;
    free(p);
    if (!d) {
        cJSON *tc = cJSON_Parse(s->blobs[1].data);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tc, "chat_template");
        if (cJSON_IsString(ct)) {
            d = strdup(ct->valuestring);
            len = d ? strlen(d) : 0;
        }
        cJSON_Delete(tc);
    }
    if (d)
        add_blob(s, "chat_template.jinja", d, len);
    return CV_SRC_OK;
}

cv_source_status cv_source_open(cv_source *s, const char *src, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    cv_provenance_init(&s->prov);
    struct stat st;
    if (stat(src, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s (SRC must be a checkpoint directory holding config.json and model*.safetensors)",
                 src, errno ? strerror(errno) : "not a directory");
        return CV_SRC_BAD;
    }
    /* Which directory holds the weights. */
    if (exists(src, "model.safetensors.index.json") || exists(src, "model.safetensors")) {
        s->dir = strdup(src);
        s->root = strdup(src);
    } else if (exists(src, "original/model.safetensors")) {
        s->dir = join(src, "original");
        s->root = strdup(src);
    } else {
        snprintf(err, errlen,
                 "%s: no model.safetensors.index.json, model.safetensors or original/model.safetensors "
                 "(is this a gpt-oss checkpoint directory?)",
                 src);
        return CV_SRC_BAD;
    }
    if (!s->dir || !s->root) {
        snprintf(err, errlen, "out of memory");
        return CV_SRC_IO;
    }
    s->ck = st_open(s->dir, err, errlen);
    if (!s->ck)
        return CV_SRC_BAD;
    int layout = cv_detect_layout(s->ck);
    if (layout < 0) {
        snprintf(err, errlen,
                 "%s: neither model.embed_tokens.weight (Hugging Face layout) nor embedding.weight "
                 "(original/ layout) found: not a gpt-oss checkpoint",
                 s->dir);
        return CV_SRC_BAD;
    }
    s->layout = (cv_layout)layout;
    /* An original/ directory given directly: its root is the parent when
     * the parent holds the tokenizer. */
    if (s->layout == CV_LAYOUT_ORIGINAL && !strcmp(s->dir, s->root) && !exists(s->root, "tokenizer.json")) {
        char *parent = join(s->dir, "..");
        if (parent && exists(parent, "tokenizer.json")) {
            free(s->root);
            s->root = parent;
        } else {
            free(parent);
        }
    }

    char *cfg_path = join(s->dir, "config.json");
    size_t len;
    char why[1024] = "config.json: out of memory";
    char *cfg = cfg_path ? gio_read_file(cfg_path, (size_t)16 << 20, &len, why, sizeof why) : NULL;
    if (!cfg) {
        snprintf(err, errlen, "%s (the model's config.json is needed for its hyper-parameters)", why);
        free(cfg_path);
        return CV_SRC_BAD;
    }
    char *gen = NULL, *ids = NULL, *gen_path = join(s->root, "generation_config.json"), *ids_path = NULL;
    gen = gen_path ? cv_read_file(gen_path, &len, (size_t)16 << 20) : NULL;
    if (s->layout == CV_LAYOUT_ORIGINAL && strcmp(s->dir, s->root)) {
        ids_path = join(s->root, "config.json");
        ids = ids_path ? cv_read_file(ids_path, &len, (size_t)16 << 20) : NULL;
    }
    int rc = cv_hparams_from_json(&s->hp, s->layout, (cv_json_in){cfg, cfg_path}, (cv_json_in){gen, gen_path},
                                  (cv_json_in){ids, ids_path}, err, errlen);
    free(cfg);
    free(gen);
    free(ids);
    free(cfg_path);
    free(gen_path);
    free(ids_path);
    if (rc)
        return CV_SRC_BAD;

    cv_source_status ts = load_tokenizer(s, err, errlen);
    if (ts != CV_SRC_OK)
        return ts;

    /* Provenance: every file the output depends on, named relative to the root. */
    const char *sub = strcmp(s->dir, s->root) ? "original/" : "";
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%sconfig.json", sub);
    if (prov_add(s, name, err, errlen))
        return CV_SRC_IO;
    if (*sub && prov_add(s, "config.json", err, errlen))
        return CV_SRC_IO;
    static const char *const extra[] = {"generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                        "chat_template.jinja"};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        if (prov_add(s, extra[i], err, errlen))
            return CV_SRC_IO;
    snprintf(name, sizeof name, "%smodel.safetensors.index.json", sub);
    if (prov_add(s, name, err, errlen))
        return CV_SRC_IO;
    for (size_t i = 0; i < st_shard_count(s->ck); i++) {
        const char *path = st_shard_path(s->ck, i);
        const char *base = strrchr(path, '/');
        snprintf(name, sizeof name, "%s%s", sub, base ? base + 1 : path);
        if (cv_provenance_add(&s->prov, path, name, err, errlen))
            return CV_SRC_IO;
        s->prov.files[s->prov.n - 1].shard = (int)i;
    }
    cv_provenance_locate(&s->prov, s->root);
    if (!(s->io = cv_srcio_open(s->ck, err, errlen)) && err[0])
        return CV_SRC_IO; /* (no message: an image in memory, read in place) */
    return CV_SRC_OK;
}

void cv_source_hash_in_pipeline(cv_source *s)
{
    for (size_t i = 0; s->io && i < s->prov.n; i++) {
        cv_source_file *f = &s->prov.files[i];
        if (f->shard >= 0 && !f->sha256[0] && cv_srcio_want_sha256(s->io, (size_t)f->shard, f->sha256) == 0)
            f->claimed = 1;
    }
}

const cv_blob *cv_source_blob(const cv_source *s, const char *name)
{
    for (size_t i = 0; i < s->nblobs; i++)
        if (!strcmp(s->blobs[i].name, name))
            return &s->blobs[i];
    return NULL;
}

void cv_source_close(cv_source *s)
{
    cv_provenance_free(&s->prov);
    cv_srcio_close(s->io);
    s->io = NULL;
    for (size_t i = 0; i < s->nblobs; i++)
        free(s->blobs[i].data);
    s->nblobs = 0;
    if (s->ck)
        st_close(s->ck);
    s->ck = NULL;
    free(s->dir);
    free(s->root);
    s->dir = s->root = NULL;
}
