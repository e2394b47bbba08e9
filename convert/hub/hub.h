/* hub.h - get a Hugging Face Hub repository (or the part of it conversion
 * needs) onto local disk: the one entry point behind `gptoss-convert fetch`
 * and `gptoss-convert convert ORG/NAME`.
 *
 * Promise: on success every selected file exists, complete and verified,
 * in the shared huggingface_hub cache (or --local-dir), all from ONE commit,
 * and snapshot_dir is the folder that holds them under their repo paths.
 * With HF_HUB_OFFLINE=1 nothing touches the network and what is missing is
 * named. Errors return a hub_status (hub_status.h: the client's own codes;
 * programs map them to exit codes) and a message that says what to do.
 * Messages never carry the token or the userinfo of a URL.
 */
#ifndef GQ_HUB_H
#define GQ_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub_status.h"

typedef struct {
    const char *repo_id;        /* ORG/NAME */
    const char *revision;       /* branch, tag or commit; NULL = "main" */
    const char *const *include; /* fnmatch globs; none = the default selection */
    size_t n_include;
    const char *const *exclude;
    size_t n_exclude;
    const char *local_dir;      /* plain files there instead of the cache */
    const char *cache_dir;      /* the cache root; NULL: $HF_HUB_CACHE or $HF_HOME/hub */
    int connections;            /* parallel transfers, default 8 */
    uint64_t chunk_size;        /* split files larger than this, default 64 MiB */
    int progress;               /* 1 draw progress on stderr, 0 not */
    double timeout_s;           /* give up (HUB_ERR_TIMEOUT) this long after the start; 0 = never */
} hub_fetch_opts;

typedef struct {
    char *path;
    uint64_t size;
    int downloaded;             /* 1 fetched now, 0 was already there */
} hub_fetched_file;

typedef struct {
    char commit[41];
    char *snapshot_dir;
    hub_fetched_file *files;
    size_t n_files;
    uint64_t bytes_total, bytes_fetched;
    long requests;
    double seconds;
    int offline;
} hub_fetch_result;

hub_status hub_fetch(const hub_fetch_opts *o, hub_fetch_result *r, char *err, size_t errlen);
void hub_fetch_result_free(hub_fetch_result *r);

/* SRC of `convert` names a repo (ORG/NAME, and no such local path)? */
int hub_looks_like_repo_id(const char *src);

/* Installs SIGINT/SIGTERM handlers (no SA_RESTART) that stop transfers. */
void hub_install_signal_handlers(void);

#endif
