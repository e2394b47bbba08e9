/* test_golden.c - our logits against Hugging Face transformers' gpt_oss.
 *
 * fixtures/golden/{tiny,small}.json hold HF's fp32 logits (eager attention,
 * experts dequantized from MXFP4) for 300 ids of the synthetic fixtures, so
 * the 128-token sliding window, sinks, YaRN RoPE and MoE routing all matter.
 * The fixtures are regenerated here by gptoss-fixture (prepare_models.sh)
 * and first checked to be byte-identical to the ones the goldens were made
 * from (sha256), then converted and run through our forward pass:
 *   - relative error of each stored logit row < 1e-4,
 *   - per-position NLL of the next id and logsumexp within 1e-4,
 *   - the same argmax wherever HF's top two are not a near tie;
 *   - tiny-mxfp4 also decoded one token at a time (140 ids, past the
 *     sliding ring), rows checked the same way; a backend's optional argmax
 *     op must equal the exact argmax of every row.
 * tiny-mxfp4 (experts mxfp4, rest bf16) and tiny-q8e (experts converted
 * losslessly to q8_32) must both pass; small-mxfp4 (real vocabulary) when
 * the real tokenizer was available to build it.
 * Parametrized by backend: BACKEND (argv[3]) or env GQ_TEST_BACKEND, default
 * cpu; a backend that is built in but has no usable device here skips (77).
 * usage: test_golden GOLDEN_DIR MODELS_DIR [BACKEND]
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "check.h"
#include "forward.h"
#include "golden.h"
#include "model.h"

static const char *backend_name = "cpu";

typedef struct {
    const golden *g;
    double max_rel, max_dnll, max_dlse;
    int argmax_bad, rows_seen;
    cJSON *topk;
    gb_backend *be;
    float *row;     /* vocab floats: one row read back from the backend */
    int base;       /* position of the call's first token (decode: one call per token) */
    int argmax_dev_bad; /* rows where the backend's optional argmax differs from the exact one */
} cmp_state;

static void check_row(cmp_state *st, int p, const float *l)
{
    const golden *g = st->g;
    int V = g->vocab, am = 0;
    double mx = l[0];
    for (int i = 1; i < V; i++)
        if (l[i] > l[am])
            am = i;
    mx = l[am];
    double s = 0;
    for (int i = 0; i < V; i++)
        s += exp((double)l[i] - mx);
    double lse = mx + log(s);
    double dl = fabs(lse - g->lse[p]);
    if (dl > st->max_dlse)
        st->max_dlse = dl;
    if (p + 1 < g->n) {
        double d = fabs((lse - l[g->ids[p + 1]]) - g->nll[p]);
        if (d > st->max_dnll)
            st->max_dnll = d;
    }
    if (am != g->argmax[p]) {
        cJSON *row = cJSON_GetArrayItem(st->topk, p);
        double gap = cJSON_GetArrayItem(row, 0)->valuedouble - cJSON_GetArrayItem(row, 1)->valuedouble;
        if (gap > 1e-4)
            st->argmax_bad++;
    }
    for (int r = 0; r < g->n_rows; r++)
        if (g->row_pos[r] == p) {
            double e = rel_err(l, g->rows + (size_t)r * (size_t)V, V);
            if (e > st->max_rel)
                st->max_rel = e;
            st->rows_seen++;
        }
}

static gb_status on_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cmp_state *st = user;
    for (int t = 0; t < n_rows; t++) {
        gb_status s = st->be->read(st->be, gb_ref_f32(logits, (uint64_t)t * (uint64_t)vocab), st->row,
                                   (uint64_t)vocab * sizeof(float));
        if (s != GB_OK)
            return s;
        check_row(st, st->base + index + t, st->row);
        if (st->be->argmax) { /* the device's greedy pick: the exact argmax, lowest index among equals */
            int32_t id = -1;
            if ((s = st->be->argmax(st->be, gb_ref_f32(logits, (uint64_t)t * (uint64_t)vocab), 1, vocab, &id)))
                return s;
            int am = 0;
            for (int i = 1; i < vocab; i++)
                if (st->row[i] > st->row[am])
                    am = i;
            st->argmax_dev_bad += id != am;
        }
    }
    return GB_OK;
}

typedef struct {
    const char *name, *dtype;
    char shape[128];
    const char *data;
    size_t len;
} tensor_ref;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const tensor_ref *)a)->name, ((const tensor_ref *)b)->name);
}

/* The digest make_golden.py records (tensor_digest): sha256 over every
 * tensor in name order of name NUL dtype NUL shape NUL bytes, so a change in
 * how the fixture lays out its headers does not matter, only the weights. */
static int fixture_matches(const golden *g, const char *fixture_dir)
{
    cJSON *want = cJSON_GetObjectItem(g->root, "fixture_tensor_sha256");
    DIR *dir = opendir(fixture_dir);
    if (!cJSON_IsString(want) || !dir) {
        if (dir)
            closedir(dir);
        return 0;
    }
    char *blobs[16] = {0};
    cJSON *heads[16] = {0};
    int nb = 0, nt = 0, ok = 1;
    tensor_ref *t = calloc(4096, sizeof *t);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = 0, nl = strlen(de->d_name);
        char path[4096];
        if (nl < 12 || strcmp(de->d_name + nl - 12, ".safetensors") || nb == 16)
            continue;
        snprintf(path, sizeof path, "%s/%s", fixture_dir, de->d_name);
        char *b = test_read_file(path, &len);
        uint64_t hl = 0;
        if (!b || len < 8) {
            fprintf(stderr, "cannot read %s\n", path);
            free(b);
            ok = 0;
            continue;
        }
        memcpy(&hl, b, 8);
        blobs[nb] = b;
        heads[nb] = hl <= len - 8 ? cJSON_ParseWithLength(b + 8, (size_t)hl) : NULL;
        cJSON *e;
        cJSON_ArrayForEach(e, heads[nb])
        {
            if (!strcmp(e->string, "__metadata__") || nt == 4096)
                continue;
            cJSON *off = cJSON_GetObjectItem(e, "data_offsets"), *sh = cJSON_GetObjectItem(e, "shape"), *d;
            tensor_ref *r = &t[nt++];
            r->name = e->string;
            r->dtype = cJSON_GetObjectItem(e, "dtype")->valuestring;
            size_t o0 = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble, o1 = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
            r->data = b + 8 + hl + o0;
            r->len = o1 - o0;
            cJSON_ArrayForEach(d, sh)
                snprintf(r->shape + strlen(r->shape), sizeof r->shape - strlen(r->shape), "%s%d",
                         d == sh->child ? "" : ",", d->valueint);
        }
        nb++;
    }
    closedir(dir);
    qsort(t, (size_t)nt, sizeof *t, by_name);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int i = 0; i < nt; i++) {
        EVP_DigestUpdate(ctx, t[i].name, strlen(t[i].name) + 1);
        EVP_DigestUpdate(ctx, t[i].dtype, strlen(t[i].dtype) + 1);
        EVP_DigestUpdate(ctx, t[i].shape, strlen(t[i].shape) + 1);
        EVP_DigestUpdate(ctx, t[i].data, t[i].len);
    }
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (strcmp(hex, want->valuestring)) {
        fprintf(stderr, "%s: its tensors differ from those the golden was made from: the fixture generator "
                        "changed; regenerate the goldens (fixtures/golden/make_golden.py, command in its header)\n",
                fixture_dir);
        ok = 0;
    }
    for (int i = 0; i < nb; i++) {
        cJSON_Delete(heads[i]);
        free(blobs[i]);
    }
    free(t);
    return ok && nt > 0;
}

/* n_decode > 0: feed the first n_decode ids one token at a time (the decode
 * kernels, and on a GPU the fused decode ops) instead of one prefill; the
 * rows seen are checked against the goldens the same way. */
static void check_model(const golden *g, const char *model_path, const char *label, int n_decode)
{
    char err[1024];
    gm_model *m = gm_open(model_path, err, sizeof err);
    CHECK_MSG(m != NULL, "%s: open: %s", label, err);
    if (!m)
        return;
    gb_backend *be = NULL;
    gb_config cfg = {0, NULL};
    char note[256];
    CHECK_MSG(gb_backend_create(backend_name, &cfg, &be, note, sizeof note, err, sizeof err) == GB_OK,
              "%s: backend %s: %s", label, backend_name, err);
    if (!be) {
        gm_close(m);
        return;
    }
    CHECK_MSG(gm_prepare(m, be, err, sizeof err) == 0, "%s: prepare: %s", label, err);
    gq_session *s = gq_session_create(m, be, g->n, 0, err, sizeof err);
    CHECK_MSG(s != NULL, "%s: session: %s", label, err);
    cmp_state st = {g, 0, 0, 0, 0, 0, cJSON_GetObjectItem(g->root, "topk_logits"), be,
                    malloc((size_t)g->vocab * sizeof(float)), 0, 0};
    if (s && st.row && n_decode <= 0)
        CHECK_MSG(gq_forward(s, g->ids, g->n, 0, on_logits, &st, err, sizeof err) == 0, "%s: forward: %s", label, err);
    for (int i = 0; s && st.row && i < n_decode && i < g->n; i++) {
        st.base = i;
        if (gq_forward(s, &g->ids[i], 1, 0, on_logits, &st, err, sizeof err) != 0) {
            CHECK_MSG(0, "%s: decode at %d: %s", label, i, err);
            break;
        }
    }
    free(st.row);
    printf("%s [%s, %s]%s: max rel err %.3g over %d rows, max |dNLL| %.3g, max |dLSE| %.3g, argmax mismatches %d, "
           "device argmax != exact %d\n",
           label, be->name, be->device, n_decode > 0 ? " decoded one token at a time" : "", st.max_rel, st.rows_seen,
           st.max_dnll, st.max_dlse, st.argmax_bad, st.argmax_dev_bad);
    if (n_decode > 0)
        CHECK_MSG(st.rows_seen > 0, "%s: decode reached a stored row", label);
    else
        CHECK_MSG(st.rows_seen == g->n_rows, "%s: every stored row compared", label);
    CHECK_MSG(st.argmax_dev_bad == 0, "%s: the backend's argmax op equals the exact argmax", label);
    CHECK_MSG(st.max_rel < 1e-4, "%s: logit rows within 1e-4 relative error (got %.3g)", label, st.max_rel);
    CHECK_MSG(st.max_dnll < 1e-4, "%s: per-position NLL within 1e-4 (got %.3g)", label, st.max_dnll);
    CHECK_MSG(st.max_dlse < 1e-4, "%s: logsumexp within 1e-4 (got %.3g)", label, st.max_dlse);
    CHECK_MSG(st.argmax_bad == 0, "%s: argmax agrees", label);
    gq_session_free(s);
    be->destroy(be);
    gm_close(m);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_golden GOLDEN_DIR MODELS_DIR [BACKEND]\n");
        return 2;
    }
    const char *env = getenv("GQ_TEST_BACKEND");
    backend_name = argc > 3 ? argv[3] : env && *env ? env : "cpu";
    if (strcmp(backend_name, "cpu") && strcmp(backend_name, "vulkan") && strcmp(backend_name, "metal") &&
        strcmp(backend_name, "auto")) {
        fprintf(stderr, "test_golden: unknown backend '%s'\n", backend_name);
        return 2;
    }
    {
        /* not built in, or no usable device here: skip, not fail */
        gb_backend *probe = NULL;
        char err[512], note[256];
        gb_config cfg = {0, NULL};
        if (gb_backend_create(backend_name, &cfg, &probe, note, sizeof note, err, sizeof err) != GB_OK) {
            printf("test_golden: backend %s unavailable here: %s: skipped\n", backend_name, err);
            return 77;
        }
        probe->destroy(probe);
    }
    char path[4096], fx[4096];
    golden g = {0};
    CHECK_MSG(golden_load(argv[1], "tiny", &g) == 0, "load tiny golden from %s", argv[1]);
    snprintf(fx, sizeof fx, "%s/tiny", argv[2]);
    CHECK_MSG(fixture_matches(&g, fx), "tiny fixture identical to the golden's");
    snprintf(path, sizeof path, "%s/tiny-mxfp4.gptoss", argv[2]);
    check_model(&g, path, "tiny-mxfp4", 0);
    /* decode == prefill: the same goldens through the one-token path, past
     * the 128-slot ring of the sliding layers */
    check_model(&g, path, "tiny-mxfp4", 140);
    snprintf(path, sizeof path, "%s/tiny-q8e.gptoss", argv[2]);
    check_model(&g, path, "tiny-q8e", 0);
    golden_free(&g);

    struct stat sb;
    snprintf(path, sizeof path, "%s/small-mxfp4.gptoss", argv[2]);
    if (stat(path, &sb) == 0) {
        golden gs = {0};
        CHECK_MSG(golden_load(argv[1], "small", &gs) == 0, "load small golden");
        snprintf(fx, sizeof fx, "%s/small", argv[2]);
        CHECK_MSG(fixture_matches(&gs, fx), "small fixture identical to the golden's");
        check_model(&gs, path, "small-mxfp4", 0);
        golden_free(&gs);
    } else {
        printf("small-mxfp4: not built (no real tokenizer installed): skipped\n");
    }
    return check_done("test_golden");
}
