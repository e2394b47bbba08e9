/* hub_progress.h - the one-line progress display of a fetch (bytes, rate,
 * ETA), redrawn in place with '\r'. Callers draw only on a terminal. */
#ifndef GQ_HUB_PROGRESS_H
#define GQ_HUB_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t total, last_bytes;
    double last_t, rate; /* bytes/s, smoothed */
} hub_progress;

void hub_progress_start(hub_progress *p, uint64_t total, uint64_t already);
void hub_progress_draw(hub_progress *p, uint64_t got, FILE *out);

#endif
