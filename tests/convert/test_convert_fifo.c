/* test_convert_fifo.c - no tool hangs on an input that is not a regular file
 * (issue 14 item 9). Opening a FIFO for reading blocks until a writer comes,
 * i.e. forever: every input must be refused before it is opened. Each run
 * has a deadline; a tool still running then is killed and the check fails.
 * Covered: inspect / verify of a FIFO .gptoss and .gguf; convert with a
 * FIFO shard, index, config.json or tokenizer.json; gptoss-run ppl with a
 * FIFO model, --file, --ids and --ref; tokenize with a FIFO tokenizer and
 * --file; and a FIFO planted under a stale-temporary name of the output. */
#include "check.h"
#include "conv_util.h"
#include "spawn_util.h"

#define DEADLINE_MS 10000

/* Runs argv; wants exit `want` and a stderr naming `file` and (unless
 * any_reason) saying it is not a regular file. */
static void refused_ex(const char *label, char **argv, int want, const char *file, int any_reason)
{
    child c = spawn(argv, "fifo", NULL);
    char *err = NULL;
    int st = wait_child(&c, DEADLINE_MS, &err);
    CHECK_MSG(st != 128 + SIGKILL, "%s: still blocked after %d ms (killed)", label, DEADLINE_MS);
    CHECK_MSG(st == want, "%s: exit %d (want %d): %s", label, st, want, err);
    CHECK_MSG(any_reason || strstr(err, "not a regular file"), "%s: message should say 'not a regular file': %s",
              label, err);
    CHECK_MSG(strstr(err, file), "%s: message should name %s: %s", label, file, err);
    free(err);
}

static void refused(const char *label, char **argv, int want, const char *file)
{
    refused_ex(label, argv, want, file, 0);
}

/* A copy of the fixture checkpoint with `file` replaced by a FIFO. */
static char *ck_with_fifo(const char *label, const char *file)
{
    char *dir = path_in("ck-%s", label);
    rm_rf(dir);
    CHECK(cp_r(path_in("ck"), dir) == 0);
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    CHECK(unlink(p) == 0);
    CHECK(mkfifo(p, 0644) == 0);
    return dir;
}

int main(void)
{
    int s = conv_setup("convert-fifo");
    if (s == -1)
        return CHECK_SKIP;
    CHECK(s == 0);
    if (s)
        return check_done("test_convert_fifo");
    const char *conv = bin("gptoss-convert"), *runb = bin("gptoss-run");

    /* a real model for the gptoss-run checks */
    char *mk[] = {(char *)conv, "convert", path_in("ck"), "-o", path_in("m.gptoss"), "--quant", "q8", "-q", NULL};
    run_result r = run(mk);
    CHECK_MSG(r.status == 0, "convert: %d %s", r.status, r.err);
    run_free(&r);
    CHECK(mkfifo(path_in("x.gptoss"), 0644) == 0);
    CHECK(mkfifo(path_in("x.gguf"), 0644) == 0);
    CHECK(mkfifo(path_in("x.txt"), 0644) == 0);

    char *ins[] = {(char *)conv, "inspect", path_in("x.gptoss"), NULL};
    refused("inspect FIFO.gptoss", ins, 3, "x.gptoss");
    char *ins2[] = {(char *)conv, "inspect", path_in("x.gguf"), NULL};
    refused("inspect FIFO.gguf", ins2, 3, "x.gguf");
    char *ver[] = {(char *)conv, "verify", path_in("x.gptoss"), NULL};
    refused("verify FIFO", ver, 3, "x.gptoss");

    static const char *const inputs[][2] = {
        {"shard", "model-00001-of-00002.safetensors"},
        {"index", "model.safetensors.index.json"},
        {"config", "config.json"},
        {"tokenizer", "tokenizer.json"},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *dir = ck_with_fifo(inputs[i][0], inputs[i][1]);
        for (int g = 0; g < 2; g++) {
            char label[128];
            snprintf(label, sizeof label, "convert with a FIFO %s (%s)", inputs[i][0], g ? "gguf" : "gptoss");
            char *cv[] = {(char *)conv, "convert", dir, "-o", path_in(g ? "f.gguf" : "f.gptoss"), NULL};
            /* an index that is no regular file counts as missing: refused, for that reason */
            refused_ex(label, cv, 3, inputs[i][1], i == 1);
            CHECK_MSG(count_prefix(g_tmp, g ? "f.gguf" : "f.gptoss") == 0, "%s: left an output or temporary", label);
        }
        rm_rf(dir);
    }

    char *p1[] = {(char *)runb, "ppl", path_in("m.gptoss"), "--file", path_in("x.txt"), NULL};
    refused("ppl --file FIFO", p1, 4, "x.txt");
    char *p2[] = {(char *)runb, "ppl", path_in("x.gptoss"), "--file", path_in("ck/config.json"), NULL};
    child c = spawn(p2, "fifo", NULL);
    int st = wait_child(&c, DEADLINE_MS, NULL);
    CHECK_MSG(st != 128 + SIGKILL && st != 0, "ppl of a FIFO model: exit %d (blocked, or accepted)", st);
    char *p3[] = {(char *)runb, "ppl", path_in("m.gptoss"), "--ids", path_in("x.txt"), NULL};
    c = spawn(p3, "fifo", NULL);
    char *err = NULL;
    st = wait_child(&c, DEADLINE_MS, &err);
    CHECK_MSG(st != 128 + SIGKILL && st != 0, "ppl --ids FIFO: exit %d", st);
    CHECK_MSG(strstr(err, "not a regular file"), "ppl --ids FIFO: %s", err);
    free(err);
    char *p4[] = {(char *)runb, "ppl", path_in("m.gptoss"), "--file", path_in("ck/config.json"), "--ref",
                  path_in("x.txt"), NULL};
    c = spawn(p4, "fifo", NULL);
    st = wait_child(&c, DEADLINE_MS, &err);
    CHECK_MSG(st != 128 + SIGKILL && st != 0, "ppl --ref FIFO: exit %d", st);
    CHECK_MSG(strstr(err, "not a regular file"), "ppl --ref FIFO: %s", err);
    free(err);
    char *t1[] = {(char *)runb, "tokenize", path_in("x.gptoss"), "--text", "hi", NULL};
    c = spawn(t1, "fifo", NULL);
    st = wait_child(&c, DEADLINE_MS, &err);
    CHECK_MSG(st != 128 + SIGKILL && st != 0, "tokenize with a FIFO tokenizer: exit %d", st);
    CHECK_MSG(strstr(err, "not a regular file"), "tokenize with a FIFO tokenizer: %s", err);
    free(err);
    char *t2[] = {(char *)runb, "tokenize", path_in("m.gptoss"), "--file", path_in("x.txt"), NULL};
    refused("tokenize --file FIFO", t2, 4, "x.txt");

    /* a FIFO under the name of a dead writer's temporary must not hang the
     * stale-temporary cleanup; it is not ours to remove either */
    CHECK(mkfifo(path_in("p.gptoss.tmp.999999999"), 0644) == 0);
    char *cv[] = {(char *)conv, "convert", path_in("ck"), "-o", path_in("p.gptoss"), "--quant", "q8", NULL};
    c = spawn(cv, "fifo", NULL);
    st = wait_child(&c, 60000, &err);
    CHECK_MSG(st == 0, "convert next to a FIFO named like a temporary: exit %d: %s", st, err);
    free(err);

    rm_rf(g_tmp);
    return check_done("test_convert_fifo");
}
