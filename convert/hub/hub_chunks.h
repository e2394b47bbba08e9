/* hub_chunks.h - how one file's download is cut into byte ranges, and the
 * progress file that lets a later process resume every range where this
 * one stopped:
 *
 *   gq-chunks 1 SIZE N
 *   START END DONE        (N lines; ranges contiguous from 0 to SIZE, END exclusive)
 *
 * Promise: a loaded plan always covers [0, size) exactly, in order, with
 * done <= end - start; anything else in the file is rejected (start over).
 * Saving writes a temporary and renames, so a kill never leaves half a file.
 */
#ifndef GQ_HUB_CHUNKS_H
#define GQ_HUB_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

enum { HUB_CH_PENDING, HUB_CH_ACTIVE, HUB_CH_DONE };

typedef struct {
    uint64_t start, end, done; /* done: bytes finished from start */
    uint64_t flushed;          /* writeback started up to start + flushed (writer thread only) */
    int state;                 /* HUB_CH_*, owned by the engine */
} hub_chunk;

/* [0,size) in ranges of chunk_size (at most 4096 ranges: larger ones then),
 * or one range when !split. Returns a calloc'd array, *n set; NULL on OOM. */
hub_chunk *hub_chunks_plan(uint64_t size, uint64_t chunk_size, int split, size_t *n);

/* Sets every state from done: finished ranges DONE, the rest PENDING. */
void hub_chunks_reset_states(hub_chunk *ch, size_t n);

int hub_chunks_save(const char *path, uint64_t size, const hub_chunk *ch, size_t n);

/* Returns a calloc'd plan for a file of `size`, or NULL (absent, malformed,
 * or another size). */
hub_chunk *hub_chunks_load(const char *path, uint64_t size, size_t *n);

#endif
