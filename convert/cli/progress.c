/* progress.c - see progress.h. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

double cv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cv_progress_init(cv_progress *p, const char *label, int quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->label = label;
    p->start = cv_now();
    p->last_draw = 0;
}

void cv_progress_update(void *ctx, uint64_t done, uint64_t total)
{
    cv_progress *p = ctx;
    if (!p->enabled)
        return;
    double now = cv_now();
    if (now - p->last_draw < 0.1 && done < total)
        return;
    p->last_draw = now;
    double el = now - p->start, rate = el > 0 ? (double)done / el : 0;
    double frac = total ? (double)done / (double)total : 1;
    int w = 30, fill = (int)(frac * w);
    char bar[32];
    for (int i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%s [%s] %5.1f%% %8.2f / %.2f GB %7.1f MB/s ETA %4.0fs ", p->label, bar, frac * 100,
            (double)done / 1e9, (double)total / 1e9, rate / 1e6, eta);
    fflush(stderr);
}

void cv_progress_end(cv_progress *p)
{
    if (p->enabled)
        fprintf(stderr, "\r%*s\r", 100, "");
}
