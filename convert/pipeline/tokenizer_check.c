/* tokenizer_check.c - see tokenizer_check.h. */
#include "tokenizer_check.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "json_nul.h"
#include "tokenizer.h"

int cv_tokenizer_json_check(const char *json, size_t len, const char *path, int vocab, const char *vocab_label,
                            const char *const *names, int *ids, int n, char *err, size_t errlen)
{
    char lerr[1024];
    tok_tokenizer *t = tok_load_json(json, len, path, lerr, sizeof lerr);
    if (!t) {
        /* the loader's message already names PATH and the key */
        snprintf(err, errlen, "%s (gptoss-run could not tokenize with it: fix or fetch the file again)", lerr);
        return -1;
    }
    int32_t nids = tok_n_ids(t);
    for (int i = 0; i < n; i++)
        ids[i] = names[i] ? tok_special_id(t, names[i]) : -1;
    tok_free(t);
    if (nids > vocab) {
        snprintf(err, errlen,
                 "%s: token id %d is past the model's vocabulary (vocab_size %d in %s): the tokenizer does not "
                 "belong to this checkpoint",
                 path, (int)nids - 1, vocab, vocab_label ? vocab_label : "config.json");
        return -1;
    }
    return 0;
}

int cv_tokenizer_config_check(const char *json, size_t len, const char *path, char *err, size_t errlen)
{
    long long nul = gq_json_nul_string(json, len);
    if (nul >= 0) {
        snprintf(err, errlen, "%s: the string at byte %lld holds a NUL character (\\u0000); its token names "
                 "must not", path, nul);
        return -1;
    }
    cJSON *o = cJSON_ParseWithLength(json, len);
    int ok = cJSON_IsObject(o);
    cJSON_Delete(o);
    if (!ok) {
        snprintf(err, errlen, "%s: not a JSON object (truncated or edited by hand?): fix it or fetch it again",
                 path);
        return -1;
    }
    return 0;
}
