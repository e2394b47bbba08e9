/* test_gguf_format.c - the GGUF writer and reader against hand-computed
 * bytes and against each other: exact header bytes of a small file (the
 * spec, not our reader, decides), round trip of every KV type, alignment
 * and offsets, determinism, atomicity (abort, incomplete tensors, existing
 * output), and the reader's refusals on corrupted images. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read_file.h"
#include "check.h"
#include "gguf.h"

static char dir[256];

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int count_tmp(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.tmp\\.' ", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* A file with one of each KV type and two tensors. */
static int write_sample(const char *path, uint32_t align, int overwrite)
{
    char err[256];
    gguf_writer *w = gguf_writer_create(path, overwrite, align, err, sizeof err);
    if (!w) { fprintf(stderr, "%s\n", err); return -1; }
    int32_t ia[3] = {1, -2, 3};
    float fa[2] = {0.5f, -1.25f};
    int rc = gguf_kv_str(w, "general.architecture", "gpt-oss") || gguf_kv_u32(w, "a.u32", 4000000000u) ||
             gguf_kv_i32(w, "a.i32", -7) || gguf_kv_u64(w, "a.u64", 1ull << 40) || gguf_kv_f32(w, "a.f32", 1e-5f) ||
             gguf_kv_bool(w, "a.bool", 1) || gguf_kv_u8(w, "a.u8", 200) ||
             gguf_kv_arr(w, "a.ai32", GGUF_VT_INT32, ia, 3) || gguf_kv_arr(w, "a.af32", GGUF_VT_FLOAT32, fa, 2) ||
             gguf_kv_arr_str_begin(w, "a.astr", 3) || gguf_kv_arr_str_add(w, "x", 1) ||
             gguf_kv_arr_str_add(w, "", 0) || gguf_kv_arr_str_add(w, "h\xc3\xa9 y", 5);
    int64_t ne0[2] = {32, 3}, ne1[1] = {5};
    rc = rc || gguf_writer_add_tensor(w, "t.q8", GGML_T_Q8_0, 2, ne0) != 0 ||
         gguf_writer_add_tensor(w, "t.f32", GGML_T_F32, 1, ne1) != 1 || gguf_writer_begin(w);
    unsigned char q8[3 * 34];
    for (size_t i = 0; i < sizeof q8; i++) q8[i] = (unsigned char)(i * 7 + 1);
    float f[5] = {1, 2, 3, 4, 5};
    /* tensor 0 in two pieces, the second placed first: order must not matter */
    rc = rc || gguf_writer_write_at(w, 0, 34, q8 + 34, 68) || gguf_writer_write_at(w, 0, 0, q8, 34) ||
         gguf_writer_write(w, 1, f, sizeof f);
    if (rc) {
        fprintf(stderr, "writer: %s\n", gguf_writer_error(w));
        gguf_writer_abort(w);
        return -1;
    }
    return gguf_writer_finish(w, err, sizeof err);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void test_bytes_and_roundtrip(void)
{
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/a.gguf", dir);
    CHECK(write_sample(path, 0, 0) == 0);
    CHECK(count_tmp() == 0);
    size_t len;
    unsigned char *b = (unsigned char *)test_read_file(path, &len);
    CHECK(b != NULL);
    if (!b) return;
    /* fixed header, by the spec */
    CHECK(!memcmp(b, "GGUF\3\0\0\0", 8));
    CHECK(rd64(b + 8) == 2);   /* tensors */
    CHECK(rd64(b + 16) == 10); /* KVs */
    /* first KV: key "general.architecture" (20), type 8, string "gpt-oss" */
    CHECK(rd64(b + 24) == 20 && !memcmp(b + 32, "general.architecture", 20));
    CHECK(b[52] == 8 && b[53] == 0 && rd64(b + 56) == 7 && !memcmp(b + 64, "gpt-oss", 7));

    gguf_file *f = gguf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f) { free(b); return; }
    CHECK(gguf_version(f) == 3 && gguf_alignment(f) == 32 && gguf_kv_count(f) == 10 && gguf_tensor_count(f) == 2);
    uint64_t u;
    float x;
    const char *s;
    size_t sl;
    CHECK(gguf_get_uint(gguf_find_kv(f, "a.u32"), &u) == 0 && u == 4000000000u);
    CHECK(gguf_get_uint(gguf_find_kv(f, "a.i32"), &u) == -1); /* negative */
    CHECK(gguf_get_uint(gguf_find_kv(f, "a.u64"), &u) == 0 && u == 1ull << 40);
    CHECK(gguf_get_uint(gguf_find_kv(f, "a.u8"), &u) == 0 && u == 200);
    CHECK(gguf_get_uint(gguf_find_kv(f, "a.bool"), &u) == 0 && u == 1);
    CHECK(gguf_get_f32(gguf_find_kv(f, "a.f32"), &x) == 0 && x == 1e-5f);
    CHECK(gguf_get_str(gguf_find_kv(f, "general.architecture"), &s, &sl) == 0 && sl == 7 && !memcmp(s, "gpt-oss", 7));
    const gguf_kv *ai = gguf_find_kv(f, "a.ai32"), *af = gguf_find_kv(f, "a.af32"), *as = gguf_find_kv(f, "a.astr");
    double d;
    CHECK(ai && ai->arr_type == GGUF_VT_INT32 && ai->arr_n == 3 && gguf_arr_num(ai, 1, &d) == 0 && d == -2);
    CHECK(af && gguf_arr_num(af, 1, &d) == 0 && d == -1.25);
    CHECK(as && as->arr_n == 3 && gguf_arr_str(f, as, 2, &s, &sl) == 0 && sl == 5 && !memcmp(s, "h\xc3\xa9 y", 5));
    CHECK(gguf_arr_str(f, as, 1, &s, &sl) == 0 && sl == 0);
    CHECK(gguf_arr_str(f, as, 3, &s, &sl) == -1);
    const gguf_tensor *t0 = gguf_find_tensor(f, "t.q8"), *t1 = gguf_find_tensor(f, "t.f32");
    CHECK(t0 && t0->n_dims == 2 && t0->ne[0] == 32 && t0->ne[1] == 3 && t0->type == 8 && t0->size == 102);
    CHECK(t1 && t1->offset == 128 && t1->size == 20); /* 102 padded to 32 */
    CHECK(gguf_data_offset(f) % 32 == 0);
    CHECK(len == gguf_data_offset(f) + 128 + 32); /* last tensor padded too */
    if (t0 && t1) {
        const unsigned char *q = t0->data;
        int ok = 1;
        for (int i = 0; i < 102; i++) ok &= q[i] == (unsigned char)(i * 7 + 1);
        CHECK(ok);
        CHECK(((const float *)t1->data)[4] == 5.0f);
        /* padding is zero */
        CHECK(q[102] == 0 && q[127] == 0);
    }
    gguf_close(f);

    /* determinism: the same calls give the same bytes */
    char path2[300];
    snprintf(path2, sizeof path2, "%s/b.gguf", dir);
    CHECK(write_sample(path2, 0, 0) == 0);
    size_t len2;
    unsigned char *b2 = (unsigned char *)test_read_file(path2, &len2);
    CHECK(b2 && len2 == len && !memcmp(b, b2, len));
    free(b2);

    /* memory image: same answers */
    f = gguf_open_memory(b, len, err, sizeof err);
    CHECK(f && gguf_tensor_count(f) == 2);
    gguf_close(f);

    /* corruptions the reader must refuse, with a message */
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    c[0] = 'X';
    CHECK(!gguf_open_memory(c, len, err, sizeof err) && strstr(err, "magic"));
    memcpy(c, b, len);
    CHECK(!gguf_open_memory(c, len - 40, err, sizeof err) && strstr(err, "truncated"));
    memcpy(c, b, len);
    c[16] = 0xff; c[23] = 0x7f; /* absurd KV count */
    CHECK(!gguf_open_memory(c, len, err, sizeof err));
    memcpy(c, b, len);
    c[60] = 0x80; /* string length of the first value: huge */
    CHECK(!gguf_open_memory(c, len, err, sizeof err));
    /* the tensor infos sit just before the data: find "t.f32" and bend its offset / type */
    unsigned char *tf = NULL;
    for (size_t i = 0; i + 5 < len; i++)
        if (!memcmp(b + i, "t.f32", 5)) { tf = c + i; break; }
    CHECK(tf != NULL);
    if (tf) {
        memcpy(c, b, len);
        tf[5 + 4 + 8 + 4] = 64; /* offset 128 -> 64 */
        CHECK(!gguf_open_memory(c, len, err, sizeof err) && strstr(err, "expected 128"));
        memcpy(c, b, len);
        tf[5 + 4 + 8] = 31; /* removed ggml type */
        CHECK(!gguf_open_memory(c, len, err, sizeof err) && strstr(err, "type 31"));
        memcpy(c, b, len);
        tf[5 + 4 + 1] = 1; /* ne[0] 5 -> 261: past the end */
        CHECK(!gguf_open_memory(c, len, err, sizeof err) && strstr(err, "truncated"));
    }
    free(c);
    free(b);
}

static void test_alignment_and_atomicity(void)
{
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/al.gguf", dir);
    CHECK(write_sample(path, 4096, 0) == 0);
    gguf_file *f = gguf_open(path, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (f) {
        uint64_t a;
        CHECK(gguf_alignment(f) == 4096 && gguf_data_offset(f) == 4096);
        CHECK(gguf_get_uint(gguf_find_kv(f, "general.alignment"), &a) == 0 && a == 4096);
        CHECK(gguf_find_tensor(f, "t.f32")->offset == 4096);
        gguf_close(f);
    }
    /* existing output: refused without overwrite, replaced with it */
    CHECK(write_sample(path, 0, 0) != 0);
    CHECK(write_sample(path, 0, 1) == 0);
    f = gguf_open(path, err, sizeof err);
    CHECK(f && gguf_alignment(f) == 32);
    gguf_close(f);

    /* abort and incomplete tensors leave nothing behind */
    char p2[300];
    snprintf(p2, sizeof p2, "%s/never.gguf", dir);
    gguf_writer *w = gguf_writer_create(p2, 0, 0, err, sizeof err);
    int64_t ne[1] = {64};
    CHECK(w && gguf_writer_add_tensor(w, "x", GGML_T_MXFP4, 1, ne) == 0 && gguf_writer_begin(w) == 0);
    unsigned char blk[34] = {0};
    CHECK(gguf_writer_write(w, 0, blk, 17) == 0);
    CHECK(gguf_writer_write(w, 0, blk, 34) == -1); /* past the end */
    gguf_writer_abort(w);
    CHECK(!exists(p2) && count_tmp() == 0);
    w = gguf_writer_create(p2, 0, 0, err, sizeof err);
    CHECK(w && gguf_writer_add_tensor(w, "x", GGML_T_MXFP4, 1, ne) == 0 && gguf_writer_begin(w) == 0);
    CHECK(gguf_writer_write(w, 0, blk, 17) == 0);
    CHECK(gguf_writer_finish(w, err, sizeof err) == -1 && strstr(err, "17 of 34"));
    CHECK(!exists(p2) && count_tmp() == 0);

    /* API misuse is reported, not crashed on */
    w = gguf_writer_create(p2, 0, 0, err, sizeof err);
    CHECK(gguf_kv_u32(w, "k", 1) == 0 && gguf_kv_u32(w, "k", 2) == -1 && strstr(gguf_writer_error(w), "duplicate"));
    gguf_writer_abort(w);
    w = gguf_writer_create(p2, 0, 0, err, sizeof err);
    int64_t bad[1] = {33};
    CHECK(gguf_writer_add_tensor(w, "y", GGML_T_Q4_0, 1, bad) == -1);
    gguf_writer_abort(w);
    CHECK(!gguf_writer_create(p2, 0, 24, err, sizeof err)); /* not a power of two */
    CHECK(count_tmp() == 0);
}

static void test_type_table(void)
{
    int64_t ne[3] = {2880, 2880, 32};
    CHECK(gguf_tensor_bytes(GGML_T_MXFP4, 3, ne) == 2880ull / 32 * 17 * 2880 * 32);
    CHECK(gguf_tensor_bytes(GGML_T_Q8_0, 3, ne) == 2880ull / 32 * 34 * 2880 * 32);
    CHECK(gguf_tensor_bytes(12, 1, (int64_t[]){256}) == 144);   /* q4_K */
    CHECK(gguf_tensor_bytes(12, 1, (int64_t[]){128}) == UINT64_MAX);
    CHECK(gguf_tensor_bytes(0, 2, (int64_t[]){1ll << 40, 1ll << 40}) == UINT64_MAX);
    /* other people's types: sizes by hand from ggml's block structs */
    CHECK(gguf_tensor_bytes(14, 2, (int64_t[]){512, 3}) == 2 * 210 * 3); /* q6_K */
    CHECK(gguf_tensor_bytes(16, 1, (int64_t[]){256}) == 66);             /* iq2_xxs: d + 64 bytes */
    CHECK(gguf_tensor_bytes(20, 1, (int64_t[]){64}) == 36);              /* iq4_nl: 2 x (d + 16) */
    CHECK(gguf_tensor_bytes(40, 1, (int64_t[]){64}) == 36);              /* nvfp4: 4 scales + 32 */
    CHECK(gguf_type_info(31) == NULL && gguf_type_info(4) == NULL && gguf_type_info(43) == NULL); /* removed / unknown */
    CHECK(!strcmp(gguf_type_info(23)->name, "iq4_xs"));
    CHECK(gguf_type_from_gq(GQ_Q8_32) == 8 && gguf_type_from_gq(GQ_Q4_32) == 2 && gguf_type_from_gq(GQ_MXFP4) == 39 &&
          gguf_type_from_gq(GQ_BF16) == 30);
    /* our block sizes equal ggml's for the shared formats */
    const gq_type ours[] = {GQ_F32, GQ_F16, GQ_BF16, GQ_MXFP4, GQ_Q8_32, GQ_Q4_32};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        const gq_traits *tr = gq_traits_of(ours[i]);
        const gguf_type_desc *d = gguf_type_info((uint32_t)gguf_type_from_gq(ours[i]));
        CHECK(tr && d && (uint32_t)tr->block_values == d->block_values && (uint32_t)tr->block_bytes == d->block_bytes);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/gq-gguf-fmt-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_type_table();
    test_bytes_and_roundtrip();
    test_alignment_and_atomicity();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_done("test_gguf_format");
}
