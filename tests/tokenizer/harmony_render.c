/* harmony_render.c - test helper: renders every conversation of a cases file
 * (tests/tokenizer/harmony_cases.json: {"opt", "gen", "messages", "tools"})
 * with hm_render, reading messages and tools with hm_conversation_parse as
 * `generate --messages` does, and writes [{"text", "ids"}] for
 * harmony_template.mjs to compare with the model's jinja chat template and
 * the JS tokenizer. With a tokenizer it also checks that hm_encode equals
 * tok_encode(hm_render(...), parse_special) for each case (exit 1 if not).
 * A case with "error" must fail to render with a message containing it.
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
    if (argc < 3)
        return 2;
    size_t len;
    char *js = test_read_file(argv[1], &len);
    cJSON *cases = js ? cJSON_ParseWithLength(js, len) : NULL;
    if (!cJSON_IsArray(cases)) {
        fprintf(stderr, "%s: not a JSON array\n", argv[1]);
        return 2;
    }
    char err[512];
    tok_tokenizer *t = NULL;
    if (argc > 3 && !(t = tok_load_file(argv[3], err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    cJSON *out = cJSON_CreateArray();
    int bad = 0, ci = 0;
    for (const cJSON *c = cases->child; c; c = c->next, ci++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(c, "opt");
        char *ctext = cJSON_PrintUnformatted(c);
        hm_conversation conv;
        if (hm_conversation_parse(ctext, strlen(ctext), "case", &conv, err, sizeof err)) {
            fprintf(stderr, "case %d: %s\n", ci, err);
            return 1;
        }
        free(ctext);
        hm_options opt = {opt_str(o, "model_identity"), opt_str(o, "knowledge_cutoff"), opt_str(o, "current_date"),
                          opt_str(o, "reasoning"), conv.tools_json};
        const cJSON *gj = cJSON_GetObjectItemCaseSensitive(c, "gen");
        int gen = cJSON_IsTrue(gj) ? HM_GEN_PROMPT : HM_GEN_NONE;
        const char *want_err = opt_str(c, "error");
        char *text = NULL;
        size_t tl = 0;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(out, r);
        if (hm_render(&opt, conv.msgs, conv.n, gen, &text, &tl, err, sizeof err)) {
            if (!want_err || !strstr(err, want_err)) {
                fprintf(stderr, "case %d: %s\n", ci, err);
                bad = 1;
            }
            cJSON_AddStringToObject(r, "error", err);
            hm_conversation_free(&conv);
            continue;
        }
        if (want_err) {
            fprintf(stderr, "case %d: rendered, but should fail with '%s'\n", ci, want_err);
            bad = 1;
        }
        cJSON_AddStringToObject(r, "text", text);
        if (t) {
            tok_ids a = {0}, b = {0};
            if (hm_encode(t, &opt, conv.msgs, conv.n, gen, &a, err, sizeof err) || tok_encode(t, text, tl, 1, &b) ||
                a.n != b.n || memcmp(a.ids, b.ids, a.n * sizeof *a.ids)) {
                fprintf(stderr, "case %d: hm_encode differs from encoding the rendered text (%zu vs %zu ids)\n", ci,
                        a.n, b.n);
                bad = 1;
            }
            cJSON *ids = cJSON_AddArrayToObject(r, "ids");
            for (size_t i = 0; i < a.n; i++)
                cJSON_AddItemToArray(ids, cJSON_CreateNumber(a.ids[i]));
            tok_ids_free(&a);
            tok_ids_free(&b);
        }
        free(text);
        hm_conversation_free(&conv);
    }
    char *s = cJSON_Print(out);
    FILE *f = fopen(argv[2], "wb");
    if (!f || fputs(s, f) < 0)
        return 2;
    fclose(f);
    free(s);
    cJSON_Delete(out);
    cJSON_Delete(cases);
    free(js);
    tok_free(t);
    return bad;
}
