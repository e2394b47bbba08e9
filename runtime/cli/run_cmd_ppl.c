/* run_cmd_ppl.c - `gptoss-run ppl`: perplexity, and the KL-divergence
 * regression check against a reference file or a reference model run in the
 * same process (method in ppl.h, file in ppl_ref.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gio_cli.h"
#include "gio_read.h"
#include "gptoss_format.h"
#include "model_cli.h"
#include "ppl.h"
#include "ppl_harmony.h"
#include "run_commands.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gptoss-run ppl FILE (--file TEXT | --ids IDS.json) [options]\n\n"
            "Perplexity of FILE (.gptoss or GGUF) on a text, llama.cpp's method: chunks of --ctx tokens,\n"
            "each from an empty cache, the second half of each chunk scored. With a reference (the model\n"
            "FILE is compared with: usually the unquantized conversion, .gptoss or GGUF) it reports\n"
            "llama.cpp's statistics: KL divergence over the full vocabulary, Delta-p, same top p, PPL\n"
            "ratio, with uncertainties.\n\n"
            "  --file TEXT         text file, tokenized with the model's own tokenizer\n"
            "  --ids IDS.json      token ids instead (a JSON array)\n"
            "  --harmony           score the text as gpt-oss's answer in a harmony conversation: each chunk\n"
            "                      is the chat template's system message, the user message \"" PPL_HARMONY_PROMPT "\"\n"
            "                      and <|start|>assistant<|channel|>final<|message|>, then the text; only\n"
            "                      text tokens are scored (second half of each chunk). Raw text is not what\n"
            "                      gpt-oss was trained on, so its raw perplexity is high; this is the figure\n"
            "                      that means something for this model (docs/RUNTIME.md, \"--harmony\")\n"
            "  --ctx N             chunk length (default 512)\n"
            "  --threads N         CPU threads (default: all)\n"
            "  --save-ref REF      store this run's distributions as a reference file: every token's\n"
            "                      log-probability in 16 bits (full vocabulary; ~0.4 MB a token before zlib)\n"
            "  --ref-top-k K       store only the top K (1..64) instead: small, but the KLD is a lower bound\n"
            "  --force             let --save-ref replace an existing file\n"
            "  --ref REF           compare with a reference file\n"
            "  --ref-model REF     compare with another model (.gptoss or GGUF) run in this process (exact\n"
            "                      full-vocabulary KLD, no file; same vocabulary and tokenizer; twice the memory)\n"
            "  --strict            refuse a reference made from another checkpoint (else a warning)\n"
            "  --max-kld X         exit 8 if the mean KLD exceeds X\n"
            "  --min-top1 Y        exit 8 if top-1 agreement is below Y, a fraction in 0..1 (95 is refused:\n"
            "                      write 0.95)\n"
            "  --max-ppl-ratio Z   exit 8 if PPL / reference PPL exceeds Z\n"
            MC_BACKEND_HELP
            "  --numerics M        exact (default: fp32 activations) or ggml: round matrix inputs as\n"
            "                      llama.cpp's CPU kernels do, to predict its figures for this model\n"
            "                      (CPU backend only)\n"
            "  --json              one JSON object on stdout (errors too: {\"error\":{\"code\":N,\"message\":...}})\n\n"
            "A mismatched reference (other text, --ctx, --harmony, vocabulary or tokenizer) is exit 3;\n"
            "--save-ref onto an existing file without --force is exit 7.\n"
            GIO_EXIT_HELP);
}

/* --json: errors are JSON on stdout too (the message is also on stderr). */
static int json_mode;
static int finish_err(int rc, const char *msg) { return gio_json_error(json_mode, rc, msg); }
static int fail_msg(int rc, const char *msg)
{
    fprintf(stderr, "gptoss-run ppl: %s\n", msg);
    return finish_err(rc, msg);
}

/* --ids: the ids; --file: the text's bytes, tokenized once the model is open. */
static int load_input(const char *text_path, const char *ids_path, int32_t **ids, size_t *n, char **text,
                      size_t *text_len)
{
    char err[1024];
    if (ids_path) {
        if (mc_read_ids(ids_path, ids, n, err, sizeof err) != 0)
            return fail_msg(RUN_EXIT_BAD_INPUT, err);
        return RUN_EXIT_OK;
    }
    size_t len = 0;
    char *buf = gio_read_file(text_path, 0, &len, err, sizeof err); /* refuses a FIFO */
    if (!buf)
        return fail_msg(errno == ENOMEM ? RUN_EXIT_FAIL : RUN_EXIT_IO, err);
    *text = buf;
    *text_len = len;
    return RUN_EXIT_OK;
}

/* The text through the model's own tokenizer (from the already open file). */
static int tokenize(const mc_run *run, const char *text_path, const char *text, size_t len, int32_t **ids, size_t *n)
{
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(run, err, sizeof err);
    if (!tok)
        return fail_msg(RUN_EXIT_BAD_INPUT, err);
    tok_ids v = {0};
    int rc = tok_encode(tok, text, len, 0, &v);
    if (rc != 0) {
        snprintf(err, sizeof err, "tokenizing %s: %s", text_path, tok_encode_error(tok));
        tok_free(tok);
        tok_ids_free(&v);
        return fail_msg(rc == TOK_ENCODE_REGEX ? RUN_EXIT_BAD_INPUT : RUN_EXIT_FAIL, err);
    }
    tok_free(tok);
    *ids = v.ids;
    *n = v.n;
    return RUN_EXIT_OK;
}

/* --harmony: the text ids become chunks of the conversation prefix plus
 * text (ppl_harmony.h); *np receives the prefix length. */
static int wrap_harmony(const mc_run *run, int ctx, int32_t **ids, size_t *n, size_t *np)
{
    char err[1024];
    tok_tokenizer *tok = mc_tokenizer(run, err, sizeof err);
    if (!tok)
        return fail_msg(RUN_EXIT_BAD_INPUT, err);
    tok_ids pre = {0};
    int rc = RUN_EXIT_OK;
    if (ppl_harmony_prefix(tok, &pre, err, sizeof err) != 0) {
        rc = fail_msg(RUN_EXIT_BAD_INPUT, err);
    } else {
        int32_t *w = NULL;
        size_t nw = 0;
        if (ppl_harmony_chunks(pre.ids, pre.n, *ids, *n, ctx, &w, &nw, err, sizeof err) != 0) {
            rc = fail_msg(strstr(err, "too small") ? RUN_EXIT_USAGE : RUN_EXIT_BAD_INPUT, err);
        } else {
            free(*ids);
            *ids = w;
            *n = nw;
            *np = pre.n;
        }
    }
    tok_ids_free(&pre);
    tok_free(tok);
    return rc;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* What a reference records about the model (ppl_ref.h): the source
 * checkpoint (provenance files), the exact file (tensor checksums), the
 * tokenizer. */
static void model_identity(const gm_model *m, uint64_t *source, uint64_t *file, uint64_t *tok)
{
    const gf_file *f = m->file;
    uint64_t h = 0xcbf29ce484222325ull;
    if (!f) {
        /* A GGUF carries no per-tensor checksums, provenance or
         * tokenizer.json blob: its identity is its tensor table (names,
         * types, sizes); source and tokenizer stay unknown (0), and the
         * reference checks fall back to the vocabulary size. */
        for (size_t i = 0; i < m->n_tab; i++) {
            h = fnv(h, m->tab[i].name, strlen(m->tab[i].name) + 1);
            h = fnv(h, &m->tab[i].type, sizeof m->tab[i].type);
            h = fnv(h, &m->tab[i].size, sizeof m->tab[i].size);
        }
        *file = h;
        *tok = 0;
        *source = 0;
        return;
    }
    for (size_t i = 0; i < gf_tensor_count(f); i++) {
        const gf_tensor *t = gf_tensor_at(f, i);
        h = fnv(h, t->name, strlen(t->name) + 1);
        h = fnv(h, &t->xxh3, sizeof t->xxh3);
    }
    *file = h;
    const gf_blob *b = gf_find_blob(f, "tokenizer.json");
    *tok = b ? b->xxh3 : 0;
    *source = 0;
    cJSON *j = cJSON_Parse(gf_header_json(f));
    cJSON *files = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provenance"), "files");
    uint64_t s = 0xcbf29ce484222325ull;
    int any = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, files) {
        cJSON *name = cJSON_GetObjectItem(e, "name"), *sha = cJSON_GetObjectItem(e, "sha256");
        if (cJSON_IsString(name) && cJSON_IsString(sha)) {
            s = fnv(s, name->valuestring, strlen(name->valuestring) + 1);
            s = fnv(s, sha->valuestring, strlen(sha->valuestring) + 1);
            any = 1;
        }
    }
    if (any)
        *source = s;
    cJSON_Delete(j);
}

static void add_quantiles(cJSON *o, const char *key, const ppl_dist *d)
{
    static const char *const names[PPL_NQ] = {"min", "p0.1", "p1", "p5", "p10", "p25", "median",
                                              "p75", "p90", "p95", "p99", "p99.9", "max"};
    cJSON *q = cJSON_AddObjectToObject(o, key);
    for (int i = 0; i < PPL_NQ; i++)
        if (names[i])
            cJSON_AddNumberToObject(q, names[i], d->q[i]);
}

#define Q_MIN 0
#define Q_P1 2
#define Q_P5 3
#define Q_P10 4
#define Q_P25 5
#define Q_MED 6
#define Q_P75 7
#define Q_P90 8
#define Q_P95 9
#define Q_P99 10
#define Q_P999 11
#define Q_MAX 12

int run_cmd_ppl(int argc, char **argv)
{
    const char *model = NULL, *text = NULL, *ids_path = NULL, *save_ref = NULL, *ref_path = NULL, *ref_model = NULL;
    int ctx = 512, threads = 0, json = 0, topk = 0, force = 0, strict = 0, harmony = 0;
    mc_opts mo = {0};
    double max_kld = -1, min_top1 = -1, max_ratio = -1;
    enum { O_JSON = 256, O_FORCE, O_STRICT, O_FILE, O_IDS, O_SAVE_REF, O_REF, O_REF_MODEL, O_NUMERICS, O_BACKEND,
           O_CTX, O_TOPK, O_MAX_KLD, O_MIN_TOP1, O_MAX_RATIO, O_HARMONY };
    static const struct option lo[] = {
        {"help", no_argument, NULL, 'h'},           {"json", no_argument, NULL, O_JSON},
        {"force", no_argument, NULL, O_FORCE},      {"strict", no_argument, NULL, O_STRICT},
        {"file", required_argument, NULL, O_FILE},  {"ids", required_argument, NULL, O_IDS},
        {"save-ref", required_argument, NULL, O_SAVE_REF}, {"ref", required_argument, NULL, O_REF},
        {"ref-model", required_argument, NULL, O_REF_MODEL}, {"numerics", required_argument, NULL, O_NUMERICS},
        {"backend", required_argument, NULL, O_BACKEND}, {"ctx", required_argument, NULL, 'c'},
        {"threads", required_argument, NULL, 't'},  {"topk", required_argument, NULL, O_TOPK},
        {"ref-top-k", required_argument, NULL, O_TOPK}, {"max-kld", required_argument, NULL, O_MAX_KLD},
        {"min-top1", required_argument, NULL, O_MIN_TOP1}, {"max-ppl-ratio", required_argument, NULL, O_MAX_RATIO},
        {"harmony", no_argument, NULL, O_HARMONY},
        {NULL, 0, NULL, 0}};
    gio_opt po;
    gio_opt_init(&po, "gptoss-run ppl", argc, argv);
    json_mode = json = po.json;
    char err[1024];
    int c;
    long long lv;
    double dv;
    while ((c = gio_opt_next(&po, argc, argv, "hc:t:f:", lo)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return RUN_EXIT_OK;
        case O_JSON: json = 1; break;
        case O_FORCE: force = 1; break;
        case O_STRICT: strict = 1; break;
        case O_HARMONY: harmony = 1; break;
        case 'f':
        case O_FILE: text = po.arg; break;
        case O_IDS: ids_path = po.arg; break;
        case O_SAVE_REF: save_ref = po.arg; break;
        case O_REF: ref_path = po.arg; break;
        case O_REF_MODEL: ref_model = po.arg; break;
        case O_NUMERICS:
            if (mc_numerics_option(&mo, "ppl", po.arg) != 0)
                return finish_err(RUN_EXIT_USAGE, "bad --numerics");
            break;
        case O_BACKEND:
            if (mc_backend_option(&mo, "ppl", po.arg) != 0)
                return finish_err(RUN_EXIT_USAGE, "bad --backend");
            break;
        case 'c':
            if (gio_opt_int(&po, 4, 1 << 20, &lv))
                return RUN_EXIT_USAGE;
            ctx = (int)lv;
            break;
        case 't':
            if (gio_opt_int(&po, 1, 1 << 20, &lv))
                return RUN_EXIT_USAGE;
            threads = (int)lv;
            break;
        case O_TOPK:
            if (gio_opt_int(&po, 1, PPL_REF_MAX_K, &lv))
                return RUN_EXIT_USAGE;
            topk = (int)lv;
            break;
        case O_MAX_KLD:
        case O_MAX_RATIO:
            if (gio_opt_double(&po, 0, 1e300, &dv))
                return RUN_EXIT_USAGE;
            *(c == O_MAX_KLD ? &max_kld : &max_ratio) = dv;
            break;
        case O_MIN_TOP1: /* a fraction: 95 (a percentage) is refused, not read as "never passes" */
            if (gio_opt_double(&po, 0, 1, &dv))
                return RUN_EXIT_USAGE;
            min_top1 = dv;
            break;
        default: return RUN_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (model) {
            snprintf(err, sizeof err, "unexpected argument '%s' (one FILE only; see --help)", argv[i]);
            return fail_msg(RUN_EXIT_USAGE, err);
        }
        model = argv[i];
    }
    if (!model || (!text == !ids_path))
        return fail_msg(RUN_EXIT_USAGE, "need FILE and exactly one of --file / --ids (see --help)");
    if (ref_path && ref_model)
        return fail_msg(RUN_EXIT_USAGE, "--ref and --ref-model are alternatives: give one");
    int have_ref = ref_path || ref_model;
    if ((max_kld >= 0 || min_top1 >= 0 || max_ratio >= 0) && !have_ref)
        return fail_msg(RUN_EXIT_USAGE, "--max-kld / --min-top1 / --max-ppl-ratio need --ref REF or --ref-model REF");
    if (topk && !save_ref)
        return fail_msg(RUN_EXIT_USAGE, "--ref-top-k K applies to --save-ref");
    /* a missing input is exit 4 in every command, a folder exit 2 */
    int crc = gio_check_file(&po, model, "a model file");
    if (!crc && text)
        crc = gio_check_file(&po, text, "a text file");
    if (!crc && ids_path)
        crc = gio_check_file(&po, ids_path, "a JSON file of token ids");
    if (!crc && ref_path)
        crc = gio_check_file(&po, ref_path, "a reference file");
    if (!crc && ref_model)
        crc = gio_check_file(&po, ref_model, "a model file");
    if (crc)
        return crc;
    if (mc_check_opts(&mo, "ppl") != 0)
        return finish_err(RUN_EXIT_USAGE, "incompatible --backend / --numerics");
    mo.threads = threads;
    mo.ctx = ctx;
    ppl_ref ref = {0};
    if (ref_path && ppl_ref_load(ref_path, &ref, err, sizeof err) != 0)
        return fail_msg(RUN_EXIT_BAD_INPUT, err);
    int32_t *ids = NULL;
    size_t n = 0, text_len = 0;
    char *text_buf = NULL;
    mc_run run = {0}, rrun = {0};
    ppl_ref_writer *w = NULL;
    ppl_result r;
    memset(&r, 0, sizeof r);
    int rc = load_input(text, ids_path, &ids, &n, &text_buf, &text_len);
    if (rc == RUN_EXIT_OK && (rc = mc_open_model(&run, "ppl", model)) != RUN_EXIT_OK)
        finish_err(rc, "cannot open the model (the message is on stderr)");
    if (rc == RUN_EXIT_OK && text)
        rc = tokenize(&run, text, text_buf, text_len, &ids, &n);
    free(text_buf);
    size_t n_text = n, n_prefix = 0; /* --harmony: the text's tokens, the conversation's */
    if (rc == RUN_EXIT_OK && harmony)
        rc = wrap_harmony(&run, ctx, &ids, &n, &n_prefix);
    uint64_t src = 0, fdig = 0, tdig = 0;
    if (rc == RUN_EXIT_OK)
        model_identity(run.model, &src, &fdig, &tdig);
    if (rc == RUN_EXIT_OK && ref_model) {
        if ((rc = mc_open_model(&rrun, "ppl", ref_model)) != RUN_EXIT_OK) {
            finish_err(rc, "cannot open the --ref-model (the message is on stderr)");
        } else {
            uint64_t rs, rf, rt;
            model_identity(rrun.model, &rs, &rf, &rt);
            const char *what = rrun.model->hp.vocab != run.model->hp.vocab ? "vocabulary size"
                               : rt != tdig ? "tokenizer (tokenizer.json)" : NULL;
            if (what) {
                snprintf(err, sizeof err, "--ref-model %s has another %s than %s (vocab %d vs %d): the two models "
                         "must share vocabulary and tokenizer", ref_model, what, model, rrun.model->hp.vocab,
                         run.model->hp.vocab);
                rc = fail_msg(RUN_EXIT_BAD_INPUT, err);
            } else if (rs && src && rs != src) {
                snprintf(err, sizeof err, "--ref-model %s was converted from another checkpoint than %s", ref_model,
                         model);
                if (strict)
                    rc = fail_msg(RUN_EXIT_BAD_INPUT, err);
                else
                    fprintf(stderr, "gptoss-run ppl: warning: %s\n", err);
            }
        }
    }
    if (rc == RUN_EXIT_OK && ref_path) {
        const char *what = ref.vocab != (uint32_t)run.model->hp.vocab ? "vocabulary size"
                           : ref.tok_digest && tdig && ref.tok_digest != tdig ? "tokenizer (tokenizer.json)" : NULL;
        if (what) {
            snprintf(err, sizeof err, "the reference %s was made with another %s than %s's: it cannot be compared",
                     ref_path, what, model);
            rc = fail_msg(RUN_EXIT_BAD_INPUT, err);
        } else if (ref.model_digest && src && ref.model_digest != src) {
            snprintf(err, sizeof err, "the reference %s was made from another checkpoint than %s (source digest "
                     "%016llx vs %016llx)%s", ref_path, model, (unsigned long long)ref.model_digest,
                     (unsigned long long)src, strict ? "" : ": comparing anyway (--strict refuses)");
            if (strict)
                rc = fail_msg(RUN_EXIT_BAD_INPUT, err);
            else
                fprintf(stderr, "gptoss-run ppl: warning: %s\n", err);
        }
    }
    if (rc == RUN_EXIT_OK && (rc = mc_start(&run, &mo)) != RUN_EXIT_OK)
        finish_err(rc, "cannot start the backend (the message is on stderr)");
    if (rc == RUN_EXIT_OK && ref_model) {
        /* the reference model on the same backend, so its logits rows and
         * this model's meet where they live */
        if (mo.ggml)
            gm_use_ggml_rope(rrun.model);
        int prc = gm_prepare(rrun.model, run.be, err, sizeof err);
        if (prc == 0) {
            rrun.session = gq_session_create(rrun.model, run.be, ctx, 0, err, sizeof err);
            if (!rrun.session)
                prc = run.be->status != GB_OK ? GQ_ERR_BACKEND : -1;
        }
        if (prc != 0)
            rc = fail_msg(prc == GQ_ERR_BACKEND ? RUN_EXIT_BACKEND : RUN_EXIT_FAIL, err);
    }
    if (rc == RUN_EXIT_OK && save_ref && !(w = ppl_ref_writer_open(save_ref, force, err, sizeof err)))
        rc = fail_msg(errno == EEXIST ? RUN_EXIT_EXISTS : RUN_EXIT_IO, err);
    if (rc == RUN_EXIT_OK) {
        ppl_opts o = {ctx, topk, mc_progress_wanted() && !json, ref_path ? &ref : NULL, rrun.session,
                      w && !topk ? w : NULL};
        int prc = ppl_run(run.session, run.model->hp.vocab, ids, n, &o, &r, err, sizeof err);
        if (prc != 0) {
            rc = prc == PPL_ERR_NONFINITE ? RUN_EXIT_NONFINITE
                 : prc == GQ_ERR_BACKEND  ? RUN_EXIT_BACKEND
                 : strstr(err, "cannot write") ? RUN_EXIT_IO : RUN_EXIT_BAD_INPUT;
            fail_msg(rc, err);
        }
    }
    if (rc == RUN_EXIT_OK && w) {
        r.own.model_digest = src;
        r.own.file_digest = fdig;
        r.own.tok_digest = tdig;
        if (ppl_ref_writer_finish(w, &r.own, err, sizeof err) != 0)
            rc = fail_msg(RUN_EXIT_IO, err);
    }
    ppl_ref_writer_free(w);
    if (rc != RUN_EXIT_OK) {
        ppl_result_free(&r);
        gq_session_free(rrun.session);
        rrun.session = NULL;
        gm_close(rrun.model);
        mc_close(&run);
        free(ids);
        ppl_ref_free(&ref);
        return rc;
    }
    const ppl_stats *st = &r.st;
    const char *failed[3];
    int nf = 0;
    if (have_ref) {
        if (max_kld >= 0 && !(st->kld.mean <= max_kld))
            failed[nf++] = "max_kld";
        if (min_top1 >= 0 && !(st->top1 >= min_top1))
            failed[nf++] = "min_top1";
        if (max_ratio >= 0 && !(st->ppl_ratio <= max_ratio))
            failed[nf++] = "max_ppl_ratio";
    }
    const char *kind = st->full ? "full" : "lower_bound";
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", model);
        cJSON_AddNumberToObject(o, "tokens", (double)n_text);
        if (harmony) {
            cJSON *h = cJSON_AddObjectToObject(o, "harmony");
            cJSON_AddNumberToObject(h, "prefix_tokens", (double)n_prefix);
            cJSON_AddNumberToObject(h, "evaluated_tokens", (double)n);
            cJSON_AddStringToObject(h, "prompt", PPL_HARMONY_PROMPT);
            cJSON_AddStringToObject(h, "date", PPL_HARMONY_DATE);
            cJSON_AddStringToObject(h, "scored", "text tokens (the assistant's final-channel content) in the "
                                    "second half of each chunk");
        }
        cJSON_AddNumberToObject(o, "ctx", ctx);
        cJSON_AddNumberToObject(o, "chunks", (double)r.n_chunks);
        cJSON_AddNumberToObject(o, "scored", (double)r.n_scored);
        cJSON_AddNumberToObject(o, "ppl", r.ppl);
        cJSON_AddNumberToObject(o, "ppl_err", r.ppl_err);
        cJSON_AddNumberToObject(o, "mean_nll", r.mean_nll);
        cJSON_AddNumberToObject(o, "seconds", r.seconds);
        cJSON_AddNumberToObject(o, "tokens_per_s", r.tokens_per_s);
        if (save_ref) {
            cJSON *s = cJSON_AddObjectToObject(o, "saved_ref");
            cJSON_AddStringToObject(s, "path", save_ref);
            cJSON_AddStringToObject(s, "kind", topk ? "top_k" : "full");
            if (topk)
                cJSON_AddNumberToObject(s, "k", topk);
        }
        if (have_ref) {
            cJSON *j = cJSON_AddObjectToObject(o, "ref");
            cJSON_AddStringToObject(j, "source", ref_path ? "file" : "model");
            cJSON_AddStringToObject(j, "path", ref_path ? ref_path : ref_model);
            cJSON_AddStringToObject(j, "kld_kind", kind);
            cJSON_AddNumberToObject(j, "ppl", st->ref_ppl);
            cJSON_AddNumberToObject(j, "ppl_err", st->ref_ppl_err);
            cJSON_AddNumberToObject(j, "ppl_ratio", st->ppl_ratio);
            cJSON_AddNumberToObject(j, "ppl_ratio_err", st->ppl_ratio_err);
            cJSON_AddNumberToObject(j, "ln_ppl_ratio", st->ln_ratio);
            cJSON_AddNumberToObject(j, "ln_ppl_ratio_err", st->ln_ratio_err);
            cJSON_AddNumberToObject(j, "cor_ln_ppl", st->cor_nll);
            cJSON_AddNumberToObject(j, "kld_mean", st->kld.mean);
            cJSON_AddNumberToObject(j, "kld_err", st->kld.err);
            cJSON_AddNumberToObject(j, "kld_median", st->kld.q[Q_MED]);
            cJSON_AddNumberToObject(j, "kld_p90", st->kld.q[Q_P90]);
            cJSON_AddNumberToObject(j, "kld_p95", st->kld.q[Q_P95]);
            cJSON_AddNumberToObject(j, "kld_p99", st->kld.q[Q_P99]);
            cJSON_AddNumberToObject(j, "kld_max", st->kld.q[Q_MAX]);
            cJSON_AddNumberToObject(j, "kld_min", st->kld.q[Q_MIN]);
            add_quantiles(j, "kld_quantiles", &st->kld);
            cJSON_AddNumberToObject(j, "top1", st->top1);
            cJSON_AddNumberToObject(j, "top1_err", st->top1_err);
            cJSON_AddNumberToObject(j, "dp_mean", st->dp.mean);
            cJSON_AddNumberToObject(j, "dp_err", st->dp.err);
            cJSON_AddNumberToObject(j, "dp_rms", st->dp_rms);
            cJSON_AddNumberToObject(j, "dp_rms_err", st->dp_rms_err);
            add_quantiles(j, "dp_quantiles", &st->dp);
            cJSON *th = cJSON_AddObjectToObject(j, "thresholds");
            double tv[3] = {max_kld, min_top1, max_ratio};
            const char *tn[3] = {"max_kld", "min_top1", "max_ppl_ratio"};
            for (int i = 0; i < 3; i++) {
                if (tv[i] >= 0)
                    cJSON_AddNumberToObject(th, tn[i], tv[i]);
                else
                    cJSON_AddNullToObject(th, tn[i]);
            }
            cJSON *fa = cJSON_AddArrayToObject(j, "failed");
            for (int i = 0; i < nf; i++)
                cJSON_AddItemToArray(fa, cJSON_CreateString(failed[i]));
            cJSON_AddBoolToObject(j, "pass", nf == 0);
            cJSON_AddStringToObject(o, "kld_kind", kind);
        }
        cJSON_AddStringToObject(o, "backend", run.be->name);
        cJSON_AddStringToObject(o, "device", run.be->device);
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s ? s : "{\"error\":\"out of memory\",\"exit_code\":1}");
        cJSON_free(s);
        cJSON_Delete(o);
    } else {
        if (harmony)
            printf("harmony: each chunk = a %zu-token conversation (system, user \"%s\", assistant final) + %zu "
                   "text tokens; only text tokens scored\n", n_prefix, PPL_HARMONY_PROMPT, (size_t)ctx - n_prefix);
        printf("tokens %zu, %zu chunks of %d, %zu scored\n", n_text, r.n_chunks, ctx, r.n_scored);
        printf("PPL = %.4f +/- %.4f (%.1f tokens/s)\n", r.ppl, r.ppl_err, r.tokens_per_s);
        if (have_ref) {
            printf("reference: %s %s; KLD: %s\n", ref_path ? "file" : "model", ref_path ? ref_path : ref_model,
                   st->full ? "full vocabulary" : "a LOWER BOUND (top-k reference: the tail is one bucket)");
            printf("Mean PPL(Q)                   : %10.6f +/- %10.6f\n", r.ppl, r.ppl_err);
            printf("Mean PPL(base)                : %10.6f +/- %10.6f\n", st->ref_ppl, st->ref_ppl_err);
            printf("Cor(ln(PPL(Q)), ln(PPL(base))): %9.2f%%\n", 100 * st->cor_nll);
            printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", st->ln_ratio, st->ln_ratio_err);
            printf("Mean PPL(Q)/PPL(base)         : %10.6f +/- %10.6f\n", st->ppl_ratio, st->ppl_ratio_err);
            printf("Mean    KLD%s: %10.6f +/- %10.6f\n", st->full ? "               " : " (lower bound) ",
                   st->kld.mean, st->kld.err);
            static const int kq[] = {Q_MAX, Q_P999, Q_P99, Q_P95, Q_P90, Q_MED, Q_P10, Q_P5, Q_P1, Q_MIN};
            static const char *const kn[] = {"Maximum", "99.9%  ", "99.0%  ", "95.0%  ", "90.0%  ", "Median ",
                                             "10.0%  ", " 5.0%  ", " 1.0%  ", "Minimum"};
            for (size_t i = 0; i < sizeof kq / sizeof *kq; i++)
                printf("%s KLD: %10.6f\n", kn[i], st->kld.q[kq[i]]);
            printf("Mean    Δp: %8.3f ± %5.3f %%\n", 100 * st->dp.mean, 100 * st->dp.err);
            static const int dq[] = {Q_MAX, Q_P999, Q_P99, Q_P95, Q_P90, Q_P75, Q_MED, Q_P25, Q_P10, Q_P5, Q_P1,
                                     1, Q_MIN};
            static const char *const dn[] = {"Maximum", "99.9%  ", "99.0%  ", "95.0%  ", "90.0%  ", "75.0%  ",
                                             "Median ", "25.0%  ", "10.0%  ", " 5.0%  ", " 1.0%  ", " 0.1%  ",
                                             "Minimum"};
            for (size_t i = 0; i < sizeof dq / sizeof *dq; i++)
                printf("%s Δp: %8.3f%%\n", dn[i], 100 * st->dp.q[dq[i]]);
            printf("RMS Δp    : %8.3f ± %5.3f %%\n", 100 * st->dp_rms, 100 * st->dp_rms_err);
            printf("Same top p: %8.3f ± %5.3f %%\n", 100 * st->top1, 100 * st->top1_err);
        }
    }
    rc = RUN_EXIT_OK;
    if (nf) {
        fprintf(stderr, "gptoss-run ppl: regression:");
        for (int i = 0; i < nf; i++)
            fprintf(stderr, " %s", !strcmp(failed[i], "max_kld") ? "mean KLD above --max-kld"
                                   : !strcmp(failed[i], "min_top1") ? "top-1 agreement below --min-top1"
                                   : "PPL ratio above --max-ppl-ratio");
        fputc('\n', stderr);
        rc = RUN_EXIT_REGRESSION;
    }
    ppl_result_free(&r);
    gq_session_free(rrun.session);
    gm_close(rrun.model);
    mc_close(&run);
    free(ids);
    ppl_ref_free(&ref);
    return rc;
}
