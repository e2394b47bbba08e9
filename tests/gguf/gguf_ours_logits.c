/* gguf_ours_logits.c - our runtime's next-token logits on a token list, for
 * the llama.cpp comparison (gguf_proof.mjs): the same session API that
 * gptoss-run uses (mc_open + gq_forward), all tokens fed in one call.
 *
 *   gguf_ours_logits [--numerics ggml] MODEL.gptoss IDS.json OUT.f32 POS [POS...]
 * writes vocab f32 logits (little-endian host order) per listed position;
 * --numerics ggml rounds as llama.cpp does (backend_cpu.h GB_GGML). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cpu.h"
#include "model_cli.h"

typedef struct {
    int *pos, npos, vocab;
    float *out;
    gb_backend *be;
} cap;

static gb_status on_logits(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    cap *c = user;
    for (int t = 0; t < n_rows; t++)
        for (int k = 0; k < c->npos; k++)
            if (c->pos[k] == index + t) {
                gb_status s = c->be->read(c->be, gb_ref_f32(logits, (uint64_t)t * (uint64_t)vocab),
                                          c->out + (size_t)k * (size_t)c->vocab, sizeof(float) * (size_t)vocab);
                if (s != GB_OK) return s;
            }
    return GB_OK;
}

int main(int argc, char **argv)
{
    mc_opts mo = {.backend = "cpu", .threads = 2, .max_batch = 64};
    if (argc > 2 && !strcmp(argv[1], "--numerics")) {
        if (strcmp(argv[2], "ggml") && strcmp(argv[2], "exact")) {
            fprintf(stderr, "gguf_ours_logits: --numerics takes exact or ggml, not '%s'\n", argv[2]);
            return 2;
        }
        mo.numerics = !strcmp(argv[2], "ggml") ? GB_GGML : GB_EXACT;
        argc -= 2;
        argv += 2;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: gguf_ours_logits MODEL.gptoss IDS.json OUT.f32 POS [POS...]\n");
        return 2;
    }
    char err[1024];
    int32_t *ids;
    size_t n;
    if (mc_read_ids(argv[2], &ids, &n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    mc_run r;
    mo.ctx = (int)n + 1 < 256 ? 256 : (int)n + 1;
    int rc = mc_open(&r, "logits", argv[1], &mo);
    if (rc) return rc;
    cap c = {0};
    c.npos = argc - 4;
    c.pos = calloc((size_t)c.npos, sizeof *c.pos);
    c.vocab = r.model->hp.vocab;
    c.be = r.be;
    for (int k = 0; k < c.npos; k++) c.pos[k] = atoi(argv[4 + k]);
    c.out = calloc((size_t)c.npos * (size_t)c.vocab, sizeof(float));
    if (gq_forward(r.session, ids, (int)n, 0, on_logits, &c, err, sizeof err)) {
        fprintf(stderr, "forward: %s\n", err);
        rc = 1;
    } else {
        FILE *f = fopen(argv[3], "wb");
        rc = !f || fwrite(c.out, sizeof(float), (size_t)c.npos * (size_t)c.vocab, f) != (size_t)c.npos * (size_t)c.vocab;
        if (f) fclose(f);
    }
    mc_close(&r);
    free(c.out);
    free(c.pos);
    free(ids);
    return rc;
}
