/* tokenizer_check.h - a checkpoint's tokenizer files, checked at conversion
 * time with the runtime's own loader (runtime/text), so that what converts
 * is what `gptoss-run` can tokenize with: a truncated tokenizer.json, merges
 * over unknown tokens, a regex that does not compile, an empty vocabulary or
 * a token id past the model's vocab_size fail the conversion (exit 3, the
 * file and the problem named) instead of `ppl`/`generate` later. Both the
 * .gptoss and the GGUF conversion get here through cv_source_open. */
#ifndef GQ_CONVERT_TOKENIZER_CHECK_H
#define GQ_CONVERT_TOKENIZER_CHECK_H

#include <stddef.h>

/* tokenizer.json text JSON[0..len) named PATH must load with tok_load_json
 * and use no id at or past VOCAB (the vocab_size of the config VOCAB_LABEL).
 * ids[i] receives the id of the special token names[i] (-1: absent or
 * names[i] NULL), for i < n. 0, or -1 with a message naming PATH in err. */
int cv_tokenizer_json_check(const char *json, size_t len, const char *path, int vocab, const char *vocab_label,
                            const char *const *names, int *ids, int n, char *err, size_t errlen);

/* tokenizer_config.json text named PATH must be a JSON object whose strings
 * hold no NUL (its token names are looked up by text). 0, or -1 with a
 * message naming PATH. */
int cv_tokenizer_config_check(const char *json, size_t len, const char *path, char *err, size_t errlen);

#endif
