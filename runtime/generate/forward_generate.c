/* forward_generate.c - prompt -> streamed harmony answer (see forward_generate.h). */
#include "forward_generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    gq_sampler *smp;
    gb_backend *be;
    float *row;               /* vocab floats: the last row, read to the host */
    int32_t next;
} pick_state;

/* Sample from the last row handed over (the only one asked for). */
static gb_status pick(void *user, int index, int n_rows, gb_ref logits, int vocab)
{
    (void)index;
    pick_state *st = user;
    gb_status s = st->be->read(st->be, gb_ref_f32(logits, (uint64_t)(n_rows - 1) * (uint64_t)vocab), st->row,
                               (uint64_t)vocab * sizeof(float));
    if (s == GB_OK)
        st->next = gq_sample(st->smp, st->row);
    return s;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int append(char **buf, size_t *len, const char *s, size_t n)
{
    char *nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return -1;
    memcpy(nb + *len, s, n);
    *len += n;
    nb[*len] = 0;
    *buf = nb;
    return 0;
}

uint8_t *gen_allowed_ids(const tok_tokenizer *tok, int vocab)
{
    uint8_t *a = calloc((size_t)vocab, 1);
    if (!a)
        return NULL;
    for (int i = 0; i < vocab; i++) {
        size_t len;
        a[i] = tok_token_bytes(tok, i, &len) != NULL;
    }
    return a;
}

int gen_run(gq_session *s, const gm_model *m, const tok_tokenizer *tok, gq_sampler *smp, const int32_t *prompt,
            size_t n, const gen_opts *o, gen_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->final = calloc(1, 1);
    r->analysis = calloc(1, 1);
    r->n_prompt = (int)n;
    r->stop = "length";
    hm_parser *hp = hm_parser_new(tok, "assistant");
    pick_state st = {smp, gq_session_backend(s), malloc((size_t)m->hp.vocab * sizeof(float)), 0};
    if (!r->final || !r->analysis || !hp || !st.row) {
        hm_parser_free(hp);
        free(st.row);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double t0 = now();
    int rc = gq_forward(s, prompt, (int)n, (int)n - 1, pick, &st, err, errlen);
    if (rc != 0) {
        hm_parser_free(hp);
        free(st.row);
        return rc;
    }
    r->prefill_s = now() - t0;
    t0 = now();
    for (int i = 0; i < o->max_tokens; i++) {
        int32_t id = st.next;
        r->n_gen++;
        int eos = 0;
        for (int e = 0; e < m->hp.n_eos; e++)
            eos |= id == m->hp.eos_ids[e];
        const char *delta = NULL;
        size_t dlen = 0, dmsg = 0;
        hm_status hs = hm_parser_push(hp, id, &delta, &dlen, &dmsg);
        if (hs == HM_ERROR) {
            snprintf(err, errlen, "the harmony parser rejected generated id %d", id);
            rc = -1;
            break;
        }
        if (delta && dlen) {
            const hm_parsed_message *msg = hm_parser_message(hp, dmsg);
            int final = msg && !strcmp(msg->channel, "final");
            if (append(final ? &r->final : &r->analysis, final ? &r->final_len : &r->analysis_len, delta, dlen)) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            FILE *f = final ? o->out : o->analysis_out;
            if (f) {
                fwrite(delta, 1, dlen, f);
                fflush(f);
            }
        }
        if (hs == HM_STOP_RETURN || hs == HM_STOP_CALL) {
            r->stop = hs == HM_STOP_RETURN ? "return" : "call";
            const hm_parsed_message *cm = hm_parser_message(hp, hm_parser_count(hp) - 1);
            if (hs == HM_STOP_CALL && cm) {
                const hm_parsed_message *am = hm_parser_find(hp, "analysis");
                r->call_recipient = strdup(cm->recipient);
                r->call_type = strdup(cm->content_type);
                r->call_args = strdup(cm->content);
                r->call_analysis = am && am != cm ? strdup(am->content) : NULL;
                if (!r->call_recipient || !r->call_type || !r->call_args) {
                    snprintf(err, errlen, "out of memory");
                    rc = -1;
                }
            }
            break;
        }
        if (eos) {
            r->stop = "eos";
            break;
        }
        if (i + 1 == o->max_tokens)
            break;
        if (gq_session_pos(s) >= gq_session_ctx(s)) {
            r->stop = "context";
            break;
        }
        if ((rc = gq_forward(s, &id, 1, 0, pick, &st, err, errlen)) != 0)
            break;
    }
    r->decode_s = now() - t0;
    hm_parser_free(hp);
    free(st.row);
    return rc;
}

void gen_result_free(gen_result *r)
{
    free(r->final);
    free(r->analysis);
    free(r->call_recipient);
    free(r->call_type);
    free(r->call_args);
    free(r->call_analysis);
    r->final = r->analysis = NULL;
    r->call_recipient = r->call_type = r->call_args = r->call_analysis = NULL;
}
