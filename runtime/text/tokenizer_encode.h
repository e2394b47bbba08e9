/* tokenizer_encode.h - what the loader (tokenizer.c) needs of the encoder
 * (tokenizer_encode.c): set up and tear down its state in a loaded
 * tokenizer. The dependency is one way: the encoder reads the loader's
 * tables through tokenizer_impl.h and never calls the loader. */
#ifndef GQ_TOKENIZER_ENCODE_H
#define GQ_TOKENIZER_ENCODE_H

#include <stddef.h>

#include "tokenizer_impl.h"

/* Compiles PATTERN (the Split regex, or NULL for none) with the one rewrite
 * described in tokenizer_encode.c, and allocates the word cache. WHAT names
 * the tokenizer in messages (kept for tok_encode's errors). 0, or -1 with a
 * message naming WHAT in err. */
int tok_encoder_init(tok_tokenizer *t, const char *pattern, const char *what, char *err, size_t errlen);
/* Frees what tok_encoder_init allocated (safe on a partly set up tokenizer). */
void tok_encoder_free(tok_tokenizer *t);

#endif
