/* test_safetensors.c - the reader on files built byte by byte here: good
 * single and sharded checkpoints, directory input, and every malformed case
 * we could think of, each asserting what the error message says. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "safetensors.h"

static char err[1024];
static char tmpdir[256];

/* u64 LE header length + header + data; returns a malloc'd image */
static uint8_t *image(const char *hdr, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(hdr);
    uint8_t *b = malloc(8 + h + dlen + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, hdr, h);
    if (dlen)
        memcpy(b + 8 + h, data, dlen);
    *len = 8 + h + dlen;
    return b;
}

static void write_file(const char *name, const void *buf, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        exit(1);
    }
    fwrite(buf, 1, len, f);
    fclose(f);
}

static void write_st(const char *name, const char *hdr, const void *data, size_t dlen)
{
    size_t len;
    uint8_t *b = image(hdr, data, dlen, &len);
    write_file(name, b, len);
    free(b);
}

static void write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

static const char *path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* expect st_open_memory to fail with a message containing every needle */
static void bad_mem(const char *hdr, size_t dlen, const char *needle1, const char *needle2, int line)
{
    static uint8_t zeros[4096];
    size_t len;
    uint8_t *b = image(hdr, zeros, dlen, &len);
    err[0] = 0;
    st_checkpoint *ck = st_open_memory(b, len, "t.safetensors", err, sizeof err);
    CHECK_MSG(ck == NULL, "line %d: accepted %s", line, hdr);
    CHECK_MSG(strstr(err, "t.safetensors") && strstr(err, needle1) && (!needle2 || strstr(err, needle2)),
              "line %d: error '%s' lacks '%s' / '%s'", line, err, needle1, needle2 ? needle2 : "");
    st_close(ck);
    free(b);
}
#define BAD(hdr, dlen, n1, n2) bad_mem(hdr, dlen, n1, n2, __LINE__)

static void bad_open(const char *p, const char *needle1, const char *needle2, int line)
{
    err[0] = 0;
    st_checkpoint *ck = st_open(p, err, sizeof err);
    CHECK_MSG(ck == NULL, "line %d: accepted %s", line, p);
    CHECK_MSG(strstr(err, needle1) && (!needle2 || strstr(err, needle2)), "line %d: error '%s' lacks '%s' / '%s'",
              line, err, needle1, needle2 ? needle2 : "");
    st_close(ck);
}
#define BAD_OPEN(p, n1, n2) bad_open(p, n1, n2, __LINE__)

static void test_good_single(void)
{
    /* data: a [2,3] F32 at 0..24, b [4] BF16 at 24..32, c scalar U8 at 32..33,
     * e empty [0,7] I64 at 33..33 */
    float a[6] = {1, 2, 3, 4, 5, -6};
    uint8_t data[33];
    memcpy(data, a, 24);
    const uint16_t bf[4] = {0x3f80, 0x4000, 0xbf80, 0x0000};
    memcpy(data + 24, bf, 8);
    data[32] = 0xAB;
    const char *hdr =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"e\":{\"dtype\":\"I64\",\"shape\":[0,7],\"data_offsets\":[33,33]},"
        "\"c\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[32,33]}}    ";
    size_t len;
    uint8_t *img = image(hdr, data, sizeof data, &len);
    st_checkpoint *ck = st_open_memory(img, len, "t.safetensors", err, sizeof err);
    CHECK_MSG(ck != NULL, "good file rejected: %s", err);
    if (ck) {
        CHECK(st_count(ck) == 4 && st_shard_count(ck) == 1);
        CHECK(strcmp(st_at(ck, 0)->name, "a") == 0 && strcmp(st_at(ck, 3)->name, "e") == 0);
        CHECK(st_at(ck, 4) == NULL);
        const st_tensor *t = st_find(ck, "a");
        CHECK(t && t->dtype == ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->nbytes == 24);
        float got[6];
        if (t)
            memcpy(got, t->data, 24);
        CHECK(t && memcmp(got, a, 24) == 0);
        CHECK(t && (const uint8_t *)t->data == img + 8 + strlen(hdr));   /* zero-copy */
        t = st_find(ck, "c");
        CHECK(t && t->ndim == 0 && t->nbytes == 1 && *(const uint8_t *)t->data == 0xAB);
        t = st_find(ck, "e");
        CHECK(t && t->nbytes == 0 && t->ndim == 2);
        t = st_find(ck, "b");
        CHECK(t && t->dtype == ST_BF16 && memcmp(t->data, bf, 8) == 0);
        CHECK(st_find(ck, "d") == NULL && st_find(ck, "") == NULL && st_find(ck, "aa") == NULL);
        CHECK(strcmp(st_shard_path(ck, 0), "t.safetensors") == 0 && st_shard_path(ck, 1) == NULL);
    }
    st_close(ck);
    free(img);

    /* the same through a real file */
    write_st("one.safetensors", hdr, data, sizeof data);
    ck = st_open(path("one.safetensors"), err, sizeof err);
    CHECK_MSG(ck && st_count(ck) == 4, "file: %s", err);
    st_close(ck);

    /* an empty checkpoint is a valid file */
    img = image("{}", NULL, 0, &len);
    ck = st_open_memory(img, len, "t", err, sizeof err);
    CHECK(ck && st_count(ck) == 0 && st_find(ck, "a") == NULL);
    st_close(ck);
    free(img);

    CHECK(st_dtype_size(ST_BF16) == 2 && st_dtype_size(ST_F64) == 8 && st_dtype_size(ST_F8_E5M2) == 1);
    CHECK(strcmp(st_dtype_name(ST_U8), "U8") == 0 && strcmp(st_dtype_name(ST_F8_E4M3), "F8_E4M3") == 0);
    CHECK(st_dtype_size(ST_DTYPE_COUNT) == 0);
}

static void test_malformed_header(void)
{
    uint8_t small[7] = {1, 0, 0, 0, 0, 0, 0};
    CHECK(st_open_memory(small, 7, "t.safetensors", err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "too small"), "error '%s' lacks '%s'", err, "too small");
    CHECK(st_open_memory(small, 0, "t.safetensors", err, sizeof err) == NULL);

    /* header length past the end, and absurd */
    uint8_t b[16] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(st_open_memory(b, 10, "t.safetensors", err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "header length 200 runs past the end of the file (10 bytes)"), "error '%s' lacks '%s'", err, "header length 200 runs past the end of the file (10 bytes)");
    uint8_t huge[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    CHECK(st_open_memory(huge, 10, "t.safetensors", err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "runs past the end"), "error '%s' lacks '%s'", err, "runs past the end");
    /* above the 100 MB limit although the file is big enough */
    size_t big = 101u * 1000u * 1000u + 16;
    uint8_t *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
    if (m != MAP_FAILED) {
        uint64_t n = 101u * 1000u * 1000u;
        for (int i = 0; i < 8; i++)
            m[i] = (uint8_t)(n >> (8 * i));
        m[8] = '{';
        CHECK(st_open_memory(m, big, "t.safetensors", err, sizeof err) == NULL);
        CHECK_MSG(strstr(err, "above the 100 MB limit"), "error '%s' lacks '%s'", err, "above the 100 MB limit");
        munmap(m, big);
    }

    BAD("", 0, "does not start with a JSON object", NULL);
    BAD("[]", 0, "does not start with a JSON object", NULL);
    BAD(" {}", 0, "does not start with a JSON object", NULL);
    BAD("{\"a\":", 0, "not valid JSON", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "not valid JSON", NULL);
    BAD("{} x", 0, "bytes after the JSON object", NULL);
    BAD("{}{}", 0, "bytes after the JSON object", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\x01", 4, "bytes after", NULL);
    BAD("{\"__metadata__\":[1]}", 0, "__metadata__ is not a JSON object", NULL);
    BAD("{\"__metadata__\":{\"x\":1}}", 0, "__metadata__ value 'x' is not a string", NULL);
    BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice", NULL);
}

static void test_malformed_entries(void)
{
    BAD("{\"a\":[1]}", 0, "tensor 'a': entry is not a JSON object", NULL);
    BAD("{\"a\":\"x\"}", 0, "tensor 'a': entry is not a JSON object", NULL);
    BAD("{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "empty name", NULL);
    BAD("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing 'dtype'", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing 'shape'", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': missing 'data_offsets'", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unexpected key 'x'", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
        "key 'dtype' appears twice", NULL);
    BAD("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is not a string", NULL);
    BAD("{\"a\":{\"dtype\":\"F4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': unknown dtype 'F4'", NULL);
    BAD("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'f32'", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4, "shape is not an array", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape entry 0 is not a non-negative integer", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1.5],\"data_offsets\":[0,4]}}", 4, "shape entry 1", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "shape entry 0", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}", 4, "shape entry 0", NULL);
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "more than 8 dimensions", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
        "tensor 'a': shape is too large", NULL);
    BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,536870912],\"data_offsets\":[0,4]}}", 4, "too large", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}", 4, "data_offsets must be two non-negative integers", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4.5]}}", 8, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]}}", 4, "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "data_offsets [8, 4] end before begin", NULL);
    BAD("{\"model.layers.3.mlp.experts.down_proj_blocks\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}}", 12,
        "t.safetensors: tensor 'model.layers.3.mlp.experts.down_proj_blocks': data_offsets [0, 16] end past the data area (12 bytes)",
        NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551615,18446744073709551615]}}", 4,
        "data_offsets must be two", NULL);
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,40]}}", 48,
        "tensor 'a': shape [3, 4] of F32 needs 48 bytes but data_offsets [0, 40] hold 40", NULL);
    BAD("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,3]}}", 4, "needs 6 bytes", NULL);
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,1]}}", 1, "needs 0 bytes", NULL);
    /* overlaps, in either order in the header, and a range inside another */
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[4,12]}}",
        16, "overlap", "'a' [0, 8]");
    BAD("{\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[4,12]},\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
        16, "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]", NULL);
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[5,7]}}",
        16, "overlap", NULL);
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
        4, "overlap", NULL);
    /* duplicate names */
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
        8, "tensor 'a' appears twice", NULL);

    /* accepted edge cases: touching ranges, empty tensors at the same spot,
     * holes, integral numbers written as floats */
    static uint8_t z[16];
    size_t len;
    const char *ok[] = {
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[8,16]}}",
        ("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},"
         "\"c\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}}"),
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[12,16]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4.0],\"data_offsets\":[0,4e0]}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint8_t *img = image(ok[i], z, 16, &len);
        st_checkpoint *ck = st_open_memory(img, len, "t.safetensors", err, sizeof err);
        CHECK_MSG(ck != NULL, "edge case %zu rejected: %s", i, err);
        st_close(ck);
        free(img);
    }
}

static const char *SH1 =
    "{\"x.a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x.b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}";
static const char *SH2 = "{\"y.c\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}";

static void write_index(const char *map_entries)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"total_size\":16},\"weight_map\":{%s}}", map_entries);
    write_text("model.safetensors.index.json", buf);
}

#define GOODMAP "\"x.a\":\"m-1.safetensors\",\"x.b\":\"m-1.safetensors\",\"y.c\":\"m-2.safetensors\""

static void test_sharded(void)
{
    uint8_t d1[12] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 1, 2, 3, 4}, d2[4] = {7, 0, 0, 0};
    write_st("m-1.safetensors", SH1, d1, sizeof d1);
    write_st("m-2.safetensors", SH2, d2, sizeof d2);
    write_index(GOODMAP);
    for (int k = 0; k < 2; k++) {
        st_checkpoint *ck = st_open(k ? tmpdir : path("model.safetensors.index.json"), err, sizeof err);
        CHECK_MSG(ck != NULL, "sharded: %s", err);
        if (!ck)
            continue;
        CHECK(st_count(ck) == 3 && st_shard_count(ck) == 2);
        const st_tensor *t = st_find(ck, "y.c");
        CHECK(t && t->shard == 1 && strstr(st_shard_path(ck, 1), "m-2.safetensors") && *(const uint8_t *)t->data == 7);
        t = st_find(ck, "x.a");
        float f[2];
        if (t)
            memcpy(f, t->data, 8);
        CHECK(t && t->shard == 0 && f[0] == 1.0f && f[1] == 2.0f);
        CHECK(strcmp(st_at(ck, 0)->name, "x.a") == 0 && strcmp(st_at(ck, 2)->name, "y.c") == 0);
        st_close(ck);
    }
    const char *idx = path("model.safetensors.index.json");

    write_index("\"x.a\":\"m-1.safetensors\",\"x.b\":\"m-1.safetensors\",\"y.c\":\"m-3.safetensors\"");
    BAD_OPEN(idx, "weight_map puts tensor 'y.c' in shard", "m-3.safetensors, which does not exist");
    write_index("\"x.a\":\"m-1.safetensors\",\"x.b\":\"m-2.safetensors\",\"y.c\":\"m-2.safetensors\"");
    BAD_OPEN(idx, "weight_map puts tensor 'x.b' in m-2.safetensors, but it is in m-1.safetensors", NULL);
    write_index("\"x.a\":\"m-1.safetensors\",\"y.c\":\"m-2.safetensors\"");
    BAD_OPEN(idx, "tensor 'x.b' is not listed in model.safetensors.index.json's weight_map", "m-1.safetensors");
    write_index(GOODMAP ",\"z\":\"m-2.safetensors\"");
    BAD_OPEN(idx, "weight_map puts tensor 'z' in m-2.safetensors, but that shard does not contain it", NULL);
    write_index(GOODMAP ",\"x.a\":\"m-1.safetensors\"");
    BAD_OPEN(idx, "weight_map lists tensor 'x.a' twice", NULL);
    write_index("\"x.a\":\"../m-1.safetensors\"");
    BAD_OPEN(idx, "weight_map entry for 'x.a' must be a shard file name", NULL);
    write_index("\"x.a\":\"/etc/passwd\"");
    BAD_OPEN(idx, "must be a shard file name", NULL);
    write_index("\"x.a\":\"\"");
    BAD_OPEN(idx, "must be a shard file name", NULL);
    write_index("\"x.a\":3");
    BAD_OPEN(idx, "must be a shard file name", NULL);
    write_index("");
    BAD_OPEN(idx, "weight_map is empty", NULL);
    write_text("model.safetensors.index.json", "{\"metadata\":{}}");
    BAD_OPEN(idx, "no \"weight_map\" object", NULL);
    write_text("model.safetensors.index.json", "{\"weight_map\":{\"x.a\":");
    BAD_OPEN(idx, "model.safetensors.index.json: not valid JSON", NULL);
    write_text("model.safetensors.index.json", "[]");
    BAD_OPEN(idx, "no \"weight_map\" object", NULL);

    /* the same tensor in two shards */
    write_st("m-2.safetensors",
             "{\"y.c\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x.a\":{\"dtype\":\"U8\",\"shape\":[0],"
             "\"data_offsets\":[0,0]}}",
             d2, sizeof d2);
    write_index(GOODMAP);
    BAD_OPEN(idx, "tensor 'x.a' appears in two shards", "m-1.safetensors");
    /* a broken shard is reported by its own name */
    write_st("m-2.safetensors", "{\"y.c\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,4]}}", d2, sizeof d2);
    BAD_OPEN(tmpdir, "m-2.safetensors: tensor 'y.c': shape [2] of I32 needs 8 bytes", NULL);
    write_file("m-2.safetensors", "abc", 3);
    BAD_OPEN(tmpdir, "m-2.safetensors: file is 3 bytes, too small", NULL);
    write_st("m-2.safetensors", SH2, d2, sizeof d2);

    /* directories */
    unlink(idx);
    unlink(path("one.safetensors"));
    BAD_OPEN(tmpdir, "2 .safetensors files but no model.safetensors.index.json", NULL);
    unlink(path("m-2.safetensors"));
    st_checkpoint *ck = st_open(tmpdir, err, sizeof err);           /* exactly one file */
    CHECK_MSG(ck && st_count(ck) == 2, "dir with one shard: %s", err);
    st_close(ck);
    write_st("model.safetensors", SH2, d2, sizeof d2);               /* model.safetensors wins */
    ck = st_open(tmpdir, err, sizeof err);
    CHECK_MSG(ck && st_count(ck) == 1 && st_find(ck, "y.c"), "dir with model.safetensors: %s", err);
    st_close(ck);
    unlink(path("model.safetensors"));
    unlink(path("m-1.safetensors"));
    BAD_OPEN(tmpdir, "no model.safetensors.index.json and no .safetensors file", NULL);
    BAD_OPEN(path("nothere.safetensors"), "nothere.safetensors", "No such file");
    BAD_OPEN("", "no checkpoint path", NULL);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub.safetensors", tmpdir);
    mkdir(sub, 0700);                                               /* a directory named like a file */
    BAD_OPEN(tmpdir, "no model.safetensors.index.json", NULL);
    rmdir(sub);
}

/* NUL in JSON strings (issue 14, item 11): cJSON would read
 * "lm_head.weight\u0000x" back as "lm_head.weight", a different tensor. */
static void test_nul_names(void)
{
    BAD("{\"lm_head.weight\\u0000x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
        "NUL character", "byte 1");
    BAD("{\"a\":{\"dtype\":\"U8\\u0000\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "NUL character", NULL);
    BAD("{\"__metadata__\":{\"format\":\"pt\\u0000\"}}", 0, "NUL character", NULL);
    /* a raw NUL byte inside a name is the same defect */
    static const char raw[] = "{\"a\0b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    uint8_t data[1] = {5};
    size_t hl = sizeof raw - 1, len = 8 + hl + 1;
    uint8_t *b = malloc(len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, raw, hl);
    b[8 + hl] = data[0];
    st_checkpoint *ck = st_open_memory(b, len, "t.safetensors", err, sizeof err);
    CHECK_MSG(ck == NULL && strstr(err, "NUL character"), "raw NUL in a name refused: %s", err);
    st_close(ck);
    free(b);
    /* an escaped backslash before "u0000" is not a NUL: the name is a\u0000 (7 characters) */
    size_t ilen;
    uint8_t one = 9;
    uint8_t *img = image("{\"a\\\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", &one, 1, &ilen);
    ck = st_open_memory(img, ilen, "t.safetensors", err, sizeof err);
    CHECK_MSG(ck && st_find(ck, "a\\u0000"), "escaped backslash accepted: %s", err);
    st_close(ck);
    free(img);
    /* the index: a weight_map key with a NUL would be another tensor's name */
    uint8_t d1[12] = {0}, d2[4] = {0};
    write_st("m-1.safetensors", SH1, d1, sizeof d1);
    write_st("m-2.safetensors", SH2, d2, sizeof d2);
    write_index("\"x.a\":\"m-1.safetensors\",\"x.b\":\"m-1.safetensors\",\"y.c\\u0000z\":\"m-2.safetensors\"");
    BAD_OPEN(path("model.safetensors.index.json"), "NUL character", "model.safetensors.index.json");
    unlink(path("m-1.safetensors"));
    unlink(path("m-2.safetensors"));
    unlink(path("model.safetensors.index.json"));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/gq_st_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_good_single();
    test_malformed_header();
    test_malformed_entries();
    test_sharded();
    test_nul_names();
    rmdir(tmpdir);
    return check_done("test_safetensors");
}
