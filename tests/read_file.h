/* read_file.h - the whole-file read that test programs and test helpers
 * need (inputs such as JSON cases, golden ids, tokenizer.json): the
 * project's one read helper (formats/io/gio_read.h), under the name the
 * tests have always used.
 *
 * test_read_file returns a malloc'ed buffer with a NUL after the last byte
 * (the bytes themselves may hold NULs: use *len; len may be NULL), or NULL if the file cannot
 * be opened, sized or read completely, or is not a regular file (errno tells why). */
#ifndef GQ_TEST_READ_FILE_H
#define GQ_TEST_READ_FILE_H

#include <stddef.h>

#include "gio_read.h"

static inline char *test_read_file(const char *path, size_t *len)
{
    return gio_read_file(path, 0, len, NULL, 0);
}

#endif
