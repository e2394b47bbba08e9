/* hub_download.h - the download engine: many files over a pool of
 * connections, large files split into parallel Range chunks.
 *
 * Promises, for every item:
 *  - bytes go to a partial file first (sequential: <etag>.incomplete, whose
 *    size is the finished prefix; chunked: <etag>.gq-chunks.incomplete plus
 *    a progress file), so a later process resumes with Range where this one
 *    stopped, even after SIGKILL;
 *  - the blob's flock is held while downloading: a second process waits,
 *    then finds the finished blob;
 *  - transient failures (408/429/5xx, resets, time-outs, stalls) retry with
 *    back-off and Retry-After; a server answering 200 to a Range request
 *    restarts the file cleanly from byte 0;
 *  - the content is checked against its etag (sha256 for LFS files, the
 *    git blob sha1 otherwise) and its size before it is renamed into place;
 *    a mismatch deletes the partial data and downloads once more, then fails
 *    naming the file and both hashes;
 *  - partial files are opened without following symlinks and checked to
 *    be plain files with one link, so nothing is written through a link
 *    planted in the cache;
 *  - an attempt that moved less than the low-speed limit counts against
 *    the retries like a failed one (a trickling server is abandoned), and
 *    the client's deadline (--timeout) stops everything.
 */
#ifndef GQ_HUB_DOWNLOAD_H
#define GQ_HUB_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "hub_cache.h"
#include "hub_http.h"
#include "hub_parse.h"

typedef enum { HUB_ITEM_PENDING, HUB_ITEM_DOWNLOADED, HUB_ITEM_PRESENT, HUB_ITEM_FAILED } hub_item_state;

typedef struct {
    const hub_entry *e;
    char *url;               /* resolve URL at the commit */
    hub_paths paths;
    hub_item_state state;
    uint64_t bytes_fetched;  /* body bytes received over the network for it */
} hub_item;

typedef struct {
    int connections;         /* parallel transfers in all, >= 1 */
    uint64_t chunk_size;     /* a file larger than this is split (when connections > 1) */
    int progress;            /* draw a progress line on stderr */
    const char *repo, *revision;
    const hub_cache *cache;  /* where finished files are published */
    const char *commit;
} hub_dl_opts;

/* Downloads every item not yet present. Returns HUB_OK or another
 * hub_status with err naming the file that failed and why. Partial data
 * stays for the next run unless it failed verification (an empty partial
 * file is removed: it holds nothing to resume). */
hub_status hub_download_all(hub_client *c, hub_item *items, size_t n, const hub_dl_opts *o, char *err, size_t errlen);

#endif
