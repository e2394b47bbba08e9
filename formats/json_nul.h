/* json_nul.h - find JSON strings that hold U+0000.
 *
 * cJSON decodes strings into NUL-terminated C strings, so a name such as
 * "lm_head.weight\u0000x" reads back as "lm_head.weight": a different name
 * than the file says, silently. Every reader that takes names (or values it
 * compares as names) from untrusted JSON asks this first and refuses such
 * text. It scans the raw text the way a JSON lexer does (escapes, quotes),
 * so "\\u0000" (a backslash, then "u0000") is not a hit. Depends on nothing.
 */
#ifndef GQ_JSON_NUL_H
#define GQ_JSON_NUL_H

#include <stddef.h>

/* Byte offset (in text) of the opening quote of the first string whose
 * decoded value contains a NUL character: a \u0000 escape or a raw NUL
 * byte. -1 if there is none. Text that is not valid JSON is scanned all
 * the same; its parser reports the syntax. */
long long gq_json_nul_string(const char *text, size_t len);

#endif
