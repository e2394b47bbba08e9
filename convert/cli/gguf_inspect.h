/* gguf_inspect.h - `gptoss-convert inspect X.gguf`: list any GGUF file's
 * KVs and tensors (ours or other people's), as text or JSON.
 *
 * JSON shape (stable for CI; the first six keys are those of every
 * `inspect --json`, .gptoss too):
 *   {"file":..,"format":"gguf","version":3,"file_bytes":N,"tensor_count":N,
 *    "tensor_bytes":N,"alignment":32,"data_offset":N,
 *    "kv":[{"key":..,"type":"u32"|"str"|..,"value":..} |
 *          {"key":..,"type":"arr","elem":"str","n":N,"head":[first 16]}],
 *    "tensors":[{"name":..,"type":"q8_0","ggml_type":8,"ne":[..],"offset":N,"size":N}]}
 */
#ifndef GQ_CONVERT_GGUF_INSPECT_H
#define GQ_CONVERT_GGUF_INSPECT_H

#include <stdio.h>

/* Print the listing to out. Returns a cli.h exit code (EXIT_BAD_INPUT with
 * a message on stderr naming the file for a malformed one). */
int gg_inspect(const char *path, int json, int tensors, FILE *out);

#endif
