/* file_map.c - see file_map.h. */
#include "file_map.h"
#include "gio_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fm_map_file(const char *path, size_t min_len, const char *too_short, fm_map *m, char *err, size_t errlen)
{
    m->base = NULL;
    m->len = 0;
    int fd = gio_open_read(path, err, errlen);   /* refuses a FIFO before it can block */
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(e));
        return -1;
    }
    if ((uint64_t)st.st_size < min_len || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        snprintf(err, errlen, "%s: file is %lld bytes, %s", path, (long long)st.st_size, too_short);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {  /* mmap refuses an empty range */
        close(fd);
        return 0;
    }
    void *base = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(err, errlen, "%s: cannot map %zu bytes: %s", path, len, strerror(e));
        return -1;
    }
    m->base = base;
    m->len = len;
    return 0;
}

void fm_unmap(fm_map *m)
{
    if (m->base)
        munmap(m->base, m->len);
    m->base = NULL;
    m->len = 0;
}
