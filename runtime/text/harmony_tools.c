/* harmony_tools.c - the parts of gpt-oss's chat template that render JSON:
 * the |tojson filter and the tool definitions as a TypeScript-like namespace
 * (the template's render_tool_namespace and render_typescript_type macros),
 * followed branch by branch; see harmony_impl.h.
 *
 * The template's whitespace is kept as its renderers produce it (with the
 * trim_blocks and lstrip_blocks options that transformers and
 * @huggingface/jinja both set): the odd "\n" + 16 spaces before a nested
 * object's property types, the 20 spaces before a oneOf variant's default,
 * the newline after " | " between oneOf variants. Those are what the model
 * saw in training, so they are reproduced, not tidied. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_err.h"
#include "harmony_impl.h"

void hm_buf_put(hm_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void hm_buf_puts(hm_buf *b, const char *s) { hm_buf_put(b, s, strlen(s)); }

/* A number as JavaScript's Number.prototype.toString prints it: the
 * shortest digits that read back as the same double, in fixed notation for
 * decimal exponents -7 < e < 21, else d.ddde+X. */
static void put_number(hm_buf *b, double x)
{
    if (!isfinite(x)) { /* JSON.stringify(NaN) */
        hm_buf_puts(b, "null");
        return;
    }
    if (x == 0) {
        hm_buf_puts(b, "0");
        return;
    }
    char s[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, x);
        if (strtod(s, NULL) == x)
            break;
    }
    const char *q = s;
    int neg = *q == '-';
    q += neg;
    char dig[32];
    int k = 0;
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            dig[k++] = *q;
    while (k > 1 && dig[k - 1] == '0') /* %.*e may pad: keep the shortest */
        k--;
    int n = atoi(q + 1) + 1; /* value = 0.DIGITS * 10^n */
    char out[80];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (k <= n && n <= 21) {
        for (int i = 0; i < n; i++)
            out[o++] = i < k ? dig[i] : '0';
    } else if (0 < n && n <= 21) {
        for (int i = 0; i < k; i++) {
            if (i == n)
                out[o++] = '.';
            out[o++] = dig[i];
        }
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -n; i++)
            out[o++] = '0';
        for (int i = 0; i < k; i++)
            out[o++] = dig[i];
    } else {
        out[o++] = dig[0];
        if (k > 1)
            out[o++] = '.';
        for (int i = 1; i < k; i++)
            out[o++] = dig[i];
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    hm_buf_put(b, out, o);
}

/* A JSON string as JSON.stringify writes it (and json.dumps with
 * ensure_ascii=False): only '"', '\\' and control characters escaped. */
static void put_string(hm_buf *b, const char *s)
{
    hm_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[8];
        switch (*p) {
        case '"': hm_buf_puts(b, "\\\""); break;
        case '\\': hm_buf_puts(b, "\\\\"); break;
        case '\b': hm_buf_puts(b, "\\b"); break;
        case '\f': hm_buf_puts(b, "\\f"); break;
        case '\n': hm_buf_puts(b, "\\n"); break;
        case '\r': hm_buf_puts(b, "\\r"); break;
        case '\t': hm_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(e, sizeof e, "\\u%04x", *p);
                hm_buf_puts(b, e);
            } else {
                hm_buf_put(b, (const char *)p, 1);
            }
        }
    }
    hm_buf_put(b, "\"", 1);
}

void hm_tojson(hm_buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        hm_buf_puts(b, "null");
    } else if (cJSON_IsTrue(v)) {
        hm_buf_puts(b, "true");
    } else if (cJSON_IsFalse(v)) {
        hm_buf_puts(b, "false");
    } else if (cJSON_IsNumber(v)) {
        put_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        put_string(b, v->valuestring);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v);
        hm_buf_puts(b, obj ? "{" : "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                hm_buf_puts(b, ", ");
            if (obj) {
                put_string(b, e->string ? e->string : "");
                hm_buf_puts(b, ": ");
            }
            hm_tojson(b, e);
        }
        hm_buf_puts(b, obj ? "}" : "]");
    } else {
        hm_buf_puts(b, "null");
    }
}

/* ---- the template's value tests ---- */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* Jinja truthiness: false, null, 0, "", [] and {} are false; absent too. */
static int truthy(const cJSON *v)
{
    if (!v || cJSON_IsFalse(v) || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsString(v))
        return v->valuestring[0] != 0;
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return 1;
}

static int is_str(const cJSON *v, const char *s) { return cJSON_IsString(v) && !strcmp(v->valuestring, s); }

/* A value concatenated to a string ("..." + x): a string as itself,
 * anything else as its JSON. */
static void put_str_value(hm_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v))
        hm_buf_puts(b, v->valuestring);
    else
        hm_tojson(b, v);
}

/* `name not in (required or [])` */
static int optional(const char *name, const cJSON *required)
{
    if (!cJSON_IsArray(required))
        return 1;
    for (const cJSON *e = required->child; e; e = e->next)
        if (is_str(e, name))
            return 0;
    return 1;
}

/* Characters (code points) of a UTF-8 string: the template's |length. */
static size_t u8len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* render_typescript_type(param_spec, required_params). */
static void ts_type(hm_buf *b, const cJSON *spec)
{
    const cJSON *type = get(spec, "type"), *items = get(spec, "items"), *one_of = get(spec, "oneOf");
    if (is_str(type, "array")) {
        if (truthy(items)) {
            const cJSON *it = get(items, "type");
            if (is_str(it, "string")) {
                hm_buf_puts(b, "string[]");
            } else if (is_str(it, "number") || is_str(it, "integer")) {
                hm_buf_puts(b, "number[]");
            } else if (is_str(it, "boolean")) {
                hm_buf_puts(b, "boolean[]");
            } else {
                hm_buf inner = {0};
                ts_type(&inner, items);
                b->oom |= inner.oom;
                const char *is = inner.p ? inner.p : "";
                if (!strcmp(is, "object | object") || u8len(is, inner.n) > 50) {
                    hm_buf_puts(b, "any[]");
                } else {
                    hm_buf_put(b, is, inner.n);
                    hm_buf_puts(b, "[]");
                }
                free(inner.p);
            }
        } else {
            hm_buf_puts(b, "any[]");
        }
        if (truthy(get(spec, "nullable")))
            hm_buf_puts(b, " | null");
    } else if (cJSON_IsArray(type) && type->child) {
        /* a list of types, e.g. ["object", "object"] from Union[dict, list] */
        for (const cJSON *e = type->child; e; e = e->next) {
            if (e != type->child)
                hm_buf_puts(b, " | ");
            put_str_value(b, e);
        }
    } else if (truthy(one_of)) {
        /* The template sets has_object_variants inside a for loop; a Jinja
         * `set` there does not outlive the loop, so it is always false and
         * the "any" shortcut never applies: every variant is rendered. */
        for (const cJSON *v = cJSON_IsArray(one_of) ? one_of->child : NULL; v; v = v->next) {
            ts_type(b, v);
            if (truthy(get(v, "description"))) {
                hm_buf_puts(b, "// ");
                put_str_value(b, get(v, "description"));
            }
            if (get(v, "default")) {
                hm_buf_puts(b, "                    // default: ");
                hm_tojson(b, get(v, "default"));
            }
            if (v->next)
                hm_buf_puts(b, " | \n");
        }
    } else if (is_str(type, "string")) {
        const cJSON *en = get(spec, "enum");
        if (truthy(en)) {
            hm_buf_puts(b, "\"");
            for (const cJSON *e = cJSON_IsArray(en) ? en->child : NULL; e; e = e->next) {
                if (e != en->child)
                    hm_buf_puts(b, "\" | \"");
                put_str_value(b, e);
            }
            hm_buf_puts(b, "\"");
        } else {
            hm_buf_puts(b, "string");
            if (truthy(get(spec, "nullable")))
                hm_buf_puts(b, " | null");
        }
    } else if (is_str(type, "number") || is_str(type, "integer")) {
        hm_buf_puts(b, "number");
    } else if (is_str(type, "boolean")) {
        hm_buf_puts(b, "boolean");
    } else if (is_str(type, "object")) {
        const cJSON *props = get(spec, "properties");
        if (truthy(props)) {
            hm_buf_puts(b, "{\n");
            for (const cJSON *p = cJSON_IsObject(props) ? props->child : NULL; p; p = p->next) {
                hm_buf_puts(b, p->string);
                if (optional(p->string, get(spec, "required")))
                    hm_buf_puts(b, "?");
                hm_buf_puts(b, ": \n                "); /* the template's own line break and indent */
                ts_type(b, p);
                if (p->next)
                    hm_buf_puts(b, ", ");
            }
            hm_buf_puts(b, "}");
        } else {
            hm_buf_puts(b, "object");
        }
    } else {
        hm_buf_puts(b, "any");
    }
}

int hm_tools_namespace(hm_buf *b, const cJSON *tools, char *err, size_t errlen)
{
    hm_buf_puts(b, "## functions\n\nnamespace functions {\n\n");
    int i = 0;
    for (const cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t; t = t->next, i++) {
        const cJSON *f = get(t, "function");
        const cJSON *name = get(f, "name"), *desc = get(f, "description");
        if (!cJSON_IsObject(f) || !cJSON_IsString(name) || !name->valuestring[0] || !cJSON_IsString(desc)) {
            gio_errf(err, errlen, "tools[%d]: a tool is {\"type\": \"function\", \"function\": {\"name\": ..., "
                     "\"description\": ..., \"parameters\": {...}}} (the chat template reads those keys)", i);
            return -1;
        }
        hm_buf_puts(b, "// ");
        hm_buf_puts(b, desc->valuestring);
        hm_buf_puts(b, "\ntype ");
        hm_buf_puts(b, name->valuestring);
        hm_buf_puts(b, " = ");
        const cJSON *params = get(f, "parameters"), *props = get(params, "properties");
        if (truthy(params) && truthy(props)) {
            const cJSON *required = get(params, "required");
            hm_buf_puts(b, "(_: {\n");
            for (const cJSON *p = cJSON_IsObject(props) ? props->child : NULL; p; p = p->next) {
                if (truthy(get(p, "description"))) {
                    hm_buf_puts(b, "// ");
                    put_str_value(b, get(p, "description"));
                    hm_buf_puts(b, "\n");
                }
                hm_buf_puts(b, p->string);
                if (optional(p->string, required))
                    hm_buf_puts(b, "?");
                hm_buf_puts(b, ": ");
                ts_type(b, p);
                const cJSON *def = get(p, "default");
                if (def) {
                    if (truthy(get(p, "enum"))) {
                        hm_buf_puts(b, ", // default: ");
                        put_str_value(b, def);
                    } else if (truthy(get(p, "oneOf"))) {
                        hm_buf_puts(b, "// default: ");
                        put_str_value(b, def);
                    } else {
                        hm_buf_puts(b, ", // default: ");
                        hm_tojson(b, def);
                    }
                }
                hm_buf_puts(b, ",\n"); /* last or not: the template writes ",\n" both ways */
            }
            hm_buf_puts(b, "}) => any;\n\n");
        } else {
            hm_buf_puts(b, "() => any;\n\n");
        }
    }
    hm_buf_puts(b, "} // namespace functions");
    if (b->oom) {
        gio_errf(err, errlen, "out of memory rendering the tools");
        return -1;
    }
    return 0;
}
