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
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Where the page cache can hold the file in 2 MiB folios (Linux with
     * large folios, e.g. 6.x on ext4 or XFS), a fault's readahead then
     * allocates them whole and the mapping gets 2 MiB pages: a reader that
     * streams the weights (decode) takes a TLB miss per 2 MiB, not per
     * 4 KiB. Only advice, only for pages not yet cached (docs/RUNTIME.md). */
    (void)madvise(base, len, MADV_HUGEPAGE);
#endif
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
