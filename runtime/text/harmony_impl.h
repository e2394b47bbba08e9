/* harmony_impl.h - what the harmony rendering files share: a growing text
 * buffer, and the two places where the chat template renders JSON values
 * (harmony_tools.c). Not part of the runtime's interface. */
#ifndef GQ_HARMONY_IMPL_H
#define GQ_HARMONY_IMPL_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct {
    char *p; /* NUL-terminated once anything was put */
    size_t n, cap;
    int oom;
} hm_buf;

void hm_buf_put(hm_buf *b, const char *s, size_t n);
void hm_buf_puts(hm_buf *b, const char *s);

/* The template's |tojson of V, as the renderers agree on it (Python's
 * json.dumps with ensure_ascii=False, @huggingface/jinja's toJSON): ", " and
 * ": " separators, keys in their order, non-ASCII kept, strings escaped as
 * JSON.stringify does; numbers as JavaScript prints them (a JSON 1.0 is 1,
 * where Python would keep a float's ".0"). */
void hm_tojson(hm_buf *b, const cJSON *v);

/* The developer message's tool block after "# Tools\n\n": the template's
 * render_tool_namespace("functions", tools). -1 with a message naming the
 * tool when a definition lacks what the template reads (function, name,
 * description). */
int hm_tools_namespace(hm_buf *b, const cJSON *tools, char *err, size_t errlen);

#endif
