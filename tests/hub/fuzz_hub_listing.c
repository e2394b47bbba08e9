/* fuzz_hub_listing.c - the repo-info and tree listings a Hub server sends:
 * the first byte picks the parser (bit 0: tree page) and whether the
 * whole-listing check runs as for --local-dir (bit 1); the rest is the
 * JSON. Every accepted entry must have a safe path and a well-formed etag;
 * a listing that passes hub_listing_check must hold no file that is also a
 * folder of another and (local dir) nothing under .cache/huggingface/,
 * checked here independently, pair by pair. The same bytes also go through
 * hub_json_string_list (the offline path's index reader). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub_parse.h"

/* an independent statement of the rule: is a a folder of b ("a" / "a/...")? */
static int folder_of(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0 && b[n] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    hub_listing l = {0};
    char err[512];
    const char *json = (const char *)data + 1;
    int local = (data[0] & 2) != 0;
    int rc = data[0] & 1 ? hub_parse_tree_page(json, size - 1, &l, err, sizeof err)
                         : hub_parse_repo_info(json, size - 1, &l, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (!hub_path_is_safe(l.v[i].path)) abort();
        size_t n = strlen(l.v[i].etag);
        if (n != 0 && n != 40 && n != 64) abort();
        if (l.v[i].is_lfs && n != 64) abort();
    }
    if (rc == 0 && hub_listing_check(&l, local, err, sizeof err) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            const char *p = l.v[i].path;
            if (local && (!strcmp(p, ".cache") || !strcmp(p, ".cache/huggingface") ||
                          !strncmp(p, ".cache/huggingface/", 19)))
                abort();
            for (size_t k = 0; l.n < 2000 && k < l.n; k++)
                if (k != i && folder_of(p, l.v[k].path)) abort();
        }
    }
    hub_listing_free(&l);
    char **names = NULL;
    size_t nn = 0;
    if (hub_json_string_list(json, size - 1, "weight_map", &names, &nn) == 0) {
        for (size_t i = 0; i < nn; i++) free(names[i]);
        free(names);
    } else if (names || nn) {
        abort(); /* a failure hands back nothing */
    }
    return 0;
}
