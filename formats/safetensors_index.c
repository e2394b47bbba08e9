/* safetensors_index.c - st_open: one file, a sharded checkpoint through its
 * model.safetensors.index.json, or a directory holding either.
 *
 * The index is as untrusted as the shards: its weight_map must name plain
 * file names in the index's directory, every listed shard must exist, and
 * the map must agree exactly with what the shards contain (every tensor of
 * the map in the shard the map names, every tensor of a shard in the map).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "gio_read.h"
#include "json_nul.h"
#include "safetensors_internal.h"

#define ST_MAX_INDEX (64u * 1024u * 1024u)

typedef struct {
    const char *tensor;
    const char *file;
} map_entry;

static int by_tensor(const void *a, const void *b)
{
    return strcmp(((const map_entry *)a)->tensor, ((const map_entry *)b)->tensor);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
    /* gio_read_file refuses a FIFO or other non-regular file before opening it */
    char *buf = gio_read_file(path, ST_MAX_INDEX, len, err, errlen);
    if (!buf && errno == EFBIG)
        st__fail(err, errlen, "%s: larger than %u bytes, not a safetensors index", path, ST_MAX_INDEX);
    return buf;
}

/* A shard name must be a plain file next to the index: no directories, so a
 * hostile index cannot make us open files elsewhere. */
static int plain_name(const char *s)
{
    return s[0] && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') && !strchr(s, '\\');
}

st_checkpoint *st__open_index(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_small_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    long long nul = gq_json_nul_string(text, len);
    if (nul >= 0) { /* a tensor or shard name cut short at the NUL would be another name */
        st__fail(err, errlen, "%s: string at byte %lld holds a NUL character (\\u0000); tensor and shard "
                 "names must not: the file is corrupt or hostile", path, nul);
        free(text);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    st_checkpoint *ck = NULL;
    map_entry *map = NULL;
    const char **files = NULL;
    char *dir = NULL;
    size_t nmap = 0, nfiles = 0;
    const char *iname = base_of(path);
    if (!root) {
        st__fail(err, errlen, "%s: not valid JSON (error near byte %zu)", path,
                 end && end >= text && end <= text + len ? (size_t)(end - text) : (size_t)0);
        goto fail;
    }
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(wm)) {
        st__fail(err, errlen, "%s: no \"weight_map\" object: not a safetensors index", path);
        goto fail;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(wm);
    if (cnt == 0) {
        st__fail(err, errlen, "%s: weight_map is empty", path);
        goto fail;
    }
    map = calloc(cnt, sizeof *map);
    files = calloc(cnt, sizeof *files);
    if (!map || !files) {
        st__fail(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !plain_name(e->valuestring)) {
            st__fail(err, errlen, "%s: weight_map entry for '%s' must be a shard file name in the same directory",
                     path, e->string);
            goto fail;
        }
        map[nmap++] = (map_entry){e->string, e->valuestring};
        files[nfiles++] = e->valuestring;
    }
    qsort(map, nmap, sizeof *map, by_tensor);
    for (size_t i = 1; i < nmap; i++)
        if (strcmp(map[i - 1].tensor, map[i].tensor) == 0) {
            st__fail(err, errlen, "%s: weight_map lists tensor '%s' twice", path, map[i].tensor);
            goto fail;
        }
    /* the distinct shards, in name order (deterministic shard numbering) */
    qsort(files, nfiles, sizeof *files, by_str);
    size_t u = 0;
    for (size_t i = 0; i < nfiles; i++)
        if (u == 0 || strcmp(files[u - 1], files[i]) != 0)
            files[u++] = files[i];
    nfiles = u;

    dir = dir_of(path);
    ck = st__new();
    if (!dir || !ck) {
        st__fail(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char *sp = join(dir, files[i]);
        if (!sp) {
            st__fail(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        struct stat sb;
        if (stat(sp, &sb) != 0) {
            const char *who = "";
            for (size_t k = 0; k < nmap; k++)
                if (strcmp(map[k].file, files[i]) == 0) {
                    who = map[k].tensor;
                    break;
                }
            st__fail(err, errlen,
                     "%s: weight_map puts tensor '%s' in shard %s, which does not exist (%s): the download is "
                     "incomplete; fetch the missing shard",
                     path, who, sp, strerror(errno));
            free(sp);
            goto fail;
        }
        int idx = st__add_file(ck, sp, err, errlen);
        free(sp);
        if (idx < 0 || st__parse_shard(ck, (size_t)idx, err, errlen) != 0)
            goto fail;
    }
    if (st__finish(ck, err, errlen) != 0)
        goto fail;
    /* the map and the shards must agree, both ways */
    for (size_t i = 0; i < nmap; i++) {
        const st_tensor *t = st_find(ck, map[i].tensor);
        if (!t) {
            st__fail(err, errlen, "%s: weight_map puts tensor '%s' in %s, but that shard does not contain it", iname,
                     map[i].tensor, map[i].file);
            goto fail;
        }
        const char *actual = base_of(ck->shards[t->shard].path);
        if (strcmp(actual, map[i].file) != 0) {
            st__fail(err, errlen, "%s: weight_map puts tensor '%s' in %s, but it is in %s", iname, map[i].tensor,
                     map[i].file, actual);
            goto fail;
        }
    }
    if (st_count(ck) != nmap) {
        /* sizes differ and every map entry was found: some shard tensor is unlisted */
        for (size_t i = 0; i < st_count(ck); i++) {
            map_entry key = {st_at(ck, i)->name, NULL};
            if (!bsearch(&key, map, nmap, sizeof key, by_tensor)) {
                st__fail(err, errlen, "%s: tensor '%s' is not listed in %s's weight_map",
                         ck->shards[st_at(ck, i)->shard].path, key.tensor, iname);
                goto fail;
            }
        }
    }
    free(map);
    free(files);
    free(dir);
    cJSON_Delete(root);
    free(text);
    return ck;
fail:
    st_close(ck);
    free(map);
    free(files);
    free(dir);
    cJSON_Delete(root);
    free(text);
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static st_checkpoint *open_single(const char *path, char *err, size_t errlen)
{
    st_checkpoint *ck = st__new();
    if (!ck) {
        st__fail(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (st__add_file(ck, path, err, errlen) < 0 || st__parse_shard(ck, 0, err, errlen) != 0 ||
        st__finish(ck, err, errlen) != 0) {
        st_close(ck);
        return NULL;
    }
    return ck;
}

static st_checkpoint *open_dir(const char *dir, char *err, size_t errlen)
{
    char *p = join(dir, "model.safetensors.index.json");
    if (!p) {
        st__fail(err, errlen, "%s: out of memory", dir);
        return NULL;
    }
    if (is_file(p)) {
        st_checkpoint *ck = st__open_index(p, err, errlen);
        free(p);
        return ck;
    }
    free(p);
    p = join(dir, "model.safetensors");
    if (p && is_file(p)) {
        st_checkpoint *ck = open_single(p, err, errlen);
        free(p);
        return ck;
    }
    free(p);
    /* neither: accept exactly one *.safetensors file, else say what is there */
    DIR *d = opendir(dir);
    if (!d) {
        st__fail(err, errlen, "%s: cannot list directory: %s", dir, strerror(errno));
        return NULL;
    }
    char *only = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".safetensors"))
            continue;
        char *fp = join(dir, e->d_name);
        int regular = fp && is_file(fp);
        free(fp);
        if (!regular)
            continue;
        if (count++ == 0)
            only = strdup(e->d_name);
    }
    closedir(d);
    if (count == 1 && only) {
        char *fp = join(dir, only);
        free(only);
        st_checkpoint *ck = fp ? open_single(fp, err, errlen) : NULL;
        if (!fp)
            st__fail(err, errlen, "%s: out of memory", dir);
        free(fp);
        return ck;
    }
    free(only);
    if (count == 0)
        st__fail(err, errlen, "%s: no model.safetensors.index.json and no .safetensors file here: not a checkpoint "
                              "directory (for the OpenAI layout pass its original/ subdirectory)",
                 dir);
    else
        st__fail(err, errlen, "%s: %d .safetensors files but no model.safetensors.index.json to say how they fit "
                              "together; pass the index or a single file",
                 dir, count);
    return NULL;
}

st_checkpoint *st_open(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        st__fail(err, errlen, "no checkpoint path given");
        return NULL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        st__fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(sb.st_mode))
        return open_dir(path, err, errlen);
    if (ends_with(path, ".json"))
        return st__open_index(path, err, errlen);
    return open_single(path, err, errlen);
}
