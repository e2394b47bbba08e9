/* gio_read.c - see gio_read.h. */
#include "gio_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gio_err.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

int gio_open_read(const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* stat first: open() itself would block on a FIFO */
    if (stat(path, &st) != 0) {
        int e = errno;
        gio_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        gio_errf(err, errlen, "%s: not a regular file%s", path, S_ISDIR(st.st_mode) ? " (a directory)" : "");
        errno = EINVAL;
        return -1;
    }
    /* O_NONBLOCK: if the name was swapped for a FIFO in between, open still
     * returns and the fstat below refuses it. No effect on regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        gio_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        gio_errf(err, errlen, "%s: not a regular file", path);
        errno = EINVAL;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *gio_fopen_read(const char *path, char *err, size_t errlen)
{
    int fd = gio_open_read(path, err, errlen);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        gio_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e;
    }
    return f;
}

char *gio_read_file(const char *path, size_t max_len, size_t *len, char *err, size_t errlen)
{
    int fd = gio_open_read(path, err, errlen);
    if (fd < 0) return NULL;
    struct stat st;
    int e = 0;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        e = errno;
        gio_errf(err, errlen, "%s: cannot stat: %s", path, strerror(e));
    } else if ((uint64_t)st.st_size >= SIZE_MAX || (max_len && (uint64_t)st.st_size > max_len)) {
        e = EFBIG;
        gio_errf(err, errlen, "%s: %lld bytes, more than the limit of %zu", path, (long long)st.st_size,
                 max_len ? max_len : SIZE_MAX - 1);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        e = ENOMEM;
        gio_errf(err, errlen, "%s: out of memory reading %lld bytes", path, (long long)st.st_size);
    }
    size_t want = buf ? (size_t)st.st_size : 0;
    while (!e && n < want) {
        ssize_t got = read(fd, buf + n, want - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            e = errno;
            gio_errf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        } else if (got == 0) {
            break;
        } else {
            n += (size_t)got;
        }
    }
    if (!e && n != want) {
        e = EIO;
        gio_errf(err, errlen, "%s: changed size while being read (%zu of %zu bytes)", path, n, want);
    }
    close(fd);
    if (e) {
        free(buf);
        errno = e;
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}
