/* run_cmd_tokenize.c - `gptoss-run tokenize` and `gptoss-run detokenize`:
 * text <-> ids with the model's own tokenizer (from a .gptoss file or a
 * tokenizer.json), for scripts and for checking against other tokenizers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_read.h"
#include "run_commands.h"
#include "tokenizer.h"

static tok_tokenizer *load(const char *cmd, const char *path, int *rc)
{
    char why[1024];
    FILE *f = gio_fopen_read(path, why, sizeof why); /* a FIFO is refused, not waited on */
    if (!f) {
        fprintf(stderr, "gptoss-run %s: %s\n", cmd, why);
        *rc = RUN_EXIT_IO;
        return NULL;
    }
    fclose(f);
    char err[1024];
    tok_tokenizer *t = tok_load_file(path, err, sizeof err);
    if (!t) {
        fprintf(stderr, "gptoss-run %s: %s\n(FILE must be a .gptoss model or a Hugging Face tokenizer.json)\n",
                cmd, err);
        *rc = RUN_EXIT_BAD_INPUT;
    }
    return t;
}

static void tokenize_usage(FILE *o)
{
    fprintf(o,
            "usage: gptoss-run tokenize FILE (--text S | --file PATH) [--json] [--no-special]\n\n"
            "Prints the token ids of the text, space separated (a JSON array with --json).\n"
            "FILE is a .gptoss model, a GGUF or a tokenizer.json. Special-token strings such as <|start|>\n"
            "become their ids unless --no-special is given (then they are plain text).\n"
            "Invalid UTF-8 is encoded byte by byte (see docs/TOKENIZER.md).\n"
            "exit codes: 0 ok, 2 usage, 3 bad tokenizer file, 4 cannot read a file\n");
}

int cmd_tokenize(int argc, char **argv)
{
    const char *file = NULL, *text = NULL, *text_path = NULL;
    int json = 0, special = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { tokenize_usage(stdout); return RUN_EXIT_OK; }
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--no-special")) special = 0;
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) text = argv[++i];
        else if (!strcmp(argv[i], "--file") && i + 1 < argc) text_path = argv[++i];
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else {
            fprintf(stderr, "gptoss-run tokenize: unexpected argument '%s'\n", argv[i]);
            tokenize_usage(stderr);
            return RUN_EXIT_USAGE;
        }
    }
    if (!file || (!text == !text_path)) {
        fprintf(stderr, "gptoss-run tokenize: need FILE and exactly one of --text / --file\n");
        tokenize_usage(stderr);
        return RUN_EXIT_USAGE;
    }
    size_t len = text ? strlen(text) : 0;
    char *buf = NULL;
    if (text_path) {
        char why[1024];
        buf = gio_read_file(text_path, 0, &len, why, sizeof why); /* refuses a FIFO */
        if (!buf) {
            fprintf(stderr, "gptoss-run tokenize: %s\n", why);
            return RUN_EXIT_IO;
        }
        text = buf;
    }
    int rc = RUN_EXIT_OK;
    tok_tokenizer *t = load("tokenize", file, &rc);
    if (!t) { free(buf); return rc; }
    tok_ids ids = {0};
    int erc = tok_encode(t, text, len, special, &ids);
    if (erc) {
        fprintf(stderr, "gptoss-run tokenize: %s\n", tok_encode_error(t));
        rc = erc == TOK_ENCODE_REGEX ? RUN_EXIT_BAD_INPUT : RUN_EXIT_FAIL;
    } else {
        fputs(json ? "[" : "", stdout);
        for (size_t i = 0; i < ids.n; i++)
            printf("%s%d", i ? (json ? "," : " ") : "", (int)ids.ids[i]);
        fputs(json ? "]\n" : "\n", stdout);
    }
    tok_ids_free(&ids);
    tok_free(t);
    free(buf);
    return rc;
}

static void detokenize_usage(FILE *o)
{
    fprintf(o,
            "usage: gptoss-run detokenize FILE (--ids 1,2,3 | --file PATH) [--json]\n\n"
            "Writes the exact bytes of the ids to stdout. PATH holds ids separated by commas,\n"
            "spaces or newlines (a JSON array works). With --json prints {\"text\", \"n_bytes\",\n"
            "\"valid_utf8\"}, where bytes that are not UTF-8 show as U+FFFD.\n"
            "exit codes: 0 ok, 2 usage, 3 bad tokenizer file or an id that is not a token,\n"
            "4 cannot read a file\n");
}

/* Parses ids separated by anything that is not a digit or '-'. */
static int parse_ids(const char *s, tok_ids *out)
{
    const char *p = s;
    while (*p) {
        if ((*p >= '0' && *p <= '9') || *p == '-') {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < -2147483647L || v > 2147483647L) return -1;
            if (tok_ids_push(out, (int32_t)v)) return -1;
            p = end;
        } else if (*p == ',' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == '[' || *p == ']') {
            p++;
        } else {
            return -1;
        }
    }
    return 0;
}

static void json_string(FILE *o, const char *s, size_t n, int *valid)
{
    *valid = 1;
    fputc('"', o);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { fprintf(o, "\\%c", c); i++; }
        else if (c == '\n') { fputs("\\n", o); i++; }
        else if (c == '\t') { fputs("\\t", o); i++; }
        else if (c == '\r') { fputs("\\r", o); i++; }
        else if (c < 0x20 || c == 0x7F) { fprintf(o, "\\u%04x", c); i++; }
        else if (c < 0x80) { fputc(c, o); i++; }
        else {
            /* copy a whole well-formed character, or U+FFFD for a stray byte */
            int cl = tok_utf8_char_len((const unsigned char *)s + i, n - i);
            if (cl) { fwrite(s + i, 1, (size_t)cl, o); i += (size_t)cl; }
            else { fputs("\\ufffd", o); *valid = 0; i++; }
        }
    }
    fputc('"', o);
}

int cmd_detokenize(int argc, char **argv)
{
    const char *file = NULL, *ids_arg = NULL, *ids_path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { detokenize_usage(stdout); return RUN_EXIT_OK; }
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--ids") && i + 1 < argc) ids_arg = argv[++i];
        else if (!strcmp(argv[i], "--file") && i + 1 < argc) ids_path = argv[++i];
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else {
            fprintf(stderr, "gptoss-run detokenize: unexpected argument '%s'\n", argv[i]);
            detokenize_usage(stderr);
            return RUN_EXIT_USAGE;
        }
    }
    if (!file || (!ids_arg == !ids_path)) {
        fprintf(stderr, "gptoss-run detokenize: need FILE and exactly one of --ids / --file\n");
        detokenize_usage(stderr);
        return RUN_EXIT_USAGE;
    }
    char *buf = NULL;
    if (ids_path) {
        size_t len;
        char why[1024];
        buf = gio_read_file(ids_path, 0, &len, why, sizeof why); /* refuses a FIFO */
        if (!buf) {
            fprintf(stderr, "gptoss-run detokenize: %s\n", why);
            return RUN_EXIT_IO;
        }
        ids_arg = buf;
    }
    tok_ids ids = {0};
    if (parse_ids(ids_arg, &ids)) {
        fprintf(stderr, "gptoss-run detokenize: %s: ids must be integers separated by commas or spaces\n",
                ids_path ? ids_path : "--ids");
        tok_ids_free(&ids);
        free(buf);
        return RUN_EXIT_USAGE;
    }
    free(buf);
    int rc = RUN_EXIT_OK;
    tok_tokenizer *t = load("detokenize", file, &rc);
    if (!t) { tok_ids_free(&ids); return rc; }
    size_t n = 0, bad = 0;
    char *text = tok_decode(t, ids.ids, ids.n, &n, &bad);
    if (!text) {
        if (bad == (size_t)-1) {
            fprintf(stderr, "gptoss-run detokenize: out of memory\n");
            rc = RUN_EXIT_FAIL;
        } else {
            fprintf(stderr, "gptoss-run detokenize: id %d (position %zu) is not a token of %s (ids run 0..%d)\n",
                    (int)ids.ids[bad], bad, file, (int)tok_n_ids(t) - 1);
            rc = RUN_EXIT_BAD_INPUT;
        }
    } else if (json) {
        int valid;
        fputs("{\"text\":", stdout);
        json_string(stdout, text, n, &valid);
        printf(",\"n_bytes\":%zu,\"valid_utf8\":%s}\n", n, valid ? "true" : "false");
    } else {
        fwrite(text, 1, n, stdout);
    }
    free(text);
    tok_ids_free(&ids);
    tok_free(t);
    return rc;
}
