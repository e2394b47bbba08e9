/* gguf_convert.c - the GGUF sink for gptoss-convert convert (see gguf_convert.h). */
#include "gguf_convert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gguf.h"
#include "gguf_layout.h"
#include "gguf_vocab.h"

struct gg_sink {
    gguf_writer *w;       /* NULL once finished or aborted */
    gg_layout L;
    uint64_t size;
    int errnum;           /* errno of the write or finish that failed */
    char err[1024];
};

int gg_wants_gguf(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n >= 5 && !strcasecmp(path + n - 5, ".gguf");
}

static int k_begin(void *c)
{
    gg_sink *g = c;
    if (gguf_writer_begin(g->w)) return -1;
    g->size = 0;
    return 0;
}
static int k_write(void *c, size_t i, const void *buf, size_t len)
{
    gg_sink *g = c;
    int rc = gguf_writer_write(g->w, i, buf, len);
    if (rc) g->errnum = errno;
    return rc;
}
static int k_write_borrowed(void *c, size_t i, const void *buf, size_t len)
{
    gg_sink *g = c;
    int rc = gguf_writer_write_borrowed(g->w, i, buf, len);
    if (rc) g->errnum = errno;
    return rc;
}
static int k_release(void *c, const void *lo, const void *hi, int wait)
{
    gg_sink *g = c;
    int rc = g->w ? gguf_writer_release(g->w, lo, hi, wait) : 0;
    if (rc) g->errnum = errno;
    return rc;
}
static uint64_t k_offset(void *c, size_t i)
{
    gg_sink *g = c;
    return g->w ? gguf_writer_tensor_offset(g->w, i) : UINT64_MAX;
}
static int k_finish(void *c)
{
    gg_sink *g = c;
    uint64_t size = gguf_writer_file_size(g->w);
    int rc = gguf_writer_finish(g->w, g->err, sizeof g->err); /* frees the writer either way */
    g->w = NULL;
    if (!rc) g->size = size;
    else g->errnum = errno;
    return rc;
}
static void k_abort(void *c)
{
    gg_sink *g = c;
    if (g->w) {
        snprintf(g->err, sizeof g->err, "%s", gguf_writer_error(g->w));
        gguf_writer_abort(g->w);
        g->w = NULL;
    }
}
static const char *k_error(void *c)
{
    gg_sink *g = c;
    return g->w ? gguf_writer_error(g->w) : g->err;
}

/* general.name: the checkpoint directory's last component. */
static void model_name(const char *p, char *out, size_t len)
{
    snprintf(out, len, "%s", p ? p : "gpt-oss");
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') out[--n] = 0;
    const char *s = strrchr(out, '/');
    if (s && s[1]) memmove(out, s + 1, strlen(s + 1) + 1);
}

gg_sink *gg_sink_open(const cv_source *src, const cv_plan *plan, const char *out, int force, cv_sink *sink,
                      const cv_out_tensor **tensors, size_t *n, int *werr, char *err, size_t errlen)
{
    if (werr) *werr = 0;
    const cv_blob *tj = cv_source_blob(src, "tokenizer.json");
    const cv_blob *tc = cv_source_blob(src, "tokenizer_config.json");
    const cv_blob *ct = cv_source_blob(src, "chat_template.jinja");
    if (!tj) {
        snprintf(err, errlen, "%s: no tokenizer.json next to the checkpoint; GGUF files carry the tokenizer, so "
                 "put the model's tokenizer.json there (or convert to .gptoss)", src->root ? src->root : "SRC");
        return NULL;
    }
    gg_sink *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (gg_layout_build(&g->L, plan, err, errlen)) goto fail;
    /* created before the vocabulary is built: an existing OUT, a second
     * conversion to OUT or an unwritable directory is refused at once */
    g->w = gguf_writer_create(out, force, 0, err, errlen);
    if (!g->w) {
        if (werr) *werr = errno ? errno : EIO;
        goto fail;
    }
    const gf_hparams *hp = &plan->hp;
    gg_vocab_src vs = {tj->data, tj->len, tc ? tc->data : NULL, tc ? tc->len : 0, ct ? ct->data : NULL,
                       ct ? ct->len : 0, hp->vocab, hp->bos_id, hp->n_eos > 0 ? hp->eos_ids[0] : -1, hp->pad_id};
    char name[256];
    model_name(src->root ? src->root : src->dir, name, sizeof name);
    if (gg_write_hparams(g->w, hp, &plan->recipe, name, err, errlen) ||
        gg_vocab_write(g->w, &vs, "tokenizer.json", err, errlen) || gg_declare_tensors(g->w, &g->L, err, errlen))
        goto fail;
    *sink = (cv_sink){g, k_begin, k_write, k_finish, k_abort, k_error, k_write_borrowed, k_release, k_offset, NULL};
    *tensors = g->L.t;
    *n = g->L.n;
    return g;
fail:
    gg_sink_free(g);
    return NULL;
}

uint64_t gg_sink_file_size(const gg_sink *g) { return g ? g->size : 0; }
int gg_sink_errno(const gg_sink *g) { return g ? g->errnum : 0; }

void gg_sink_set_cancel(gg_sink *g, volatile sig_atomic_t *flag)
{
    if (g && g->w) gguf_writer_set_cancel(g->w, flag);
}

void gg_sink_free(gg_sink *g)
{
    if (!g) return;
    if (g->w) gguf_writer_abort(g->w);
    gg_layout_free(&g->L);
    free(g);
}
