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

#include "gk_dot.h"
#include "gk_pool.h"
#include "model_cli.h"
#include "run_commands.h"

/* Memory read bandwidth with the same thread count, measured the way the
 * kernels read weights (AVX2/scalar fp32 dot over a buffer much larger than
 * the caches): the decode floor is bytes_per_token / this. */
typedef struct {
    const float *buf;
    size_t chunk;
    float *sink;
} bw_ctx;

static void bw_task(void *p, int task, int thread)
{
    bw_ctx *c = p;
    const float *b = c->buf + (size_t)task * c->chunk;
    c->sink[thread * 16] += gk_dotf()(b, b, (int64_t)c->chunk);
}

static double mem_read_gbs(int threads, int reps)
{
    size_t bytes = (size_t)1 << 30, n = bytes / sizeof(float), chunk = (size_t)1 << 20;
    float *buf = malloc(bytes), sink[16 * 256] = {0};
    gk_pool *pool = gk_pool_create(threads);
    if (!buf || !pool) {
        free(buf);
        gk_pool_destroy(pool);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (float)(i & 7);
    bw_ctx c = {buf, chunk, sink};
    double best[16];
    if (reps > 16)
        reps = 16;
    for (int r = 0; r < reps; r++) {
        double t0 = mc_now();
        gk_pool_run(pool, bw_task, &c, (int)(n / chunk));
        best[r] = (double)bytes / (mc_now() - t0) / 1e9;
    }
    free(buf);
    gk_pool_destroy(pool);
    /* median */
    for (int i = 1; i < reps; i++)
        for (int j = i; j > 0 && best[j] < best[j - 1]; j--) {
            double t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
        }
    return reps % 2 ? best[reps / 2] : 0.5 * (best[reps / 2 - 1] + best[reps / 2]);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gptoss-run bench FILE [-p 512] [-n 128] [-r 5] [--threads N] [--membw] [--json]\n\n"
               "Prefill -p tokens and decode -n tokens, -r times; report median tokens/s, weight bytes\n"
               "read per decoded token and the achieved GB/s. --membw also measures the memory read\n"
               "bandwidth (1 GiB, same threads) and the decode floor it implies.\n");
}

typedef struct {
    int vocab;
    int32_t next;
} argmax_state;

static void take_argmax(void *user, int index, const float *logits)
{
    (void)index;
    argmax_state *st = user;
    int best = 0;
    for (int i = 1; i < st->vocab; i++)
        if (logits[i] > logits[best])
            best = i;
    st->next = best;
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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return RUN_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--membw")) {
            membw = 1;
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
    double bw = membw ? mem_read_gbs(threads, 5) : 0;
    mc_run run;
    int rc = mc_open(&run, "bench", model, threads, p + n, 0);
    if (rc)
        return rc;
    const gf_hparams *hp = &run.model->hp;
    int32_t *prompt = malloc((size_t)(p > 0 ? p : 1) * sizeof *prompt);
    double *tp = calloc((size_t)reps, sizeof *tp), *td = calloc((size_t)reps, sizeof *td);
    double *cp = calloc((size_t)reps, sizeof *cp), *cd = calloc((size_t)reps, sizeof *cd);
    if (!prompt || !tp || !td || !cp || !cd) {
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
    argmax_state st = {hp->vocab, 0};
    for (int r = 0; r < reps && rc == RUN_EXIT_OK; r++) {
        gq_session_reset(run.session);
        double c0 = cpu_now(), t0 = mc_now();
        if (p > 0 && gq_forward(run.session, prompt, p, p - 1, take_argmax, &st, err, sizeof err) != 0)
            rc = RUN_EXIT_FAIL;
        double t1 = mc_now(), c1 = cpu_now();
        for (int i = 0; i < n && rc == RUN_EXIT_OK; i++) {
            int32_t tok = st.next;
            if (gq_forward(run.session, &tok, 1, 0, take_argmax, &st, err, sizeof err) != 0)
                rc = RUN_EXIT_FAIL;
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
                   gk_isa_name(gk_isa_active()), mcp, mcd);
            if (membw)
                printf(",\"mem_read_gb_s\":%.3f,\"decode_floor_tok_s\":%.4f,\"decode_vs_floor\":%.4f", bw,
                       bw * 1e9 / bpt, md / (bw * 1e9 / bpt));
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
    free(tp);
    free(td);
    free(cp);
    free(cd);
    mc_close(&run);
    return rc;
}
