/* test_convert_provenance.c - source hashes and Hub identity.
 *
 * A plain directory: every file's sha256 is computed, and must equal
 * coreutils' sha256sum (an independent implementation). The same files laid
 * out as a Hugging Face cache snapshot (models--org--name/blobs/<sha256>,
 * snapshots/<commit>/<file> -> ../../blobs/<sha256>): the safetensors
 * hashes are taken from the blob names without reading, the repo id and
 * commit come from the path, and the tensors are identical. A plain folder
 * made by a --local-dir download (huggingface_hub's records in
 * .cache/huggingface/download/): a shard's sha256 is taken from a fresh
 * record's etag, a stale record (file modified after it) is ignored. */
#include <time.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "conv_util.h"
#include "gptoss_format.h"

static int sha256sum(const char *path, char out[65])
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fscanf(p, "%64s", out) == 1;
    pclose(p);
    return ok && strlen(out) == 64 ? 0 : -1;
}

static cJSON *convert_json(const char *src, const char *out)
{
    char *argv[] = {(char *)bin("gptoss-convert"), "convert", (char *)src, "-o", (char *)out, "--json", NULL};
    run_result r = run(argv);
    CHECK_MSG(r.status == 0, "convert %s: exit %d: %s", src, r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    run_free(&r);
    return j;
}

static const cJSON *file_entry(const cJSON *j, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provenance"), "files")) {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")), name))
            return e;
    }
    return NULL;
}

static const char *const FILES[] = {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                    "chat_template.jinja", "model.safetensors.index.json",
                                    "model-00000-of-00002.safetensors", "model-00001-of-00002.safetensors",
                                    "model-00002-of-00002.safetensors"};
#define NFILES (sizeof FILES / sizeof *FILES)

int main(void)
{
    int s = conv_setup("convert-prov");
    if (s == -1)
        return CHECK_SKIP;
    CHECK(s == 0);
    if (s)
        return check_done("test_convert_provenance");

    char sums[NFILES][65];
    for (size_t i = 0; i < NFILES; i++)
        CHECK_MSG(sha256sum(path_in("ck/%s", FILES[i]), sums[i]) == 0, "sha256sum %s", FILES[i]);

    /* plain directory: computed hashes, equal to sha256sum's */
    cJSON *j = convert_json(path_in("ck"), path_in("plain.gptoss"));
    for (size_t i = 0; i < NFILES; i++) {
        const cJSON *e = file_entry(j, FILES[i]);
        CHECK_MSG(e, "provenance lists %s", FILES[i]);
        if (!e)
            continue;
        CHECK_MSG(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256")), sums[i]), "%s sha256", FILES[i]);
        CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256_from")), "computed");
    }
    cJSON_Delete(j);

    /* the shards are hashed from the conversion's own reads: with tiny
     * chunks the MXFP4 scales arrive ahead of the hashed prefix chunk after
     * chunk and must be read back later; the hashes stay sha256sum's */
    setenv("GPTOSS_CONVERT_CHUNK", "4096", 1);
    j = convert_json(path_in("ck"), path_in("plain-small-chunks.gptoss"));
    unsetenv("GPTOSS_CONVERT_CHUNK");
    for (size_t i = 0; i < NFILES; i++) {
        const cJSON *e = file_entry(j, FILES[i]);
        CHECK_MSG(e && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256")), sums[i]),
                  "%s sha256 with 4 KiB chunks", FILES[i]);
    }
    cJSON_Delete(j);

    /* --local-dir folder: huggingface_hub's records "commit\netag\ntime\n" */
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && mkdir -p '%s/.cache/huggingface/download'", path_in("ck"),
             path_in("local"), path_in("local"));
    CHECK(system(cmd) == 0);
    double now = (double)time(NULL);
    static const char fake[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    struct {
        size_t file;
        const char *etag;
        double when;
        const char *want_sha, *want_from;
    } rec[] = {
        {6, sums[6], now + 60, sums[6], "hf-local-dir-metadata"}, /* fresh: its etag, nothing read */
        {7, sums[7], 1000.0, sums[7], "computed"},                /* stale: the file is newer */
        {8, fake, now + 60, fake, "hf-local-dir-metadata"},       /* fresh records are trusted, as by huggingface_hub */
        {0, "0123456789abcdef0123456789abcdef01234567", now + 60, sums[0], "computed"}, /* a git sha1 etag */
    };
    for (size_t i = 0; i < sizeof rec / sizeof *rec; i++) {
        FILE *f = fopen(path_in("local/.cache/huggingface/download/%s.metadata", FILES[rec[i].file]), "w");
        CHECK(f != NULL);
        if (f) {
            fprintf(f, "%s\n%s\n%.6f\n", "0123456789abcdef0123456789abcdef01234567", rec[i].etag, rec[i].when);
            fclose(f);
        }
    }
    j = convert_json(path_in("local"), path_in("local.gptoss"));
    for (size_t i = 0; i < sizeof rec / sizeof *rec; i++) {
        const cJSON *e = file_entry(j, FILES[rec[i].file]);
        CHECK_MSG(e && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256")), rec[i].want_sha),
                  "local dir: %s sha256", FILES[rec[i].file]);
        CHECK_STR_CONTAINS(e ? cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256_from")) : "", rec[i].want_from);
    }
    cJSON_Delete(j);

    /* HF cache snapshot */
    const char *commit = "0123456789abcdef0123456789abcdef01234567";
    char repo[2048]; /* a copy: path_in's buffers rotate */
    snprintf(repo, sizeof repo, "%s", path_in("hub/models--synthetic--gpt-oss-tiny"));
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/blobs' '%s/snapshots/%s' '%s/refs' && echo %s > '%s/refs/main'", repo, repo,
             commit, repo, commit, repo);
    CHECK(system(cmd) == 0);
    for (size_t i = 0; i < NFILES; i++) {
        /* LFS files are named by their sha256; small git files by a sha1 (40 hex) */
        int lfs = strstr(FILES[i], ".safetensors") && !strstr(FILES[i], ".json");
        char blob[80];
        snprintf(blob, sizeof blob, "%.*s", lfs ? 64 : 40, sums[i]);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s/blobs/%s' && ln -s ../../blobs/%s '%s/snapshots/%s/%s'",
                 path_in("ck/%s", FILES[i]), repo, blob, blob, repo, commit, FILES[i]);
        CHECK(system(cmd) == 0);
    }
    char snap[4400];
    snprintf(snap, sizeof snap, "%s/snapshots/%s", repo, commit);
    j = convert_json(snap, path_in("cache.gptoss"));
    const cJSON *p = cJSON_GetObjectItem(j, "provenance");
    CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(p, "source_repo")), "synthetic/gpt-oss-tiny");
    CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(p, "source_commit")), commit);
    for (size_t i = 0; i < NFILES; i++) {
        const cJSON *e = file_entry(j, FILES[i]);
        CHECK_MSG(e, "provenance lists %s", FILES[i]);
        if (!e)
            continue;
        int lfs = strstr(FILES[i], ".safetensors") && !strstr(FILES[i], ".json");
        CHECK_MSG(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256")), sums[i]), "%s sha256", FILES[i]);
        CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256_from")),
                           lfs ? "hf-cache-blob-name" : "computed");
    }
    cJSON_Delete(j);

    /* same tensors; the header records repo and commit */
    char err[512];
    gf_file *a = gf_open(path_in("plain.gptoss"), err, sizeof err), *b = gf_open(path_in("cache.gptoss"), err, sizeof err);
    CHECK_MSG(a && b, "%s", err);
    if (a && b) {
        CHECK_EQ_INT(gf_tensor_count(a), gf_tensor_count(b));
        for (size_t i = 0; i < gf_tensor_count(a) && i < gf_tensor_count(b); i++)
            CHECK(gf_tensor_at(a, i)->xxh3 == gf_tensor_at(b, i)->xxh3);
        CHECK_STR_CONTAINS(gf_header_json(b), "synthetic/gpt-oss-tiny");
        CHECK_STR_CONTAINS(gf_header_json(b), commit);
    }
    gf_close(a);
    gf_close(b);
    rm_rf(g_tmp);
    return check_done("test_convert_provenance");
}
