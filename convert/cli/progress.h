/* progress.h - a one-line progress bar (bytes, rate, ETA) on stderr.
 *
 * Shown only when stderr is a terminal and the caller did not ask for
 * quiet: in a pipe or a CI log the bar would be noise. Redraws at most ten
 * times a second.
 */
#ifndef GQ_CONVERT_PROGRESS_H
#define GQ_CONVERT_PROGRESS_H

#include <stdint.h>

typedef struct {
    int enabled;
    const char *label;
    double start, last_draw;
} cv_progress;

/* enabled = !quiet && isatty(stderr) */
void cv_progress_init(cv_progress *p, const char *label, int quiet);
/* Matches cv_progress_fn (pipeline.h). */
void cv_progress_update(void *p, uint64_t done, uint64_t total);
/* Erase the bar line. */
void cv_progress_end(cv_progress *p);

/* Monotonic seconds. */
double cv_now(void);

#endif
