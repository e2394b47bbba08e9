/* provenance.h - where a conversion's input came from: sha256 of every
 * source file, the Hub repo id and commit when known.
 *
 * Hashing 13 GB costs time, so a file inside a Hugging Face cache snapshot
 * (a symlink into models--ORG--NAME/blobs/<sha256>) takes its hash from the
 * blob name: for LFS files the blob is named by the sha256 of its content.
 * (Small non-LFS files are named by a git sha1 there, so they are hashed.)
 * Likewise a file of a folder made by `hf download --local-dir` or
 * `gptoss-convert fetch --local-dir`: huggingface_hub's record
 * ROOT/.cache/huggingface/download/<name>.metadata (commit, etag, time)
 * names an LFS file's sha256 as its etag, and is taken only while it is
 * fresh by huggingface_hub's own rule (the file not modified after the
 * record was written; it then trusts the record instead of hashing too).
 * The remaining files are hashed by background threads (one per core, one
 * file each at a time) while the caller prepares; cv_provenance_wait joins
 * them; cv_provenance_free stops them mid-file. A file the caller has
 * claimed (the converter's shards: the pipeline's reader hashes them from
 * the bytes it reads for the conversion, srcio.h) is left alone; its hash
 * must be in place by cv_provenance_wait.
 */
#ifndef GQ_CONVERT_PROVENANCE_H
#define GQ_CONVERT_PROVENANCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CV_HASH_THREADS 8

enum {
    CV_SHA256_COMPUTED = 0,  /* hashed from the bytes (the default) */
    CV_SHA256_BLOB_NAME,     /* an HF cache snapshot's blobs/<sha256> */
    CV_SHA256_LOCAL_DIR,     /* a fresh huggingface_hub local-dir record's etag */
};
/* "computed", "hf-cache-blob-name", "hf-local-dir-metadata" (--json's sha256_from) */
const char *cv_sha256_from_name(int from);

typedef struct {
    char *name;          /* as recorded: relative to the checkpoint root ("original/model.safetensors") */
    char *path;          /* to open */
    uint64_t size;
    char sha256[65];     /* lowercase hex, "" until known */
    int from;            /* CV_SHA256_*: where sha256 came from */
    int shard;           /* safetensors shard index, -1 for the other files */
    int claimed;         /* hashed by someone else (the pipeline's reader), not by start */
} cv_source_file;

typedef struct {
    cv_source_file *files;
    size_t n;
    char repo_id[256];   /* "openai/gpt-oss-20b" when SRC is in an HF cache snapshot, else "" */
    char commit[64];     /* the snapshot's commit, else "" */
    pthread_t threads[CV_HASH_THREADS];
    int running;         /* hashing threads started */
    pthread_mutex_t mu;
    size_t next;         /* next file to hash */
    int failed;
    atomic_int cancel;   /* set by cv_provenance_free: threads stop mid-file */
    char err[512];
} cv_provenance;

void cv_provenance_init(cv_provenance *p);
/* Record one file (stat; its hash from the blob name if it is in an HF cache,
 * or from a fresh local-dir record when PATH is ROOT/NAME). */
int cv_provenance_add(cv_provenance *p, const char *path, const char *name, char *err, size_t errlen);
/* Take repo id and commit from a path inside .../models--ORG--NAME/snapshots/<commit>/. */
void cv_provenance_locate(cv_provenance *p, const char *dir);
/* Hash the files whose hash is not known yet, in background threads. */
int cv_provenance_start(cv_provenance *p);
/* Join; 0 when every hash is known, else -1 with a message. */
int cv_provenance_wait(cv_provenance *p, char *err, size_t errlen);
void cv_provenance_free(cv_provenance *p);

#endif
