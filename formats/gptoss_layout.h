/* gptoss_layout.h - rules of the .gptoss format that the reader and the
 * writer must apply identically (internal to formats/; not an API).
 *
 * Keeping them in one place is what guarantees that every file the writer
 * produces passes the reader, and that both match docs/FORMAT.md.
 */
#ifndef GQ_GPTOSS_LAYOUT_H
#define GQ_GPTOSS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <xxhash.h>
/* Every payload byte is hashed once when written and once per verify.
 * Debian's libxxhash runs plain XXH3 at about 4 GB/s here but about 30 GB/s
 * through its runtime CPU dispatch (AVX2 / AVX-512), which this header
 * switches on by renaming XXH3_64bits and XXH3_64bits_update; it is
 * installed only by builds of xxHash that have the dispatcher. Same hash
 * values either way. */
#if defined(__x86_64__) && defined(__linux__) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
#include <xxh_x86dispatch.h>
#endif
#endif

#include "gptoss_format.h"

/* Integers in the header are JSON numbers; cJSON parses them as doubles,
 * so the format limits every integer to below 2^53 (9 PB), where doubles
 * are exact. */
#define GFL_MAX_JSON_INT 9007199254740991ull

/* 1 if name is 1..GF_MAX_NAME bytes of [A-Za-z0-9._-]. */
int gfl_name_ok(const char *name);
/* Exact canonical type name ("f32", "bf16", "mxfp4", ...; no aliases). */
int gfl_type_by_name(const char *s, gq_type *out);
const char *gfl_type_name(gq_type t);
/* Round up to GF_ALIGN; 0 on overflow (callers treat 0 as an error because
 * no valid offset is 0). */
uint64_t gfl_align_up(uint64_t x);
/* Payload bytes of a tensor, overflow-safe. 0 on success, else -1 with a
 * reason ("dimension 1 is 0", "row length 33 is not a multiple of 32"...). */
int gfl_tensor_bytes(gq_type type, int ndim, const uint64_t *shape, uint64_t *out, char *why, size_t whylen);
/* 16 lowercase hex digits (big-endian text of the value) and back. */
void gfl_hex16(uint64_t v, char out[17]);
int gfl_parse_hex16(const char *s, uint64_t *out);
/* A JSON number that is a non-negative integer <= max. */
int gfl_json_uint(const cJSON *item, uint64_t max, uint64_t *out);
/* Strict UTF-8 without NUL: offset of the first bad byte, or len. */
size_t gfl_utf8_bad_at(const uint8_t *s, size_t len);
/* The "hparams" object, parsed and checked. */
int gfl_hparams_from_cjson(const cJSON *obj, gf_hparams *hp, char *err, size_t errlen);

#endif
