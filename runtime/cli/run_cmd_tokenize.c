/* run_cmd_tokenize.c - `gptoss-run tokenize` and `gptoss-run detokenize`:
 * text <-> ids with the model's own tokenizer (from a .gptoss file or a
 * tokenizer.json), for scripts and for checking against other tokenizers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gio_cli.h"
#include "gio_read.h"
#include "ppl_harmony.h"
#include "run_commands.h"
#include "tokenizer.h"

static tok_tokenizer *load(const gio_opt *p, const char *path, int *rc)
{
    if ((*rc = gio_check_file(p, path, "a .gptoss model or a tokenizer.json")) != 0)
        return NULL;
    char why[1024];
    FILE *f = gio_fopen_read(path, why, sizeof why); /* a FIFO is refused, not waited on */
    if (!f) {
        *rc = gio_fail(p, errno == EINVAL ? RUN_EXIT_BAD_INPUT : RUN_EXIT_IO, "%s", why);
        return NULL;
    }
    fclose(f);
    char err[1024];
    tok_tokenizer *t = tok_load_file(path, err, sizeof err);
    if (!t)
        *rc = gio_fail(p, RUN_EXIT_BAD_INPUT, "%s\n(FILE must be a .gptoss model or a Hugging Face tokenizer.json)",
                       err);
    return t;
}

static void tokenize_usage(FILE *o)
{
    fprintf(o,
            "usage: gptoss-run tokenize FILE (--text S | --file PATH) [--json] [--no-special] [--harmony]\n\n"
            "Turns text into token ids with the model's own tokenizer and prints them, space separated\n"
            "(a JSON array with --json; errors: {\"error\":{\"code\":N,\"message\":...}}).\n"
            "FILE is a .gptoss model, a GGUF or a tokenizer.json. Special-token strings such as <|start|>\n"
            "become their ids unless --no-special is given (then they are plain text).\n"
            "Invalid UTF-8 is encoded byte by byte (see docs/TOKENIZER.md).\n"
            "  --text S, --file PATH    the text itself, or a file holding it\n"
            "  --harmony                the ids `ppl --harmony` evaluates: the conversation it wraps the text\n"
            "                           in (system, user \"" PPL_HARMONY_PROMPT "\", the opening of the\n"
            "                           assistant's final answer), then the text as plain text\n\n"
            GIO_EXIT_HELP);
}

int cmd_tokenize(int argc, char **argv)
{
    const char *file = NULL, *text = NULL, *text_path = NULL;
    int json = 0, special = 1, harmony = 0;
    enum { O_JSON = 256, O_NOSPECIAL, O_TEXT, O_FILE, O_HARMONY };
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, O_JSON},
                                       {"no-special", no_argument, NULL, O_NOSPECIAL},
                                       {"text", required_argument, NULL, O_TEXT},
                                       {"file", required_argument, NULL, O_FILE},
                                       {"harmony", no_argument, NULL, O_HARMONY}, {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-run tokenize", argc, argv);
    json = p.json;
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': tokenize_usage(stdout); return RUN_EXIT_OK;
        case O_JSON: json = 1; break;
        case O_NOSPECIAL: special = 0; break;
        case O_TEXT: text = p.arg; break;
        case O_FILE: text_path = p.arg; break;
        case O_HARMONY: harmony = 1; break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file)
            return gio_fail(&p, RUN_EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        file = argv[i];
    }
    if (!file || (!text == !text_path))
        return gio_fail(&p, RUN_EXIT_USAGE, "need FILE and exactly one of --text / --file (see --help)");
    size_t len = text ? strlen(text) : 0;
    char *buf = NULL;
    if (text_path) {
        char why[1024];
        buf = gio_read_file(text_path, 0, &len, why, sizeof why); /* refuses a FIFO */
        if (!buf)
            return gio_fail(&p, RUN_EXIT_IO, "%s", why);
        text = buf;
    }
    int rc = RUN_EXIT_OK;
    tok_tokenizer *t = load(&p, file, &rc);
    if (!t) { free(buf); return rc; }
    tok_ids ids = {0};
    char herr[1024];
    /* --harmony: the ids `ppl --harmony` evaluates for this text (before
     * it is cut into chunks): the conversation, then the text as plain text */
    if (harmony && ppl_harmony_prefix(t, &ids, herr, sizeof herr) != 0) {
        rc = gio_fail(&p, RUN_EXIT_BAD_INPUT, "%s", herr);
        tok_ids_free(&ids);
        tok_free(t);
        free(buf);
        return rc;
    }
    int erc = tok_encode(t, text, len, special && !harmony, &ids);
    if (erc) {
        rc = gio_fail(&p, erc == TOK_ENCODE_REGEX ? RUN_EXIT_BAD_INPUT : RUN_EXIT_FAIL, "%s", tok_encode_error(t));
    } else if (json) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < ids.n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(ids.ids[i]));
        if (gio_json_print(a))
            rc = RUN_EXIT_IO;
    } else {
        for (size_t i = 0; i < ids.n; i++)
            printf("%s%d", i ? " " : "", (int)ids.ids[i]);
        fputs("\n", stdout);
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
            "Turns token ids back into text: writes the exact bytes of the ids to stdout. PATH holds\n"
            "ids separated by commas, spaces or newlines (a JSON array works). With --json prints\n"
            "{\"text\", \"n_bytes\", \"valid_utf8\"}, where bytes that are not UTF-8 show as U+FFFD\n"
            "(errors: {\"error\":{\"code\":N,\"message\":...}}). FILE is a .gptoss model, a GGUF or\n"
            "a tokenizer.json; an id that is not a token is bad input (3).\n\n"
            GIO_EXIT_HELP);
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

int cmd_detokenize(int argc, char **argv)
{
    const char *file = NULL, *ids_arg = NULL, *ids_path = NULL;
    int json = 0;
    enum { O_JSON = 256, O_IDS, O_FILE };
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, O_JSON},
                                       {"ids", required_argument, NULL, O_IDS},
                                       {"file", required_argument, NULL, O_FILE}, {NULL, 0, NULL, 0}};
    gio_opt p;
    gio_opt_init(&p, "gptoss-run detokenize", argc, argv);
    json = p.json;
    int c;
    while ((c = gio_opt_next(&p, argc, argv, "h", lo)) != -1) {
        switch (c) {
        case 'h': detokenize_usage(stdout); return RUN_EXIT_OK;
        case O_JSON: json = 1; break;
        case O_IDS: ids_arg = p.arg; break;
        case O_FILE: ids_path = p.arg; break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file)
            return gio_fail(&p, RUN_EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        file = argv[i];
    }
    if (!file || (!ids_arg == !ids_path))
        return gio_fail(&p, RUN_EXIT_USAGE, "need FILE and exactly one of --ids / --file (see --help)");
    char *buf = NULL;
    if (ids_path) {
        size_t len;
        char why[1024];
        buf = gio_read_file(ids_path, 0, &len, why, sizeof why); /* refuses a FIFO */
        if (!buf)
            return gio_fail(&p, RUN_EXIT_IO, "%s", why);
        ids_arg = buf;
    }
    tok_ids ids = {0};
    if (parse_ids(ids_arg, &ids)) {
        tok_ids_free(&ids);
        free(buf);
        return gio_fail(&p, RUN_EXIT_USAGE, "%s: ids must be integers separated by commas or spaces",
                        ids_path ? ids_path : "--ids");
    }
    free(buf);
    int rc = RUN_EXIT_OK;
    tok_tokenizer *t = load(&p, file, &rc);
    if (!t) { tok_ids_free(&ids); return rc; }
    size_t n = 0, bad = 0;
    char *text = tok_decode(t, ids.ids, ids.n, &n, &bad);
    if (!text) {
        if (bad == (size_t)-1)
            rc = gio_fail(&p, RUN_EXIT_FAIL, "out of memory");
        else
            rc = gio_fail(&p, RUN_EXIT_BAD_INPUT, "id %d (position %zu) is not a token of %s (ids run 0..%d)",
                          (int)ids.ids[bad], bad, file, (int)tok_n_ids(t) - 1);
    } else if (json) {
        int valid = 1;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "text", gio_json_utf8(text, n, &valid));
        cJSON_AddNumberToObject(j, "n_bytes", (double)n);
        cJSON_AddBoolToObject(j, "valid_utf8", valid);
        if (gio_json_print(j))
            rc = RUN_EXIT_IO;
    } else {
        fwrite(text, 1, n, stdout);
    }
    free(text);
    tok_ids_free(&ids);
    tok_free(t);
    return rc;
}
