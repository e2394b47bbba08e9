/* hub_auth.c - token lookup and the origin check that keeps the token on
 * the Hub's own host (see hub_auth.h). */
#include "hub_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "gio_read.h"

int hub_hf_home(char *out, size_t outlen)
{
    const char *h = getenv("HF_HOME");
    int n;
    if (h && *h) {
        n = snprintf(out, outlen, "%s", h);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) return -1;
        const char *xdg = getenv("XDG_CACHE_HOME");
        n = xdg && *xdg ? snprintf(out, outlen, "%s/huggingface", xdg)
                        : snprintf(out, outlen, "%s/.cache/huggingface", home);
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (!n) return NULL;
    /* a token with embedded control bytes could inject headers: refuse it */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f) return NULL;
    char *t = malloc(n + 1);
    if (!t) return NULL;
    memcpy(t, s, n);
    t[n] = 0;
    return t;
}

static char *token_from_file(const char *path)
{
    size_t n = 0;
    char *buf = gio_read_file(path, 1u << 16, &n, NULL, 0); /* a FIFO there must not hang us */
    if (!buf) return NULL;
    char *t = trimmed_dup(buf, n);
    volatile char *v = buf; /* the token's bytes do not outlive their use */
    for (size_t i = 0; i < n; i++) v[i] = 0;
    free(buf);
    return t;
}

char *hub_token_lookup(void)
{
    const char *names[] = {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) return trimmed_dup(v, strlen(v));
    }
    const char *p = getenv("HF_TOKEN_PATH");
    if (p && *p) return token_from_file(p);
    char home[4096], path[4200];
    if (hub_hf_home(home, sizeof home)) return NULL;
    snprintf(path, sizeof path, "%s/token", home);
    return token_from_file(path);
}

void hub_token_free(char *t)
{
    if (!t) return;
    volatile char *v = t;
    while (*v) *v++ = 0;
    free(t);
}

/* scheme, lowercased host and port (default filled in) of a URL */
static int origin_of(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    if (!u) return -1;
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (!curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
        !curl_url_get(u, CURLUPART_HOST, &host, 0) && !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
        for (char *c = host; *c; c++) *c = (char)tolower((unsigned char)*c);
        for (char *c = scheme; *c; c++) *c = (char)tolower((unsigned char)*c);
        int n = snprintf(out, outlen, "%s://%s:%s", scheme, host, port);
        rc = n > 0 && (size_t)n < outlen ? 0 : -1;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int hub_same_origin(const char *a, const char *b)
{
    char oa[1024], ob[1024];
    if (origin_of(a, oa, sizeof oa) || origin_of(b, ob, sizeof ob)) return 0;
    return !strcmp(oa, ob);
}
