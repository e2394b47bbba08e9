/* gf_test_util.h - shared helpers of the .gptoss tests: a tiny-preset
 * hparams, a sample file with every type and a few shapes, temp dirs. */
#ifndef GF_TEST_UTIL_H
#define GF_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gio_read.h"
#include "gptoss_format.h"

/* check.h's CHECK_STR_CONTAINS on a char array trips -Waddress. */
#define CHECK_HAS(hay, needle)              \
    do {                                    \
        const char *hay_ = (hay);           \
        CHECK_STR_CONTAINS(hay_, (needle)); \
    } while (0)

static inline void tiny_hparams(gf_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->n_layers = 4;
    hp->n_experts = 8;
    hp->n_experts_per_tok = 4;
    hp->hidden = 128;
    hp->intermediate = 128;
    hp->n_heads = 4;
    hp->n_kv_heads = 2;
    hp->head_dim = 64;
    hp->vocab = 1024;
    hp->sliding_window = 128;
    hp->max_ctx = 131072;
    hp->rope_theta = 150000;
    hp->rope_factor = 32;
    hp->rope_orig_ctx = 4096;
    hp->rope_beta_fast = 32;
    hp->rope_beta_slow = 1;
    hp->rope_truncate = 0;
    hp->rms_eps = 1e-5;
    hp->swiglu_limit = 7;
    hp->layer_sliding[0] = hp->layer_sliding[2] = 1;
    hp->n_eos = 3;
    hp->eos_ids[0] = 1004;
    hp->eos_ids[1] = 1001;
    hp->eos_ids[2] = 1014;
    hp->pad_id = 1001;
    hp->bos_id = -1;
}

static inline void tiny_meta(char *buf, size_t len)
{
    gf_hparams hp;
    char hj[4096];
    tiny_hparams(&hp);
    gf_hparams_to_json(&hp, hj, sizeof hj);
    snprintf(buf, len,
             "{\"hparams\":%s,\"quant\":{\"recipe\":\"mxfp4\",\"embed\":\"bf16\",\"attn\":\"bf16\",\"head\":\"bf16\","
             "\"experts\":\"mxfp4\",\"f32\":\"f32\"},\"provenance\":{\"source_repo\":\"openai/gpt-oss-20b\","
             "\"source_commit\":\"0123456789abcdef0123456789abcdef01234567\",\"source_layout\":\"hf\",\"files\":["
             "{\"name\":\"config.json\",\"size\":0,\"sha256\":"
             "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}],\"converter\":\"gptoss-convert\","
             "\"converter_version\":\"0.1.0\"},\"x_extra\":{\"note\":\"caf\xc3\xa9\"}}",
             hj);
}

/* The sample file: every type x four shapes, three blobs (one empty). */
#define SAMPLE_SHAPES 4
static const int sample_ndim[SAMPLE_SHAPES] = {1, 2, 3, 4};
static const uint64_t sample_shape[SAMPLE_SHAPES][4] = {{64}, {3, 64}, {2, 3, 32}, {2, 1, 2, 32}};
static const char sample_tokenizer[] = "{\"model\":{\"type\":\"BPE\"},\"note\":\"stand-in tokenizer.json\"}";
static const char sample_tok_config[] = "{\"eos_token\":\"<|return|>\"}";

static inline uint8_t sample_byte(unsigned seed, size_t tensor, size_t j)
{
    uint64_t x = (uint64_t)seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)tensor << 40 ^ (uint64_t)j;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    return (uint8_t)x;
}

static inline size_t sample_count(void) { return (size_t)GQ_TYPE_COUNT * SAMPLE_SHAPES; }

static inline void sample_tensor(size_t k, char *name, size_t namelen, gq_type *type, int *ndim, const uint64_t **shape)
{
    const gq_traits *tr = gq_traits_of((gq_type)(k / SAMPLE_SHAPES));
    *type = tr->type;
    *ndim = sample_ndim[k % SAMPLE_SHAPES];
    *shape = sample_shape[k % SAMPLE_SHAPES];
    snprintf(name, namelen, "blk.%zu.%s_%dd", k, tr->name, *ndim);
}

/* Writes the sample to path, handing the writer chunks of `chunk` bytes.
 * Returns 0, or -1 after printing the writer's error. */
static inline int write_sample(const char *path, unsigned seed, size_t chunk, int overwrite)
{
    char err[512], meta[8192], name[64];
    gf_writer *w = gf_writer_create(path, overwrite, err, sizeof err);
    if (!w) {
        fprintf(stderr, "create: %s\n", err);
        return -1;
    }
    tiny_meta(meta, sizeof meta);
    int rc = gf_writer_set_meta(w, meta);
    for (size_t k = 0; !rc && k < sample_count(); k++) {
        gq_type t;
        int nd;
        const uint64_t *sh;
        sample_tensor(k, name, sizeof name, &t, &nd, &sh);
        rc = gf_writer_add_tensor(w, name, t, nd, sh) < 0;
    }
    if (!rc) rc = gf_writer_add_blob(w, "tokenizer.json", sample_tokenizer, strlen(sample_tokenizer)) < 0;
    if (!rc) rc = gf_writer_add_blob(w, "tokenizer_config.json", sample_tok_config, strlen(sample_tok_config)) < 0;
    if (!rc) rc = gf_writer_add_blob(w, "chat_template.jinja", "", 0) < 0;
    if (!rc) rc = gf_writer_begin(w);
    uint8_t buf[4096];
    for (size_t k = 0; !rc && k < sample_count(); k++) {
        gq_type t;
        int nd;
        const uint64_t *sh;
        sample_tensor(k, name, sizeof name, &t, &nd, &sh);
        uint64_t rows = 1;
        for (int d = 0; d < nd - 1; d++) rows *= sh[d];
        size_t size = gq_row_bytes(t, sh[nd - 1]) * rows;
        for (size_t at = 0; !rc && at < size;) {
            size_t n = size - at < chunk ? size - at : chunk;
            if (n > sizeof buf) n = sizeof buf;
            for (size_t j = 0; j < n; j++) buf[j] = sample_byte(seed, k, at + j);
            rc = gf_writer_write(w, k, buf, n);
            at += n;
        }
    }
    if (!rc) rc = gf_writer_finish(w);
    if (rc) fprintf(stderr, "writer: %s\n", gf_writer_error(w));
    gf_writer_abort(w);
    return rc ? -1 : 0;
}

static inline char *make_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/gf_test_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}

/* Number of directory entries other than . and .., and the first name. */
static inline int dir_entries(const char *dir, char *first, size_t firstlen)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (first && firstlen) first[0] = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n++ == 0 && first) snprintf(first, firstlen, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static inline void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline uint8_t *read_whole(const char *path, size_t *len)
{
    return (uint8_t *)gio_read_file(path, 0, len, NULL, 0);
}

#endif
