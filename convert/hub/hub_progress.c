/* hub_progress.c - see hub_progress.h. */
#include "hub_progress.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void human(char *out, size_t n, double b)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) { b /= 1000; i++; }
    snprintf(out, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
}

void hub_progress_start(hub_progress *p, uint64_t total, uint64_t already)
{
    p->total = total;
    p->last_bytes = already;
    p->last_t = now_s();
    p->rate = 0;
}

void hub_progress_draw(hub_progress *p, uint64_t got, FILE *out)
{
    double t = now_s();
    if (t - p->last_t > 0.05 && got >= p->last_bytes) {
        double inst = (double)(got - p->last_bytes) / (t - p->last_t);
        p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst; /* smoothed: a steady ETA */
        p->last_bytes = got;
        p->last_t = t;
    }
    char a[32], b[32], r[32];
    human(a, sizeof a, (double)got);
    human(b, sizeof b, (double)p->total);
    human(r, sizeof r, p->rate);
    long eta = p->rate > 1 && p->total > got ? (long)((double)(p->total - got) / p->rate) : 0;
    fprintf(out, "\rfetch: %5.1f%%  %s / %s  %s/s  ETA %ld:%02ld   ",
            p->total ? 100.0 * (double)got / (double)p->total : 100.0, a, b, r, eta / 60, eta % 60);
    fflush(out);
}
