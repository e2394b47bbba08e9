/* fuzz_hub_headers.c - header values from the server: Link, Content-Range,
 * Retry-After, ETag, decimal sizes, and path / repo-id checks. The results
 * must respect their contracts (ordered ranges, bounded delays, hex etags). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *v = (const char *)data;
    char out[512];
    if (hub_link_next(v, size, out, sizeof out) && (strlen(out) == 0 || strlen(out) >= sizeof out)) abort();
    uint64_t a, b, t;
    if (hub_parse_content_range(v, size, &a, &b, &t) == 0 && (b < a || (t != UINT64_MAX && b >= t))) abort();
    long s = hub_parse_retry_after(v, size, 1700000000L);
    if (s < -1 || s > 3600) abort();
    char et[65];
    if (hub_etag_normalize(v, size, et, sizeof et) == 0) {
        size_t n = strlen(et);
        if (n != 40 && n != 64) abort();
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char)et[i]) || isupper((unsigned char)et[i])) abort();
    }
    uint64_t u;
    hub_parse_u64(v, size, &u);
    /* the NUL-terminated checks: on a bounded copy */
    char *z = malloc(size + 1);
    if (!z) return 0;
    memcpy(z, data, size);
    z[size] = 0;
    if (hub_path_is_safe(z)) { /* an independent check of the same rule, segment by segment */
        if (z[0] == '/' || strchr(z, '\\')) abort();
        for (const char *seg = z;;) {
            const char *end = strchr(seg, '/');
            size_t n = end ? (size_t)(end - seg) : strlen(seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) abort();
            if (!end) break;
            seg = end + 1;
        }
    }
    if (hub_repo_id_is_valid(z) && (strstr(z, "--") || strstr(z, ".."))) abort();
    /* a URL as printed: its authority holds no userinfo but our "***" */
    char red[300];
    if (hub_url_redact(z, red, sizeof red) == 0) {
        const char *sep = strstr(red, "://");
        const char *auth = sep ? sep + 3 : red;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', alen);
        if (at && (at != auth + 3 || strncmp(auth, "***", 3) || memchr(at + 1, '@', alen - 4))) abort();
    }
    hub_default_wanted(z);
    free(z);
    return 0;
}
