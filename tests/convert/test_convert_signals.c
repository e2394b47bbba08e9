/* test_convert_signals.c - the crash-safe writer's promises, end to end, for
 * both output formats (.gptoss and GGUF); issue 14 items 4 to 7:
 *  4. a signal after OUT has been moved into place does not turn the run
 *     into a failure: exit 0, OUT complete (one signal, and two, the second
 *     of which makes the handler exit at once);
 *  5. a signal right after the output file is created (before any tensor is
 *     written; for GGUF before the vocabulary is built) leaves no temporary;
 *  6. GGUF temporaries are cleaned like .gptoss ones: a SIGKILLed writer's
 *     temporary is removed by the next run; a second signal removes it;
 *  7. the same exit codes for both formats: an uncreatable temporary is an
 *     I/O error (4); of two concurrent conversions to one OUT the second is
 *     refused at once with 7 (before converting anything) and the first
 *     finishes.
 * The moments of 4 and 5 are hit deterministically with the converter's
 * test hook GPTOSS_CONVERT_TEST_RAISE (it raise()s SIGINT there). */
#include "check.h"
#include "conv_util.h"
#include "spawn_util.h"
#include "gguf.h"
#include "gptoss_format.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int is_gguf(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && !strcmp(name + n - 5, ".gguf");
}

/* OUT is a complete file of its format (every payload hash checked for .gptoss). */
static int output_ok(const char *name)
{
    char err[512];
    if (is_gguf(name)) {
        gguf_file *g = gguf_open(path_in("%s", name), err, sizeof err);
        int ok = g && gguf_tensor_count(g) > 0;
        gguf_close(g);
        return ok;
    }
    gf_file *g = gf_open(path_in("%s", name), err, sizeof err);
    int ok = g && gf_verify(g, NULL, NULL) == 0;
    gf_close(g);
    return ok;
}

static int temps_of(const char *name)
{
    char pre[256];
    snprintf(pre, sizeof pre, "%s.tmp", name);
    return count_prefix(g_tmp, pre);
}

static void conv_argv(char **argv, const char *out, int force)
{
    int k = 0;
    argv[k++] = (char *)bin("gptoss-convert");
    argv[k++] = "convert";
    argv[k++] = path_in("ck");
    argv[k++] = "-o";
    argv[k++] = path_in("%s", out);
    argv[k++] = "--quant";
    argv[k++] = "q8";
    if (force)
        argv[k++] = "--force";
    argv[k] = NULL;
}

static const char *const slow[] = {"GPTOSS_CONVERT_CHUNK", "16384", "GPTOSS_CONVERT_TEST_DELAY_MS", "20", NULL};

/* Item 4: SIGINT (once, twice) right after OUT is in place. */
static void signal_after_publish(const char *name)
{
    for (int times = 1; times <= 2; times++) {
        for (int force = 0; force <= 1; force++) {
            char label[160];
            snprintf(label, sizeof label, "%s: %d SIGINT after the move%s", name, times, force ? " (--force)" : "");
            if (!force)
                unlink(path_in("%s", name));
            else {   /* an old file that the run replaces */
                FILE *f = fopen(path_in("%s", name), "w");
                fputs("old", f);
                fclose(f);
            }
            char *argv[10];
            conv_argv(argv, name, force);
            const char *const env[] = {"GPTOSS_CONVERT_TEST_RAISE", times == 1 ? "published" : "published:2", NULL};
            child c = spawn(argv, "pub", env);
            char *err = NULL;
            int st = wait_child(&c, 60000, &err);
            CHECK_MSG(st == 0, "%s: exit %d (want 0: OUT was written): %s", label, st, err);
            CHECK_MSG(!strstr(err, "not written"), "%s: says 'not written' although it was: %s", label, err);
            CHECK_MSG(output_ok(name), "%s: OUT is not the complete new file", label);
            CHECK_MSG(temps_of(name) == 0, "%s: a temporary was left", label);
            free(err);
        }
    }
    unlink(path_in("%s", name));
}

/* Item 5: SIGINT right after the output file is created. */
static void signal_after_create(const char *name)
{
    unlink(path_in("%s", name));
    char *argv[10];
    conv_argv(argv, name, 0);
    const char *const env[] = {"GPTOSS_CONVERT_TEST_RAISE", "created", NULL};
    child c = spawn(argv, "early", env);
    char *err = NULL;
    int st = wait_child(&c, 60000, &err);
    CHECK_MSG(st == 130, "%s: early SIGINT: exit %d (want 130): %s", name, st, err);
    CHECK_MSG(strstr(err, "interrupted"), "%s: early SIGINT: no 'interrupted' message (killed by the signal?): %s",
              name, err);
    CHECK_MSG(!file_exists(path_in("%s", name)), "%s: early SIGINT left OUT", name);
    CHECK_MSG(temps_of(name) == 0, "%s: early SIGINT left a temporary (handler installed too late)", name);
    free(err);
}

/* Item 6: a killed writer's temporary is removed by the next run; two
 * signals in a row remove it at once. */
static void stale_and_second_signal(const char *name)
{
    unlink(path_in("%s", name));
    char *argv[10];
    conv_argv(argv, name, 0);
    child c = spawn(argv, "kill", slow);
    struct timespec ts = {0, 500 * 1000000L};
    nanosleep(&ts, NULL);
    kill(c.pid, SIGKILL);
    int st = wait_child(&c, 10000, NULL);
    CHECK_MSG(st == 128 + SIGKILL, "%s: SIGKILL: status %d", name, st);
    CHECK_MSG(!file_exists(path_in("%s", name)), "%s: SIGKILL left OUT", name);
    CHECK_MSG(temps_of(name) == 1, "%s: SIGKILL mid-write should leave exactly its temporary (%d)", name,
              temps_of(name));
    c = spawn(argv, "rerun", NULL);
    char *err = NULL;
    st = wait_child(&c, 60000, &err);
    CHECK_MSG(st == 0, "%s: rerun after SIGKILL: exit %d: %s", name, st, err);
    free(err);
    CHECK_MSG(temps_of(name) == 0, "%s: the rerun did not remove the dead writer's temporary", name);
    CHECK_MSG(output_ok(name), "%s: rerun output incomplete", name);
    unlink(path_in("%s", name));

    /* two signals back to back: the second one takes the handler's "exit now" path */
    c = spawn(argv, "twice", slow);
    nanosleep(&ts, NULL);
    kill(c.pid, SIGINT);
    kill(c.pid, SIGTERM);
    st = wait_child(&c, 30000, NULL);
    CHECK_MSG(st == 130, "%s: two signals: exit %d (want 130)", name, st);
    CHECK_MSG(!file_exists(path_in("%s", name)), "%s: two signals left OUT", name);
    CHECK_MSG(temps_of(name) == 0, "%s: two signals left a temporary", name);
}

/* Item 7: exit codes. */
static void exit_codes(const char *name)
{
    /* the temporary cannot be created: its directory does not exist, or is a file */
    const char *ext = is_gguf(name) ? "gguf" : "gptoss";
    FILE *f = fopen(path_in("plainfile"), "w");
    fclose(f);
    const char *bad[] = {"no-such-dir/x.%s", "plainfile/x.%s"};
    for (int i = 0; i < 2; i++) {
        char out[64];
        snprintf(out, sizeof out, bad[i], ext);
        char *argv[10];
        conv_argv(argv, out, 0);
        child c = spawn(argv, "nodir", NULL);
        char *err = NULL;
        int st = wait_child(&c, 60000, &err);
        CHECK_MSG(st == 4, "%s: uncreatable temporary (%s): exit %d (want 4, I/O): %s", name, out, st, err);
        CHECK_MSG(strstr(err, "temporary"), "%s: message should name the temporary: %s", name, err);
        free(err);
    }
    if (geteuid() != 0) {   /* root writes into read-only directories */
        mkdir(path_in("ro"), 0755);
        chmod(path_in("ro"), 0555);
        char out[64];
        snprintf(out, sizeof out, "ro/x.%s", ext);
        char *argv[10];
        conv_argv(argv, out, 0);
        child c = spawn(argv, "ro", NULL);
        int st = wait_child(&c, 60000, NULL);
        CHECK_MSG(st == 4, "%s: read-only directory: exit %d (want 4)", name, st);
        chmod(path_in("ro"), 0755);
    }

    /* two conversions to one OUT: the second is refused at once (7) */
    for (int force = 0; force <= 1; force++) {
        unlink(path_in("%s", name));
        char *argv[10];
        conv_argv(argv, name, force);
        child a = spawn(argv, "first", slow);
        for (int i = 0; i < 500 && temps_of(name) == 0; i++) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
        CHECK_MSG(temps_of(name) == 1, "%s: the first conversion's temporary did not appear", name);
        double t0 = now_s();
        child b = spawn(argv, "second", slow);   /* slow too: converting would take seconds */
        char *err = NULL;
        int st = wait_child(&b, 60000, &err);
        double took = now_s() - t0;
        CHECK_MSG(st == 7, "%s: concurrent second conversion%s: exit %d (want 7): %s", name, force ? " (--force)" : "",
                  st, err);
        CHECK_MSG(strstr(err, "another process"), "%s: the refusal should say another process writes OUT: %s", name,
                  err);
        CHECK_MSG(took < 1.5, "%s: the second conversion took %.2f s: it should refuse before converting", name, took);
        free(err);
        st = wait_child(&a, 60000, &err);
        CHECK_MSG(st == 0, "%s: the first conversion: exit %d: %s", name, st, err);
        free(err);
        CHECK_MSG(output_ok(name), "%s: the first conversion's OUT is incomplete", name);
        CHECK_MSG(temps_of(name) == 0, "%s: concurrent runs left a temporary", name);
    }
    unlink(path_in("%s", name));
}

int main(void)
{
    int s = conv_setup("convert-signals");
    if (s == -1)
        return CHECK_SKIP;
    CHECK(s == 0);
    if (s)
        return check_done("test_convert_signals");
    const char *names[] = {"o.gptoss", "o.gguf"};
    for (int i = 0; i < 2; i++) {
        signal_after_publish(names[i]);
        signal_after_create(names[i]);
        stale_and_second_signal(names[i]);
        exit_codes(names[i]);
    }
    rm_rf(g_tmp);
    return check_done("test_convert_signals");
}
