/* test_gio.c - formats/io on its own: the crash-safe writer (gio_out), the
 * primitives the Hub cache builds on (gio_open_partial, gio_publish,
 * gio_write_file_atomic) and the read helper (gio_read_file), each against
 * what the file system shows afterwards. The end-to-end behaviour through
 * gptoss-convert is test_convert_signals / test_convert_fifo. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gio_out.h"
#include "gio_read.h"
#include "gio_stream.h"

static char g_dir[1024];

static const char *at(const char *name)
{
    static char b[4][2048];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", g_dir, name);
    return b[k];
}

static int exists(const char *name)
{
    struct stat st;
    return lstat(at(name), &st) == 0;
}

/* entries of g_dir starting with prefix */
static int count(const char *prefix)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d)
        closedir(d);
    return n;
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(at(name), "w");
    fputs(text, f);
    fclose(f);
}

static int content_is(const char *name, const char *text)
{
    size_t n = 0;
    char *b = gio_read_file(at(name), 0, &n, NULL, 0);
    int ok = b && n == strlen(text) && !memcmp(b, text, n);
    free(b);
    return ok;
}

static gio_out *write_out(const char *name, int overwrite, const char *text, char *err, size_t errlen)
{
    gio_out *o = gio_out_create(at(name), overwrite, err, errlen);
    if (o)
        CHECK(gio_pwrite_all(gio_out_fd(o), text, strlen(text), 0) == 0);
    return o;
}

static void test_writer(void)
{
    char err[4096];
    /* a signal handler's view first (no output published yet in this process) */
    gio_out *o = write_out("sig.bin", 0, "x", err, sizeof err);
    CHECK(o && count("sig.bin.tmp.") == 1);
    CHECK_EQ_INT(gio_out_signal_cleanup(), 0);
    CHECK_MSG(count("sig.bin.tmp.") == 0, "signal cleanup should unlink the unpublished temporary");
    gio_out_free(o);

    /* commit publishes; nothing else is left */
    o = write_out("a.bin", 0, "hello", err, sizeof err);
    CHECK_MSG(o, "create: %s", err);
    CHECK(!exists("a.bin") && count("a.bin.tmp.") == 1);
    struct stat st;
    CHECK(fstat(gio_out_fd(o), &st) == 0 && (st.st_mode & 0777) == 0644);   /* umask 022, set in main */
    CHECK_EQ_INT(gio_out_commit(o, err, sizeof err), 0);
    CHECK(gio_out_published(o));
    gio_out_free(o);
    CHECK(content_is("a.bin", "hello") && count("a.bin.tmp.") == 0);
    CHECK_EQ_INT(gio_out_signal_cleanup(), 1);   /* a published output counts even once freed */

    /* an existing PATH: refused without overwrite, replaced with */
    o = gio_out_create(at("a.bin"), 0, err, sizeof err);
    CHECK(!o && errno == EEXIST && strstr(err, "a.bin"));
    o = write_out("a.bin", 1, "world", err, sizeof err);
    CHECK(o && gio_out_commit(o, err, sizeof err) == 0);
    gio_out_free(o);
    CHECK(content_is("a.bin", "world"));

    /* freed without commit: PATH untouched, temporary gone */
    o = write_out("a.bin", 1, "junk", err, sizeof err);
    gio_out_free(o);
    CHECK(content_is("a.bin", "world") && count("a.bin.tmp.") == 0);

    /* PATH appears while written (no overwrite): EEXIST, the newcomer survives */
    o = write_out("b.bin", 0, "mine", err, sizeof err);
    put("b.bin", "theirs");
    CHECK_EQ_INT(gio_out_commit(o, err, sizeof err), -1);
    CHECK(errno == EEXIST && strstr(err, "appeared"));
    gio_out_free(o);
    CHECK(content_is("b.bin", "theirs") && count("b.bin.tmp.") == 0);

    /* cancelled just before the move: EINTR, nothing published */
    volatile sig_atomic_t flag = 1;
    o = write_out("c.bin", 0, "x", err, sizeof err);
    gio_out_set_cancel(o, &flag);
    CHECK_EQ_INT(gio_out_commit(o, err, sizeof err), -1);
    CHECK_EQ_INT(errno, EINTR);
    gio_out_free(o);
    CHECK(!exists("c.bin") && count("c.bin.tmp.") == 0);

    /* a second writer of the same PATH is refused while the first lives */
    o = write_out("d.bin", 0, "1", err, sizeof err);
    gio_out *o2 = gio_out_create(at("d.bin"), 1, err, sizeof err);
    CHECK(!o2 && errno == EBUSY && strstr(err, "another process"));
    CHECK(count("d.bin.tmp.") == 1);   /* the refused one removed nothing */
    gio_out_free(o);

    /* a dead writer's temporary (regular, unlocked) is removed; a FIFO under
     * such a name neither hangs the scan nor is removed */
    put("e.bin.tmp.4000000001", "stale");
    CHECK(mkfifo(at("e.bin.tmp.4000000002"), 0644) == 0);
    put("e.bin.tmp.notapid", "other");
    o = write_out("e.bin", 0, "new", err, sizeof err);
    CHECK_MSG(o, "create next to stale temporaries: %s", err);
    CHECK(!exists("e.bin.tmp.4000000001") && exists("e.bin.tmp.4000000002") && exists("e.bin.tmp.notapid"));
    CHECK(gio_out_commit(o, err, sizeof err) == 0);
    gio_out_free(o);

    /* uncreatable temporary: the open's errno, message names the temporary */
    o = gio_out_create(at("nodir/x.bin"), 0, err, sizeof err);
    CHECK(!o && errno == ENOENT && strstr(err, "temporary"));
    o = gio_out_create(g_dir, 1, err, sizeof err);   /* a directory, not a file */
    CHECK(!o && errno == EEXIST);
}

static void test_primitives(void)
{
    char err[4096];
    struct stat st;
    /* open_partial: a new regular file is fine */
    int fd = gio_open_partial(at("p.incomplete"), O_RDWR | O_CREAT, 0644, &st);
    CHECK(fd >= 0 && S_ISREG(st.st_mode));
    CHECK(write(fd, "abc", 3) == 3);
    /* publish: fsync, rename, directory fsync */
    CHECK_EQ_INT(gio_publish(fd, at("p.incomplete"), at("p.blob")), 0);
    close(fd);
    CHECK(!exists("p.incomplete") && content_is("p.blob", "abc"));

    /* a symlink planted as the partial file is not followed */
    put("victim", "precious");
    CHECK(symlink(at("victim"), at("s.incomplete")) == 0);
    fd = gio_open_partial(at("s.incomplete"), O_RDWR | O_CREAT | O_APPEND, 0644, NULL);
    CHECK(fd < 0 && errno == ELOOP);
    /* nor a hard link (writes would land in the other name's file) */
    CHECK(link(at("victim"), at("h.incomplete")) == 0);
    fd = gio_open_partial(at("h.incomplete"), O_RDWR, 0644, NULL);
    CHECK(fd < 0 && errno == EINVAL);
    CHECK(content_is("victim", "precious"));
    /* nor a FIFO (and it does not block) */
    CHECK(mkfifo(at("f.incomplete"), 0644) == 0);
    fd = gio_open_partial(at("f.incomplete"), O_RDWR, 0644, NULL);
    CHECK(fd < 0 && errno == EINVAL);
    fd = gio_open_partial(at("f.incomplete"), O_WRONLY, 0644, NULL);
    CHECK(fd < 0);

    /* small atomic files: written, replaced, mode kept, no temporary left */
    CHECK(gio_write_file_atomic(at("ref"), "abc123", 6, 0600, err, sizeof err) == 0);
    CHECK(content_is("ref", "abc123"));
    CHECK(gio_write_file_atomic(at("ref"), "def", 3, 0644, err, sizeof err) == 0);
    CHECK(content_is("ref", "def") && count("ref.tmp") == 0);
    CHECK(stat(at("ref"), &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(gio_write_file_atomic(at("nodir/ref"), "x", 1, 0644, err, sizeof err) == -1 && strstr(err, "nodir"));
}

static void test_read(void)
{
    char err[4096];
    size_t n = 99;
    put("r.txt", "some text");
    char *b = gio_read_file(at("r.txt"), 0, &n, err, sizeof err);
    CHECK(b && n == 9 && !strcmp(b, "some text"));
    free(b);
    put("empty", "");
    b = gio_read_file(at("empty"), 0, &n, err, sizeof err);
    CHECK(b && n == 0 && b[0] == 0);
    free(b);
    b = gio_read_file(at("r.txt"), 8, &n, err, sizeof err);
    CHECK(!b && errno == EFBIG && strstr(err, "limit"));
    CHECK(mkfifo(at("r.fifo"), 0644) == 0);
    b = gio_read_file(at("r.fifo"), 0, &n, err, sizeof err);
    CHECK(!b && errno == EINVAL && strstr(err, "not a regular file") && strstr(err, "r.fifo"));
    b = gio_read_file(g_dir, 0, &n, err, sizeof err);
    CHECK(!b && errno == EINVAL && strstr(err, "directory"));
    b = gio_read_file(at("missing"), 0, &n, err, sizeof err);
    CHECK(!b && errno == ENOENT && strstr(err, "missing"));
    CHECK(gio_open_read(at("r.fifo"), NULL, 0) == -1 && errno == EINVAL);
    FILE *f = gio_fopen_read(at("r.txt"), err, sizeof err);
    CHECK(f && fgetc(f) == 's');
    if (f)
        fclose(f);
}

/* ---- gio_stream through gio_out_write: file bytes == a reference image ---- */

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void fill_rnd(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() >> 24);
}

static int file_equals(const char *path, const uint8_t *ref, size_t n)
{
    size_t got = 0;
    char *b = gio_read_file(path, 0, &got, NULL, 0);
    int ok = b && got == n && !memcmp(b, ref, n);
    if (b && got == n && !ok) {
        size_t i = 0;
        while (i < n && (uint8_t)b[i] == ref[i])
            i++;
        fprintf(stderr, "  %s: first difference at byte %zu of %zu\n", path, i, n);
    } else if (!ok) {
        fprintf(stderr, "  %s: %zu bytes, want %zu\n", path, got, n);
    }
    free(b);
    return ok;
}

/* mode 0: ascending pieces of every size with gaps of up to 3 MiB (a converter's stream);
 * 1: the same pieces in a shuffled order, some written twice (garbage
 * first); then the first 100 bytes rewritten at the end (a header). */
static void stream_case(const char *dir, int mode)
{
    char path[2048], err[1024];
    snprintf(path, sizeof path, "%s/stream%d.bin", dir, mode);
    const size_t n = 2 * GIO_STREAM_BLOCK + 777777;
    uint8_t *ref = calloc(1, n), *junk = malloc(1 << 20);
    enum { MAXP = 4096 };
    static uint64_t po[MAXP], pl[MAXP];
    int np = 0;
    for (uint64_t off = 0; off < n && np < MAXP;) {
        uint64_t r = rnd() % 100, len;
        len = r < 30 ? 1 + rnd() % 100 : r < 60 ? 1 + rnd() % 70000 : r < 95 ? 1 + rnd() % (3u << 20) : GIO_STREAM_BLOCK + rnd() % 5000;
        if (len > n - off)
            len = n - off;
        po[np] = off;
        pl[np++] = len;
        /* a gap stays zero; some larger than what a block fills in
         * (GAP_KEEP, 64 KiB): in mode 1 the pieces around them come in any
         * order, as a GGUF export's tensors do */
        off += len + (rnd() % 3 == 0 ? (rnd() % 4 == 0 ? rnd() % (3u << 20) : rnd() % 20000) : 0);
    }
    for (int i = 0; i < np; i++)
        fill_rnd(ref + po[i], (size_t)pl[i]);
    int order[MAXP];
    for (int i = 0; i < np; i++)
        order[i] = i;
    if (mode == 1)
        for (int i = np - 1; i > 0; i--) {
            int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    gio_out *o = gio_out_create(path, 1, err, sizeof err);
    CHECK_MSG(o, "create %s: %s", path, err);
    if (!o || !ref || !junk) {
        free(ref);
        free(junk);
        gio_out_free(o);
        return;
    }
    CHECK(gio_out_reserve(o, n) == 0);
    fill_rnd(junk, 1 << 20);
    int bad = 0;
    for (int k = 0; k < np; k++) {
        int i = order[k];
        if (mode == 1 && k % 7 == 0) /* garbage first, the real bytes later in the order */
            bad |= gio_out_write(o, junk, (size_t)(pl[i] < (1 << 20) ? pl[i] : (1 << 20)), po[i]) != 0;
        bad |= gio_out_write(o, ref + po[i], (size_t)pl[i], po[i]) != 0;
        if (mode == 1 && k % 7 == 0)
            bad |= gio_out_write(o, ref + po[i], (size_t)pl[i], po[i]) != 0;
    }
    fill_rnd(ref, 100);
    bad |= gio_out_write(o, ref, 100, 0) != 0;
    CHECK_MSG(!bad, "gio_out_write failed: %s", strerror(errno));
    CHECK_MSG(gio_out_commit(o, err, sizeof err) == 0, "commit: %s", err);
    gio_out_free(o);
    CHECK_MSG(file_equals(path, ref, n), "stream mode %d in %s: file differs from the reference", mode, dir);
    unlink(path);
    free(ref);
    free(junk);
}

/* Borrowed writes (gio_out_write_borrowed), as the pipeline makes them:
 * ascending chunks (a few of them longer than two blocks, some with gaps
 * before them) copied into four page-aligned slots at their file offset's
 * phase (one in five at a wrong phase: the copying fallback), each written
 * in sub-pieces of random length, then its writes started (release without
 * wait; every third chunk released with wait and junked at once); the slot
 * of two chunks back is released with wait and at once
 * filled with junk, so a write that still read it afterwards would put junk
 * in the file. At the end the header is rewritten through the copying path. */
static void stream_borrowed(const char *dir)
{
    char path[2048], err[1024];
    snprintf(path, sizeof path, "%s/streamb.bin", dir);
    const size_t n = 3 * GIO_STREAM_BLOCK + 1234567, big = 2 * GIO_STREAM_BLOCK + 9000;
    uint8_t *ref = calloc(1, n), *slot[4] = {0};
    int ok = ref != NULL;
    for (int i = 0; i < 4; i++)
        ok &= (slot[i] = gio_buf_alloc(big + 8192)) != NULL;
    gio_out *o = ok ? gio_out_create(path, 1, err, sizeof err) : NULL;
    CHECK_MSG(o, "create %s: %s", path, ok ? err : "out of memory");
    int bad = !o || gio_out_reserve(o, n) != 0;
    uint64_t off = 0;
    for (int k = 0; !bad && off < n; k++) {
        size_t len = rnd() % 9 == 0 ? GIO_STREAM_BLOCK + rnd() % (GIO_STREAM_BLOCK + 8000) : 1 + rnd() % (3u << 20);
        if (len > n - off)
            len = (size_t)(n - off);
        uint8_t *b = slot[k % 4] + off % 4096 + (k % 5 == 4 ? 8 : 0);
        fill_rnd(ref + off, len);
        memcpy(b, ref + off, len);
        for (size_t done = 0; done < len && !bad;) {
            size_t piece = 1 + rnd() % (1536u << 10);
            if (piece > len - done)
                piece = len - done;
            bad |= gio_out_write_borrowed(o, b + done, piece, off + done) != 0;
            done += piece;
        }
        /* every third chunk taken back at once (wait), the others started */
        bad |= gio_out_release(o, slot[k % 4], slot[k % 4] + big + 8192, k % 3 == 0) != 0;
        if (k % 3 == 0)
            memset(slot[k % 4], 0xEE, big + 8192);
        if (k >= 2) {
            uint8_t *back = slot[(k + 2) % 4];
            bad |= gio_out_release(o, back, back + big + 8192, 1) != 0;
            memset(back, 0xEE, big + 8192);
        }
        off += len + (rnd() % 4 == 0 ? rnd() % 20000 : 0); /* a gap stays zero */
    }
    for (int i = 0; !bad && i < 4; i++) {
        bad |= gio_out_release(o, slot[i], slot[i] + big + 8192, 1) != 0;
        memset(slot[i], 0xEE, big + 8192);
    }
    if (o) {
        fill_rnd(ref, 100);
        bad |= gio_out_write(o, ref, 100, 0) != 0;
        CHECK_MSG(!bad, "borrowed writes in %s failed: %s", dir, strerror(errno));
        CHECK_MSG(gio_out_commit(o, err, sizeof err) == 0, "commit: %s", err);
        gio_out_free(o);
        CHECK_MSG(file_equals(path, ref, n), "borrowed writes in %s: file differs from the reference", dir);
        unlink(path);
    }
    for (int i = 0; i < 4; i++)
        gio_buf_free(slot[i]);
    free(ref);
}

static void test_stream(void)
{
    const char *dirs[2] = {g_dir, NULL};
    char shm[64] = "/dev/shm/gq-gio-XXXXXX";
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && mkdtemp(shm))
        dirs[1] = shm; /* tmpfs refuses O_DIRECT: the page-cache path */
    /* O_DIRECT where the file system takes it (ext4; tmpfs since Linux 6.6),
     * then the page-cache path */
    for (int nodirect = 0; nodirect < 2; nodirect++) {
        if (nodirect)
            setenv("GPTOSS_NO_DIRECT_IO", "1", 1);
        for (int d = 0; d < 2 && dirs[d]; d++) {
            stream_case(dirs[d], 0);
            stream_case(dirs[d], 1);
            stream_borrowed(dirs[d]);
        }
    }
    if (dirs[1]) {
        char p[128];
        snprintf(p, sizeof p, "%s/probe", shm);
        int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
        gio_stream *s = fd >= 0 ? gio_stream_open(fd, p) : NULL;
        CHECK(s != NULL);
        if (s) {
            CHECK_EQ_INT(gio_stream_direct(s), 0);
            CHECK(gio_stream_write(s, "abc", 3, 5000) == 0 && gio_stream_flush(s) == 0);
            gio_stream_free(s);
        }
        char b[5003];
        CHECK(fd >= 0 && pread(fd, b, sizeof b, 0) == (ssize_t)sizeof b && b[0] == 0 && b[4999] == 0 &&
              !memcmp(b + 5000, "abc", 3));
        if (fd >= 0)
            close(fd);
        unlink(p);
        rmdir(shm);
    }
    unsetenv("GPTOSS_NO_DIRECT_IO");
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/gq-gio-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir))
        return CHECK_SKIP;
    umask(022);
    test_writer();
    test_primitives();
    test_read();
    test_stream();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    return check_done("test_gio");
}
