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

/* The harmony stop tokens, in the order of gpt-oss's generation_config.json
 * eos list (200002, 199999, 200012): what ends a turn when no config names
 * the ids (an original/-only download has no generation_config.json and its
 * config.json uses OpenAI's keys). <|endoftext|> is no harmony token, but the
 * real list has it. */
static const char *const stop_names[] = {"<|return|>", "<|endoftext|>", "<|call|>"};

/* A token name of tokenizer_config.json: "bos_token": "<|startoftext|>" or
 * {"content": "..."}; NULL if absent. */
static const char *config_token(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Read ROOT/NAME into *d; CV_SRC_NO_TOKENIZER when it does not exist. */
static cv_source_status read_tok_file(cv_source *s, const char *name, char **d, size_t *len, char *err, size_t errlen)
{
    char *p = join(s->root, name);
    char why[1024] = "out of memory";
    *d = p ? gio_read_file(p, (size_t)1 << 30, len, why, sizeof why) : NULL;
    int e = p ? errno : ENOMEM;
    free(p);
    if (*d)
        return CV_SRC_OK;
    if (e == ENOENT)
        return CV_SRC_NO_TOKENIZER;
    snprintf(err, errlen, "%s (the tokenizer files belong next to config.json; download them with the checkpoint)",
             why);
    return e == EINVAL ? CV_SRC_BAD : CV_SRC_IO;
}

static cv_source_status load_tokenizer(cv_source *s, char *err, size_t errlen)
{
    char *tj = NULL, *tc = NULL;
    size_t tj_len = 0, tc_len = 0;
    cv_source_status st = read_tok_file(s, "tokenizer.json", &tj, &tj_len, err, errlen);
    if (st == CV_SRC_OK)
        st = read_tok_file(s, "tokenizer_config.json", &tc, &tc_len, err, errlen);
    if (st == CV_SRC_NO_TOKENIZER) {
        s->missing = tj ? "tokenizer_config.json" : "tokenizer.json";
        cv_source_missing_tokenizer(s, err, errlen);
    }
    char *pj = join(s->root, "tokenizer.json"), *pc = join(s->root, "tokenizer_config.json");
    /* what converts must tokenize at run time: checked with the runtime's loader */
    const char *cfg_name = strcmp(s->dir, s->root) ? "original/config.json" : "config.json";
    if (st == CV_SRC_OK && (!pj || !pc)) {
        snprintf(err, errlen, "out of memory");
        st = CV_SRC_IO;
    }
    if (st == CV_SRC_OK && cv_tokenizer_config_check(tc, tc_len, pc, err, errlen))
        st = CV_SRC_BAD;
    /* ids the configs did not give: the stop tokens, and bos / pad by the
     * names tokenizer_config.json gives them */
    cJSON *cfg = st == CV_SRC_OK ? cJSON_ParseWithLength(tc, tc_len) : NULL;
    const char *names[5] = {stop_names[0], stop_names[1], stop_names[2], config_token(cfg, "bos_token"),
                            config_token(cfg, "pad_token")};
    int ids[5] = {-1, -1, -1, -1, -1};
    if (st == CV_SRC_OK && cv_tokenizer_json_check(tj, tj_len, pj, s->hp.vocab, cfg_name, names, ids, 5, err, errlen))
        st = CV_SRC_BAD;
    cJSON_Delete(cfg);
    if (st == CV_SRC_OK && s->hp.n_eos == 0) {
        for (int i = 0; i < 3; i++)
            if (ids[i] >= 0)
                s->hp.eos_ids[s->hp.n_eos++] = ids[i];
        if (s->hp.n_eos == 0) {
            snprintf(err, errlen, "no end-of-sequence id: neither generation_config.json nor config.json names "
                     "eos_token_id, and %s has none of <|return|>, <|endoftext|>, <|call|> (not a gpt-oss "
                     "tokenizer?)", pj);
            st = CV_SRC_BAD;
        }
    }
    if (st == CV_SRC_OK && s->hp.bos_id < 0 && ids[3] >= 0)
        s->hp.bos_id = ids[3];
    if (st == CV_SRC_OK && s->hp.pad_id < 0 && ids[4] >= 0)
        s->hp.pad_id = ids[4];
    free(pj);
    free(pc);
    if (st != CV_SRC_OK) {
        free(tj);
        free(tc);
        return st;
    }
    add_blob(s, "tokenizer.json", tj, tj_len);
    add_blob(s, "tokenizer_config.json", tc, tc_len);
    /* chat_template.jinja, or the chat_template string of tokenizer_config.json */
    char *p = join(s->root, "chat_template.jinja");
    size_t len = 0;
    char *d = p ? cv_read_file(p, &len, (size_t)64 << 20) : NULL;
    free(p);
    if (!d) {
        cJSON *c = cJSON_Parse(s->blobs[1].data);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "chat_template");
        if (cJSON_IsString(ct)) {
            d = strdup(ct->valuestring);
            len = d ? strlen(d) : 0;
        }
        cJSON_Delete(c);
    }
    if (d)
        add_blob(s, "chat_template.jinja", d, len);
    return CV_SRC_OK;
}

/* The commit an `hf download --local-dir` (or `gptoss-convert fetch
 * --local-dir`) recorded for ROOT/original/config.json: the first line of
 * its .metadata file; "" if none. */
static void local_dir_commit(const char *root, char *commit, size_t cap)
{
    commit[0] = 0;
    char *p = join(root, ".cache/huggingface/download/original/config.json.metadata");
    size_t len = 0;
    char *d = p ? gio_read_file(p, 4096, &len, NULL, 0) : NULL;
    free(p);
    if (d && len >= 40) {
        size_t n = strcspn(d, "\r\n");
        int hex = n == 40;
        for (size_t i = 0; hex && i < n; i++)
            hex = (d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f');
        if (hex && n < cap)
            snprintf(commit, cap, "%.*s", (int)n, d);
    }
    free(d);
}

void cv_source_missing_tokenizer(const cv_source *s, char *err, size_t errlen)
{
    char lcommit[48];
    const char *repo = s->prov.repo_id[0] ? s->prov.repo_id : NULL;
    const char *commit = s->prov.commit;
    if (!repo) {
        local_dir_commit(s->root, lcommit, sizeof lcommit);
        commit = lcommit;
    }
    snprintf(err, errlen,
             "%s/%s is missing: an original/ download holds no tokenizer (OpenAI's instructions fetch only "
             "original/*). Fetch tokenizer.json and tokenizer_config.json from the same repository and revision:\n"
             "  gptoss-convert fetch %s%s%s --include tokenizer.json --include tokenizer_config.json "
             "--include chat_template.jinja%s%s\n"
             "%sor copy those files of that repository into %s",
             s->root, s->missing ? s->missing : "tokenizer.json", repo ? repo : "ORG/NAME", commit[0] ? " --revision " : "", commit, repo ? "" : " --local-dir ",
             repo ? "" : s->root,
             repo ? "" : "(ORG/NAME: the repository original/ came from, e.g. openai/gpt-oss-20b), ", s->root);
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
     * the parent holds the tokenizer, or when neither does and the folder is
     * named original (a download of only the original folder: the tokenizer is
     * missing there, next to original/, where the message will say). */
    if (s->layout == CV_LAYOUT_ORIGINAL && !strcmp(s->dir, s->root) && !exists(s->root, "tokenizer.json")) {
        const char *base = strrchr(s->dir, '/');
        /* "X/original" -> "X" (named so in messages), else "DIR/.." */
        char *parent = base && base > s->dir && base[1] ? strndup(s->dir, (size_t)(base - s->dir)) : join(s->dir, "..");
        base = base ? base + 1 : s->dir;
        if (parent && (exists(parent, "tokenizer.json") || !strcmp(base, "original"))) {
            free(s->root);
            s->root = parent;
        } else {
            free(parent);
        }
    }
    /* the Hub repo and commit of a cache snapshot: provenance, and where a
     * missing tokenizer comes from */
    cv_provenance_locate(&s->prov, s->root);

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
