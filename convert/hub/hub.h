/* hub.h - get a Hugging Face Hub repository (or the part of it conversion
 * needs) onto local disk: the one entry point behind `gptoss-convert fetch`
 * and `gptoss-convert convert ORG/NAME`.
 *
 * Promise: on success every selected file exists, complete and verified,
 * in the shared huggingface_hub cache (or --local-dir), all from ONE commit,
 * and snapshot_dir is the folder that holds them under their repo paths.
 * With HF_HUB_OFFLINE=1 nothing touches the network and what is missing is
 * named. Errors return an exit code from cli.h and a message that says
 * what to do.
 */
#ifndef GQ_HUB_H
#define GQ_HUB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *repo_id;        /* ORG/NAME */
    const char *revision;       /* branch, tag or commit; NULL = "main" */
    const char *const *include; /* fnmatch globs; none = the default selection */
    size_t n_include;
    const char *const *exclude;
    size_t n_exclude;
    const char *local_dir;      /* plain files there instead of the cache */
    int connections;            /* parallel transfers, default 8 */
    uint64_t chunk_size;        /* split files larger than this, default 64 MiB */
    int progress;               /* 1 draw progress on stderr, 0 not */
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

int hub_fetch(const hub_fetch_opts *o, hub_fetch_result *r, char *err, size_t errlen);
void hub_fetch_result_free(hub_fetch_result *r);

/* SRC of `convert` names a repo (ORG/NAME, and no such local path)? */
int hub_looks_like_repo_id(const char *src);

/* Fetches (or finds in the cache) the default selection of repo_id at
 * "main" with default options, progress on a terminal. Returns the snapshot
 * dir (owned here, valid until exit), or NULL after printing the error;
 * *exit_code is set. */
const char *hub_snapshot_for_convert(const char *repo_id, int *exit_code);

/* Installs SIGINT/SIGTERM handlers (no SA_RESTART) that stop transfers. */
void hub_install_signal_handlers(void);

#endif
