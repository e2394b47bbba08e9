/* gio_read.h - reading input files without ever hanging on one.
 *
 * Promise: a path that is not a regular file (a FIFO, a device, a socket, a
 * directory) is refused BEFORE it is opened for reading, with a message
 * naming it ("not a regular file"); opening a FIFO for reading would block
 * until a writer appears, i.e. forever. The check is made again on the
 * opened descriptor (the path could be swapped in between), and the open
 * itself never blocks (O_NONBLOCK, which is meaningless for regular files).
 *
 * Every tool's input goes through here or through file_map.h (which uses
 * gio_open_read): .gptoss and GGUF files, safetensors shards and index,
 * config and tokenizer JSON, ppl --file and --ids, references, tests.
 */
#ifndef GQ_GIO_READ_H
#define GQ_GIO_READ_H

#include <stddef.h>
#include <stdio.h>

/* Open path read-only (O_CLOEXEC) if it is a regular file. Returns the fd,
 * or -1 with errno (EINVAL for a non-regular file, else open()'s) and, if
 * err is given, "PATH: cannot open: ..." / "PATH: not a regular file". */
int gio_open_read(const char *path, char *err, size_t errlen);
/* The same as a stdio stream ("rb"); NULL with errno and message. */
FILE *gio_fopen_read(const char *path, char *err, size_t errlen);

/* Read a whole regular file into memory: a malloc'ed buffer with a NUL
 * after the last byte (the bytes may hold NULs: use *len; len may be NULL).
 * max_len: refuse larger files (EFBIG, "PATH: N bytes, more than the
 * limit of M"); 0 means no limit. NULL with errno and message on failure
 * (not regular, cannot open or read, changed size while read, ENOMEM). */
char *gio_read_file(const char *path, size_t max_len, size_t *len, char *err, size_t errlen);

#endif
