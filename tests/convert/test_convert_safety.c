/* test_convert_safety.c - the converter never leaves a broken file behind:
 * overwrite refusal (exit 7), malformed checkpoints (clear error naming the
 * tensor / file, exit 3, no output), SIGINT (exit 130, nothing left), SIGKILL
 * mid-write (no OUT; the leftover temp is removed by the next run), out of
 * space simulated with RLIMIT_FSIZE (exit 4, nothing left), and verify
 * catching a flipped payload byte (exit 5 naming the tensor). */
#include <cjson/cJSON.h>

#include "check.h"
#include "conv_util.h"
#include "gptoss_format.h"

static run_result convert(const char *src, const char *out, const char *a1, const char *a2)
{
    char *argv[] = {(char *)bin("gptoss-convert"), "convert", (char *)src, "-o", (char *)out,
                    (char *)a1, (char *)a2, NULL};
    return run(argv);
}

/* Nothing named OUT or OUT.tmp* in g_tmp. */
static void check_nothing_left(const char *name, const char *label)
{
    CHECK_MSG(!file_exists(path_in("%s", name)), "%s: %s exists", label, name);
    char pre[256];
    snprintf(pre, sizeof pre, "%s.tmp", name);
    CHECK_MSG(count_prefix(g_tmp, pre) == 0, "%s: a temporary %s* was left", label, pre);
}

static void replace_in_file(const char *path, const char *from, const char *to)
{
    size_t n;
    char *s = test_read_file(path, &n);
    char *p = s ? strstr(s, from) : NULL;
    CHECK_MSG(p, "%s holds '%s'", path, from);
    if (!p) {
        free(s);
        return;
    }
    FILE *f = fopen(path, "wb");
    fwrite(s, 1, (size_t)(p - s), f);
    fputs(to, f);
    fputs(p + strlen(from), f);
    fclose(f);
    free(s);
}

static void malformed(const char *label, const char *file, const char *from, const char *to, const char *expect)
{
    char *dir = path_in("bad-%s", label);
    rm_rf(dir);
    CHECK(cp_r(path_in("ck"), dir) == 0);
    char p[4300];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    if (from) {
        replace_in_file(p, from, to);
    } else if (to && !strcmp(to, "truncate")) {
        CHECK(truncate(p, 1000) == 0);
    } else {
        CHECK(unlink(p) == 0);
    }
    run_result r = convert(dir, path_in("bad.gptoss"), "--quant", "q8");
    CHECK_MSG(r.status == 3, "%s: exit %d (want 3): %s", label, r.status, r.err);
    CHECK_MSG(strstr(r.err, expect), "%s: error '%s' should mention '%s'", label, r.err, expect);
    check_nothing_left("bad.gptoss", label);
    run_free(&r);
    rm_rf(dir);
}

static void no_big_files(void)
{
    struct rlimit rl = {256 * 1024, 256 * 1024};
    setrlimit(RLIMIT_FSIZE, &rl);
    signal(SIGXFSZ, SIG_IGN);
}

static void slow_env(void)
{
    setenv("GPTOSS_CONVERT_CHUNK", "16384", 1);
    setenv("GPTOSS_CONVERT_TEST_DELAY_MS", "20", 1);
}

int main(void)
{
    int s = conv_setup("convert-safety");
    if (s == -1)
        return CHECK_SKIP;
    CHECK(s == 0);
    if (s)
        return check_done("test_convert_safety");

    /* Overwrite refusal. */
    FILE *f = fopen(path_in("keep.gptoss"), "w");
    fputs("precious", f);
    fclose(f);
    run_result r = convert(path_in("ck"), path_in("keep.gptoss"), "--quant", "q8");
    CHECK_MSG(r.status == 7, "overwrite refusal: exit %d", r.status);
    CHECK_STR_CONTAINS(r.err, "--force");
    run_free(&r);
    char *kept = test_read_file(path_in("keep.gptoss"), NULL);
    CHECK(kept && !strcmp(kept, "precious"));
    free(kept);
    char *force[] = {(char *)bin("gptoss-convert"), "convert", path_in("ck"), "-o", path_in("keep.gptoss"), "--force",
                     "--quiet", NULL};
    r = run(force);
    CHECK_MSG(r.status == 0, "--force: exit %d: %s", r.status, r.err);
    run_free(&r);
    char err[512];
    gf_file *g = gf_open(path_in("keep.gptoss"), err, sizeof err);
    CHECK_MSG(g, "forced output readable: %s", err);
    gf_close(g);

    /* Usage errors. */
    r = convert(path_in("ck"), path_in("x.gptoss"), "--quant", "q3");
    CHECK_EQ_INT(r.status, 2);
    CHECK_STR_CONTAINS(r.err, "q3");
    run_free(&r);
    r = convert(path_in("ck"), path_in("x.gptoss"), "--attn", "mxfp4");
    CHECK_EQ_INT(r.status, 2);
    run_free(&r);
    r = convert(path_in("nonexistent"), path_in("x.gptoss"), "--quant", "q8");
    CHECK_EQ_INT(r.status, 3);
    CHECK_STR_CONTAINS(r.err, "nonexistent");
    run_free(&r);

    /* Malformed checkpoints: clear error, exit 3, nothing written. */
    malformed("hidden", "config.json", "\"hidden_size\": 128", "\"hidden_size\": 96", "model.embed_tokens.weight");
    malformed("experts", "config.json", "\"num_local_experts\": 8", "\"num_local_experts\": 6",
              "expected");
    malformed("layers", "config.json", "\"num_hidden_layers\": 4", "\"num_hidden_layers\": 5", "layer_types");
    malformed("badjson", "config.json", "{", "[", "config.json");
    malformed("notok", "tokenizer.json", NULL, NULL, "tokenizer.json");
    malformed("trunc", "model-00001-of-00002.safetensors", NULL, "truncate", "model-00001-of-00002.safetensors");

    /* SIGINT mid-conversion: exit 130, no OUT, no temporary. */
    char *slow[] = {(char *)bin("gptoss-convert"), "convert", path_in("ck"), "-o", path_in("int.gptoss"), "--quant",
                    "q4", NULL};
    r = run_ex(slow, slow_env, 500, SIGINT);
    CHECK_MSG(r.status == 130, "SIGINT: exit %d: %s", r.status, r.err);
    CHECK_STR_CONTAINS(r.err, "interrupted");
    run_free(&r);
    check_nothing_left("int.gptoss", "SIGINT");
    r = run_ex(slow, slow_env, 500, SIGTERM);
    CHECK_MSG(r.status == 130, "SIGTERM: exit %d", r.status);
    run_free(&r);
    check_nothing_left("int.gptoss", "SIGTERM");

    /* SIGKILL mid-write: no OUT. The dead writer's temp may remain; the next
     * conversion to the same OUT removes it and succeeds. */
    char *killed[] = {(char *)bin("gptoss-convert"), "convert", path_in("ck"), "-o", path_in("kill.gptoss"), NULL};
    r = run_ex(killed, slow_env, 500, SIGKILL);
    CHECK_MSG(r.status == 128 + SIGKILL, "SIGKILL: status %d", r.status);
    run_free(&r);
    CHECK_MSG(!file_exists(path_in("kill.gptoss")), "SIGKILL left an OUT");
    CHECK_MSG(count_prefix(g_tmp, "kill.gptoss.tmp") == 1, "SIGKILL mid-write should leave exactly its temporary");
    r = run(killed);
    CHECK_MSG(r.status == 0, "rerun after SIGKILL: exit %d: %s", r.status, r.err);
    run_free(&r);
    CHECK_MSG(count_prefix(g_tmp, "kill.gptoss.tmp") == 0, "rerun did not remove the stale temporary");
    g = gf_open(path_in("kill.gptoss"), err, sizeof err);
    CHECK_MSG(g, "rerun output: %s", err);
    gf_close(g);

    /* Out of space (RLIMIT_FSIZE in the child, SIGXFSZ ignored). */
    char *big[] = {(char *)bin("gptoss-convert"), "convert", path_in("ck"), "-o", path_in("full.gptoss"), NULL};
    r = run_ex(big, no_big_files, 0, 0);
    CHECK_MSG(r.status == 4, "no space: exit %d: %s", r.status, r.err);
    CHECK_STR_CONTAINS(r.err, "full.gptoss");
    CHECK_STR_CONTAINS(r.err, "no room");
    run_free(&r);
    check_nothing_left("full.gptoss", "no space");

    /* verify: good file 0, flipped payload byte 5 naming the tensor. */
    char *vgood[] = {(char *)bin("gptoss-convert"), "verify", path_in("kill.gptoss"), NULL};
    r = run(vgood);
    CHECK_MSG(r.status == 0, "verify good: %d %s", r.status, r.err);
    run_free(&r);
    g = gf_open(path_in("kill.gptoss"), err, sizeof err);
    const gf_tensor *t = g ? gf_find_tensor(g, "blk.1.attn_q") : NULL;
    uint64_t off = t ? t->offset + t->size / 2 : 0;
    gf_close(g);
    CHECK(off > 0);
    int fd = open(path_in("kill.gptoss"), O_RDWR);
    unsigned char byte = 0;
    CHECK(pread(fd, &byte, 1, (off_t)off) == 1);
    byte ^= 0x10;
    CHECK(pwrite(fd, &byte, 1, (off_t)off) == 1);
    close(fd);
    r = run(vgood);
    CHECK_MSG(r.status == 5, "verify flipped: exit %d", r.status);
    CHECK_STR_CONTAINS(r.err, "blk.1.attn_q");
    run_free(&r);
    char *vjson[] = {(char *)bin("gptoss-convert"), "verify", path_in("kill.gptoss"), "--json", NULL};
    r = run(vjson);
    cJSON *j = cJSON_Parse(r.out);
    CHECK_MSG(j && cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")), "verify --json: %s", r.out);
    const cJSON *bad = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "bad"), 0);
    CHECK_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(bad, "name")), "blk.1.attn_q");
    cJSON_Delete(j);
    run_free(&r);

    /* inspect of a non-.gptoss file */
    char *ins[] = {(char *)bin("gptoss-convert"), "inspect", path_in("ck/config.json"), NULL};
    r = run(ins);
    CHECK_EQ_INT(r.status, 3);
    CHECK_STR_CONTAINS(r.err, "config.json");
    run_free(&r);

    rm_rf(g_tmp);
    return check_done("test_convert_safety");
}
