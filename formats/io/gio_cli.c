/* gio_cli.c - see gio_cli.h. */
#include "gio_cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

void gio_opt_init(gio_opt *p, const char *cmd, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--json"))
            p->json = 1;
    }
    /* getopt keeps its position in globals: reset them for this argv */
#if defined(__GLIBC__)
    optind = 0; /* glibc: 0 also re-initialises its internal state */
#else
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    optreset = 1;
#endif
    optind = 1;
#endif
    opterr = 0; /* we word the messages ourselves */
}

int gio_opt_next(gio_opt *p, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char so[128];
    snprintf(so, sizeof so, ":%s", shortopts);
    int li = -1;
    int c = getopt_long(argc, argv, so, longopts, &li);
    p->arg = optarg;
    if (c == -1)
        return -1;
    if (li >= 0) {
        snprintf(p->name_buf, sizeof p->name_buf, "--%s", longopts[li].name);
    } else if (c == '?' || c == ':') {
        /* An unknown long option leaves optopt 0 and is argv[optind-1]; a
         * long one without its value is argv[optind-1] too (optopt is its
         * val, maybe a letter); a short one is optopt. */
        const char *a = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        size_t n = strcspn(a, "=");
        int is_long = 0;
        if (!strncmp(a, "--", 2) && a[2]) {
            if (c == '?' && optopt == 0)
                is_long = 1;
            for (const struct option *l = longopts; c == ':' && l && l->name; l++)
                if (l->val == optopt && !strncmp(a + 2, l->name, n - 2))
                    is_long = 1;
        }
        if (is_long)
            snprintf(p->name_buf, sizeof p->name_buf, "%.*s", (int)(n < 60 ? n : 60), a);
        else if (optopt > 0 && optopt < 256)
            snprintf(p->name_buf, sizeof p->name_buf, "-%c", optopt);
        else
            snprintf(p->name_buf, sizeof p->name_buf, "%.*s", (int)(n < 60 ? n : 60), a);
    } else {
        snprintf(p->name_buf, sizeof p->name_buf, "-%c", c);
    }
    p->name = p->name_buf;
    if (c == '?') {
        gio_fail(p, GIO_EXIT_USAGE, "unknown option '%s' (see --help)", p->name);
        return '?';
    }
    if (c == ':') {
        gio_fail(p, GIO_EXIT_USAGE, "option '%s' needs a value", p->name);
        return '?';
    }
    return c;
}

int gio_opt_int(gio_opt *p, long long lo, long long hi, long long *out)
{
    const char *v = p->arg ? p->arg : "";
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi) {
        gio_fail(p, GIO_EXIT_USAGE, "%s must be an integer in %lld..%lld, not '%s'", p->name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int gio_opt_double(gio_opt *p, double lo, double hi, double *out)
{
    const char *v = p->arg ? p->arg : "";
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi) {
        gio_fail(p, GIO_EXIT_USAGE, "%s must be a number in %g..%g, not '%s'", p->name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int gio_json_error(int json, int code, const char *msg)
{
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddNumberToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        gio_json_print(j);
    }
    return code;
}

int gio_check_file(const gio_opt *p, const char *path, const char *wanted)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return gio_fail(p, GIO_EXIT_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return gio_fail(p, GIO_EXIT_USAGE, "%s is a folder: %s wants %s", path, p->cmd, wanted);
    if (access(path, R_OK) != 0)
        return gio_fail(p, GIO_EXIT_IO, "%s: %s", path, strerror(errno));
    return 0;
}

static int vfail(const char *cmd, int json, int code, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s: %s\n", cmd, msg);
    return gio_json_error(json, code, msg);
}

int gio_fail(const gio_opt *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p->cmd, p->json, code, fmt, ap);
    va_end(ap);
    return code;
}

int gio_fail_json(const char *cmd, int json, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, json, code, fmt, ap);
    va_end(ap);
    return code;
}

/* Length of the well-formed UTF-8 character at s (n bytes left), 0 if none
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

cJSON *gio_json_utf8(const char *s, size_t n, int *valid)
{
    /* Written as a raw JSON string literal rather than cJSON_CreateString:
     * the text may hold NUL bytes (a C string cannot), and every control
     * character is written \u00XX, as these outputs always have been. */
    char *b = malloc(6 * n + 3); /* a byte becomes at most 6 (\u00XX) */
    if (!b)
        return NULL;
    size_t o = 0;
    int ok = 1;
    b[o++] = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            b[o++] = '\\';
            b[o++] = (char)c;
            i++;
        } else if (c < 0x20) {
            o += (size_t)snprintf(b + o, 7, "\\u%04x", c);
            i++;
        } else {
            size_t l = utf8_len((const unsigned char *)s + i, n - i);
            if (l) {
                memcpy(b + o, s + i, l);
                o += l;
                i += l;
            } else {
                memcpy(b + o, "\\ufffd", 6);
                o += 6;
                i++;
                ok = 0;
            }
        }
    }
    b[o++] = '"';
    b[o] = 0;
    if (valid)
        *valid = ok;
    cJSON *j = cJSON_CreateRaw(b);
    free(b);
    return j;
}

int gio_json_print(cJSON *j)
{
    if (!j)
        return -1;
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!t)
        return -1;
    int rc = printf("%s\n", t) < 0 ? -1 : 0;
    free(t);
    if (fflush(stdout))
        rc = -1;
    return rc;
}
