/* conv_util.h - helpers shared by the converter tests: run a program and
 * capture its output, temp directories, the tiny fixture, small file ops. */
#ifndef GQ_CONV_UTIL_H
#define GQ_CONV_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "read_file.h"

typedef struct {
    int status;       /* exit code, or 128 + signal */
    char *out, *err;  /* captured stdout / stderr (NUL-terminated) */
} run_result;

static char g_bin[1024];
static char g_tmp[1024];

static inline const char *bin(const char *name)
{
    static char b[4][4200];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", g_bin, name);
    return b[k];
}

/* What the child does before exec (resource limits...). */
typedef void (*pre_exec_fn)(void);

/* Run argv; if kill_after_ms > 0, send kill_sig after that long.
 * stdout and stderr go to files in g_tmp and are read back. */
static inline run_result run_ex(char *const argv[], pre_exec_fn pre, int kill_after_ms, int kill_sig)
{
    run_result r = {-1, NULL, NULL};
    char o[4200], e[4200];
    snprintf(o, sizeof o, "%s/.stdout", g_tmp);
    snprintf(e, sizeof e, "%s/.stderr", g_tmp);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        if (pre)
            pre();
        execv(argv[0], argv);
        _exit(127);
    }
    if (kill_after_ms > 0) {
        struct timespec ts = {kill_after_ms / 1000, (long)(kill_after_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, kill_sig);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = test_read_file(o, NULL);
    r.err = test_read_file(e, NULL);
    if (!r.out)
        r.out = calloc(1, 1);
    if (!r.err)
        r.err = calloc(1, 1);
    return r;
}

static inline run_result run(char *const argv[])
{
    return run_ex(argv, NULL, 0, 0);
}

static inline void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static inline int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Entries of dir whose name starts with prefix. */
static inline int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static inline char *path_in(const char *fmt, ...)
{
    static char b[8][4200];
    static int k;
    k = (k + 1) % 8;
    char rel[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    snprintf(b[k], sizeof b[k], "%s/%s", g_tmp, rel);
    return b[k];
}

static inline void rm_rf(const char *p)
{
    char *argv[] = {"/bin/rm", "-rf", (char *)p, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
}

static inline int cp_r(const char *a, const char *b)
{
    char *argv[] = {"/bin/cp", "-r", (char *)a, (char *)b, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Set up g_bin / g_tmp and make the tiny fixture (with original/) in g_tmp/ck.
 * Returns 0, or CHECK_SKIP-worthy -1 when the tools are missing. */
static inline int conv_setup(const char *test)
{
    const char *b = getenv("GQ_BIN_DIR");
    snprintf(g_bin, sizeof g_bin, "%s", b ? b : "bin");
    snprintf(g_tmp, sizeof g_tmp, "%s/gq-%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", test);
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return -1;
    }
    if (access(bin("gptoss-fixture"), X_OK) || access(bin("gptoss-convert"), X_OK)) {
        fprintf(stderr, "%s: gptoss-fixture / gptoss-convert not built in %s\n", test, g_bin);
        return -1;
    }
    char *argv[] = {(char *)bin("gptoss-fixture"), "tiny", "-o", path_in("ck"), "--original", NULL};
    run_result r = run(argv);
    if (r.status != 0) {
        fprintf(stderr, "%s: gptoss-fixture tiny failed (%d): %s\n", test, r.status, r.err);
        run_free(&r);
        return -2;
    }
    run_free(&r);
    return 0;
}

#endif
