/* test_vk_host.c - the Vulkan host, on whatever Vulkan device is here
 * (lavapipe in CI):
 *  - everything below once with mapped device memory (lavapipe's) and once
 *    with GQ_VK_NO_MAP=1 (staged copies, as a discrete GPU needs);
 *  - descriptor windows: a buffer larger than maxStorageBufferRange (128 MiB
 *    on lavapipe) is added to through two windows, checked against the host
 *    arithmetic on both sides of the window boundary and at the end; a
 *    dispatch whose argument does not fit one window is refused;
 *  - barriers: independent dispatches get none, dependent ones one each;
 *  - the pipeline cache: written at destroy, read back at the next create,
 *    a damaged file or an unwritable directory is harmless;
 *  - out of memory: prepare() of weights larger than the device heap is
 *    refused before anything is allocated, naming the bytes; an impossible
 *    alloc is GB_ERR_NOMEM naming the bytes; the failure is sticky;
 *  - no loader / no matching device: the messages name what is missing, and
 *    "auto" falls back to the CPU.
 * Exits 77 (skip) only when there is no Vulkan device and CI is unset. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "vk_backend.h"
#include "gd.h"

/* strstr of a char array (check.h's macro also tests the pointer for NULL,
 * which arrays never are) */
#define CONTAINS(arr, needle) CHECK_MSG(strstr((arr), (needle)) != NULL, "'%s' contains '%s'", (arr), (needle))

static gb_backend *make(void)
{
    gb_backend *b = NULL;
    char err[512] = "";
    gb_status s = gb_backend_create("vulkan", NULL, &b, NULL, 0, err, sizeof err);
    CHECK_MSG(s == GB_OK && b, "create vulkan: %s", err);
    return s == GB_OK ? b : NULL;
}

static void test_windows(void)
{
    gb_backend *b = make();
    if (!b)
        return;
    gb_vulkan_stats st;
    CHECK(gb_vulkan_stats_of(b, &st) == 0);
    /* a little more than one window, so the add needs two */
    uint64_t n = (st.max_range + (16u << 20)) / 4;
    printf("windows: max range %llu bytes, align %llu, subgroup %u; buffers of %llu floats\n",
           (unsigned long long)st.max_range, (unsigned long long)st.align, st.subgroup, (unsigned long long)n);
    float *h = malloc(n * sizeof *h);
    gb_buffer *x = NULL, *y = NULL;
    CHECK(h && b->alloc(b, n * 4, &x) == GB_OK && b->alloc(b, n * 4, &y) == GB_OK);
    if (!h || !x || !y) {
        free(h);
        b->destroy(b);
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        h[i] = (float)(i % 1000003);
    gb_ref rx = {x, 0}, ry = {y, 0};
    CHECK(b->write(b, rx, h, n * 4) == GB_OK);
    for (uint64_t i = 0; i < n; i++)
        h[i] = 0.5f * (float)(i % 7);
    CHECK(b->write(b, ry, h, n * 4) == GB_OK);
    gb_vulkan_stats before;
    gb_vulkan_stats_of(b, &before);
    CHECK(b->add(b, rx, ry, n) == GB_OK);
    gb_vulkan_stats after;
    gb_vulkan_stats_of(b, &after);
    CHECK_MSG(after.dispatches - before.dispatches == 2, "add over %llu bytes: %llu dispatches (2 windows)",
              (unsigned long long)(n * 4), (unsigned long long)(after.dispatches - before.dispatches));
    /* read around the window boundary and at the end */
    uint64_t w = (st.max_range - st.align) / 4, at[3] = {0, w - 1000, n - 2000};
    int bad = 0;
    for (int k = 0; k < 3; k++) {
        float got[2000];
        gb_ref r = {x, at[k] * 4};
        CHECK(b->read(b, r, got, sizeof got) == GB_OK);
        for (uint64_t i = 0; i < 2000; i++) {
            uint64_t j = at[k] + i;
            float want = (float)(j % 1000003) + 0.5f * (float)(j % 7);
            bad += got[i] != want;
        }
    }
    CHECK_MSG(bad == 0, "add through two windows: %d wrong values", bad);

    /* barriers: two adds on disjoint halves need none; a dependent one does */
    gb_ref a0 = {x, 0}, a1 = {x, 4096}, b0 = {y, 0};
    gb_vulkan_stats_of(b, &before);
    CHECK(b->add(b, a0, b0, 1024) == GB_OK);
    CHECK(b->add(b, a1, b0, 1024) == GB_OK);
    gb_vulkan_stats_of(b, &after);
    CHECK_EQ_INT(after.barriers - before.barriers, 0);
    CHECK(b->add(b, b0, a0, 1024) == GB_OK); /* reads what the first wrote */
    gb_vulkan_stats_of(b, &after);
    CHECK_EQ_INT(after.barriers - before.barriers, 1);
    float got[4];
    gb_ref end = {y, 0};
    CHECK(b->read(b, end, got, sizeof got) == GB_OK);
    /* element 1 after the big add: x = 1 + 0.5, y = 0.5; then x += y (2.0), y += x (2.5) */
    float x1 = 1.5f, y1 = 0.5f;
    CHECK_MSG(got[1] == y1 + (x1 + y1), "dependent add: %g, want %g", got[1], y1 + (x1 + y1));

    /* an argument longer than one window is refused, not bound past the limit */
    gd_dispatch d = {.kernel = "add", .n_args = 2, .n_push = 3, .groups = {1, 1, 1}};
    d.args[0].ref = rx;
    d.args[0].bytes = st.max_range + 16;
    d.args[0].writes = 1;
    d.args[1].ref = ry;
    d.args[1].bytes = 16;
    d.push[2] = 4;
    CHECK_EQ_INT(gd_run(b, &d), GB_ERR_INVALID); /* through the host interface the shared ops use */
    CONTAINS(b->error, "window");
    CHECK_EQ_INT(b->add(b, rx, ry, 4), GB_ERR_INVALID); /* sticky */
    free(h);
    b->release(b, x);
    b->release(b, y);
    b->destroy(b);
}

/* 1024 one-token embeds, then 40 of 64 tokens: more than one command
 * buffer's worth of dispatches (1024), each with its ids staged in the
 * stream, the later ones larger; a submit inside the stream (at dispatch
 * 1024) must not recycle staging bytes that the next recorded work reads */
static void test_stream(void)
{
    gb_backend *b = make();
    if (!b)
        return;
    enum { S = 1024, BIG = 64, R = S + 40 * BIG, C = 16 };
    static float table[R * C], got[R * C];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            table[r * C + c] = (float)(r * C + c);
    gb_weight w = {"table", GQ_F32, 1, R, C, C * 4, table, {0}, 0};
    gb_weight *ws[1] = {&w};
    CHECK(b->prepare(b, ws, 1, NULL, 0) == GB_OK);
    gb_buffer *out = NULL;
    CHECK(b->alloc(b, sizeof got, &out) == GB_OK);
    if (!out) {
        b->destroy(b);
        return;
    }
    static int32_t ids[R];
    for (int t = 0; t < R; t++)
        ids[t] = R - 1 - t;
    for (int t = 0; t < R; t += t < S ? 1 : BIG) {
        gb_ref o = {out, (uint64_t)t * C * 4};
        if (b->embed(b, &w, ids + t, t < S ? 1 : BIG, o) != GB_OK)
            break;
    }
    gb_ref o0 = {out, 0};
    CHECK(b->read(b, o0, got, sizeof got) == GB_OK);
    int bad = 0;
    for (int t = 0; t < R; t++)
        bad += got[t * C + 3] != table[(R - 1 - t) * C + 3];
    CHECK_MSG(bad == 0, "stream: %d of %d embeds read the wrong row", bad, R);
    b->destroy(b);
}

static uint64_t file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* one small dispatch, so that a pipeline exists */
static void run_one(gb_backend *b)
{
    gb_buffer *x = NULL;
    CHECK(b->alloc(b, 64, &x) == GB_OK);
    gb_ref r = {x, 0};
    float one[16], got[16];
    for (int i = 0; i < 16; i++)
        one[i] = (float)i;
    CHECK(b->write(b, r, one, sizeof one) == GB_OK);
    CHECK(b->add(b, r, r, 16) == GB_OK);
    CHECK(b->read(b, r, got, sizeof got) == GB_OK);
    CHECK(got[5] == 10.0f);
    b->release(b, x);
}

static void test_cache(void)
{
    char dir[] = "/tmp/gq-vkcache-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    setenv("XDG_CACHE_HOME", dir, 1);
    gb_backend *b = make();
    if (!b)
        return;
    gb_vulkan_stats st;
    gb_vulkan_stats_of(b, &st);
    CHECK_EQ_INT(st.cache_loaded, 0);
    CHECK_STR_CONTAINS(st.cache_path, dir);
    char path[1024];
    snprintf(path, sizeof path, "%s", st.cache_path);
    run_one(b);
    b->destroy(b);
    uint64_t sz = file_size(path);
    CHECK_MSG(sz >= 32, "pipeline cache %s written (%llu bytes)", path, (unsigned long long)sz);
    b = make();
    if (b) {
        gb_vulkan_stats_of(b, &st);
        CHECK_MSG(st.cache_loaded == sz, "cache read back: %llu of %llu bytes", (unsigned long long)st.cache_loaded,
                  (unsigned long long)sz);
        run_one(b);
        b->destroy(b);
    }
    /* damaged: same size, garbage header -> ignored, everything still works */
    FILE *fp = fopen(path, "r+b");
    if (fp) {
        fwrite("garbage!garbage!garbage!garbage!", 1, 32, fp);
        fclose(fp);
    }
    b = make();
    if (b) {
        gb_vulkan_stats_of(b, &st);
        CHECK_EQ_INT(st.cache_loaded, 0);
        run_one(b);
        b->destroy(b);
    }
    CHECK(file_size(path) >= 32); /* rewritten */
    remove(path);
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/gptoss", dir);
    rmdir(sub);
    /* a cache directory that cannot be made (a file is in the way): harmless */
    fp = fopen(sub, "wb");
    if (fp)
        fclose(fp);
    b = make();
    if (b) {
        run_one(b);
        b->destroy(b);
    }
    remove(sub);
    rmdir(dir);
    unsetenv("XDG_CACHE_HOME");
}

static void test_oom(void)
{
    gb_backend *b = make();
    if (!b)
        return;
    gb_vulkan_stats st;
    gb_vulkan_stats_of(b, &st);
    uint64_t before = st.device_bytes;
    /* 40 GiB of q8 "weights" whose host bytes are a small array: prepare
     * must refuse from the sizes alone, before it reads or allocates */
    static uint8_t small[34 * 4];
    gb_weight w1 = {"big.a", GQ_Q8_32, 1, 1 << 20, 20480, 21760, small, {0}, 0};
    gb_weight w2 = {"big.b", GQ_Q8_32, 1, 1 << 20, 20480, 21760, small, {0}, 0};
    gb_weight *ws[2] = {&w1, &w2};
    gb_status s = b->prepare(b, ws, 2, NULL, 0);
    CHECK_EQ_INT(s, GB_ERR_NOMEM);
    CONTAINS(b->error, "45634027520 bytes");
    CONTAINS(b->error, "nothing was uploaded");
    printf("oom: %s\n", b->error);
    gb_vulkan_stats_of(b, &st);
    CHECK_EQ_INT(st.device_bytes, before);
    CHECK(w1.dev.buf == NULL);
    b->destroy(b);

    b = make();
    if (!b)
        return;
    gb_buffer *x = NULL;
    s = b->alloc(b, 1ull << 42, &x);
    CHECK_EQ_INT(s, GB_ERR_NOMEM);
    CHECK(x == NULL);
    CONTAINS(b->error, "4398046511104 bytes");
    printf("oom: %s\n", b->error);
    CHECK_EQ_INT(b->finish(b), GB_ERR_NOMEM); /* sticky */
    b->destroy(b);
}

static void test_missing(void)
{
    gb_backend *b = NULL;
    char err[512] = "", note[512] = "";
    setenv("GQ_VK_LOADER", "/nonexistent/libvulkan.so.1", 1);
    gb_status s = gb_backend_create("vulkan", NULL, &b, NULL, 0, err, sizeof err);
    CHECK_EQ_INT(s, GB_ERR_UNAVAILABLE);
    CONTAINS(err, "no Vulkan loader");
    CONTAINS(err, "install");
    printf("no loader: %s\n", err);
    s = gb_backend_create("auto", NULL, &b, note, sizeof note, err, sizeof err);
    CHECK(s == GB_OK && b && !strcmp(b->name, "cpu"));
    CONTAINS(note, "no Vulkan loader");
    if (b)
        b->destroy(b);
    b = NULL;
    unsetenv("GQ_VK_LOADER");
    gb_config c = {0, "no-such-gpu-xyz"};
    s = gb_backend_create("vulkan", &c, &b, NULL, 0, err, sizeof err);
    CHECK_EQ_INT(s, GB_ERR_UNAVAILABLE);
    CONTAINS(err, "no-such-gpu-xyz");
    printf("no match: %s\n", err);
    c.device = "0";
    s = gb_backend_create("vulkan", &c, &b, NULL, 0, err, sizeof err);
    CHECK_MSG(s == GB_OK, "device 0: %s", err);
    if (b)
        b->destroy(b);
}

int main(void)
{
    char why[512] = "";
    int software = 0;
    gb_config c = {0, NULL};
    if (!gb_vulkan_entry.probe(&c, &software, why, sizeof why)) {
        const char *ci = getenv("CI");
        if (!ci || !*ci) {
            printf("test_vk_host: skipped: %s\n", why);
            return CHECK_SKIP;
        }
        fprintf(stderr, "test_vk_host: CI is set but Vulkan cannot run: %s\n", why);
        return 1;
    }
    unsetenv("GQ_VK_DEVICE");
    setenv("GQ_VK_PIPELINE_CACHE", "1", 1);
    test_windows();
    test_stream();
    /* again with device buffers unmapped: writes, reads and the weight
     * upload go through the staging buffer, as on a discrete GPU */
    setenv("GQ_VK_NO_MAP", "1", 1);
    test_windows();
    test_stream();
    unsetenv("GQ_VK_NO_MAP");
    test_cache();
    test_oom();
    test_missing();
    return check_done("test_vk_host");
}
