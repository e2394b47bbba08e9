/* run_cmd_bench.c - `gptoss-run bench`: prefill and decode speed.
 *
 * Each run starts from an empty cache, prefills -p tokens (logits of the last
 * only), then decodes -n tokens one at a time, each fed the argmax of the
 * previous logits (so the lm_head is part of every decode step, as in real
 * generation). Reported: median tokens/s of -r runs, the weight bytes one
 * decoded token reads (gm_bytes_per_token) and the bandwidth that implies;
 * or (-o md|csv|json|jsonl) rows as llama-bench prints them: ppP and tgN,
 * mean t/s +- sample stddev over the runs. Our pp and tg come from the same
 * run (prefill, then decode from that cache); llama-bench times them as
 * separate tests, tg from an empty cache. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cjson/cJSON.h>

#include "backend_cpu.h"
#include "gio_cli.h"
#include "model_cli.h"
#include "run_commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gptoss-run bench FILE [-p 512] [-n 128] [-r 5] [-t N] [--backend NAME] [--numerics M] [--membw]\n"
               "                        [-o text|md|csv|json|jsonl] [--json]\n\n"
               "Measures speed: prefill -p tokens and decode -n tokens (each fed the argmax of the last),\n"
               "-r times from an empty cache; reports tokens/s, weight bytes read per decoded token and\n"
               "the achieved GB/s. FILE is a .gptoss model. -p + -n must fit the model's context.\n\n"
               "  -p, --n-prompt N    prompt tokens 0..1048576 (0: no prefill, no pp row)\n"
               "  -n, --n-gen N       generated tokens 0..1048576 (0: no decode, no tg row)\n"
               "  -r, --repetitions N runs 1..1000 (default 5)\n"
               "  -t, --threads N     CPU threads 1..1048576 (default: all)\n"
               MC_BACKEND_HELP
               MC_NUMERICS_HELP
               "                      or read (bench only, CPU, -p 0: every weight product only reads\n"
               "                      its bytes, same tasks and prefetch, no arithmetic; the decode\n"
               "                      ceiling of this access pattern; the tokens mean nothing)\n"
               "  --membw             also measure the read bandwidth the backend's kernels reach (1 GiB,\n"
               "                      same threads) and the decode floor it implies\n"
               "  -o, --output F      text (default: medians, CPU time, bandwidth), or as llama-bench\n"
               "                      prints it: md (a table, rows ppP / tgN with t/s as mean +- stddev\n"
               "                      over the runs, backend and device named), csv, json (one array),\n"
               "                      jsonl (one object per row)\n"
               "  --json              one JSON object on stdout (medians; with \"backend\" and \"device\";\n"
               "                      errors: {\"error\":{\"code\":N,\"message\":...}})\n\n"
               GIO_EXIT_HELP);
}

enum { OUT_TEXT, OUT_MD, OUT_CSV, OUT_JSON, OUT_JSONL };

static double mean_of(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0;
}

/* Sample standard deviation (n - 1), 0 for one run: what llama-bench shows. */
static double stddev_of(const double *v, int n)
{
    if (n < 2)
        return 0;
    double m = mean_of(v, n), s = 0;
    for (int i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    return sqrt(s / (n - 1));
}

typedef struct {
    const char *file, *backend, *device, *isa;
    double size_bytes;
    int threads, reps;
} bench_info;

/* One llama-bench row: test "ppP" (tokens = P, n_gen 0) or "tgN". secs[r]:
 * seconds run r took. */
static cJSON *row_json(const bench_info *bi, int prompt, int gen, const double *secs)
{
    int tokens = prompt ? prompt : gen;
    double *ns = malloc((size_t)bi->reps * sizeof *ns), *ts = malloc((size_t)bi->reps * sizeof *ts);
    cJSON *o = cJSON_CreateObject();
    if (!ns || !ts || !o) {
        free(ns);
        free(ts);
        cJSON_Delete(o);
        return NULL;
    }
    for (int r = 0; r < bi->reps; r++) {
        ns[r] = secs[r] * 1e9;
        ts[r] = secs[r] > 0 ? tokens / secs[r] : 0;
    }
    cJSON_AddStringToObject(o, "model_filename", bi->file);
    cJSON_AddNumberToObject(o, "model_size", bi->size_bytes);
    cJSON_AddStringToObject(o, "backends", bi->backend);
    cJSON_AddStringToObject(o, "device", bi->device);
    cJSON_AddStringToObject(o, "isa", bi->isa);
    cJSON_AddNumberToObject(o, "n_threads", bi->threads);
    cJSON_AddNumberToObject(o, "n_prompt", prompt);
    cJSON_AddNumberToObject(o, "n_gen", gen);
    cJSON_AddNumberToObject(o, "avg_ns", round(mean_of(ns, bi->reps)));
    cJSON_AddNumberToObject(o, "stddev_ns", round(stddev_of(ns, bi->reps)));
    cJSON_AddNumberToObject(o, "avg_ts", mean_of(ts, bi->reps));
    cJSON_AddNumberToObject(o, "stddev_ts", stddev_of(ts, bi->reps));
    cJSON *a = cJSON_AddArrayToObject(o, "samples_ns"), *b = cJSON_AddArrayToObject(o, "samples_ts");
    for (int r = 0; r < bi->reps; r++) {
        cJSON_AddItemToArray(a, cJSON_CreateNumber(round(ns[r])));
        cJSON_AddItemToArray(b, cJSON_CreateNumber(ts[r]));
    }
    free(ns);
    free(ts);
    return o;
}

/* The rows (pp, tg; either may be absent) in the llama-bench format. */
static int print_rows(int fmt, const bench_info *bi, int p, int n, const double *sp, const double *sd)
{
    cJSON *rows = cJSON_CreateArray();
    if (!rows)
        return -1;
    if (p > 0)
        cJSON_AddItemToArray(rows, row_json(bi, p, 0, sp));
    if (n > 0)
        cJSON_AddItemToArray(rows, row_json(bi, 0, n, sd));
    int rc = 0;
    if (fmt == OUT_JSON) {
        return gio_json_print(rows);
    } else if (fmt == OUT_JSONL) {
        const cJSON *r;
        cJSON_ArrayForEach(r, rows) {
            char *t = cJSON_PrintUnformatted(r);
            if (!t || printf("%s\n", t) < 0)
                rc = -1;
            free(t);
        }
    } else if (fmt == OUT_CSV) {
        printf("model_filename,model_size,backends,device,isa,n_threads,n_prompt,n_gen,avg_ns,stddev_ns,avg_ts,"
               "stddev_ts\n");
        const cJSON *r;
        cJSON_ArrayForEach(r, rows) {
            printf("\"%s\",%.0f,\"%s\",\"%s\",\"%s\",%d,%d,%d,%.0f,%.0f,%.6f,%.6f\n",
                   bi->file, bi->size_bytes, bi->backend, bi->device, bi->isa, bi->threads,
                   cJSON_GetObjectItem(r, "n_prompt")->valueint, cJSON_GetObjectItem(r, "n_gen")->valueint,
                   cJSON_GetObjectItem(r, "avg_ns")->valuedouble, cJSON_GetObjectItem(r, "stddev_ns")->valuedouble,
                   cJSON_GetObjectItem(r, "avg_ts")->valuedouble, cJSON_GetObjectItem(r, "stddev_ts")->valuedouble);
        }
    } else { /* md */
        const char *base = strrchr(bi->file, '/');
        base = base ? base + 1 : bi->file;
        printf("| %-30s | %10s | %-8s | %-30s | %7s | %13s | %20s |\n", "model", "size", "backend", "device",
               "threads", "test", "t/s");
        printf("| %.30s | ---------: | %.8s | %.30s | ------: | ------------: | -------------------: |\n",
               "------------------------------", "--------", "------------------------------");
        const cJSON *r;
        cJSON_ArrayForEach(r, rows) {
            int np = cJSON_GetObjectItem(r, "n_prompt")->valueint, ng = cJSON_GetObjectItem(r, "n_gen")->valueint;
            char test[32], size[32], tps[64];
            snprintf(test, sizeof test, np ? "pp%d" : "tg%d", np ? np : ng);
            snprintf(size, sizeof size, "%.2f GiB", bi->size_bytes / (1024.0 * 1024 * 1024));
            snprintf(tps, sizeof tps, "%.2f \xC2\xB1 %.2f", cJSON_GetObjectItem(r, "avg_ts")->valuedouble,
                     cJSON_GetObjectItem(r, "stddev_ts")->valuedouble);
            /* 21: the "\xC2\xB1" takes two bytes but one column */
            printf("| %-30.30s | %10s | %-8s | %-30.30s | %7d | %13s | %21s |\n", base, size, bi->backend, bi->device,
                   bi->threads, test, tps);
        }
    }
    cJSON_Delete(rows);
    return fflush(stdout) ? -1 : rc;
}

typedef struct {
    gb_backend *be;
    float *row;               /* vocab floats */
    int32_t next;
} argmax_state;

/* The argmax of the last row handed over: on the device where the backend
 * has the optional argmax op (only the id comes back), else the row is
 * read to the host as greedy generation does. Both pick the lowest index
 * among equal maxima. */
static gb_status take_argmax(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    (void)index;
    argmax_state *st = user;
    gb_ref last = gb_ref_f32(logits, (uint64_t)(n_rows - 1) * (uint64_t)vocab);
    if (st->be->argmax)
        return st->be->argmax(st->be, last, 1, vocab, &st->next);
    const float *l = st->row;
    gb_status s = st->be->read(st->be, last, st->row, (uint64_t)vocab * sizeof(float));
    if (s != GB_OK)
        return s;
    int best = 0;
    for (int i = 1; i < vocab; i++)
        if (l[i] > l[best])
            best = i;
    st->next = best;
    return GB_OK;
}

/* CPU seconds (user + system, all threads) used by this process so far:
 * on a shared machine the steadier figure than wall time. */
static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double roundto(double x, double scale) { return round(x * scale) / scale; }

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run_cmd_bench(int argc, char **argv)
{
    const char *model = NULL;
    int p = 512, n = 128, reps = 5, threads = 0, json = 0, membw = 0, fmt = OUT_TEXT;
    mc_opts mo = {0};
    enum { O_JSON = 256, O_MEMBW, O_BACKEND, O_NUMERICS };
    static const struct option lo[] = {
        {"help", no_argument, NULL, 'h'},          {"json", no_argument, NULL, O_JSON},
        {"membw", no_argument, NULL, O_MEMBW},     {"backend", required_argument, NULL, O_BACKEND},
        {"n-prompt", required_argument, NULL, 'p'}, {"n-gen", required_argument, NULL, 'n'},
        {"repetitions", required_argument, NULL, 'r'}, {"threads", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},  {"numerics", required_argument, NULL, O_NUMERICS},
        {NULL, 0, NULL, 0}};
    gio_opt po;
    gio_opt_init(&po, "gptoss-run bench", argc, argv);
    json = po.json;
    int c;
    long long lv;
    while ((c = gio_opt_next(&po, argc, argv, "hp:n:r:t:o:", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return RUN_EXIT_OK;
        case O_JSON: json = 1; break;
        case O_MEMBW: membw = 1; break;
        case O_NUMERICS:
            if (mc_numerics_option(&mo, "bench", po.arg) != 0)
                return RUN_EXIT_USAGE;
            break;
        case O_BACKEND:
            if (strcmp(po.arg, "cpu") && strcmp(po.arg, "vulkan") && strcmp(po.arg, "metal") && strcmp(po.arg, "auto"))
                return gio_fail(&po, RUN_EXIT_USAGE, "--backend takes cpu, vulkan, metal or auto, not '%s'", po.arg);
            if (mc_backend_option(&mo, "bench", po.arg) != 0)
                return RUN_EXIT_USAGE;
            break;
        case 'p':
        case 'n':
        case 't':
            if (gio_opt_int(&po, c == 't' ? 1 : 0, 1 << 20, &lv))
                return RUN_EXIT_USAGE;
            *(c == 'p' ? &p : c == 'n' ? &n : &threads) = (int)lv;
            break;
        case 'r':
            if (gio_opt_int(&po, 1, 1000, &lv))
                return RUN_EXIT_USAGE;
            reps = (int)lv;
            break;
        case 'o':
            if (!strcmp(po.arg, "text")) fmt = OUT_TEXT;
            else if (!strcmp(po.arg, "md")) fmt = OUT_MD;
            else if (!strcmp(po.arg, "csv")) fmt = OUT_CSV;
            else if (!strcmp(po.arg, "json")) fmt = OUT_JSON;
            else if (!strcmp(po.arg, "jsonl")) fmt = OUT_JSONL;
            else
                return gio_fail(&po, RUN_EXIT_USAGE, "-o takes text, md, csv, json or jsonl, not '%s'", po.arg);
            break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (model)
            return gio_fail(&po, RUN_EXIT_USAGE, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
        model = argv[i];
    }
    if (json && fmt != OUT_TEXT)
        return gio_fail(&po, RUN_EXIT_USAGE, "--json and -o %s: choose one output", po.arg ? po.arg : "");
    if (!model || p + n < 1)
        return gio_fail(&po, RUN_EXIT_USAGE, "need FILE and -p + -n >= 1 (see --help)");
    if (mc_check_opts(&mo, "bench") != 0)
        return RUN_EXIT_USAGE;
    if (mo.numerics == GB_READ && p > 0)
        return gio_fail(&po, RUN_EXIT_USAGE, "--numerics read measures decode only: give -p 0");
    int crc = gio_check_file(&po, model, "a model file");
    if (crc)
        return crc;
    mc_run run;
    mo.threads = threads;
    mo.ctx = p + n;
    mo.ctx_what = "-p + -n";
    int rc = mc_open(&run, "bench", model, &mo);
    if (rc)
        return gio_json_error(json || fmt == OUT_JSON, rc, "cannot open the model or start the backend (the reason is on stderr)");
    const gf_hparams *hp = &run.model->hp;
    double bw = 0; /* GB/s */
    if (membw) {
        double bps = 0;
        if (run.be->read_bandwidth(run.be, (uint64_t)1 << 30, &bps) != GB_OK) {
            gio_fail(&po, RUN_EXIT_BACKEND, "%s backend: %s", run.be->name, run.be->error);
            mc_close(&run);
            return RUN_EXIT_BACKEND;
        }
        bw = bps / 1e9;
    }
    int32_t *prompt = malloc((size_t)(p > 0 ? p : 1) * sizeof *prompt);
    double *tp = calloc((size_t)reps, sizeof *tp), *td = calloc((size_t)reps, sizeof *td);
    double *cp = calloc((size_t)reps, sizeof *cp), *cd = calloc((size_t)reps, sizeof *cd);
    double *sp = calloc((size_t)reps, sizeof *sp), *sd = calloc((size_t)reps, sizeof *sd); /* seconds per run */
    argmax_state st = {run.be, malloc((size_t)hp->vocab * sizeof(float)), 0};
    if (!prompt || !tp || !td || !cp || !cd || !sp || !sd || !st.row) {
        free(st.row);
        free(prompt);
        free(tp);
        free(td);
        free(cp);
        free(cd);
        free(sp);
        free(sd);
        mc_close(&run);
        return gio_fail(&po, RUN_EXIT_FAIL, "out of memory");
    }
    uint32_t x = 12345;
    for (int i = 0; i < p; i++) {
        x = x * 1103515245u + 12345u;
        prompt[i] = (int32_t)((x >> 8) % (uint32_t)hp->vocab);
    }
    char err[512];
    int progress = mc_progress_wanted() && !json && fmt == OUT_TEXT;
    for (int r = 0; r < reps && rc == RUN_EXIT_OK; r++) {
        gq_session_reset(run.session);
        double c0 = cpu_now(), t0 = mc_now();
        int frc = 0;
        if (p > 0 && (frc = gq_forward(run.session, prompt, p, p - 1, take_argmax, &st, err, sizeof err)) != 0)
            rc = frc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL;
        double t1 = mc_now(), c1 = cpu_now();
        for (int i = 0; i < n && rc == RUN_EXIT_OK; i++) {
            int32_t tok = st.next;
            if ((frc = gq_forward(run.session, &tok, 1, 0, take_argmax, &st, err, sizeof err)) != 0)
                rc = frc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL;
        }
        double t2 = mc_now(), c2 = cpu_now();
        sp[r] = t1 - t0;
        sd[r] = t2 - t1;
        tp[r] = p > 0 ? p / (t1 - t0) : 0;
        td[r] = n > 0 ? n / (t2 - t1) : 0;
        cp[r] = p > 0 ? (c1 - c0) / p : 0;
        cd[r] = n > 0 ? (c2 - c1) / n : 0;
        if (progress)
            fprintf(stderr, "bench: run %d/%d: prefill %.2f tok/s, decode %.2f tok/s\n", r + 1, reps, tp[r], td[r]);
    }
    if (rc) {
        gio_fail(&po, rc, "%s", err);
    } else if (fmt != OUT_TEXT) {
        /* the read-only ceiling says so in every format (md and csv have no isa column) */
        bench_info bi = {model, mo.numerics == GB_READ ? "cpu-read-only" : run.be->name, run.be->device,
                         run.be->isa, (double)gm_weight_bytes(run.model), threads, reps};
        if (print_rows(fmt, &bi, p, n, sp, sd))
            rc = RUN_EXIT_IO;
    } else {
        double mp = median(tp, reps), md = median(td, reps), mcp = median(cp, reps), mcd = median(cd, reps);
        double bpt = (double)gm_bytes_per_token(run.model);
        double gbs = bpt * md / 1e9;
        /* after the runs: decode has faulted in every streamed weight */
        double huge = run.be->weights_huge_fraction ? run.be->weights_huge_fraction(run.be) : -1;
        if (json) {
            /* the figures rounded as they always were printed */
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "file", model);
            cJSON_AddNumberToObject(j, "threads", threads);
            cJSON_AddNumberToObject(j, "prompt", p);
            cJSON_AddNumberToObject(j, "gen", n);
            cJSON_AddNumberToObject(j, "runs", reps);
            cJSON_AddNumberToObject(j, "prefill_tok_s", roundto(mp, 1e4));
            cJSON_AddNumberToObject(j, "decode_tok_s", roundto(md, 1e4));
            cJSON_AddNumberToObject(j, "bytes_per_token", round(bpt));
            cJSON_AddNumberToObject(j, "decode_gb_s", roundto(gbs, 1e4));
            cJSON_AddNumberToObject(j, "weight_bytes", (double)gm_weight_bytes(run.model));
            cJSON_AddStringToObject(j, "isa", run.be->isa);
            cJSON_AddStringToObject(j, "numerics", mc_numerics_name(mo.numerics));
            cJSON_AddNumberToObject(j, "prefill_cpu_s_per_tok", roundto(mcp, 1e5));
            cJSON_AddNumberToObject(j, "decode_cpu_s_per_tok", roundto(mcd, 1e5));
            if (membw) {
                cJSON_AddNumberToObject(j, "mem_read_gb_s", roundto(bw, 1e3));
                cJSON_AddNumberToObject(j, "decode_floor_tok_s", roundto(bw * 1e9 / bpt, 1e4));
                cJSON_AddNumberToObject(j, "decode_vs_floor", roundto(md / (bw * 1e9 / bpt), 1e4));
            }
            if (huge >= 0)
                cJSON_AddNumberToObject(j, "weights_huge_fraction", roundto(huge, 1e3));
            else
                cJSON_AddNullToObject(j, "weights_huge_fraction");
            cJSON_AddStringToObject(j, "backend", run.be->name);
            cJSON_AddStringToObject(j, "device", run.be->device);
            if (gio_json_print(j))
                rc = RUN_EXIT_IO;
        } else {
            printf("prefill %d tokens: %.2f tok/s (median of %d)\n", p, mp, reps);
            printf("decode  %d tokens: %.2f tok/s (median of %d)\n", n, md, reps);
            printf("CPU time per token (all threads): prefill %.4f s, decode %.4f s\n", mcp, mcd);
            printf("weights read per decoded token: %.3f GB, achieved %.2f GB/s\n", bpt / 1e9, gbs);
            if (huge >= 0)
                printf("weights on 2 MiB pages: %.0f%% (the rest costs a TLB miss per 4 KiB; docs/RUNTIME.md)\n",
                       100 * huge);
            if (membw)
                printf("memory read bandwidth %.2f GB/s: decode floor %.2f tok/s (we reach %.0f%%)\n", bw,
                       bw * 1e9 / bpt, 100 * md / (bw * 1e9 / bpt));
            if (mo.numerics == GB_READ)
                printf("--numerics read: the weight products only read their bytes; the decode ceiling, "
                       "not a model run\n");
        }
    }
    free(prompt);
    free(st.row);
    free(tp);
    free(td);
    free(cp);
    free(cd);
    free(sp);
    free(sd);
    mc_close(&run);
    return rc;
}
