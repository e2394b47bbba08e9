/* tok_encode_docs.c - test helper: encode every string of a JSON array with
 * our tokenizer and write the ids as a JSON array of arrays, so that a script
 * can compare them with another implementation (the JS tokenizer, HF goldens).
 *
 * usage: tok_encode_docs TOKENIZER DOCS.json OUT.json [--no-special]
 * Also checks for every document that decode(encode(doc)) == doc and that
 * the streaming decoder yields the same bytes; exits 1 if not. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"
#include "read_file.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tok_encode_docs TOKENIZER DOCS.json OUT.json [--no-special]\n");
        return 2;
    }
    int special = !(argc > 4 && !strcmp(argv[4], "--no-special"));
    char err[1024];
    tok_tokenizer *t = tok_load_file(argv[1], err, sizeof err);
    if (!t) { fprintf(stderr, "%s\n", err); return 1; }
    size_t len;
    char *js = test_read_file(argv[2], &len);
    cJSON *docs = js ? cJSON_ParseWithLength(js, len) : NULL;
    if (!cJSON_IsArray(docs)) { fprintf(stderr, "%s: not a JSON array\n", argv[2]); return 1; }
    FILE *o = fopen(argv[3], "wb");
    if (!o) { perror(argv[3]); return 1; }
    int bad = 0;
    fputc('[', o);
    int di = 0;
    for (const cJSON *d = docs->child; d; d = d->next, di++) {
        if (!cJSON_IsString(d)) { fprintf(stderr, "doc %d is not a string\n", di); return 1; }
        const char *s = d->valuestring;
        size_t n = strlen(s);
        tok_ids ids = {0};
        if (tok_encode(t, s, n, special, &ids)) { fprintf(stderr, "encode failed\n"); return 1; }
        fputs(di ? ",\n[" : "[", o);
        for (size_t i = 0; i < ids.n; i++) fprintf(o, i ? ",%d" : "%d", (int)ids.ids[i]);
        fputc(']', o);
        size_t dl = 0;
        char *back = tok_decode(t, ids.ids, ids.n, &dl, NULL);
        if (!back || dl != n || memcmp(back, s, n)) {
            fprintf(stderr, "doc %d: decode(encode(doc)) differs from doc\n", di);
            bad = 1;
        }
        /* streaming decode must give the same bytes */
        char *st = malloc(n + 8);
        size_t sl = 0;
        tok_stream ts;
        tok_stream_init(&ts);
        char piece[TOK_STREAM_MAX_OUT];
        for (size_t i = 0; i < ids.n; i++) {
            int k = tok_stream_push(&ts, t, ids.ids[i], piece, sizeof piece);
            if (k < 0 || sl + (size_t)k > n) { bad = 1; break; }
            memcpy(st + sl, piece, (size_t)k);
            sl += (size_t)k;
        }
        int k = tok_stream_flush(&ts, piece, sizeof piece);
        if (k > 0 && sl + (size_t)k <= n) { memcpy(st + sl, piece, (size_t)k); sl += (size_t)k; }
        if (sl != n || memcmp(st, s, n)) {
            fprintf(stderr, "doc %d: streaming decode differs from doc\n", di);
            bad = 1;
        }
        free(st);
        free(back);
        tok_ids_free(&ids);
    }
    fputs("]\n", o);
    fclose(o);
    cJSON_Delete(docs);
    free(js);
    tok_free(t);
    return bad;
}
