/* cmd_convert.c - `gptoss-convert convert SRC -o OUT`: checkpoint -> .gptoss.
 *
 * Order of work: refuse an existing OUT early (exit 7), open and validate
 * the source, build the plan, start hashing the sources for provenance
 * (background threads beside the conversion; an HF cache blob name IS the
 * hash), create the writer (temp file next to OUT), stream every tensor
 * through the pipeline, then wait for the hashes, put them in the header
 * in place of fixed-width placeholders, finish (fsync + rename).
 *
 * Signals: the SIGINT / SIGTERM handler is installed before any output file
 * exists. A first signal stops the pipeline at the next chunk (or the
 * writer just before it would publish OUT), the temporary is removed, exit
 * 130. A second one removes the temporary at once (gio_out_signal_cleanup)
 * and exits 130. Once OUT has been moved into place the run has succeeded,
 * and a signal after that is reported as the success it is (exit 0).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd_fetch.h"
#include "commands.h"
#include "gio_out.h"
#include "gguf_convert.h"
#include "hub.h"
#include "pipeline.h"
#include "progress.h"
#include "source.h"

static volatile sig_atomic_t g_cancel;
static volatile sig_atomic_t g_published;   /* OUT is in place: the run has succeeded */

static void on_signal(int sig)
{
    (void)sig;
    if (g_published)
        return;
    if (g_cancel) {
        /* Second signal: the user insists. Removes unpublished temporaries
         * (unlink) and exits (_exit): both async-signal-safe. A writer that
         * published in the meantime makes this a success. */
        _exit(gio_out_signal_cleanup() ? EXIT_OK : EXIT_INTERRUPTED);
    }
    g_cancel = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gptoss-convert convert SRC -o OUT [options]\n"
            "\n"
            "Convert a gpt-oss checkpoint folder (Hugging Face layout, or OpenAI's original/\n"
            "layout; detected automatically) into one .gptoss file or one GGUF file (the format\n"
            "llama.cpp loads; same tensor names and metadata keys as llama.cpp's own gpt-oss GGUFs).\n"
            "SRC is a folder, not a file. SRC may also be a Hugging Face Hub repo ORG/NAME (or\n"
            "ORG/NAME@REV): fetched into the shared cache first, or found there (see\n"
            "'gptoss-convert fetch --help'). OpenAI's original/ folder downloaded alone (no tokenizer)\n"
            "converts too: the tokenizer files are fetched from the same repo and commit when SRC is a\n"
            "Hugging Face cache snapshot, else the error names them and the fetch command.\n"
            "\n"
            "  -o, --output OUT     output file (written to a temporary, renamed when complete)\n"
            "  --quant R            recipe: mxfp4 (experts mxfp4, rest bf16; default),\n"
            "                       q8 (everything q8_32; MXFP4 experts exactly), q4 (everything q4_32)\n"
            "  --embed T            override the embedding type (bf16|q8|q4)\n"
            "  --attn T             override the attention weights (bf16|q8|q4)\n"
            "  --head T             override the output head (bf16|q8|q4)\n"
            "  --experts T          override the experts (mxfp4|q8|q4|bf16)\n"
            "                       norms, biases, sinks and the router are always f32\n"
            "  --format F           gptoss or gguf; default: from OUT's extension (.gguf: gguf),\n"
            "                       else gptoss. A --format that contradicts the extension is refused\n"
            "  --revision REV       SRC = ORG/NAME: branch, tag or commit (default main; ORG/NAME@REV too)\n"
            "  --timeout S          SRC = ORG/NAME: give up fetching after S seconds (exit 6)\n"
            "  -j, --threads N      worker threads 1..256 (default: all cores); output is identical for any N\n"
            "  -f, --force          overwrite OUT if it exists\n"
            "  --json               print one JSON object with the results on stdout (errors: {\"error\":...})\n"
            "  -q, --quiet          no summary table and no progress bar\n"
            "\n"
            "Example: gptoss-convert convert ./gpt-oss-20b -o 20b.gptoss --quant q8 --experts mxfp4\n"
            "         gptoss-convert convert openai/gpt-oss-20b -o 20b.gguf\n"
            GIO_EXIT_HELP);
}

typedef struct {
    const char *src, *out, *quant, *embed, *attn, *head, *experts, *format, *revision;
    int threads, force, json, quiet;
    double timeout; /* --timeout for fetching ORG/NAME, 0 = none */
    char src_buf[512]; /* ORG/NAME split off ORG/NAME@REV */
} conv_opts;

enum { OPT_QUANT = 256, OPT_EMBED, OPT_ATTN, OPT_HEAD, OPT_EXPERTS, OPT_FORMAT, OPT_TIMEOUT, OPT_JSON, OPT_REVISION };

/* 0, -1 after a usage message (exit 2), 1 after --help (exit 0). */
static int parse_args(int argc, char **argv, conv_opts *o, gio_opt *p)
{
    static const struct option lo[] = {
        {"help", no_argument, NULL, 'h'},        {"output", required_argument, NULL, 'o'},
        {"quant", required_argument, NULL, OPT_QUANT}, {"embed", required_argument, NULL, OPT_EMBED},
        {"attn", required_argument, NULL, OPT_ATTN},   {"head", required_argument, NULL, OPT_HEAD},
        {"experts", required_argument, NULL, OPT_EXPERTS}, {"format", required_argument, NULL, OPT_FORMAT},
        {"revision", required_argument, NULL, OPT_REVISION},
        {"threads", required_argument, NULL, 'j'}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"force", no_argument, NULL, 'f'},        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    gio_opt_init(p, "gptoss-convert convert", argc, argv);
    o->json = p->json;
    int c;
    long long x;
    while ((c = gio_opt_next(p, argc, argv, "ho:j:fq", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 1;
        case 'o': o->out = p->arg; break;
        case OPT_QUANT: o->quant = p->arg; break;
        case OPT_EMBED: o->embed = p->arg; break;
        case OPT_ATTN: o->attn = p->arg; break;
        case OPT_HEAD: o->head = p->arg; break;
        case OPT_EXPERTS: o->experts = p->arg; break;
        case OPT_FORMAT: o->format = p->arg; break;
        case OPT_REVISION: o->revision = p->arg; break;
        case 'j':
            if (gio_opt_int(p, 1, 256, &x)) return -1;
            o->threads = (int)x;
            break;
        case OPT_TIMEOUT:
            if (fetch_parse_timeout(p->arg, &o->timeout)) {
                gio_fail(p, EXIT_USAGE, "--timeout must be a number of seconds in (0, 1e7], not '%s'", p->arg);
                return -1;
            }
            break;
        case 'f': o->force = 1; break;
        case OPT_JSON: o->json = 1; break;
        case 'q': o->quiet = 1; break;
        default: return -1;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->src) {
            gio_fail(p, EXIT_USAGE, "unexpected argument '%s' (one SRC only; see --help)", argv[i]);
            return -1;
        }
        o->src = argv[i];
    }
    if (!o->src || !o->out) {
        gio_fail(p, EXIT_USAGE, "%s (see --help)", !o->src ? "missing SRC" : "missing -o OUT");
        if (!o->json)
            usage(stderr);
        return -1;
    }
    /* ORG/NAME@REV */
    const char *at = strchr(o->src, '@');
    struct stat st;
    if (at && stat(o->src, &st) != 0 && strchr(o->src, '/') && (size_t)(at - o->src) < sizeof o->src_buf) {
        if (o->revision && strcmp(o->revision, at + 1)) {
            gio_fail(p, EXIT_USAGE, "two revisions: '%s' in SRC and --revision %s", at + 1, o->revision);
            return -1;
        }
        snprintf(o->src_buf, sizeof o->src_buf, "%.*s", (int)(at - o->src), o->src);
        o->revision = at + 1;
        o->src = o->src_buf;
    }
    /* the format: --format, else OUT's extension; both must agree */
    int out_gguf = gg_wants_gguf(o->out);
    size_t ol = strlen(o->out);
    int out_gptoss = ol >= 7 && !strcmp(o->out + ol - 7, ".gptoss");
    if (!o->format) {
        o->format = out_gguf ? "gguf" : "gptoss";
    } else if (strcmp(o->format, "gptoss") && strcmp(o->format, "gguf")) {
        gio_fail(p, EXIT_USAGE, "--format must be gptoss or gguf, not '%s'", o->format);
        return -1;
    } else if ((out_gguf && !strcmp(o->format, "gptoss")) || (out_gptoss && !strcmp(o->format, "gguf"))) {
        gio_fail(p, EXIT_USAGE, "-o %s has the extension of the other format than --format %s: change one of them",
                 o->out, o->format);
        return -1;
    }
    return 0;
}

/* ---- the .gptoss sink ---- */

/* The header records the sources' sha256, but hashing a 13 GB directory
 * takes as long as converting it: the header is written at begin with
 * fixed-width placeholder hashes, the hashing threads run beside the
 * conversion, and finish waits for them and puts the real hashes in (same
 * header length, so nothing moves) before the file is published. */
typedef struct {
    gf_writer *w;
    cv_source *src;
    const cv_recipe *recipe;
    double hash_wait;     /* seconds finish waited for the hashes */
    char err[600];        /* a hashing failure, else "" */
} gf_sink_ctx;

static char *meta_json(const cv_source *s, const cv_recipe *r);

static int gs_begin(void *c) { return gf_writer_begin(((gf_sink_ctx *)c)->w); }
static int gs_write(void *c, size_t i, const void *b, size_t n) { return gf_writer_write(((gf_sink_ctx *)c)->w, i, b, n); }
static int gs_finish(void *c)
{
    gf_sink_ctx *g = c;
    double t = cv_now();
    if (cv_provenance_wait(&g->src->prov, g->err, sizeof g->err))
        return -1;
    g->hash_wait = cv_now() - t;
    char *meta = meta_json(g->src, g->recipe);
    if (!meta) {
        snprintf(g->err, sizeof g->err, "out of memory building the header");
        return -1;
    }
    int rc = gf_writer_set_meta(g->w, meta);
    free(meta);
    return rc ? rc : gf_writer_finish(g->w);
}
/* borrowed writes of bytes the workers have hashed already (gs_hash) */
static int gs_write_borrowed(void *c, size_t i, const void *b, size_t n)
{
    return gf_writer_write_hashed(((gf_sink_ctx *)c)->w, i, b, n);
}
static int gs_hash(void *c, size_t i, const void *b, size_t n) { return gf_writer_hash(((gf_sink_ctx *)c)->w, i, b, n); }
static int gs_release(void *c, const void *lo, const void *hi, int wait)
{
    return gf_writer_release(((gf_sink_ctx *)c)->w, lo, hi, wait);
}
static uint64_t gs_offset(void *c, size_t i) { return gf_writer_tensor_offset(((gf_sink_ctx *)c)->w, i); }
static void gs_abort(void *c) { (void)c; /* gf_writer_abort runs once, at the end of cmd_convert */ }
static const char *gs_error(void *c)
{
    gf_sink_ctx *g = c;
    return g->err[0] ? g->err : gf_writer_error(g->w);
}

/* ---- progress (and the tests' deliberately slow path) ---- */

typedef struct {
    cv_progress bar;
    long delay_ms;   /* GPTOSS_CONVERT_TEST_DELAY_MS: sleep after each chunk, so that
                        the crash-safety tests can interrupt a tiny conversion */
} progress_ctx;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    progress_ctx *p = ctx;
    if (p->delay_ms > 0) {
        struct timespec ts = {p->delay_ms / 1000, (p->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    cv_progress_update(&p->bar, done, total);
}

/* GPTOSS_CONVERT_TEST_RAISE=created|published[:N]: the crash-safety tests
 * raise SIGINT N times (default once) right after the output file is
 * created, or right after it has been moved onto OUT: the moments a real
 * signal hits only by luck. */
static void test_raise(const char *when)
{
    const char *v = getenv("GPTOSS_CONVERT_TEST_RAISE");
    size_t n = strlen(when);
    if (!v || strncmp(v, when, n) || (v[n] && v[n] != ':'))
        return;
    for (long i = 0, k = v[n] ? strtol(v + n + 1, NULL, 10) : 1; i < k; i++)
        raise(SIGINT);
}

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v ? strtol(v, NULL, 10) : 0;
}

/* ---- header metadata ---- */

static const char *type_name(gq_type t)
{
    const gq_traits *tr = gq_traits_of(t);
    return tr ? tr->name : "?";
}

static char *meta_json(const cv_source *s, const cv_recipe *r)
{
    char hp[16384];
    if (gf_hparams_to_json(&s->hp, hp, sizeof hp) < 0)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *hpj = cJSON_Parse(hp);
    cJSON_AddItemToObject(root, "hparams", hpj ? hpj : cJSON_CreateObject());
    cJSON *q = cJSON_AddObjectToObject(root, "quant");
    cJSON_AddStringToObject(q, "recipe", r->name);
    for (int c = 0; c < CV_CLASS_COUNT; c++)
        cJSON_AddStringToObject(q, cv_class_name((cv_class)c), type_name(r->type[c]));
    cJSON *p = cJSON_AddObjectToObject(root, "provenance");
    cJSON_AddStringToObject(p, "source_repo", s->prov.repo_id);
    cJSON_AddStringToObject(p, "source_commit", s->prov.commit);
    cJSON_AddStringToObject(p, "source_layout", s->layout == CV_LAYOUT_ORIGINAL ? "original" : "hf");
    cJSON *files = cJSON_AddArrayToObject(p, "files");
    for (size_t i = 0; i < s->prov.n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", s->prov.files[i].name);
        cJSON_AddNumberToObject(f, "size", (double)s->prov.files[i].size);
        /* not hashed yet: a placeholder of the same width (see gs_finish) */
        const char *h = s->prov.files[i].sha256;
        cJSON_AddStringToObject(f, "sha256", h[0] ? h : "0000000000000000000000000000000000000000000000000000000000000000");
        cJSON_AddItemToArray(files, f);
    }
    cJSON_AddStringToObject(p, "converter", "gptoss-convert");
    cJSON_AddStringToObject(p, "converter_version", GPTOSS_VERSION);
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return txt;
}

/* ---- report ---- */

typedef struct {
    const conv_opts *o;
    const cv_source *s;
    const cv_recipe *r;
    const cv_pipeline_result *res;
    double seconds;
    double hash_wait;   /* seconds the finished conversion waited for the source hashes */
    uint64_t file_bytes;
} report;

static long peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return -1;
#ifdef __APPLE__
    return ru.ru_maxrss / 1024; /* bytes there */
#else
    return ru.ru_maxrss;
#endif
}

static void class_figures(const cv_pipeline_result *res, int c, double *bpw, double *rmse, double *rel)
{
    const gq_stats *st = &res->cls[c];
    uint64_t v = res->cls_values[c];
    *bpw = v ? 8.0 * (double)res->cls_bytes[c] / (double)v : 0;
    *rmse = v ? sqrt(st->sq_err / (double)v) : 0;
    *rel = st->sq_ref > 0 ? sqrt(st->sq_err / st->sq_ref) : 0;
}

static void print_table(const report *rp)
{
    const cv_pipeline_result *res = rp->res;
    printf("%-8s %-6s %7s %14s %7s %11s %9s %14s\n", "class", "type", "tensors", "bytes", "bits/w", "RMSE",
           "rel RMSE", "inexact/blocks");
    for (int c = 0; c < CV_CLASS_COUNT; c++) {
        if (!res->cls_tensors[c])
            continue;
        double bpw, rmse, rel;
        class_figures(res, c, &bpw, &rmse, &rel);
        char blk[48];
        snprintf(blk, sizeof blk, "%llu/%llu", (unsigned long long)res->cls[c].inexact_blocks,
                 (unsigned long long)res->cls[c].blocks);
        printf("%-8s %-6s %7llu %14llu %7.3f %11.4g %9.4g %14s\n", cv_class_name((cv_class)c),
               type_name(rp->r->type[c]), (unsigned long long)res->cls_tensors[c],
               (unsigned long long)res->cls_bytes[c], bpw, rmse, rel, blk);
    }
    double t = rp->seconds > 0 ? rp->seconds : 1e-9;
    printf("total: %llu tensor bytes, file %llu bytes (%.2f GB), %.2f s, read %.1f MB/s, wrote %.1f MB/s, "
           "%d threads, peak RSS %ld MiB\n",
           (unsigned long long)res->out_bytes, (unsigned long long)rp->file_bytes, (double)rp->file_bytes / 1e9,
           rp->seconds, (double)res->in_bytes / t / 1e6, (double)rp->file_bytes / t / 1e6, res->threads,
           peak_rss_kb() / 1024);
    printf("source hashes: %.2f s waited after the conversion (files named by an HF cache blob need none)\n", rp->hash_wait);
    printf("wrote %s (recipe %s, %s layout)\n", rp->o->out, rp->r->name,
           rp->s->layout == CV_LAYOUT_ORIGINAL ? "original/" : "Hugging Face");
}

static void print_json(const report *rp)
{
    const cv_pipeline_result *res = rp->res;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddStringToObject(j, "output", rp->o->out);
    cJSON_AddStringToObject(j, "format", rp->o->format);
    cJSON_AddStringToObject(j, "recipe", rp->r->name);
    cJSON_AddStringToObject(j, "layout", rp->s->layout == CV_LAYOUT_ORIGINAL ? "original" : "hf");
    cJSON_AddNumberToObject(j, "threads", res->threads);
    cJSON_AddNumberToObject(j, "seconds", rp->seconds);
    cJSON_AddNumberToObject(j, "hash_wait_seconds", rp->hash_wait);
    cJSON_AddNumberToObject(j, "in_bytes", (double)res->in_bytes);
    cJSON_AddNumberToObject(j, "tensor_bytes", (double)res->out_bytes);
    cJSON_AddNumberToObject(j, "file_bytes", (double)rp->file_bytes);
    cJSON_AddNumberToObject(j, "peak_rss_kb", (double)peak_rss_kb());
    cJSON *cls = cJSON_AddObjectToObject(j, "classes");
    for (int c = 0; c < CV_CLASS_COUNT; c++) {
        if (!res->cls_tensors[c])
            continue;
        double bpw, rmse, rel;
        class_figures(res, c, &bpw, &rmse, &rel);
        cJSON *o = cJSON_AddObjectToObject(cls, cv_class_name((cv_class)c));
        cJSON_AddStringToObject(o, "type", type_name(rp->r->type[c]));
        cJSON_AddNumberToObject(o, "tensors", (double)res->cls_tensors[c]);
        cJSON_AddNumberToObject(o, "bytes", (double)res->cls_bytes[c]);
        cJSON_AddNumberToObject(o, "values", (double)res->cls_values[c]);
        cJSON_AddNumberToObject(o, "bits_per_weight", bpw);
        cJSON_AddNumberToObject(o, "rmse", rmse);
        cJSON_AddNumberToObject(o, "rel_rmse", rel);
        cJSON_AddNumberToObject(o, "sq_err", res->cls[c].sq_err);
        cJSON_AddNumberToObject(o, "blocks", (double)res->cls[c].blocks);
        cJSON_AddNumberToObject(o, "inexact_blocks", (double)res->cls[c].inexact_blocks);
    }
    cJSON *p = cJSON_AddObjectToObject(j, "provenance");
    cJSON_AddStringToObject(p, "source_repo", rp->s->prov.repo_id);
    cJSON_AddStringToObject(p, "source_commit", rp->s->prov.commit);
    cJSON *files = cJSON_AddArrayToObject(p, "files");
    for (size_t i = 0; i < rp->s->prov.n; i++) {
        const cv_source_file *sf = &rp->s->prov.files[i];
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", sf->name);
        cJSON_AddStringToObject(f, "sha256", sf->sha256);
        cJSON_AddStringToObject(f, "sha256_from", cv_sha256_from_name(sf->from));
        cJSON_AddItemToArray(files, f);
    }
    char *txt = cJSON_PrintUnformatted(j);
    printf("%s\n", txt ? txt : "{}");
    free(txt);
    cJSON_Delete(j);
}

static int fail(const conv_opts *o, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(const conv_opts *o, int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gio_fail_json("gptoss-convert convert", o && o->json, code, "%s", msg);
}

/* A writer that could not be created: OUT exists or another process is
 * writing it right now (both "choose another OUT or wait": exit 7), or
 * the temporary cannot be made (read-only, no inodes, no space: exit 4). */
static int exit_for_create(int e)
{
    return e == EEXIST || e == EBUSY ? EXIT_EXISTS : EXIT_IO;
}

/* SRC lacks the tokenizer (an original/-only download). When SRC is a
 * snapshot of a Hugging Face cache its repo and commit are known: fetch
 * the tokenizer files of that same commit into that same cache, unless
 * offline. Returns 0 when fetched (open SRC again), else the exit code after
 * the message WHY (the missing files and the command that gets them). */
static int fetch_missing_tokenizer(const conv_opts *o, const cv_source *src, const char *why)
{
    const char *repo = src->prov.repo_id, *commit = src->prov.commit;
    const char *off = getenv("HF_HUB_OFFLINE");
    if (!repo[0] || !commit[0])
        return fail(o, EXIT_BAD_INPUT, "%s", why);
    if (off && (!strcmp(off, "1") || !strcasecmp(off, "true") || !strcasecmp(off, "yes") || !strcasecmp(off, "on")))
        return fail(o, EXIT_BAD_INPUT, "%s\n(HF_HUB_OFFLINE is set: nothing was fetched)", why);
    char abs[PATH_MAX];
    if (!realpath(src->root, abs))
        return fail(o, EXIT_BAD_INPUT, "%s", why);
    char *m = strstr(abs, "/models--");
    if (!m)
        return fail(o, EXIT_BAD_INPUT, "%s", why);
    *m = 0; /* the cache root, which may not be $HF_HUB_CACHE */
    static const char *const inc[] = {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"};
    hub_fetch_opts fo = {.repo_id = repo, .revision = commit, .include = inc, .n_include = 3, .cache_dir = abs,
                         .connections = 2, .chunk_size = 64u << 20, .progress = !o->json && !o->quiet && isatty(2),
                         .timeout_s = o->timeout};
    hub_fetch_result r;
    char err[4096] = "";
    hub_install_signal_handlers();
    hub_status st = hub_fetch(&fo, &r, err, sizeof err);
    hub_fetch_result_free(&r);
    if (st != HUB_OK)
        return fail(o, fetch_exit_code(st), "%s\nfetching them from %s at %s failed: %s", why, repo, commit, err);
    if (!o->json && !o->quiet)
        fprintf(stderr, "gptoss-convert convert: %s holds original/ only: fetched its tokenizer from %s at %s\n",
                src->root, repo, commit);
    return 0;
}

int cmd_convert(int argc, char **argv)
{
    conv_opts o;
    gio_opt p;
    int prc = parse_args(argc, argv, &o, &p);
    if (prc)
        return prc > 0 ? EXIT_OK : EXIT_USAGE;
    const int gguf = !strcmp(o.format, "gguf");
    struct stat st;
    if (lstat(o.out, &st) == 0 && S_ISDIR(st.st_mode))
        return fail(&o, EXIT_USAGE, "-o %s is a folder: OUT is the output file (e.g. %s/model.%s)", o.out, o.out,
                    o.format);
    if (!o.force && lstat(o.out, &st) == 0)
        return fail(&o, EXIT_EXISTS, "%s already exists (use --force to overwrite it)", o.out);
    if (stat(o.src, &st) == 0 && !S_ISDIR(st.st_mode))
        return fail(&o, EXIT_USAGE, "SRC %s is a file: convert wants the checkpoint folder (the one holding "
                                   "config.json and the *.safetensors, or original/)", o.src);
    if (o.revision && !hub_looks_like_repo_id(o.src))
        return fail(&o, EXIT_USAGE, "--revision (or @REV) applies to a Hub repo ORG/NAME; '%s' is a local path",
                    o.src);

    char err[2048] = "";
    cv_recipe recipe;
    if (cv_recipe_make(&recipe, o.quant, o.embed, o.attn, o.head, o.experts, err, sizeof err))
        return fail(&o, EXIT_USAGE, "%s", err);

    /* SRC = ORG/NAME that is no local path: fetch it from the Hub, or find it
     * in the shared cache (hub.h) */
    if (hub_looks_like_repo_id(o.src)) {
        int hub_rc;
        if (!(o.src = fetch_snapshot_for_convert(o.src, o.revision, o.timeout, &hub_rc, err, sizeof err)))
            return fail(&o, hub_rc, "%s", err);
    }

    /* Before any output file exists (the fetch above installs its own):
     * a signal from here on always finds the temporary to remove. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    double t0 = cv_now();
    cv_source src;
    cv_source_status ss = cv_source_open(&src, o.src, err, sizeof err);
    if (ss == CV_SRC_NO_TOKENIZER) {
        int frc = fetch_missing_tokenizer(&o, &src, err);
        cv_source_close(&src);
        if (frc) {
            sigaction(SIGINT, &old_int, NULL);
            sigaction(SIGTERM, &old_term, NULL);
            return frc;
        }
        ss = cv_source_open(&src, o.src, err, sizeof err);
    }
    if (ss != CV_SRC_OK) {
        cv_source_close(&src);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return fail(&o, ss == CV_SRC_IO ? EXIT_IO : EXIT_BAD_INPUT, "%s", err);
    }

    int code = EXIT_OK;
    cv_plan plan;
    memset(&plan, 0, sizeof plan);
    gf_writer *w = NULL;
    gg_sink *gs = NULL;                /* GGUF: its sink and GGUF-ordered tensor list */
    cv_sink gsink;
    const cv_out_tensor *tens = NULL;
    size_t ntens = 0;
    char *meta = NULL;
    double hash_wait = 0;
    if (cv_plan_build(&plan, src.ck, src.layout, &src.hp, &recipe, err, sizeof err)) {
        code = fail(&o, EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    if (g_cancel) { /* a signal while the source was read: stop before any output exists */
        code = fail(&o, EXIT_INTERRUPTED, "interrupted: %s not written", o.out);
        goto out;
    }
    if (gguf) {
        int werr = 0;
        gs = gg_sink_open(&src, &plan, o.out, o.force, &gsink, &tens, &ntens, &werr, err, sizeof err);
        if (!gs) {
            code = fail(&o, !werr ? EXIT_BAD_INPUT : exit_for_create(werr), "%s", err);
            goto out;
        }
        gg_sink_set_cancel(gs, &g_cancel);
        test_raise("created");
        goto stream;
    }
    /* Hash what the HF cache does not name for us: the shards from the
     * bytes the pipeline reads anyway, the small files beside it (GGUF
     * records no provenance, so it never hashes). */
    cv_source_hash_in_pipeline(&src);
    cv_provenance_start(&src.prov);
    w = gf_writer_create(o.out, o.force, err, sizeof err);
    if (!w) {
        code = fail(&o, exit_for_create(errno), "%s", err);
        goto out;
    }
    gf_writer_set_cancel(w, &g_cancel);
    test_raise("created");
    /* Placeholder hashes for the files still being hashed; gs_finish
     * fills them in. */
    meta = meta_json(&src, &recipe);
    if (!meta || gf_writer_set_meta(w, meta)) {
        code = fail(&o, EXIT_FAIL, "%s", meta ? gf_writer_error(w) : "out of memory building the header");
        goto out;
    }
    for (size_t i = 0; i < plan.n; i++)
        if (gf_writer_add_tensor(w, plan.t[i].name, plan.t[i].type, plan.t[i].ndim, plan.t[i].shape) < 0) {
            code = fail(&o, EXIT_FAIL, "%s", gf_writer_error(w));
            goto out;
        }
    for (size_t i = 0; i < src.nblobs; i++)
        if (gf_writer_add_blob(w, src.blobs[i].name, src.blobs[i].data, src.blobs[i].len) < 0) {
            code = fail(&o, EXIT_FAIL, "%s", gf_writer_error(w));
            goto out;
        }

stream:;
    progress_ctx prog = {.delay_ms = env_long("GPTOSS_CONVERT_TEST_DELAY_MS")};
    cv_progress_init(&prog.bar, "converting", o.quiet || o.json);
    long chunk = env_long("GPTOSS_CONVERT_CHUNK"); /* chunk bytes; tests use small ones */
    gf_sink_ctx sctx = {.w = w, .src = &src, .recipe = &recipe};
    cv_sink sink = {&sctx, gs_begin, gs_write, gs_finish, gs_abort, gs_error, gs_write_borrowed, gs_release, gs_offset,
                    gs_hash};
    cv_pipeline_opts po = {o.threads, chunk > 0 ? (size_t)chunk : 0, &g_cancel, on_progress, &prog, src.io};
    cv_pipeline_result res;
    if (gguf)
        sink = gsink;
#if defined(__GLIBC__)
    /* Parsing the 200k-token tokenizer (checked, and for GGUF turned into
     * arrays) leaves ~100 MB of small free blocks that glibc keeps resident;
     * hand them back before the conversion's buffers arrive. */
    malloc_trim(0);
#endif
    cv_pipe_status ps = gguf ? cv_pipeline_run(tens, ntens, &sink, &po, &res, err, sizeof err)
                             : cv_pipeline_run(plan.t, plan.n, &sink, &po, &res, err, sizeof err);
    if (ps == CV_PIPE_OK) {
        test_raise("published");
        g_published = 1; /* OUT is in place: nothing below turns that into a failure */
    }
    cv_progress_end(&prog.bar);
    hash_wait = sctx.hash_wait;
    uint64_t file_bytes = ps != CV_PIPE_OK ? 0 : gguf ? gg_sink_file_size(gs) : gf_writer_total_size(w);
    int werr = gguf ? gg_sink_errno(gs) : gf_writer_errno(w);
    gg_sink_free(gs); /* NULL for .gptoss; removes a GGUF temporary unless finished */
    gs = NULL;
    gf_writer_abort(w); /* frees; removes the temp unless finish succeeded */
    w = NULL;

    /* Decided by what happened to OUT, not by whether a signal came: a
     * signal after the move onto OUT does not undo a finished run. */
    if (ps == CV_PIPE_CANCELLED || (ps == CV_PIPE_SINK_ERROR && werr == EINTR)) {
        code = fail(&o, EXIT_INTERRUPTED, "interrupted: %s not written, temporary removed", o.out);
    } else if (ps == CV_PIPE_SINK_ERROR) {
        if (werr == ENOSPC || werr == EFBIG)
            code = fail(&o, EXIT_IO, "%s\n  no room for the output: free space on that filesystem or choose "
                                     "another -o; nothing was left behind", err);
        else
            code = fail(&o, EXIT_IO, "%s", err);
    } else if (ps == CV_PIPE_READ_ERROR) {
        code = fail(&o, EXIT_IO, "%s\n  %s not written; nothing was left behind", err, o.out);
    } else if (ps != CV_PIPE_OK) {
        code = fail(&o, ps == CV_PIPE_BAD_INPUT ? EXIT_BAD_INPUT : EXIT_FAIL, "%s", err);
    } else {
        report rp = {&o, &src, &recipe, &res, cv_now() - t0, hash_wait, file_bytes};
        if (o.json)
            print_json(&rp);
        else if (!o.quiet)
            print_table(&rp);
    }
out:
    if (w)
        gf_writer_abort(w);
    gg_sink_free(gs);
    free(meta);
    cv_plan_free(&plan);
    cv_source_close(&src);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return code;
}
