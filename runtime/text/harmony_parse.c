/* harmony_parse.c - splitting the model's generated ids into harmony
 * messages (role, channel, recipient, content type, content); see
 * harmony.h. The rendering side is harmony.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harmony.h"

enum { ST_WAIT_START, ST_HEADER, ST_CONTENT, ST_STOPPED };

struct hm_parser {
    const tok_tokenizer *tok;
    int32_t id_start, id_end, id_message, id_channel, id_constrain, id_return, id_call;
    int state;
    hm_status stop;
    /* header being read: text before <|channel|>, after it, after <|constrain|> */
    char head[3][256];
    size_t head_len[3];
    int head_part;
    char initial_role[32];
    hm_parsed_message *msgs;
    size_t n, cap;
    tok_stream stream;
    char delta[TOK_STREAM_MAX_OUT];
};

hm_parser *hm_parser_new(const tok_tokenizer *t, const char *initial_role)
{
    hm_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->tok = t;
    p->id_start = tok_special_id(t, "<|start|>");
    p->id_end = tok_special_id(t, "<|end|>");
    p->id_message = tok_special_id(t, "<|message|>");
    p->id_channel = tok_special_id(t, "<|channel|>");
    p->id_constrain = tok_special_id(t, "<|constrain|>");
    p->id_return = tok_special_id(t, "<|return|>");
    p->id_call = tok_special_id(t, "<|call|>");
    p->state = initial_role ? ST_HEADER : ST_WAIT_START;
    if (initial_role) snprintf(p->initial_role, sizeof p->initial_role, "%s", initial_role);
    return p;
}

void hm_parser_free(hm_parser *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->msgs[i].content);
    free(p->msgs);
    free(p);
}

size_t hm_parser_count(const hm_parser *p) { return p->n; }

const hm_parsed_message *hm_parser_message(const hm_parser *p, size_t i)
{
    return i < p->n ? &p->msgs[i] : NULL;
}

const hm_parsed_message *hm_parser_find(const hm_parser *p, const char *channel)
{
    for (size_t i = p->n; i-- > 0;)
        if (!strcmp(p->msgs[i].channel, channel)) return &p->msgs[i];
    return NULL;
}

static void copy_word(char *dst, size_t cap, const char *w, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, w, n);
    dst[n] = 0;
}

/* Splits the header text into role, channel, recipient and content type:
 * "assistant to=functions.f" | "commentary to=functions.f " | "json". */
static void parse_header(hm_parser *p, hm_parsed_message *m)
{
    snprintf(m->role, sizeof m->role, "%s", p->initial_role);
    for (int part = 0; part < 3; part++) {
        const char *s = p->head[part];
        size_t n = p->head_len[part], i = 0;
        int words = 0;
        while (i < n) {
            while (i < n && (s[i] == ' ' || s[i] == '\n')) i++;
            size_t b = i;
            while (i < n && s[i] != ' ' && s[i] != '\n') i++;
            if (i == b) break;
            const char *w = s + b;
            size_t wl = i - b;
            if (wl > 3 && !memcmp(w, "to=", 3)) copy_word(m->recipient, sizeof m->recipient, w + 3, wl - 3);
            else if (part == 0 && !m->role[0]) copy_word(m->role, sizeof m->role, w, wl);
            else if (part == 1 && words == 0) copy_word(m->channel, sizeof m->channel, w, wl);
            else copy_word(m->content_type, sizeof m->content_type, w, wl);
            if (!(wl > 3 && !memcmp(w, "to=", 3))) words++;
        }
    }
    p->initial_role[0] = 0;
    memset(p->head_len, 0, sizeof p->head_len);
    p->head_part = 0;
}

static int append_content(hm_parsed_message *m, const char *s, size_t n)
{
    char *nc = realloc(m->content, m->content_len + n + 1);
    if (!nc) return -1;
    m->content = nc;
    memcpy(m->content + m->content_len, s, n);
    m->content_len += n;
    m->content[m->content_len] = 0;
    return 0;
}

static void finish_message(hm_parser *p)
{
    hm_parsed_message *m = &p->msgs[p->n - 1];
    int k = tok_stream_flush(&p->stream, p->delta, sizeof p->delta);
    if (k > 0) append_content(m, p->delta, (size_t)k);
    m->complete = 1;
}

hm_status hm_parser_push(hm_parser *p, int32_t id, const char **delta, size_t *delta_len, size_t *delta_msg)
{
    if (delta) *delta = p->delta, *delta_len = 0;
    if (delta_msg) *delta_msg = p->n ? p->n - 1 : 0;
    if (p->state == ST_STOPPED) return p->stop;
    size_t blen;
    const char *bytes = tok_token_bytes(p->tok, id, &blen);
    if (!bytes) return HM_ERROR;

    if (id == p->id_start) { /* a new message; an unfinished one is closed */
        if (p->state == ST_CONTENT) finish_message(p);
        memset(p->head_len, 0, sizeof p->head_len);
        p->head_part = 0;
        p->initial_role[0] = 0;
        p->state = ST_HEADER;
        return HM_CONTINUE;
    }
    if (p->state == ST_WAIT_START) {
        /* text between messages is out of format; read it as a header */
        p->state = ST_HEADER;
    }
    if (p->state == ST_HEADER) {
        if (id == p->id_channel) { p->head_part = 1; return HM_CONTINUE; }
        if (id == p->id_constrain) { p->head_part = 2; return HM_CONTINUE; }
        if (id == p->id_message) {
            if (p->n == p->cap) {
                size_t nc = p->cap ? p->cap * 2 : 8;
                hm_parsed_message *nm = realloc(p->msgs, nc * sizeof *nm);
                if (!nm) return HM_ERROR;
                p->msgs = nm;
                p->cap = nc;
            }
            hm_parsed_message *m = &p->msgs[p->n++];
            memset(m, 0, sizeof *m);
            if (append_content(m, "", 0)) return HM_ERROR;
            parse_header(p, m);
            tok_stream_init(&p->stream);
            p->state = ST_CONTENT;
            if (delta_msg) *delta_msg = p->n - 1;
            return HM_CONTINUE;
        }
        if (id == p->id_end || id == p->id_return || id == p->id_call) {
            /* header without a body: nothing to report, but honour stops */
            if (id == p->id_end) { p->state = ST_WAIT_START; return HM_CONTINUE; }
            p->state = ST_STOPPED;
            p->stop = id == p->id_return ? HM_STOP_RETURN : HM_STOP_CALL;
            return p->stop;
        }
        size_t room = sizeof p->head[0] - 1 - p->head_len[p->head_part];
        if (blen > room) blen = room; /* over-long headers are cut, not fatal */
        memcpy(p->head[p->head_part] + p->head_len[p->head_part], bytes, blen);
        p->head_len[p->head_part] += blen;
        return HM_CONTINUE;
    }
    /* ST_CONTENT */
    if (id == p->id_end || id == p->id_return || id == p->id_call) {
        finish_message(p);
        if (id == p->id_end) {
            p->state = ST_WAIT_START;
            return HM_CONTINUE;
        }
        p->state = ST_STOPPED;
        p->stop = id == p->id_return ? HM_STOP_RETURN : HM_STOP_CALL;
        return p->stop;
    }
    int k = tok_stream_push(&p->stream, p->tok, id, p->delta, sizeof p->delta);
    if (k < 0) return HM_ERROR;
    if (append_content(&p->msgs[p->n - 1], p->delta, (size_t)k)) return HM_ERROR;
    if (delta_len) *delta_len = (size_t)k;
    return HM_CONTINUE;
}
