/* harmony_json.c - a conversation from JSON in the chat template's own terms
 * (the `messages` and `tools` it is rendered with), for `generate
 * --messages` and the tests that compare hm_render with the template; see
 * harmony.h. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gio_err.h"
#include "harmony.h"

typedef struct {
    cJSON *root;  /* the strings of the messages point into it */
    char **owned; /* JSON texts printed for arguments and tool results */
    size_t nown;
} conv_priv;

static const char *own(conv_priv *p, char *s)
{
    char **no = s ? realloc(p->owned, (p->nown + 1) * sizeof *no) : NULL;
    if (!no) {
        free(s);
        return NULL;
    }
    p->owned = no;
    p->owned[p->nown++] = s;
    return s;
}

static const char *str_item(const cJSON *o, const char *k, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = 1;
        return NULL;
    }
    return v->valuestring;
}

void hm_conversation_free(hm_conversation *c)
{
    conv_priv *p = c->priv;
    if (p) {
        for (size_t i = 0; i < p->nown; i++)
            free(p->owned[i]);
        free(p->owned);
        cJSON_Delete(p->root);
        free(p);
    }
    free(c->msgs);
    free(c->tools_json);
    memset(c, 0, sizeof *c);
}

int hm_conversation_parse(const char *json, size_t len, const char *what, hm_conversation *c, char *err,
                          size_t errlen)
{
    memset(c, 0, sizeof *c);
    conv_priv *p = calloc(1, sizeof *p);
    if (!p)
        return gio_errf(err, errlen, "out of memory");
    c->priv = p;
    p->root = cJSON_ParseWithLength(json, len);
    const cJSON *msgs = p->root, *tools = NULL;
    if (cJSON_IsObject(p->root)) {
        msgs = cJSON_GetObjectItemCaseSensitive(p->root, "messages");
        tools = cJSON_GetObjectItemCaseSensitive(p->root, "tools");
    }
    if (!cJSON_IsArray(msgs)) {
        hm_conversation_free(c);
        return gio_errf(err, errlen, "%s: not a JSON array of messages (or an object with \"messages\"): "
                        "[{\"role\": \"user\", \"content\": \"...\"}, ...]", what);
    }
    if (tools && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools) || !(c->tools_json = cJSON_PrintUnformatted(tools))) {
            hm_conversation_free(c);
            return gio_errf(err, errlen, "%s: \"tools\" must be an array of tool definitions", what);
        }
    }
    size_t n = (size_t)cJSON_GetArraySize(msgs), i = 0;
    c->msgs = calloc(n ? n : 1, sizeof *c->msgs);
    if (!c->msgs) {
        hm_conversation_free(c);
        return gio_errf(err, errlen, "out of memory");
    }
    for (const cJSON *m = msgs->child; m; m = m->next, i++) {
        hm_message *h = &c->msgs[i];
        int bad = 0;
        if (!cJSON_IsObject(m)) {
            hm_conversation_free(c);
            return gio_errf(err, errlen, "%s: message %zu is not an object", what, i);
        }
        h->role = str_item(m, "role", &bad);
        h->thinking = str_item(m, "thinking", &bad);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (h->role && !strcmp(h->role, "tool") && content && !cJSON_IsString(content)) {
            /* the template renders a tool result with |tojson: any value */
            h->content = own(p, cJSON_PrintUnformatted(content));
            h->content_json = 1;
            bad |= !h->content;
        } else {
            h->content = str_item(m, "content", &bad);
        }
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        if (calls && !cJSON_IsNull(calls)) {
            /* the template renders tool_calls[0] only (one call per message) */
            const cJSON *call = cJSON_IsArray(calls) ? calls->child : NULL;
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
            if (cJSON_IsObject(fn))
                call = fn;
            h->tool_name = str_item(call, "name", &bad);
            h->tool_content_type = str_item(call, "content_type", &bad);
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(call, "arguments");
            h->tool_arguments = own(p, args ? cJSON_PrintUnformatted(args) : strdup("null"));
            if (!cJSON_IsObject(call) || !h->tool_name || !h->tool_arguments) {
                hm_conversation_free(c);
                return gio_errf(err, errlen, "%s: message %zu: tool_calls must be [{\"function\": {\"name\": "
                                "\"...\", \"arguments\": {...}}}]", what, i);
            }
        }
        if (bad || !h->role) {
            hm_conversation_free(c);
            return gio_errf(err, errlen, "%s: message %zu: \"role\" must be a string, \"content\" and \"thinking\" "
                            "strings", what, i);
        }
    }
    c->n = n;
    return 0;
}
