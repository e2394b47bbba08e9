/* hub_auth.h - where the Hub token comes from, and who may see it.
 *
 * Promise: the token is read from $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN,
 * else the file $HF_TOKEN_PATH, else $HF_HOME/token (HF_HOME defaults to
 * ~/.cache/huggingface), exactly as huggingface_hub does. It is never
 * printed; callers send it only to URLs that hub_same_origin() accepts.
 */
#ifndef GQ_HUB_AUTH_H
#define GQ_HUB_AUTH_H

#include <stddef.h>

/* Returns a malloc'd token (whitespace trimmed), or NULL when none is set. */
char *hub_token_lookup(void);

/* $HF_HOME, else ~/.cache/huggingface, into out. Returns 0 or -1 (no HOME). */
int hub_hf_home(char *out, size_t outlen);

/* 1 when both URLs have the same scheme, host (case-insensitive) and
 * effective port; 0 otherwise, including when either does not parse. */
int hub_same_origin(const char *a, const char *b);

/* Overwrites and frees a token. */
void hub_token_free(char *token);

#endif
