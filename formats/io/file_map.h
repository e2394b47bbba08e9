/* file_map.h - map a whole regular file read-only.
 *
 * The common first step of every reader in formats/ (safetensors, .gptoss,
 * GGUF): open (through gio_open_read, so a FIFO or other non-regular file
 * is refused before it is opened and cannot hang the tool), check it is at
 * least min_len bytes, mmap (on Linux advised MADV_HUGEPAGE: file_map.c),
 * close the descriptor (the mapping keeps the file alive). The readers then
 * validate the bytes themselves; this only gets them into memory.
 */
#ifndef GQ_FILE_MAP_H
#define GQ_FILE_MAP_H

#include <stddef.h>

typedef struct {
    void *base;   /* NULL when len is 0 */
    size_t len;
} fm_map;

/* 0 on success. -1 with a message naming PATH in err when it cannot be
 * opened or mapped, is not a regular file, or is shorter than min_len bytes;
 * in the last case the message is "PATH: file is N bytes, " + too_short. */
int fm_map_file(const char *path, size_t min_len, const char *too_short, fm_map *m, char *err, size_t errlen);
void fm_unmap(fm_map *m);

#endif
