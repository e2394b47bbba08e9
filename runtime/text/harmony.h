/* harmony.h - OpenAI's harmony chat format for gpt-oss: rendering a
 * conversation into the prompt, and parsing the model's output tokens back
 * into messages and channels.
 *
 * What it promises:
 *  - hm_render produces byte for byte what the model's chat template
 *    (chat_template.jinja of gpt-oss) renders for the same messages, tools
 *    and options: a system message (identity, knowledge cutoff, current
 *    date, "Reasoning: low|medium|high", the valid-channels line, and with
 *    tools the line sending calls to the commentary channel), a developer
 *    message ("# Instructions" when the first message has role "developer"
 *    or "system"; "# Tools" with the functions as a TypeScript-like
 *    namespace when tools are given), user turns, earlier assistant turns
 *    as their final channel only (their analysis is dropped, as the template
 *    does), assistant tool calls
 *    ("<|start|>assistant to=functions.NAME<|channel|>commentary json
 *    <|message|>ARGS<|call|>", their analysis kept unless a final answer
 *    follows), tool results ("<|start|>functions.NAME to=assistant
 *    <|channel|>commentary<|message|>RESULT<|end|>", RESULT as the
 *    template's |tojson), the last assistant turn with its analysis and
 *    <|return|> when no generation prompt follows, and the prefix
 *    "<|start|>assistant" for the next turn. tests/tokenizer checks text and
 *    ids against the jinja template rendered by @huggingface/jinja and the
 *    JS tokenizer (the template's builtin_tools browser/python are not
 *    supported).
 *  - hm_encode gives the ids of that text, with the special tokens as their
 *    ids and every piece of message text encoded as plain text, so a user
 *    who types "<|end|>" cannot inject a special token. For text without
 *    special-token strings the ids equal tok_encode(hm_render(...), 1).
 *  - hm_parser splits generated ids into messages (role, channel, recipient,
 *    content type, content bytes) and stops at <|return|> or <|call|>.
 */
#ifndef GQ_HARMONY_H
#define GQ_HARMONY_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

#define HM_DEFAULT_IDENTITY "You are ChatGPT, a large language model trained by OpenAI."
#define HM_DEFAULT_CUTOFF "2024-06"

typedef struct {
    const char *model_identity;   /* NULL: HM_DEFAULT_IDENTITY */
    const char *knowledge_cutoff; /* NULL: HM_DEFAULT_CUTOFF */
    const char *current_date;     /* "YYYY-MM-DD"; NULL: today (UTC) */
    const char *reasoning;        /* "low", "medium" or "high"; NULL: "medium" */
    /* The template's `tools`: a JSON array of function definitions
     * [{"type": "function", "function": {"name", "description",
     * "parameters": JSON schema}}] (the "function" wrapper may be left out),
     * or NULL / "[]" for none. */
    const char *tools_json;
} hm_options;

/* role: "system", "developer", "user", "assistant" or "tool".
 *  - thinking: the assistant's analysis, or NULL (the template's "thinking"
 *    key absent);
 *  - tool_name: an assistant message's tool call (the template's
 *    tool_calls[0].function.name), or NULL for none; tool_arguments its
 *    arguments as JSON text (rendered re-serialized, as |tojson renders the
 *    value: an object usually; a JSON string is rendered as a string);
 *    tool_content_type NULL for "json";
 *  - a "tool" message is the result of the latest call: content is its
 *    text, rendered as a JSON string, or with content_json set JSON text
 *    rendered re-serialized. */
typedef struct {
    const char *role;
    const char *content;
    const char *thinking;
    const char *tool_name;
    const char *tool_arguments;
    const char *tool_content_type;
    int content_json;
} hm_message;

/* add_generation_prompt of hm_render / hm_encode: */
#define HM_GEN_NONE 0   /* the conversation as it is (training-style last turn) */
#define HM_GEN_PROMPT 1 /* "<|start|>assistant": the model picks the channel */
/* "<|start|>assistant<|channel|>final<|message|>": the opening of a final
 * answer, exactly as the template renders a last assistant turn up to its
 * content (`ppl --harmony` scores text there). */
#define HM_GEN_FINAL 2

/* Renders into a malloc'ed NUL-terminated string. 0 on success, -1 with a
 * message in err (unknown role, reasoning not low/medium/high, an assistant
 * message carrying channel tags, a tool call with both content and
 * thinking, a tool result with no call before it, tools or arguments that
 * are not valid JSON, out of memory). */
int hm_render(const hm_options *opt, const hm_message *msgs, size_t n, int add_generation_prompt, char **out,
              size_t *len, char *err, size_t errlen);

/* The same conversation as ids (appended to out). -1 with err also when the
 * tokenizer lacks one of the harmony special tokens. */
int hm_encode(tok_tokenizer *t, const hm_options *opt, const hm_message *msgs, size_t n, int add_generation_prompt,
              tok_ids *out, char *err, size_t errlen);

/* ---- conversations from JSON ---- */

/* A conversation read from JSON text in the chat template's own terms: an
 * array of {"role", "content", "thinking", "tool_calls": [{"function":
 * {"name", "arguments"}}]} objects (or an object {"messages": [...],
 * "tools": [...]}). The messages point into the conversation. */
typedef struct {
    hm_message *msgs;
    size_t n;
    char *tools_json;  /* the "tools" array as JSON text, or NULL */
    void *priv;
} hm_conversation;

/* 0, or -1 with a message naming WHAT (the file) and the message index. */
int hm_conversation_parse(const char *json, size_t len, const char *what, hm_conversation *c, char *err,
                          size_t errlen);
void hm_conversation_free(hm_conversation *c);

/* ---- parsing generated tokens ---- */

typedef struct {
    char role[32];
    char channel[32];      /* "analysis", "commentary", "final" or "" */
    char recipient[128];   /* "functions.get_weather" from "to=functions.get_weather", or "" */
    char content_type[32]; /* "json" from "<|constrain|>json" or "commentary json", or "" */
    char *content;         /* the message text (NUL-terminated; may hold NULs: use content_len) */
    size_t content_len;
    int complete;          /* ended by <|end|>, <|return|> or <|call|> */
} hm_parsed_message;

typedef enum {
    HM_CONTINUE = 0,    /* keep generating */
    HM_STOP_RETURN = 1, /* <|return|>: the answer is complete */
    HM_STOP_CALL = 2,   /* <|call|>: a tool call is complete */
    HM_ERROR = -1       /* out of memory, or an id that is not a token */
} hm_status;

typedef struct hm_parser hm_parser;

/* initial_role: the role already opened by the prompt ("assistant" after
 * hm_render(..., add_generation_prompt=1)); NULL if output starts with <|start|>. */
hm_parser *hm_parser_new(const tok_tokenizer *t, const char *initial_role);
void hm_parser_free(hm_parser *p);

/* Feeds one generated id. If delta is not NULL it receives the content text
 * this id completed (whole UTF-8 characters only; may be empty) and
 * *delta_msg the index of its message. After a STOP the parser ignores
 * further ids and keeps returning the same status. */
hm_status hm_parser_push(hm_parser *p, int32_t id, const char **delta, size_t *delta_len, size_t *delta_msg);

size_t hm_parser_count(const hm_parser *p);
const hm_parsed_message *hm_parser_message(const hm_parser *p, size_t i);
/* The last message on channel CH ("final" for the answer), or NULL. */
const hm_parsed_message *hm_parser_find(const hm_parser *p, const char *channel);

#endif
