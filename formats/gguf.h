/* gguf.h - GGUF version 3 (llama.cpp's single-file model format): a
 * streaming writer and an untrusted-input reader.
 *
 * Layout (little-endian): "GGUF", u32 version 3, u64 tensor count, u64 KV
 * count, the KVs (key string, i32 value type, value), the tensor infos
 * (name string, u32 n_dims, i64 ne[n_dims] with ne[0] the row length, i32
 * ggml type, u64 offset from the data start), zero padding up to the
 * alignment, then the tensor data, each tensor starting on an aligned
 * offset. Strings are u64 length + bytes, no NUL. docs/GGUF.md has more.
 *
 * Writer promises: deterministic bytes (KVs and tensors in the order they
 * were added, all padding zero), output through the crash-safe writer of
 * formats/io/gio_out.h, the same as .gptoss files: "PATH.tmp.<pid>" next
 * to PATH, flock()ed while written, fsynced (F_FULLFSYNC on macOS) and
 * moved onto PATH only by gguf_writer_finish; every failure and
 * gguf_writer_abort remove it, a killed writer's temporary is removed by
 * the next writer of PATH, and a second writer of a PATH being written
 * is refused at create (EBUSY). Memory
 * is the header only: tensor bytes are streamed (sequentially, or to any
 * position inside a tensor with gguf_writer_write_at, so a layout that
 * de-interleaves rows needs no staging buffer).
 *
 * Reader promises: the file is mapped read-only and never trusted; every
 * count, length, offset, dimension and type is checked (overflow-safe)
 * before anything is handed out. Types it knows the block size of (the
 * whole ggml table, see gguf_type_info) are accepted; a tensor of another
 * type makes the file unreadable with a message naming the type.
 */
#ifndef GQ_GGUF_H
#define GQ_GGUF_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "quant.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_VERSION 3u
#define GGUF_DEFAULT_ALIGN 32u
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 64           /* ggml's limit, NUL included */

/* KV value types. */
typedef enum {
    GGUF_VT_UINT8 = 0, GGUF_VT_INT8 = 1, GGUF_VT_UINT16 = 2, GGUF_VT_INT16 = 3,
    GGUF_VT_UINT32 = 4, GGUF_VT_INT32 = 5, GGUF_VT_FLOAT32 = 6, GGUF_VT_BOOL = 7,
    GGUF_VT_STRING = 8, GGUF_VT_ARRAY = 9, GGUF_VT_UINT64 = 10, GGUF_VT_INT64 = 11,
    GGUF_VT_FLOAT64 = 12, GGUF_VT_COUNT
} gguf_vtype;

/* ggml's tensor types (ggml.h enum ggml_type; 4, 5 and 31..33, 36..38 are
 * removed there). The ids of the types with our block layouts come from
 * quant.h's GQ_GGML_TYPE_*, the one place they are written; gq_traits.
 * ggml_type maps a format to its id (gguf_type_from_gq). */
enum {
    GGML_T_F32 = GQ_GGML_TYPE_F32, GGML_T_F16 = GQ_GGML_TYPE_F16, GGML_T_Q4_0 = GQ_GGML_TYPE_Q4_0,
    GGML_T_Q4_1 = 3, GGML_T_Q5_0 = 6, GGML_T_Q5_1 = 7, GGML_T_Q8_0 = GQ_GGML_TYPE_Q8_0, GGML_T_Q8_1 = 9,
    GGML_T_Q2_K = 10, GGML_T_Q3_K = 11, GGML_T_Q4_K = 12, GGML_T_Q5_K = 13, GGML_T_Q6_K = 14, GGML_T_Q8_K = 15,
    GGML_T_IQ2_XXS = 16, GGML_T_IQ2_XS = 17, GGML_T_IQ3_XXS = 18, GGML_T_IQ1_S = 19, GGML_T_IQ4_NL = 20,
    GGML_T_IQ3_S = 21, GGML_T_IQ2_S = 22, GGML_T_IQ4_XS = 23, GGML_T_I8 = 24, GGML_T_I16 = 25, GGML_T_I32 = 26,
    GGML_T_I64 = 27, GGML_T_F64 = 28, GGML_T_IQ1_M = 29, GGML_T_BF16 = GQ_GGML_TYPE_BF16, GGML_T_TQ1_0 = 34,
    GGML_T_TQ2_0 = 35, GGML_T_MXFP4 = GQ_GGML_TYPE_MXFP4, GGML_T_NVFP4 = 40, GGML_T_Q1_0 = 41, GGML_T_Q2_0 = 42
};

typedef struct {
    uint32_t id;
    const char *name;        /* ggml's name: "q8_0", "mxfp4", ... */
    uint32_t block_values;   /* elements per block */
    uint32_t block_bytes;    /* bytes per block */
} gguf_type_desc;

/* The table row for a ggml type, NULL for unknown or removed ids. */
const gguf_type_desc *gguf_type_info(uint32_t ggml_type);
/* Our block format -> the ggml type with the identical byte layout
 * (gq_traits.ggml_type: f32, f16, bf16, mxfp4, q8_32 = Q8_0, q4_32 = Q4_0);
 * -1 if none. */
int gguf_type_from_gq(gq_type t);
/* Bytes of a tensor; 0 (with no error) for an empty tensor, and
 * UINT64_MAX if the type is unknown, ne[0] is not a multiple of the block
 * size, a dimension is negative, or the size overflows. */
uint64_t gguf_tensor_bytes(uint32_t ggml_type, int n_dims, const int64_t *ne);
/* Name of a KV value type ("u32", "str", "arr"...). */
const char *gguf_vtype_name(uint32_t vt);

/* ---- writer ---- */

typedef struct gguf_writer gguf_writer;

/* alignment: a power of two >= 8 (0 means 32). Any value other than 32 is
 * recorded as general.alignment (u32) automatically by begin. NULL with
 * errno EEXIST (PATH exists and !overwrite), EBUSY (another process is
 * writing PATH), EINVAL (bad alignment), or the temporary's open() errno. */
gguf_writer *gguf_writer_create(const char *path, int overwrite, uint32_t alignment,
                                char *err, size_t errlen);
/* finish refuses to publish (EINTR, temporary removed) if *flag is set just
 * before the move onto PATH. NULL: no check. */
void gguf_writer_set_cancel(gguf_writer *w, volatile sig_atomic_t *flag);

/* KVs, in file order. Keys must be unique and non-empty (checked). */
int gguf_kv_u8(gguf_writer *w, const char *key, uint8_t v);
int gguf_kv_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_kv_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_kv_u64(gguf_writer *w, const char *key, uint64_t v);
int gguf_kv_f32(gguf_writer *w, const char *key, float v);
int gguf_kv_bool(gguf_writer *w, const char *key, int v);
int gguf_kv_str(gguf_writer *w, const char *key, const char *v);
int gguf_kv_strn(gguf_writer *w, const char *key, const char *v, size_t len);
/* Array of fixed-size scalars: elem_type one of the scalar types, n
 * elements of that type's size, little-endian host data. */
int gguf_kv_arr(gguf_writer *w, const char *key, gguf_vtype elem_type, const void *data, uint64_t n);
/* Array of strings, built one element at a time: begin with the count,
 * then exactly n calls of gguf_kv_arr_str_add. */
int gguf_kv_arr_str_begin(gguf_writer *w, const char *key, uint64_t n);
int gguf_kv_arr_str_add(gguf_writer *w, const char *s, size_t len);

/* Declare tensor i (i = declaration order, returned, or -1). ne[0] is the
 * row length (numpy shape reversed). */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t ggml_type,
                           int n_dims, const int64_t *ne);
uint64_t gguf_writer_tensor_bytes(const gguf_writer *w, size_t i);

/* Writes the header; after this no KV or tensor can be added. */
int gguf_writer_begin(gguf_writer *w);
/* Append len bytes to tensor i (sequential within the tensor). */
int gguf_writer_write(gguf_writer *w, size_t i, const void *buf, size_t len);
/* Write len bytes at byte offset `at` inside tensor i. Every byte of every
 * tensor must be written exactly once before finish (counted, checked). */
int gguf_writer_write_at(gguf_writer *w, size_t i, uint64_t at, const void *buf, size_t len);
/* gguf_writer_write without copying buf where direct I/O allows
 * (gio_out.h): buf must stay valid and unchanged until gguf_writer_release
 * of a range holding it (or finish / abort) has returned. */
int gguf_writer_write_borrowed(gguf_writer *w, size_t i, const void *buf, size_t len);
/* With wait, the memory [lo, hi) is the caller's again (also after an
 * error); without, its writes are started. 0 or -1. */
int gguf_writer_release(gguf_writer *w, const void *lo, const void *hi, int wait);
/* Absolute file offset of tensor i's first byte after begin (UINT64_MAX
 * before): a caller that borrows aligns its buffers to it. */
uint64_t gguf_writer_tensor_offset(const gguf_writer *w, size_t i);
/* Check completeness, fsync, move onto PATH, fsync the directory; frees w.
 * -1 with the message in err (and errno) if not published, or if only the
 * directory fsync failed (PATH is then complete and stays, as with
 * gf_writer_finish). */
int gguf_writer_finish(gguf_writer *w, char *err, size_t errlen);
/* Remove the temporary and free w (NULL is fine). */
void gguf_writer_abort(gguf_writer *w);
const char *gguf_writer_error(const gguf_writer *w);
/* Final file size (valid after begin). */
uint64_t gguf_writer_file_size(const gguf_writer *w);

/* ---- reader ---- */

typedef struct gguf_file gguf_file;

typedef struct {
    const char *key;          /* NUL-terminated copy */
    uint32_t type;            /* gguf_vtype */
    uint32_t arr_type;        /* element type when type == ARRAY */
    uint64_t arr_n;           /* element count when type == ARRAY */
    const uint8_t *val;       /* the value's bytes in the map (after the type) */
    uint64_t val_len;         /* their length */
} gguf_kv;

typedef struct {
    const char *name;         /* NUL-terminated copy */
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS];/* unused dims are 1 */
    uint32_t type;            /* ggml type */
    uint64_t offset;          /* relative to the data start */
    uint64_t size;            /* bytes */
    const void *data;         /* mapped bytes */
} gguf_tensor;

gguf_file *gguf_open(const char *path, char *err, size_t errlen);
/* Same checks on an image in memory (fuzz target); buf must outlive it. */
gguf_file *gguf_open_memory(const void *buf, size_t len, char *err, size_t errlen);
void gguf_close(gguf_file *f);

uint32_t gguf_version(const gguf_file *f);
uint32_t gguf_alignment(const gguf_file *f);
uint64_t gguf_data_offset(const gguf_file *f);
uint64_t gguf_file_size(const gguf_file *f);
size_t gguf_kv_count(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i);
const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
size_t gguf_tensor_count(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: 0 on success, -1 if the KV is NULL or of another type.
 * gguf_get_uint accepts any unsigned or non-negative signed integer type. */
int gguf_get_uint(const gguf_kv *kv, uint64_t *out);
int gguf_get_f32(const gguf_kv *kv, float *out);
int gguf_get_str(const gguf_kv *kv, const char **s, size_t *len); /* not NUL-terminated */
/* Element i of an array of strings / of scalars (as double). */
int gguf_arr_str(const gguf_file *f, const gguf_kv *kv, uint64_t i, const char **s, size_t *len);
int gguf_arr_num(const gguf_kv *kv, uint64_t i, double *out);

#endif
