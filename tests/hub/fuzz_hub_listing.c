/* fuzz_hub_listing.c - the repo-info and tree listings a Hub server sends:
 * the first byte picks the parser, the rest is the JSON. Every accepted
 * entry must have a safe path and a well-formed etag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    hub_listing l = {0};
    char err[512];
    const char *json = (const char *)data + 1;
    int rc = data[0] & 1 ? hub_parse_tree_page(json, size - 1, &l, err, sizeof err)
                         : hub_parse_repo_info(json, size - 1, &l, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (!hub_path_is_safe(l.v[i].path)) abort();
        size_t n = strlen(l.v[i].etag);
        if (n != 0 && n != 40 && n != 64) abort();
        if (l.v[i].is_lfs && n != 64) abort();
    }
    hub_listing_free(&l);
    return 0;
}
