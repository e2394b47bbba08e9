/* hub_cache.h - where fetched files live on disk, laid out exactly as
 * huggingface_hub lays them out, so Python tools and we share one cache:
 *
 *   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
 *     models--ORG--NAME/blobs/<etag>             content (sha256 for LFS, git sha1 otherwise)
 *     models--ORG--NAME/blobs/<etag>.incomplete  a sequential download in progress (prefix)
 *     models--ORG--NAME/refs/<revision>          the commit hash a branch/tag resolved to
 *     models--ORG--NAME/snapshots/<commit>/<path> relative symlink to ../../blobs/<etag>
 *     .locks/models--ORG--NAME/<etag>.lock       flock()ed while a process downloads the blob
 *
 * A download split into parallel chunks writes <etag>.gq-chunks.incomplete
 * and its progress file <etag>.gq-chunks.state instead: huggingface_hub
 * would take a plain .incomplete's size as a finished prefix, which holds
 * only for sequential downloads.
 *
 * With --local-dir DIR files are plain files DIR/<path>, with their
 * bookkeeping under DIR/.cache/huggingface/download/ as huggingface_hub does.
 *
 * Small files (refs, local-dir metadata) are written with the project's
 * crash-safe writer (formats/io/gio_out.h) and read with gio_read_file
 * (never hangs on a FIFO planted there).
 */
#ifndef GQ_HUB_CACHE_H
#define GQ_HUB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "hub_parse.h"

typedef struct {
    char *hub_root;   /* $HF_HUB_CACHE */
    char *repo_dir;   /* hub_root/models--ORG--NAME */
    char *lock_dir;   /* hub_root/.locks/models--ORG--NAME */
    char *local_dir;  /* NULL unless --local-dir */
} hub_cache;

/* Paths for one file of the listing. */
typedef struct {
    char *final_path;  /* blobs/<etag> or DIR/<path> */
    char *part_path;   /* sequential download in progress */
    char *chunk_path;  /* chunked download in progress */
    char *state_path;  /* chunk progress */
    char *lock_path;
    char *meta_path;   /* local-dir metadata (commit, etag, time), NULL in cache mode */
} hub_paths;

/* cache_dir: the hub cache root; NULL: $HF_HUB_CACHE, else $HF_HOME/hub. */
int hub_cache_init(hub_cache *hc, const char *repo_id, const char *local_dir, const char *cache_dir, char *err,
                   size_t errlen);
void hub_cache_free(hub_cache *hc);

int hub_paths_for(const hub_cache *hc, const hub_entry *e, hub_paths *p);
void hub_paths_free(hub_paths *p);

/* refs/<revision> -> commit (40 hex). Returns 0 or -1 (absent / malformed). */
int hub_ref_read(const hub_cache *hc, const char *revision, char commit[41]);
int hub_ref_write(const hub_cache *hc, const char *revision, const char *commit);

/* snapshots/<commit> (or the local dir), malloc'd. */
char *hub_snapshot_dir(const hub_cache *hc, const char *commit);

/* Makes snapshots/<commit>/<path> a relative symlink to blobs/<etag>
 * (replacing a wrong one atomically); in local-dir mode writes the
 * metadata file. Returns 0 or -1 with errno. */
int hub_publish(const hub_cache *hc, const char *commit, const hub_entry *e, const hub_paths *p);

/* Is this file already complete on disk (blob of the listed size; in
 * local-dir mode also the recorded etag)? */
int hub_is_present(const hub_cache *hc, const hub_entry *e, const hub_paths *p);

/* mkdir -p of the directory part of path. Returns 0 or -1. */
int hub_mkdir_parents(const char *path);

/* Bytes free for an unprivileged writer at path (its nearest existing
 * ancestor). Returns 0 or -1. $GQ_HUB_FREE_BYTES overrides, for tests. */
int hub_free_bytes(const char *path, uint64_t *out);

/* Takes the exclusive flock on path (created if needed); when another
 * process holds it, calls waiting(ctx) once and polls until it is free or
 * stop(ctx) says to give up. Returns the fd, or -1 (errno; EINTR when
 * stopped). Polling, not a blocking flock(): a signal may land on another
 * thread, and a blocked flock() would never notice it. */
int hub_lock(const char *path, void (*waiting)(void *ctx), int (*stop)(void *ctx), void *ctx);
void hub_unlock(int fd);

#endif
