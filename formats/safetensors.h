/* safetensors.h - read-only, zero-copy view of a safetensors checkpoint.
 *
 * Opens one `*.safetensors` file, or a sharded checkpoint through its
 * `model.safetensors.index.json`, or a directory holding either, and maps
 * every shard read-only. Everything in the files is untrusted: the header
 * length, the JSON, every dtype, shape and data offset is checked (with
 * overflow-safe arithmetic) before a tensor is exposed, and data ranges must
 * lie inside the file's data area and not overlap. On failure the error text
 * names the file, the tensor and what is wrong.
 *
 * Tensor data pointers stay valid until st_close(). They are only
 * byte-aligned in general (the format does not promise more; files written by
 * Hugging Face tooling happen to be 8-byte aligned): read through memcpy or
 * byte loads, not by casting to wider pointer types.
 *
 * Accepted: holes in the data area and bytes after the last tensor (not
 * addressed by any tensor), empty tensors (a zero dimension) anywhere.
 * Rejected, with the file and tensor named: header length past the end of the
 * file or above 100 MB, JSON that is invalid, not an object or followed by
 * anything but whitespace, unknown keys or dtypes, non-integer / negative /
 * above-2^53 numbers, more than ST_MAX_DIMS dimensions, element counts that
 * overflow, byte sizes that differ from end - begin, ranges past the data area
 * or overlapping, duplicate names (also across shards); for an index: shard
 * names that are not plain file names, missing shards, and any disagreement
 * between weight_map and the shards' contents.
 */
#ifndef GQ_SAFETENSORS_H
#define GQ_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_U16, ST_I16, ST_F16, ST_BF16,
    ST_U32, ST_I32, ST_F32, ST_U64, ST_I64, ST_F64,
    ST_F8_E4M3, ST_F8_E5M2,
    ST_DTYPE_COUNT
} st_dtype;

typedef struct {
    const char *name;         /* NUL-terminated, owned by the checkpoint */
    st_dtype dtype;
    int ndim;
    uint64_t shape[ST_MAX_DIMS];
    uint64_t nbytes;
    const void *data;         /* inside the mapped shard */
    int shard;                /* index into st_checkpoint's shard list */
} st_tensor;

typedef struct st_checkpoint st_checkpoint;

/* Open PATH: a .safetensors file, a model.safetensors.index.json, or a
 * directory containing model.safetensors.index.json or exactly one
 * model.safetensors. Returns NULL and writes a message to err on failure. */
st_checkpoint *st_open(const char *path, char *err, size_t errlen);
void st_close(st_checkpoint *ck);

size_t st_count(const st_checkpoint *ck);
const st_tensor *st_at(const st_checkpoint *ck, size_t i);    /* sorted by name */
const st_tensor *st_find(const st_checkpoint *ck, const char *name);

size_t st_shard_count(const st_checkpoint *ck);
const char *st_shard_path(const st_checkpoint *ck, size_t i);
/* Where a tensor's first byte sits in its shard's file (data pointer minus
 * the shard's image), for readers that read the files instead of the
 * mapping (the converter: large preads instead of page faults). */
uint64_t st_tensor_file_offset(const st_checkpoint *ck, const st_tensor *t);
/* 1 when shard i is a file on disk (st_open), 0 for a caller's image
 * (st_open_memory), which only the mapping can reach. */
int st_shard_is_file(const st_checkpoint *ck, size_t i);

const char *st_dtype_name(st_dtype t);   /* "BF16", "U8", ... */
size_t st_dtype_size(st_dtype t);

/* Parse one file image already in memory (the fuzz target uses this).
 * Same checks as st_open; the checkpoint refers into buf, which must
 * outlive it. */
st_checkpoint *st_open_memory(const void *buf, size_t len, const char *label, char *err, size_t errlen);

#endif
