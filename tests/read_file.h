/* read_file.h - the whole-file read that test programs and test helpers
 * need (inputs such as JSON cases, golden ids, tokenizer.json), in one place.
 *
 * test_read_file returns a malloc'ed buffer with a NUL after the last byte
 * (the bytes themselves may hold NULs: use *len; len may be NULL), or NULL if the file cannot
 * be opened, sized or read completely (errno tells why). */
#ifndef GQ_TEST_READ_FILE_H
#define GQ_TEST_READ_FILE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static inline char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    char *b = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
        if (!errno) errno = EIO; /* shorter than it was a moment ago */
    }
    fclose(f);
    if (!b) return NULL;
    b[n] = 0;
    if (len) *len = (size_t)n;
    return b;
}

#endif
