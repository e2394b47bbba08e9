/* source.h - open a gpt-oss checkpoint directory for conversion.
 *
 * SRC may be the Hugging Face root (config.json + model*.safetensors), an
 * original/ directory (OpenAI's names and config keys), or a root holding
 * only original/. The checkpoint is mapped (formats/safetensors.h), the
 * layout detected from tensor names, the hyper-parameters read from the
 * config (token ids of an original/ config come from the root's
 * config.json / generation_config.json when present, else from the
 * tokenizer), and the tokenizer
 * files loaded for embedding (tokenizer.json, tokenizer_config.json,
 * chat_template.jinja, from SRC or, for original/, its parent). Every
 * source file is registered for provenance (provenance.h).
 *
 * Both .gptoss and GGUF conversions start here.
 */
#ifndef GQ_CONVERT_SOURCE_H
#define GQ_CONVERT_SOURCE_H

#include <stddef.h>

#include "plan.h"
#include "provenance.h"
#include "srcio.h"

#define CV_MAX_BLOBS 3

typedef struct {
    const char *name;   /* "tokenizer.json", "tokenizer_config.json", "chat_template.jinja" */
    char *data;         /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
} cv_blob;

typedef struct {
    char *dir;          /* directory holding the safetensors */
    char *root;         /* checkpoint root (== dir, or the parent of original/) */
    cv_layout layout;
    st_checkpoint *ck;
    gf_hparams hp;
    cv_blob blobs[CV_MAX_BLOBS];
    size_t nblobs;
    cv_provenance prov;
    cv_srcio *io;           /* the shards open for the pipeline's reads (srcio.h) */
    const char *missing;    /* CV_SRC_NO_TOKENIZER: "tokenizer.json" or "tokenizer_config.json" */
} cv_source;

/* CV_SRC_NO_TOKENIZER: tokenizer.json or tokenizer_config.json is absent
 * (an original/-only download); s->root is where they belong and
 * s->prov.repo_id / commit name the Hub repo and commit when SRC is in a
 * Hugging Face cache snapshot, so that the caller can fetch them and open
 * again. */
typedef enum { CV_SRC_OK = 0, CV_SRC_BAD = -1, CV_SRC_IO = -2, CV_SRC_NO_TOKENIZER = -3 } cv_source_status;

/* Open SRC; on failure a message names the file and the fix. Token ids
 * that no config names come from the tokenizer: the eos list from its stop
 * tokens <|return|>, <|endoftext|>, <|call|> (gpt-oss's
 * generation_config.json order), bos / pad from tokenizer_config.json's
 * bos_token / pad_token. */
cv_source_status cv_source_open(cv_source *s, const char *src, char *err, size_t errlen);
/* The CV_SRC_NO_TOKENIZER message: the missing files, where they belong,
 * and the exact fetch command (repo and commit when known). */
void cv_source_missing_tokenizer(const cv_source *s, char *err, size_t errlen);
const cv_blob *cv_source_blob(const cv_source *s, const char *name);
/* The shards whose sha256 the HF cache does not give are hashed by the
 * pipeline's reader during the conversion (pass opts.io = s->io), from the
 * bytes it reads anyway; call before cv_provenance_start. */
void cv_source_hash_in_pipeline(cv_source *s);
void cv_source_close(cv_source *s);

/* Read a whole (small) file; NULL with errno set. */
char *cv_read_file(const char *path, size_t *len, size_t max);

#endif
