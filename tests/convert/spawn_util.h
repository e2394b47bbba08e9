/* spawn_util.h - start a tool without waiting for it, and wait for it with
 * a deadline: for tests where two runs overlap, or where a tool that hangs
 * (e.g. on a FIFO) must fail the test instead of blocking it. Uses
 * conv_util.h's g_tmp for the captured output. */
#ifndef GQ_SPAWN_UTIL_H
#define GQ_SPAWN_UTIL_H

#include "conv_util.h"

typedef struct {
    pid_t pid;
    char out[4200], err[4200];
} child;

/* Start argv with stdout/stderr to files named after tag; env: NAME, VALUE
 * pairs (NULL-terminated list, may be NULL) set in the child only. */
static inline child spawn(char *const argv[], const char *tag, const char *const *env)
{
    child c;
    snprintf(c.out, sizeof c.out, "%s/.%s.out", g_tmp, tag);
    snprintf(c.err, sizeof c.err, "%s/.%s.err", g_tmp, tag);
    c.pid = fork();
    if (c.pid == 0) {
        int fo = open(c.out, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(c.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        for (const char *const *e = env; e && *e; e += 2)
            setenv(e[0], e[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    return c;
}

/* Wait at most timeout_ms; a child still running then is killed (so the
 * test fails on its status instead of hanging). Returns the exit code or
 * 128 + signal; *err_text (if not NULL) gets its stderr (never NULL). */
static inline int wait_child(const child *c, int timeout_ms, char **err_text)
{
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid)
            break;
        if (waited >= timeout_ms) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            break;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (err_text && !(*err_text = test_read_file(c->err, NULL)))
        *err_text = calloc(1, 1);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
