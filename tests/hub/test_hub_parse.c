/* test_hub_parse.c - the parsers of server bytes and the safety checks,
 * against hand-computed expectations (RFC 8288 / 9110 examples, the Hub's
 * documented JSON shapes). */
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "hub_auth.h"
#include "hub_chunks.h"
#include "hub_http.h"
#include "hub_parse.h"

static int link_next(const char *v, char *out)
{
    return hub_link_next(v, strlen(v), out, 256);
}

int main(void)
{
    /* file names from the server */
    CHECK(hub_path_is_safe("config.json"));
    CHECK(hub_path_is_safe("original/model.safetensors"));
    CHECK(hub_path_is_safe("a/.hidden/b..c"));
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../b", "a/..", "a//b", "a/", "./a", "a/./b", "a\\b",
                         "..", ".", "a\nb", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK_MSG(!hub_path_is_safe(bad[i]), "unsafe '%s'", bad[i]);

    CHECK(hub_repo_id_is_valid("openai/gpt-oss-20b"));
    CHECK(hub_repo_id_is_valid("gpt2"));
    const char *badid[] = {"a/b/c", "a--b/c", "a/b--c", "../x", "a/..b", "a b/c", "/a", "a/", "-a/b", "a/b."};
    for (size_t i = 0; i < sizeof badid / sizeof *badid; i++)
        CHECK_MSG(!hub_repo_id_is_valid(badid[i]), "bad id '%s'", badid[i]);
    CHECK(hub_revision_is_valid("main") && hub_revision_is_valid("refs/pr/1") && !hub_revision_is_valid("../main"));

    /* default selection */
    CHECK(hub_default_wanted("config.json") && hub_default_wanted("model-00001-of-00003.safetensors"));
    CHECK(hub_default_wanted("chat_template.jinja") && hub_default_wanted("model.safetensors.index.json"));
    CHECK(!hub_default_wanted("original/model.safetensors") && !hub_default_wanted("metal/model.bin"));
    CHECK(!hub_default_wanted("README.md") && !hub_default_wanted(".safetensors"));

    /* Link headers (RFC 8288 shapes) */
    char out[256];
    CHECK(link_next("<https://h/api?cursor=2>; rel=\"next\"", out) && !strcmp(out, "https://h/api?cursor=2"));
    CHECK(link_next("<https://h/p1>; rel=\"prev\", <https://h/p3>; rel=\"next\"", out) && !strcmp(out, "https://h/p3"));
    CHECK(link_next("<https://h/x>; title=\"a,b\"; rel=\"prev next\"", out) && !strcmp(out, "https://h/x"));
    CHECK(link_next("<https://h/y>;rel=next", out) && !strcmp(out, "https://h/y"));
    CHECK(!link_next("<https://h/p1>; rel=\"prev\"", out));
    CHECK(!link_next("https://h/p1; rel=next", out));
    CHECK(!link_next("<https://h/p1; rel=next", out));
    CHECK(!link_next("<>; rel=next", out));

    /* Content-Range */
    uint64_t a, b, t;
    CHECK(!hub_parse_content_range("bytes 100-199/1000", 18, &a, &b, &t) && a == 100 && b == 199 && t == 1000);
    CHECK(!hub_parse_content_range("bytes 0-0/*", 11, &a, &b, &t) && t == UINT64_MAX);
    CHECK(hub_parse_content_range("bytes 5-4/10", 12, &a, &b, &t) == -1);
    CHECK(hub_parse_content_range("bytes 0-10/10", 13, &a, &b, &t) == -1);
    CHECK(hub_parse_content_range("bytes */10", 10, &a, &b, &t) == -1);
    CHECK(hub_parse_content_range("bytes 0-99999999999999999999/1", 30, &a, &b, &t) == -1);

    /* Retry-After: seconds, and the RFC 9110 example date */
    CHECK_EQ_INT(hub_parse_retry_after("7", 1, 0), 7);
    CHECK_EQ_INT(hub_parse_retry_after(" 120 ", 5, 0), 120);
    CHECK_EQ_INT(hub_parse_retry_after("99999", 5, 0), 3600);
    /* Fri, 31 Dec 1999 23:59:59 GMT = 946684799 */
    const char *d = "Fri, 31 Dec 1999 23:59:59 GMT";
    CHECK_EQ_INT(hub_parse_retry_after(d, strlen(d), 946684799 - 30), 30);
    CHECK_EQ_INT(hub_parse_retry_after(d, strlen(d), 946684799 + 30), 0);
    CHECK_EQ_INT(hub_parse_retry_after("soon", 4, 0), -1);
    CHECK_EQ_INT(hub_parse_retry_after("-5", 2, 0), -1);

    /* ETags */
    char et[65];
    const char *lfs = "W/\"A8B2C0F6D1E3A8B2C0F6D1E3A8B2C0F6D1E3A8B2C0F6D1E3A8B2C0F6D1E3ABCD\"";
    CHECK(!hub_etag_normalize(lfs, strlen(lfs), et, sizeof et) &&
          !strcmp(et, "a8b2c0f6d1e3a8b2c0f6d1e3a8b2c0f6d1e3a8b2c0f6d1e3a8b2c0f6d1e3abcd"));
    CHECK(!hub_etag_normalize("\"0123456789abcdef0123456789abcdef01234567\"", 42, et, sizeof et));
    CHECK(hub_etag_normalize("\"xyz\"", 5, et, sizeof et) == -1);
    CHECK(hub_etag_normalize("\"0123456789abcdef0123456789abcdef0123456g\"", 42, et, sizeof et) == -1);

    /* repo info listing */
    const char *info =
        "{\"id\":\"o/n\",\"sha\":\"ABCDEF0123456789abcdef0123456789abcdef01\",\"siblings\":["
        "{\"rfilename\":\"config.json\",\"size\":12,\"blobId\":\"0123456789abcdef0123456789abcdef01234567\"},"
        "{\"rfilename\":\"m.safetensors\",\"size\":134,\"blobId\":\"1111111111111111111111111111111111111111\","
        "\"lfs\":{\"sha256\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\",\"size\":5000000000}}]}";
    hub_listing l = {0};
    char err[512];
    CHECK(!hub_parse_repo_info(info, strlen(info), &l, err, sizeof err));
    CHECK(!strcmp(l.commit, "abcdef0123456789abcdef0123456789abcdef01"));
    CHECK(l.n == 2 && !l.incomplete);
    if (l.n == 2) {
        CHECK(!l.v[0].is_lfs && l.v[0].size == 12 && !strcmp(l.v[0].etag, "0123456789abcdef0123456789abcdef01234567"));
        CHECK(l.v[1].is_lfs && l.v[1].size == 5000000000ull && l.v[1].etag[0] == 'a');
    }
    hub_listing_free(&l);
    const char *hostile = "{\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"siblings\":[{\"rfilename\":\"../x\","
                          "\"size\":1,\"blobId\":\"0123456789abcdef0123456789abcdef01234567\"}]}";
    CHECK(hub_parse_repo_info(hostile, strlen(hostile), &l, err, sizeof err) == -1 && strstr(err, "unsafe"));
    hub_listing_free(&l);
    const char *nosize = "{\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"siblings\":[{\"rfilename\":\"a\"}]}";
    CHECK(!hub_parse_repo_info(nosize, strlen(nosize), &l, err, sizeof err) && l.incomplete);
    hub_listing_free(&l);
    const char *negsize = "{\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"siblings\":[{\"rfilename\":\"a\","
                          "\"size\":-1,\"blobId\":\"0123456789abcdef0123456789abcdef01234567\"}]}";
    CHECK(!hub_parse_repo_info(negsize, strlen(negsize), &l, err, sizeof err) && l.incomplete);
    hub_listing_free(&l);

    /* tree page */
    const char *tree = "[{\"type\":\"directory\",\"path\":\"original\",\"oid\":\"x\",\"size\":0},"
                       "{\"type\":\"file\",\"path\":\"original/a.bin\",\"size\":7,\"oid\":\"0123456789abcdef0123456789abcdef01234567\","
                       "\"lfs\":{\"oid\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"size\":7}}]";
    CHECK(!hub_parse_tree_page(tree, strlen(tree), &l, err, sizeof err) && l.n == 1 && l.v[0].is_lfs);
    hub_listing_free(&l);
    const char *tree_bad = "[{\"type\":\"directory\",\"path\":\"/abs\"}]";
    CHECK(hub_parse_tree_page(tree_bad, strlen(tree_bad), &l, err, sizeof err) == -1);
    hub_listing_free(&l);
    CHECK(hub_parse_tree_page("{}", 2, &l, err, sizeof err) == -1);
    hub_listing_free(&l);

    /* NUL bytes inside JSON strings: cJSON would hand back "evil" / "config.json" (issue 14 item 11) */
#define SHA40 "0123456789abcdef0123456789abcdef01234567"
    const char *nul_info[] = {
        "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\":\"evil\\u0000.json\",\"size\":1,\"blobId\":\"" SHA40 "\"}]}",
        "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\":\"config.json\",\"size\":1,\"blobId\":\"" SHA40 "\"},"
        "{\"rfilename\":\"config.json\\u0000x\",\"size\":1,\"blobId\":\"" SHA40 "\"}]}",
        "{\"sha\":\"" SHA40 "\\u0000\",\"siblings\":[]}",
        "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\\u0000x\":\"a.json\",\"size\":1,\"blobId\":\"" SHA40 "\"}]}",
        "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\":\"a.json\",\"size\":1,\"blobId\":\"" SHA40 "\\u0000\"}]}",
    };
    for (size_t i = 0; i < sizeof nul_info / sizeof *nul_info; i++) {
        CHECK_MSG(hub_parse_repo_info(nul_info[i], strlen(nul_info[i]), &l, err, sizeof err) == -1 && strstr(err, "NUL"),
                  "NUL listing %zu refused (%s)", i, err);
        hub_listing_free(&l);
    }
    /* a raw 0 byte inside the quotes reads the same way */
    const char raw_nul[] = "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\":\"evil\0.json\",\"size\":1,\"blobId\":\"" SHA40 "\"}]}";
    CHECK(hub_parse_repo_info(raw_nul, sizeof raw_nul - 1, &l, err, sizeof err) == -1 && strstr(err, "NUL"));
    hub_listing_free(&l);
    const char *nul_tree = "[{\"type\":\"file\",\"path\":\"evil\\u0000.json\",\"size\":1,\"oid\":\"" SHA40 "\"}]";
    CHECK(hub_parse_tree_page(nul_tree, strlen(nul_tree), &l, err, sizeof err) == -1 && strstr(err, "NUL"));
    hub_listing_free(&l);
    /* a NUL where we do not look (a model card field) does not matter; other escapes decode to their lengths */
    const char *nul_elsewhere = "{\"cardData\":{\"x\\u0000\":\"y\\u0000\"},\"sha\":\"" SHA40 "\",\"siblings\":["
                                "{\"rfilename\":\"a.json\",\"size\":1,\"blobId\":\"" SHA40 "\"}]}";
    CHECK(!hub_parse_repo_info(nul_elsewhere, strlen(nul_elsewhere), &l, err, sizeof err) && l.n == 1 &&
          !strcmp(l.v[0].path, "a.json"));
    hub_listing_free(&l);
    const char *esc_ok = "{\"sha\":\"" SHA40 "\",\"siblings\":[{\"rfilename\":\"caf\\u00e9/\\u20ac\\ud83d\\ude00\\\"q.json\","
                         "\"size\":1,\"blobId\":\"" SHA40 "\"}]}";
    CHECK(!hub_parse_repo_info(esc_ok, strlen(esc_ok), &l, err, sizeof err) && l.n == 1 &&
          !strcmp(l.v[0].path, "caf\xc3\xa9/\xe2\x82\xac\xf0\x9f\x98\x80\"q.json"));
    hub_listing_free(&l);
    char **names = NULL;
    size_t nn = 0;
    const char *wm = "{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\",\"c\":3}}";
    CHECK(!hub_json_string_list(wm, strlen(wm), "weight_map", &names, &nn) && nn == 2 &&
          !strcmp(names[1], "m-2.safetensors"));
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    const char *wm_nul = "{\"weight_map\":{\"a\":\"m-1.safetensors\\u0000x\"}}";
    CHECK(hub_json_string_list(wm_nul, strlen(wm_nul), "weight_map", &names, &nn) == -1 && !names && nn == 0);

    /* whole-listing checks (issue 14 item 12) */
    hub_entry ents[4] = {{.path = "a"}, {.path = "a-b/c"}, {.path = "a/b"}, {.path = "z"}};
    hub_listing L = {.v = ents, .n = 4};
    CHECK(hub_listing_check(&L, 0, err, sizeof err) == -1 && strstr(err, "'a'"));
    ents[0].path = "a/b/c"; /* a/b is a file and a folder */
    CHECK(hub_listing_check(&L, 0, err, sizeof err) == -1 && strstr(err, "'a/b'"));
    ents[0].path = "ab";    /* a prefix that is not a folder: fine */
    CHECK(hub_listing_check(&L, 0, err, sizeof err) == 0);
    ents[3].path = ".cache/huggingface/download/a.metadata";
    CHECK(hub_listing_check(&L, 0, err, sizeof err) == 0);
    CHECK(hub_listing_check(&L, 1, err, sizeof err) == -1 && strstr(err, "bookkeeping"));
    CHECK(hub_path_is_bookkeeping(".cache") && hub_path_is_bookkeeping(".cache/huggingface") &&
          !hub_path_is_bookkeeping(".cache/other") && !hub_path_is_bookkeeping(".cachex/huggingface/a") &&
          !hub_path_is_bookkeeping("x/.cache/huggingface/a"));

    /* URLs as printed (issue 14 item 13) */
    char red[256];
    CHECK(!hub_url_redact("http://user:pw@h:8/p?q=a@b", red, sizeof red) && !strcmp(red, "http://***@h:8/p?q=a@b"));
    CHECK(!hub_url_redact("https://a@b@h/x", red, sizeof red) && !strcmp(red, "https://***@h/x"));
    CHECK(!hub_url_redact("https://h/p@x", red, sizeof red) && !strcmp(red, "https://h/p@x"));
    CHECK(!hub_url_redact("ftp://u:pw@h", red, sizeof red) && !strcmp(red, "ftp://***@h"));
    CHECK(hub_url_redact("http://user:secret@host/long/path", red, 12) == -1 && !strstr(red, "secret"));

    /* what a fatal answer means, as a hub_status (the CLI maps all three to exit 6) */
    hub_client hc = {0};
    hub_headers hh = {0};
    hh.status = 401;
    strcpy(hh.error_code, "RepoNotFound");
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_NOT_FOUND);
    strcpy(hh.error_code, "GatedRepo");
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_AUTH);
    hh.status = 404;
    strcpy(hh.error_code, "RevisionNotFound");
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_NOT_FOUND);
    hh.status = 401;
    hh.error_code[0] = 0;
    strcpy(hh.error_message, "Invalid credentials in Authorization header");
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_NOT_FOUND); /* no token sent: private, or missing */
    char tok[] = "hf_x";
    hc.token = tok;
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_AUTH);       /* the token sent was rejected */
    hh.status = 400;
    hh.error_message[0] = 0;
    CHECK(hub_http_fatal_status(&hc, &hh) == HUB_ERR_NETWORK);

    /* the token's origin check: scheme, host and port must all match */
    CHECK(hub_same_origin("http://127.0.0.1:8000/a/resolve/x", "http://127.0.0.1:8000"));
    CHECK(hub_same_origin("https://HuggingFace.co/x", "https://huggingface.co:443"));
    CHECK(!hub_same_origin("http://127.0.0.1:8001/lfs/x", "http://127.0.0.1:8000"));
    CHECK(!hub_same_origin("https://cdn-lfs.hf.co/x", "https://huggingface.co"));
    CHECK(!hub_same_origin("http://huggingface.co/x", "https://huggingface.co"));
    CHECK(!hub_same_origin("https://huggingface.co.evil.com/x", "https://huggingface.co"));
    CHECK(!hub_same_origin("not a url", "https://huggingface.co"));

    /* URL escaping: revision with no safe chars, path keeps '/' */
    char esc[128];
    CHECK(!hub_url_escape("refs/pr/1", 0, esc, sizeof esc) && !strcmp(esc, "refs%2Fpr%2F1"));
    CHECK(!hub_url_escape("a b/c+d.json", 1, esc, sizeof esc) && !strcmp(esc, "a%20b/c%2Bd.json"));
    CHECK(hub_url_escape("abcdef", 0, esc, 4) == -1);
    /* chunk plans and their progress file */
    size_t n = 0;
    hub_chunk *ch = hub_chunks_plan(10 * 1048576 + 5, 4 * 1048576, 1, &n);
    CHECK(ch && n == 3 && ch[0].end == 4194304 && ch[2].start == 8388608 && ch[2].end == 10485765);
    if (ch && n == 3) {
        ch[0].done = ch[0].end; /* finished */
        ch[1].done = 12345;
        char path[] = "/tmp/gq-test-chunks-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK(fd >= 0 && !hub_chunks_save(path, 10485765, ch, n));
        size_t m = 0;
        hub_chunk *back = hub_chunks_load(path, 10485765, &m);
        CHECK(back && m == 3 && back[1].done == 12345 && back[0].state == HUB_CH_DONE && back[1].state == HUB_CH_PENDING);
        free(back);
        CHECK(!hub_chunks_load(path, 10485766, &m)); /* another size: start over */
        FILE *f = fopen(path, "w");
        if (f) { fputs("gq-chunks 1 10 2\n0 5 0\n6 10 0\n", f); fclose(f); } /* a gap */
        CHECK(!hub_chunks_load(path, 10, &m));
        f = fopen(path, "w");
        if (f) { fputs("gq-chunks 1 10 1\n0 10 11\n", f); fclose(f); } /* done past the end */
        CHECK(!hub_chunks_load(path, 10, &m));
        unlink(path);
    }
    free(ch);
    ch = hub_chunks_plan(7, 4, 0, &n);
    CHECK(ch && n == 1 && ch[0].start == 0 && ch[0].end == 7);
    free(ch);
    ch = hub_chunks_plan(1ull << 40, 1 << 20, 1, &n); /* 1 TiB in 1 MiB: capped at 4096 ranges */
    CHECK(ch && n <= 4096 && ch[n - 1].end == 1ull << 40);
    free(ch);
    return check_done("test_hub_parse");
}
