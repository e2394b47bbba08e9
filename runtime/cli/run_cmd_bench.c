/* run_cmd_bench.c - `gptoss-run bench`: prefill and decode speed.
 *
 * Each run starts from an empty cache, prefills -p tokens (logits of the last
 * only), then decodes -n tokens one at a time, each fed the argmax of the
 * previous logits (so the lm_head is part of every decode step, as in real
 * generation). Reported: median tokens/s of -r runs, the weight bytes one
 * decoded token reads (gm_bytes_per_token) and the bandwidth that implies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "model_cli.h"
#include "run_commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gptoss-run bench FILE [-p 512] [-n 128] [-r 5] [--threads N] [--backend NAME] [--membw]\n"
               "                        [--json]\n\n"
               "Prefill -p tokens and decode -n tokens, -r times; report median tokens/s, weight bytes\n"
               "read per decoded token and the achieved GB/s. --membw also measures the read bandwidth\n"
               "the backend's kernels reach (1 GiB of its memory, same threads) and the decode floor it\n"
               "implies. -p + -n must fit the model's context.\n\n"
               MC_BACKEND_HELP
               "  --json              one JSON object on stdout (with \"backend\" and \"device\")\n\n"
               MC_EXIT_HELP "\n");
}

typedef struct {
    gb_backend *be;
    float *row;               /* vocab floats */
    int32_t next;
} argmax_state;

/* The argmax of the last row handed over, read to the host as generation does. */
static gb_status take_argmax(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    (void)index;
    argmax_state *st = user;
    const float *l = st->row;
    gb_status s = st->be->read(st->be, gb_ref_f32(logits, (uint64_t)(n_rows - 1) * (uint64_t)vocab), st->row,
                               (uint64_t)vocab * sizeof(float));
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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run_cmd_bench(int argc, char **argv)
{
    const char *model = NULL;
    int p = 512, n = 128, reps = 5, threads = 0, json = 0, membw = 0;
    mc_opts mo = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return RUN_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--membw")) {
            membw = 1;
        } else if (!strcmp(a, "--backend")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gptoss-run bench: --backend needs a value\n");
                return RUN_EXIT_USAGE;
            }
            if (mc_backend_option(&mo, "bench", argv[++i]) != 0)
                return RUN_EXIT_USAGE;
        } else if (!strcmp(a, "-p") || !strcmp(a, "-n") || !strcmp(a, "-r") || !strcmp(a, "--threads")) {
            int x = i + 1 < argc ? mc_parse_int(argv[i + 1], !strcmp(a, "-r") ? 1 : 0, 1 << 20) : -1;
            if (x < 0) {
                fprintf(stderr, "gptoss-run bench: %s needs a number\n", a);
                return RUN_EXIT_USAGE;
            }
            i++;
            *(!strcmp(a, "-p") ? &p : !strcmp(a, "-n") ? &n : !strcmp(a, "-r") ? &reps : &threads) = x;
        } else if (a[0] == '-') {
            fprintf(stderr, "gptoss-run bench: unknown option %s (see --help)\n", a);
            return RUN_EXIT_USAGE;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "gptoss-run bench: unexpected argument %s\n", a);
            return RUN_EXIT_USAGE;
        }
    }
    if (!model || p + n < 1) {
        fprintf(stderr, "gptoss-run bench: need FILE and -p + -n >= 1 (see --help)\n");
        return RUN_EXIT_USAGE;
    }
    mc_run run;
    mo.threads = threads;
    mo.ctx = p + n;
    mo.ctx_what = "-p + -n";
    int rc = mc_open(&run, "bench", model, &mo);
    if (rc)
        return rc;
    const gf_hparams *hp = &run.model->hp;
    double bw = 0; /* GB/s */
    if (membw) {
        double bps = 0;
        if (run.be->read_bandwidth(run.be, (uint64_t)1 << 30, &bps) != GB_OK) {
            fprintf(stderr, "gptoss-run bench: %s backend: %s\n", run.be->name, run.be->error);
            mc_close(&run);
            return RUN_EXIT_BACKEND;
        }
        bw = bps / 1e9;
    }
    int32_t *prompt = malloc((size_t)(p > 0 ? p : 1) * sizeof *prompt);
    double *tp = calloc((size_t)reps, sizeof *tp), *td = calloc((size_t)reps, sizeof *td);
    double *cp = calloc((size_t)reps, sizeof *cp), *cd = calloc((size_t)reps, sizeof *cd);
    argmax_state st = {run.be, malloc((size_t)hp->vocab * sizeof(float)), 0};
    if (!prompt || !tp || !td || !cp || !cd || !st.row) {
        free(st.row);
        fprintf(stderr, "gptoss-run bench: out of memory\n");
        mc_close(&run);
        return RUN_EXIT_FAIL;
    }
    uint32_t x = 12345;
    for (int i = 0; i < p; i++) {
        x = x * 1103515245u + 12345u;
        prompt[i] = (int32_t)((x >> 8) % (uint32_t)hp->vocab);
    }
    char err[512];
    int progress = mc_progress_wanted() && !json;
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
        tp[r] = p > 0 ? p / (t1 - t0) : 0;
        td[r] = n > 0 ? n / (t2 - t1) : 0;
        cp[r] = p > 0 ? (c1 - c0) / p : 0;
        cd[r] = n > 0 ? (c2 - c1) / n : 0;
        if (progress)
            fprintf(stderr, "bench: run %d/%d: prefill %.2f tok/s, decode %.2f tok/s\n", r + 1, reps, tp[r], td[r]);
    }
    if (rc) {
        fprintf(stderr, "gptoss-run bench: %s\n", err);
    } else {
        double mp = median(tp, reps), md = median(td, reps), mcp = median(cp, reps), mcd = median(cd, reps);
        double bpt = (double)gm_bytes_per_token(run.model);
        double gbs = bpt * md / 1e9;
        if (json) {
            printf("{\"file\":");
            mc_json_str(stdout, model);
            printf(",\"threads\":%d,\"prompt\":%d,\"gen\":%d,\"runs\":%d,\"prefill_tok_s\":%.4f,\"decode_tok_s\":%.4f,"
                   "\"bytes_per_token\":%.0f,\"decode_gb_s\":%.4f,\"weight_bytes\":%llu,\"isa\":\"%s\","
                   "\"prefill_cpu_s_per_tok\":%.5f,\"decode_cpu_s_per_tok\":%.5f",
                   threads, p, n, reps, mp, md, bpt, gbs, (unsigned long long)gm_weight_bytes(run.model),
                   run.be->isa, mcp, mcd);
            if (membw)
                printf(",\"mem_read_gb_s\":%.3f,\"decode_floor_tok_s\":%.4f,\"decode_vs_floor\":%.4f", bw,
                       bw * 1e9 / bpt, md / (bw * 1e9 / bpt));
            mc_json_backend(stdout, &run);
            printf("}\n");
        } else {
            printf("prefill %d tokens: %.2f tok/s (median of %d)\n", p, mp, reps);
            printf("decode  %d tokens: %.2f tok/s (median of %d)\n", n, md, reps);
            printf("CPU time per token (all threads): prefill %.4f s, decode %.4f s\n", mcp, mcd);
            printf("weights read per decoded token: %.3f GB, achieved %.2f GB/s\n", bpt / 1e9, gbs);
            if (membw)
                printf("memory read bandwidth %.2f GB/s: decode floor %.2f tok/s (we reach %.0f%%)\n", bw,
                       bw * 1e9 / bpt, 100 * md / (bw * 1e9 / bpt));
        }
    }
    free(prompt);
    free(st.row);
    free(tp);
    free(td);
    free(cp);
    free(cd);
    mc_close(&run);
    return rc;
}
