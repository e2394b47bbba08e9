/* harmony_render.c - rendering conversations in the harmony format (see
 * harmony.h). It mirrors gpt-oss's chat_template.jinja step by step; the
 * comments name the template's branches. The JSON it renders (tools,
 * arguments, tool results) is harmony_tools.c's; parsing the model's output
 * is harmony_parse.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gio_err.h"
#include "harmony.h"
#include "harmony_impl.h"

#define set_err gio_errf /* the project's one error-message helper (gio_err.h) */

/* The rendering is a list of pieces: a special token, or plain text. One
 * walk over the conversation feeds either a string builder (hm_render) or
 * the tokenizer (hm_encode), so both are the same by construction. */
typedef struct {
    hm_buf text; /* text mode: the rendering; id mode: the text since the last special */
    /* id sink */
    tok_tokenizer *tok;
    tok_ids *ids;
    int failed;
    char *err;
    size_t errlen;
} sink;

static void put_bytes(sink *s, const char *p, size_t n)
{
    if (s->failed || n == 0) return;
    hm_buf_put(&s->text, p, n);
    if (s->text.oom) {
        set_err(s->err, s->errlen, "out of memory rendering the conversation");
        s->failed = 1;
    }
}

static void text(sink *s, const char *p)
{
    put_bytes(s, p, strlen(p));
}

/* Id mode: the text since the last special token is encoded as one piece
 * (as plain text), exactly the span HF would see between two specials. */
static void flush_text(sink *s)
{
    if (!s->tok || s->failed || s->text.n == 0) return;
    if (tok_encode(s->tok, s->text.p, s->text.n, 0, s->ids)) {
        set_err(s->err, s->errlen, "encoding the conversation: %s", tok_encode_error(s->tok));
        s->failed = 1;
    }
    s->text.n = 0;
}

static void special(sink *s, const char *name)
{
    if (s->failed) return;
    if (!s->tok) {
        text(s, name);
        return;
    }
    flush_text(s);
    int32_t id = tok_special_id(s->tok, name);
    if (id < 0) {
        set_err(s->err, s->errlen, "the tokenizer has no %s token: not a gpt-oss tokenizer?", name);
        s->failed = 1;
        return;
    }
    if (tok_ids_push(s->ids, id)) {
        set_err(s->err, s->errlen, "out of memory encoding the conversation");
        s->failed = 1;
    }
}

static int has_channel_tags(const char *s)
{
    return s && (strstr(s, "<|channel|>analysis<|message|>") || strstr(s, "<|channel|>final<|message|>"));
}

/* JSON text rendered as the template's |tojson renders the value. */
static void json_text(sink *s, const char *json, const char *what, size_t i)
{
    if (s->failed)
        return;
    cJSON *v = cJSON_Parse(json ? json : "");
    if (!v) {
        set_err(s->err, s->errlen, "message %zu: %s: not valid JSON", i, what);
        s->failed = 1;
        return;
    }
    hm_buf b = {0};
    hm_tojson(&b, v);
    cJSON_Delete(v);
    if (b.oom) {
        set_err(s->err, s->errlen, "out of memory rendering the conversation");
        s->failed = 1;
    } else if (b.p) {
        text(s, b.p);
    }
    free(b.p);
}

/* The same for a plain string (a tool result given as text). */
static void json_string(sink *s, const char *str)
{
    cJSON *v = cJSON_CreateString(str ? str : "");
    hm_buf b = {0};
    if (v)
        hm_tojson(&b, v);
    cJSON_Delete(v);
    if (!v || b.oom) {
        set_err(s->err, s->errlen, "out of memory rendering the conversation");
        s->failed = 1;
    } else {
        text(s, b.p);
    }
    free(b.p);
}

static int check_messages(sink *s, const hm_message *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *r = msgs[i].role;
        if (!r || (strcmp(r, "system") && strcmp(r, "developer") && strcmp(r, "user") && strcmp(r, "assistant") &&
                   strcmp(r, "tool"))) {
            set_err(s->err, s->errlen, "message %zu: role '%s' is not one of system, developer, user, assistant, "
                    "tool", i, r ? r : "(null)");
            return -1;
        }
        if (!msgs[i].content && strcmp(r, "assistant")) {
            set_err(s->err, s->errlen, "message %zu (%s) has no content", i, r);
            return -1;
        }
        if (!strcmp(r, "assistant") && (has_channel_tags(msgs[i].content) || has_channel_tags(msgs[i].thinking))) {
            set_err(s->err, s->errlen, "message %zu: assistant text contains <|channel|> tags; pass the analysis "
                    "as thinking and the answer as content", i);
            return -1;
        }
        /* the template's raise_exception for a call carrying both */
        if (!strcmp(r, "assistant") && msgs[i].tool_name && msgs[i].content && msgs[i].content[0] &&
            msgs[i].thinking && msgs[i].thinking[0]) {
            set_err(s->err, s->errlen, "message %zu: an assistant message with a tool call cannot carry both "
                    "content and thinking; put the analysis in one of them", i);
            return -1;
        }
    }
    return 0;
}

static int render(sink *s, const hm_options *opt, const hm_message *msgs, size_t n, int add_generation_prompt)
{
    hm_options def = {0};
    if (!opt)
        opt = &def;
    const char *reasoning = opt->reasoning ? opt->reasoning : "medium";
    if (strcmp(reasoning, "low") && strcmp(reasoning, "medium") && strcmp(reasoning, "high")) {
        set_err(s->err, s->errlen, "reasoning effort '%s': use low, medium or high", reasoning);
        return -1;
    }
    char today[16];
    const char *date = opt->current_date;
    if (!date) {
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        strftime(today, sizeof today, "%Y-%m-%d", &tmv);
        date = today;
    }
    if (check_messages(s, msgs, n))
        return -1;
    cJSON *tools = NULL;
    if (opt->tools_json) {
        tools = cJSON_Parse(opt->tools_json);
        if (!cJSON_IsArray(tools)) {
            cJSON_Delete(tools);
            set_err(s->err, s->errlen, "the tools are not a JSON array of {\"type\": \"function\", \"function\": "
                    "{...}} definitions");
            return -1;
        }
    }
    int have_tools = tools && tools->child; /* the template's `if tools`: an empty list is none */

    /* build_system_message() */
    special(s, "<|start|>");
    text(s, "system");
    special(s, "<|message|>");
    text(s, opt->model_identity ? opt->model_identity : HM_DEFAULT_IDENTITY);
    text(s, "\nKnowledge cutoff: ");
    text(s, opt->knowledge_cutoff ? opt->knowledge_cutoff : HM_DEFAULT_CUTOFF);
    text(s, "\nCurrent date: ");
    text(s, date);
    text(s, "\n\nReasoning: ");
    text(s, reasoning);
    text(s, "\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.");
    if (have_tools)
        text(s, "\nCalls to these tools must go to the commentary channel: 'functions'.");
    special(s, "<|end|>");

    /* a leading developer or system message becomes the developer message;
     * the template skips an empty one unless there are tools */
    size_t first = 0;
    const char *dev = "";
    if (n > 0 && (!strcmp(msgs[0].role, "developer") || !strcmp(msgs[0].role, "system"))) {
        first = 1;
        dev = msgs[0].content;
    }
    if (dev[0] || have_tools) {
        special(s, "<|start|>");
        text(s, "developer");
        special(s, "<|message|>");
        if (dev[0]) {
            text(s, "# Instructions\n\n");
            text(s, dev);
            text(s, "\n\n");
        }
        if (have_tools) {
            hm_buf b = {0};
            text(s, "# Tools\n\n");
            if (hm_tools_namespace(&b, tools, s->err, s->errlen))
                s->failed = 1;
            else
                text(s, b.p);
            free(b.p);
        }
        special(s, "<|end|>");
    }
    cJSON_Delete(tools);

    const char *last_call = NULL; /* the template's last_tool_call.name */
    for (size_t i = first; i < n && !s->failed; i++) {
        const hm_message *m = &msgs[i];
        int last = i + 1 == n;
        if (!strcmp(m->role, "user")) {
            special(s, "<|start|>");
            text(s, "user");
            special(s, "<|message|>");
            text(s, m->content);
            special(s, "<|end|>");
        } else if (!strcmp(m->role, "assistant") && m->tool_name) {
            /* A tool call. Its analysis (content or thinking) is kept unless
             * a later assistant message without a call (a final answer)
             * follows: the only analysis the template renders in inference. */
            int final_follows = 0;
            for (size_t j = i + 1; j < n; j++)
                final_follows |= !strcmp(msgs[j].role, "assistant") && !msgs[j].tool_name;
            const char *analysis = m->content && m->content[0] ? m->content
                                   : m->thinking && m->thinking[0] ? m->thinking : NULL;
            if (analysis && !final_follows) {
                special(s, "<|start|>");
                text(s, "assistant");
                special(s, "<|channel|>");
                text(s, "analysis");
                special(s, "<|message|>");
                text(s, analysis);
                special(s, "<|end|>");
            }
            special(s, "<|start|>");
            text(s, "assistant to=functions.");
            text(s, m->tool_name);
            special(s, "<|channel|>");
            text(s, "commentary ");
            const char *ct = m->tool_content_type ? m->tool_content_type : "json";
            if (!strncmp(ct, "<|constrain|>", 13)) {
                /* harmony's own spelling of a constrained format: the
                 * special token, as the tokenizer reads the template's text */
                special(s, "<|constrain|>");
                ct += 13;
            }
            text(s, ct);
            special(s, "<|message|>");
            json_text(s, m->tool_arguments ? m->tool_arguments : "{}", "tool-call arguments", i);
            special(s, "<|call|>");
            last_call = m->tool_name;
        } else if (!strcmp(m->role, "assistant")) {
            const char *content = m->content ? m->content : "";
            if (last && !add_generation_prompt && m->thinking) {
                /* training-style final turn: analysis kept, ends with <|return|> */
                special(s, "<|start|>");
                text(s, "assistant");
                special(s, "<|channel|>");
                text(s, "analysis");
                special(s, "<|message|>");
                text(s, m->thinking);
                special(s, "<|end|>");
            }
            special(s, "<|start|>");
            text(s, "assistant");
            special(s, "<|channel|>");
            text(s, "final");
            special(s, "<|message|>");
            text(s, content);
            special(s, last && !add_generation_prompt ? "<|return|>" : "<|end|>");
            if (!(last && !add_generation_prompt))
                last_call = NULL;
        } else if (!strcmp(m->role, "tool")) {
            if (!last_call) {
                set_err(s->err, s->errlen, "message %zu has role tool, but no assistant tool call comes before "
                        "it", i);
                s->failed = 1;
                break;
            }
            special(s, "<|start|>");
            text(s, "functions.");
            text(s, last_call);
            text(s, " to=assistant");
            special(s, "<|channel|>");
            text(s, "commentary");
            special(s, "<|message|>");
            if (m->content_json)
                json_text(s, m->content, "tool result", i);
            else
                json_string(s, m->content);
            special(s, "<|end|>");
        }
        /* a later system/developer message matches no branch of the template: dropped */
    }
    if (add_generation_prompt) {
        special(s, "<|start|>");
        text(s, "assistant");
        if (add_generation_prompt == HM_GEN_FINAL) {
            special(s, "<|channel|>");
            text(s, "final");
            special(s, "<|message|>");
        }
    }
    flush_text(s);
    return s->failed ? -1 : 0;
}

int hm_render(const hm_options *opt, const hm_message *msgs, size_t n, int add_generation_prompt, char **out,
              size_t *len, char *err, size_t errlen)
{
    sink s = {0};
    s.err = err;
    s.errlen = errlen;
    if (render(&s, opt, msgs, n, add_generation_prompt)) {
        free(s.text.p);
        return -1;
    }
    if (!s.text.p) { /* cannot happen: the system message is never empty */
        s.text.p = calloc(1, 1);
        if (!s.text.p) return -1;
    }
    *out = s.text.p;
    if (len) *len = s.text.n;
    return 0;
}

int hm_encode(tok_tokenizer *t, const hm_options *opt, const hm_message *msgs, size_t n, int add_generation_prompt,
              tok_ids *out, char *err, size_t errlen)
{
    sink s = {0};
    s.tok = t;
    s.ids = out;
    s.err = err;
    s.errlen = errlen;
    int rc = render(&s, opt, msgs, n, add_generation_prompt);
    free(s.text.p);
    return rc;
}
