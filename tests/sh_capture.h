/* sh_capture.h - for tests that drive a CLI through the shell and read its
 * --json: sh() runs a printf-formatted command line (so a test can redirect,
 * e.g. 2>&1), keeps up to 64 KiB of its stdout in out_buf, NUL-terminated,
 * and returns its exit code (-1 if it could not run or did not exit);
 * num() reads a number at a dotted path ("ref.kld_mean") of a cJSON object,
 * NaN where any step is missing or not a number, so a CHECK on it fails.
 * One copy per test program (static), included once by its main file. */
#ifndef GQ_TEST_SH_CAPTURE_H
#define GQ_TEST_SH_CAPTURE_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static char out_buf[1 << 16];

static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, p);
    out_buf[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double num(cJSON *o, const char *path)
{
    char key[64];
    const char *dot = strchr(path, '.');
    if (dot) {
        snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
        return num(cJSON_GetObjectItem(o, key), dot + 1);
    }
    cJSON *v = cJSON_GetObjectItem(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

#endif
