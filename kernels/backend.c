/* backend.c - what every backend shares (status names, gb_fail) and the
 * registry of the backends compiled into this build (backend.h). */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/backend_cpu.h"

#ifdef GQ_HAVE_VULKAN
extern const gb_backend_entry gb_vulkan_entry;
#endif
#ifdef GQ_HAVE_METAL
extern const gb_backend_entry gb_metal_entry;
#endif

const char *gb_status_name(gb_status s)
{
    switch (s) {
    case GB_OK:
        return "ok";
    case GB_ERR_NOMEM:
        return "out of memory";
    case GB_ERR_DEVICE:
        return "device failure";
    case GB_ERR_UNSUPPORTED:
        return "unsupported";
    case GB_ERR_INVALID:
        return "invalid argument";
    case GB_ERR_UNAVAILABLE:
        return "unavailable";
    }
    return "unknown status";
}

gb_status gb_fail(gb_backend *b, gb_status s, const char *fmt, ...)
{
    if (s == GB_OK || b->status != GB_OK)
        return s; /* the first failure is the cause: keep its words */
    b->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->error, sizeof b->error, fmt, ap);
    va_end(ap);
    return s;
}

/* "auto" preference order: a real GPU first, the CPU last. */
static const gb_backend_entry *const entries[] = {
#ifdef GQ_HAVE_METAL
    &gb_metal_entry,
#endif
#ifdef GQ_HAVE_VULKAN
    &gb_vulkan_entry,
#endif
    &gb_cpu_entry,
    NULL,
};

const gb_backend_entry *const *gb_backends(void) { return entries; }

/* Every backend this project knows, built in here or not. */
static const char *const known[] = {"cpu", "vulkan", "metal"};

static void built_in_list(char *out, size_t len)
{
    out[0] = 0;
    for (size_t i = 0; entries[i]; i++) {
        size_t l = strlen(out);
        snprintf(out + l, len - l, "%s%s", i ? ", " : "", entries[i]->name);
    }
}

static void set(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void set(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

gb_status gb_backend_create(const char *name, const gb_config *c, gb_backend **out, char *note, size_t notelen,
                            char *err, size_t errlen)
{
    gb_config dflt = {0, NULL};
    if (!c)
        c = &dflt;
    *out = NULL;
    set(note, notelen, "%s", "");
    char have[128];
    built_in_list(have, sizeof have);
    if (!name || !strcmp(name, "auto")) {
        /* the first real device; a software emulation (lavapipe) never */
        char skipped[1024] = "";
        for (size_t i = 0; entries[i]; i++) {
            const gb_backend_entry *e = entries[i];
            char why[256] = "";
            int software = 0;
            int usable = e->probe(c, &software, why, sizeof why);
            if (usable && !software) {
                char cerr[sizeof why] = ""; /* same size as why: copied into it below */
                gb_backend *b = e->create(c, cerr, sizeof cerr);
                if (b) {
                    *out = b;
                    if (skipped[0])
                        set(note, notelen, "auto: using %s (%s)", e->name, skipped);
                    return GB_OK;
                }
                snprintf(why, sizeof why, "%s", cerr);
            } else if (usable) {
                snprintf(why, sizeof why, "only a software emulation");
            }
            size_t l = strlen(skipped);
            snprintf(skipped + l, sizeof skipped - l, "%s%s: %s", l ? "; " : "", e->name, why[0] ? why : "unusable");
        }
        set(err, errlen, "no backend could start (%s)", skipped);
        return GB_ERR_UNAVAILABLE;
    }
    for (size_t i = 0; entries[i]; i++) {
        const gb_backend_entry *e = entries[i];
        if (strcmp(e->name, name))
            continue;
        char why[256] = "";
        int software = 0;
        if (!e->probe(c, &software, why, sizeof why)) {
            set(err, errlen, "backend '%s' is built in but cannot run here: %s (backends built in: %s)", name,
                why[0] ? why : "no usable device", have);
            return GB_ERR_UNAVAILABLE;
        }
        char cerr[512] = "";
        gb_backend *b = e->create(c, cerr, sizeof cerr);
        if (!b) {
            set(err, errlen, "backend '%s' could not start: %s (backends built in: %s)", name,
                cerr[0] ? cerr : "no reason given", have);
            return GB_ERR_UNAVAILABLE;
        }
        *out = b;
        return GB_OK;
    }
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(known[i], name)) {
            set(err, errlen, "backend '%s' is not built into this binary (rebuild with its SDK present; backends "
                "built in: %s)", name, have);
            return GB_ERR_UNAVAILABLE;
        }
    set(err, errlen, "unknown backend '%s' (backends: cpu, vulkan, metal, auto; built in: %s)", name, have);
    return GB_ERR_UNAVAILABLE;
}
