/* harmony_render.c - test helper: renders every conversation of a cases file
 * (tests/tokenizer/harmony_cases.json) with hm_render and writes the texts
 * as a JSON array, for harmony_template.mjs to compare with the model's
 * jinja chat template. With a tokenizer it also checks that hm_encode equals
 * tok_encode(hm_render(...), parse_special) for each case (exit 1 if not).
 * usage: harmony_render CASES.json OUT.json [TOKENIZER] */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harmony.h"
#include "read_file.h"

static const char *opt_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    size_t len;
    char *js = test_read_file(argv[1], &len);
    cJSON *cases = js ? cJSON_ParseWithLength(js, len) : NULL;
    if (!cJSON_IsArray(cases)) { fprintf(stderr, "%s: not a JSON array\n", argv[1]); return 2; }
    char err[512];
    tok_tokenizer *t = NULL;
    if (argc > 3 && !(t = tok_load_file(argv[3], err, sizeof err))) { fprintf(stderr, "%s\n", err); return 2; }
    cJSON *out = cJSON_CreateArray();
    int bad = 0, ci = 0;
    for (const cJSON *c = cases->child; c; c = c->next, ci++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(c, "opt");
        hm_options opt = {opt_str(o, "model_identity"), opt_str(o, "knowledge_cutoff"), opt_str(o, "current_date"),
                          opt_str(o, "reasoning")};
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(c, "messages");
        size_t n = (size_t)cJSON_GetArraySize(ms), i = 0;
        hm_message *m = calloc(n + 1, sizeof *m);
        for (const cJSON *x = ms->child; x; x = x->next, i++)
            m[i] = (hm_message){opt_str(x, "role"), opt_str(x, "content"), opt_str(x, "thinking")};
        int gen = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "gen"));
        char *text = NULL;
        size_t tl = 0;
        if (hm_render(&opt, m, n, gen, &text, &tl, err, sizeof err)) {
            fprintf(stderr, "case %d: %s\n", ci, err);
            return 1;
        }
        cJSON_AddItemToArray(out, cJSON_CreateString(text));
        if (t) {
            tok_ids a = {0}, b = {0};
            if (hm_encode(t, &opt, m, n, gen, &a, err, sizeof err) || tok_encode(t, text, tl, 1, &b) || a.n != b.n ||
                memcmp(a.ids, b.ids, a.n * sizeof *a.ids)) {
                fprintf(stderr, "case %d: hm_encode differs from encoding the rendered text (%zu vs %zu ids)\n", ci,
                        a.n, b.n);
                bad = 1;
            }
            tok_ids_free(&a);
            tok_ids_free(&b);
        }
        free(text);
        free(m);
    }
    char *s = cJSON_Print(out);
    FILE *f = fopen(argv[2], "wb");
    if (!f || fputs(s, f) < 0) return 2;
    fclose(f);
    free(s);
    cJSON_Delete(out);
    cJSON_Delete(cases);
    free(js);
    tok_free(t);
    return bad;
}
