/* test_mt_plan.c - the plain-C half of the Metal host, on any machine.
 *
 * 1. The shared ops (kernels/gpu) against the Metal kernel table: a fake
 *    gd_host runs every op for every weight type, decode and prefill, with a
 *    large and a small binding window (the small one forces the row, token
 *    and expert-window splits), and hands each dispatch to mt_bind, the
 *    check the Metal host makes before it encodes: the kernel must have
 *    Metal source, take exactly the dispatch's buffer count, and every
 *    argument must fit its buffer and one window. Every kernel of the table
 *    must be dispatched at least once, so an op naming a kernel that has no
 *    MSL, or MSL for a kernel no op uses, fails here.
 * 2. mt_bind's offsets: argument i bound at a multiple of MT_BIND_ALIGN,
 *    the rest in push word i; its refusals.
 * 3. mt_plan_views: every tensor of at most `largest` bytes lies whole in a
 *    view; views are page-aligned and at most max_len long.
 * 4. The embedded table: sorted, each source is its kernel's file.
 * Nothing here runs Metal; the numbers the kernels compute are the Vulkan
 * tests' business (same SPIR-V). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "gd.h"
#include "gd_ops.h"
#include "mt_plan.h"

typedef struct {
    gd_host host;
    gb_buffer *scratch[GD_SCRATCH_SLOTS];
    gb_buffer *stage;
    int dispatches, refused;
    int *used;                 /* dispatches per mt_kernel_table row */
    char first_refusal[300];
} fake;

static gb_status fk_alloc(gb_backend *b, uint64_t bytes, gb_buffer **out)
{
    (void)b;
    *out = calloc(1, sizeof **out);
    (*out)->size = bytes < 16 ? 16 : (bytes + 15) & ~(uint64_t)15;
    return GB_OK;
}
static void fk_release(gb_backend *b, gb_buffer *buf)
{
    (void)b;
    free(buf);
}
static gb_status fk_read(gb_backend *b, gb_ref src, void *host, uint64_t bytes)
{
    (void)src;
    memset(host, 0, (size_t)bytes);
    return b->status;
}
static gb_status fk_finish(gb_backend *b) { return b->status; }

static gb_status fk_run(gb_backend *b, const gd_dispatch *d)
{
    fake *f = b->ctx;
    if (b->status)
        return b->status;
    if (!d->groups[0] || !d->groups[1] || !d->groups[2])
        return GB_OK;
    const mt_kernel *k;
    mt_binding bind;
    char why[256];
    f->dispatches++;
    if (mt_bind(d, f->host.window, &k, &bind, why, sizeof why)) {
        if (!f->refused++)
            snprintf(f->first_refusal, sizeof f->first_refusal, "%s", why);
        return gb_fail(b, GB_ERR_INVALID, "metal: %s", why);
    }
    f->used[k - mt_kernel_table]++;
    return GB_OK;
}
static gb_status fk_scratch(gb_backend *b, int slot, uint64_t bytes, gb_ref *out)
{
    fake *f = b->ctx;
    if (!f->scratch[slot] || f->scratch[slot]->size < bytes) {
        free(f->scratch[slot]);
        fk_alloc(b, bytes, &f->scratch[slot]);
    }
    *out = (gb_ref){f->scratch[slot], 0};
    return GB_OK;
}
static gb_status fk_upload(gb_backend *b, const void *host, uint64_t bytes, gb_ref *out)
{
    fake *f = b->ctx;
    (void)host;
    CHECK(bytes <= GD_UPLOAD_MAX);
    *out = (gb_ref){f->stage, 0};
    return GB_OK;
}

static gb_backend *fake_backend(uint64_t max_buffer_length, int *used)
{
    gb_backend *b = calloc(1, sizeof *b);
    fake *f = calloc(1, sizeof *f);
    b->ctx = f;
    b->name = "metal";
    f->host = (gd_host){fk_run, fk_scratch, fk_upload, mt_window(max_buffer_length), max_buffer_length};
    f->used = used;
    fk_alloc(b, GD_UPLOAD_MAX, &f->stage);
    b->alloc = fk_alloc;
    b->release = fk_release;
    b->read = fk_read;
    b->finish = fk_finish;
    return b;
}
static void fake_free(gb_backend *b)
{
    fake *f = b->ctx;
    for (int i = 0; i < GD_SCRATCH_SLOTS; i++)
        free(f->scratch[i]);
    free(f->stage);
    free(f);
    free(b);
}

/* weights: a device buffer of exactly their size (host bytes are not read) */
#define MAX_W 64
static gb_weight ws[MAX_W];
static int n_ws;
static gb_weight *weight(const char *name, gq_type t, int64_t n_mat, int64_t rows, int64_t cols)
{
    gb_weight *w = &ws[n_ws++];
    memset(w, 0, sizeof *w);
    w->name = name;
    w->type = t;
    w->n_mat = n_mat;
    w->rows = rows;
    w->cols = cols;
    w->row_bytes = gq_row_bytes(t, (uint64_t)cols);
    fk_alloc(NULL, gb_weight_bytes(w), &w->dev.buf);
    return w;
}
static void free_weights(void)
{
    for (int i = 0; i < n_ws; i++)
        free(ws[i].dev.buf);
    n_ws = 0;
}

#define D 64
#define I 64
#define E 4
#define K 2
#define VOCAB 300
#define HQ 4
#define HKV 2
#define HD 16
#define NT 20 /* a prefill batch: >= MOE_GROUP_MIN, so the grouped MoE kernels run */

static void all_ops(gb_backend *b, const char *what)
{
    static const gq_type types[] = {GQ_F32, GQ_F16, GQ_BF16, GQ_MXFP4, GQ_Q8_32, GQ_Q4_32};
    gb_buffer *x, *y, *o, *lg, *kc, *vc;
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &x);
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &y);
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &o);
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &lg);
    fk_alloc(b, (uint64_t)64 * HKV * HD * 4, &kc);
    fk_alloc(b, (uint64_t)64 * HKV * HD * 4, &vc);
    gb_buffer *kc64, *vc64; /* the tiled prefill kernel's head_dim (gd_ops_attention.c) */
    fk_alloc(b, (uint64_t)64 * HKV * 64 * 4, &kc64);
    fk_alloc(b, (uint64_t)64 * HKV * 64 * 4, &vc64);
    gb_ref rx = {x, 0}, ry = {y, 0}, ro = {o, 0};
    gb_weight *norm = weight("norm", GQ_F32, 1, 1, D), *freq = weight("inv_freq", GQ_F32, 1, 1, HD / 2);
    gb_weight *sinks = weight("sinks", GQ_F32, 1, 1, HQ), *bias = weight("bias", GQ_F32, 1, 1, VOCAB);
    gb_weight *router = weight("router", GQ_F32, 1, E, D), *rbias = weight("router_bias", GQ_F32, 1, 1, E);
    gb_weight *gub = weight("gate_up_bias", GQ_F32, E, 1, 2 * I), *dnb = weight("down_bias", GQ_F32, E, 1, D);
    int32_t ids[NT];
    for (int t = 0; t < NT; t++)
        ids[t] = (t * 37) % VOCAB;
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        gq_type t = types[ti];
        gb_weight *head = weight("head", t, 1, VOCAB, D);
        gb_weight *gu = weight("gate_up", t, E, 2 * I, D), *dn = weight("down", t, E, D, I);
        gb_moe m = {router, rbias, gu, gub, dn, dnb, E, K, D, I, 7.0f, 1.702f};
        for (int n = 1; n <= NT; n += NT - 1) {
            CHECK_MSG(gd_op_matmul(b, head, NULL, rx, n, ro) == GB_OK, "%s: matmul type %d n %d: %s", what, (int)t, n,
                      b->error);
            CHECK_MSG(gd_op_matmul(b, head, bias, rx, n, ro) == GB_OK, "%s: matmul+bias type %d n %d: %s", what,
                      (int)t, n, b->error);
            CHECK_MSG(gd_op_moe(b, &m, rx, n, ro) == GB_OK, "%s: moe type %d n %d: %s", what, (int)t, n, b->error);
        }
        CHECK_MSG(gd_op_embed(b, head, ids, NT, ro) == GB_OK, "%s: embed type %d: %s", what, (int)t, b->error);
    }
    CHECK(gd_op_rmsnorm(b, rx, norm, NT, D, 1e-5f, ro) == GB_OK);
    CHECK(gd_op_rope(b, rx, NT, HQ, HD, 3, freq, 1.0f) == GB_OK);
    CHECK(gd_op_add(b, rx, ry, (uint64_t)NT * D) == GB_OK);
    for (int window = 0; window <= 8; window += 8) {
        gb_attn a = {HQ, HKV, HD, window, sinks, {kc, 0}, {vc, 0}, window ? window : 64, 0.25f};
        for (int pos0 = 0; pos0 <= 40; pos0 += 13) {
            CHECK_MSG(gd_op_attention(b, &a, rx, ry, ry, 1, pos0, ro) == GB_OK, "%s: attention: %s", what, b->error);
            CHECK_MSG(gd_op_attention(b, &a, rx, ry, ry, NT, pos0, ro) == GB_OK, "%s: attention: %s", what, b->error);
            CHECK_MSG(gd_op_kv_store(b, &a, ry, ry, NT, pos0) == GB_OK, "%s: kv_store: %s", what, b->error);
        }
        gb_attn a64 = {HQ, HKV, 64, window, sinks, {kc64, 0}, {vc64, 0}, window ? window : 64, 0.125f};
        CHECK_MSG(gd_op_attention(b, &a64, rx, ry, ry, NT, 13, ro) == GB_OK, "%s: attention hd 64: %s", what,
                  b->error);
    }
    float nll[NT], top_logp[NT * 4];
    uint32_t top_ids[NT * 4], ref_ids[NT * 3] = {0};
    float ref_logp[NT * 3] = {0};
    double kld[NT];
    gb_score_in in = {ids, 4, {NULL, 0}, 3, ref_ids, ref_logp};
    gb_score_out out = {nll, top_ids, top_logp, kld};
    CHECK_MSG(gd_op_score(b, (gb_ref){lg, 0}, NT, VOCAB, &in, &out) == GB_OK, "%s: score: %s", what, b->error);
    gb_score_in dense = {ids, 0, {y, 0}, 0, NULL, NULL};
    gb_score_out dout = {nll, NULL, NULL, kld};
    CHECK_MSG(gd_op_score(b, (gb_ref){lg, 0}, NT, VOCAB, &dense, &dout) == GB_OK, "%s: score: %s", what, b->error);
    double bw = 0;
    CHECK_MSG(gd_op_read_bandwidth(b, 1u << 20, &bw) == GB_OK, "%s: read_bandwidth: %s", what, b->error);
    free(x), free(y), free(o), free(lg), free(kc), free(vc), free(kc64), free(vc64);
    free_weights();
}

/* The optional fused ops (backend.h) the Vulkan host installs, and the
 * per-token MoE with the old router (GQ_GPU_ROUTE=0, for measuring): the
 * Metal host installs neither path's ops yet, but their kernels have MSL and
 * their dispatches must bind there too. */
static void fused_ops(gb_backend *b, const char *what)
{
    gb_buffer *x, *y, *o, *kc, *vc;
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &x);
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &y);
    fk_alloc(b, (uint64_t)NT * VOCAB * 4, &o);
    fk_alloc(b, (uint64_t)64 * HKV * HD * 4, &kc);
    fk_alloc(b, (uint64_t)64 * HKV * HD * 4, &vc);
    gb_ref rx = {x, 0}, ry = {y, 0}, ro = {o, 0};
    gb_weight *norm = weight("norm", GQ_F32, 1, 1, D), *freq = weight("inv_freq", GQ_F32, 1, 1, HD / 2);
    gb_weight *sinks = weight("sinks", GQ_F32, 1, 1, HQ);
    gb_weight *router = weight("router", GQ_F32, 1, E, D), *rbias = weight("router_bias", GQ_F32, 1, 1, E);
    gb_weight *gub = weight("gate_up_bias", GQ_F32, E, 1, 2 * I), *dnb = weight("down_bias", GQ_F32, E, 1, D);
    CHECK_MSG(gd_op_add_rmsnorm(b, rx, ry, norm, NT, D, 1e-5f, ro) == GB_OK, "%s: add_rmsnorm: %s", what, b->error);
    gb_attn a = {HQ, HKV, HD, 8, sinks, {kc, 0}, {vc, 0}, 8, 0.25f};
    CHECK_MSG(gd_op_rope_kv_store(b, &a, rx, ry, ro, 1, 13, freq, 1.0f) == GB_OK, "%s: rope_kv_store: %s", what,
              b->error);
    int32_t id[NT];
    CHECK_MSG(gd_op_argmax(b, rx, NT, VOCAB, id) == GB_OK, "%s: argmax: %s", what, b->error);
    static const gq_type types[] = {GQ_F32, GQ_F16, GQ_BF16, GQ_MXFP4, GQ_Q8_32, GQ_Q4_32};
    setenv("GQ_GPU_ROUTE", "0", 1);
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        gb_weight *gu = weight("gate_up", types[ti], E, 2 * I, D), *dn = weight("down", types[ti], E, D, I);
        gb_moe m = {router, rbias, gu, gub, dn, dnb, E, K, D, I, 7.0f, 1.702f};
        CHECK_MSG(gd_op_moe(b, &m, rx, 1, ro) == GB_OK, "%s: moe (moe_route) type %d: %s", what, (int)types[ti],
                  b->error);
    }
    unsetenv("GQ_GPU_ROUTE");
    free(x), free(y), free(o), free(kc), free(vc);
    free_weights();
}

static void ops_against_table(void)
{
    int *used = calloc((size_t)mt_kernel_count, sizeof *used);
    /* a Mac's buffers (several GiB: the window is just under 4 GiB), then a
     * 64 KiB window: the head and the expert stacks are split */
    uint64_t lens[] = {16ull << 30, (64u << 10) + MT_BIND_ALIGN};
    for (int i = 0; i < 2; i++) {
        gb_backend *b = fake_backend(lens[i], used);
        fake *f = b->ctx;
        char what[64];
        snprintf(what, sizeof what, "window %llu", (unsigned long long)f->host.window);
        all_ops(b, what);
        fused_ops(b, what);
        CHECK_MSG(f->refused == 0, "%s: %d of %d dispatches refused, first: %s", what, f->refused, f->dispatches,
                  f->first_refusal);
        printf("test_mt_plan: %s: %d dispatches, %d refused\n", what, f->dispatches, f->refused);
        fake_free(b);
    }
    for (int i = 0; i < mt_kernel_count; i++)
        CHECK_MSG(used[i] > 0, "kernel %s has Metal source but no op dispatched it", mt_kernel_table[i].name);
    free(used);
}

static void bind_rules(void)
{
    const mt_kernel *k = mt_kernel_find("add");
    CHECK(k != NULL && k->n_args == 2);
    CHECK(mt_kernel_find("no_such_kernel") == NULL);
    struct gb_buffer bx = {.size = 4096}, by = {.size = 4096};
    gd_dispatch d = {.kernel = "add", .n_args = 2, .n_push = 3, .groups = {1, 1, 1}};
    d.args[0] = (gd_arg){{&bx, 1000}, 64, 1};
    d.args[1] = (gd_arg){{&by, 256}, 64, 0};
    d.push[2] = 16;
    const mt_kernel *got = NULL;
    mt_binding bd;
    char why[256] = "";
    const char *msg = why; /* CHECK_STR_CONTAINS wants a pointer */
    CHECK(mt_bind(&d, mt_window(1ull << 30), &got, &bd, why, sizeof why) == 0 && got == k);
    CHECK(bd.offset[0] == 768 && bd.push[0] == 232); /* 1000 = 3 * 256 + 232 */
    CHECK(bd.offset[1] == 256 && bd.push[1] == 0);
    CHECK(bd.push[2] == 16 && bd.push[3] == 0);
    d.n_args = 3; /* a buffer count the kernel does not have */
    CHECK(mt_bind(&d, mt_window(1ull << 30), &got, &bd, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(msg, "takes 2 buffers");
    d.n_args = 2;
    d.args[0].bytes = 4096; /* past the end of its buffer */
    CHECK(mt_bind(&d, mt_window(1ull << 30), &got, &bd, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(msg, "outside its buffer");
    d.args[0] = (gd_arg){{&bx, 0}, 2048, 1}; /* longer than the window */
    CHECK(mt_bind(&d, 1024, &got, &bd, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(msg, "window");
    d.kernel = "no_such_kernel";
    CHECK(mt_bind(&d, 1024, &got, &bd, why, sizeof why) == -1);
    CHECK_STR_CONTAINS(msg, "no Metal source");
    /* the window never lets a binding reach 4 GiB (32-bit offsets in the kernels) */
    CHECK(mt_window(64ull << 30) + MT_BIND_ALIGN <= (1ull << 32));
    CHECK(mt_window(1u << 20) == (1u << 20) - MT_BIND_ALIGN);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static void views(void)
{
    mt_view v[64];
    /* fits one buffer: one view, rounded to whole pages */
    CHECK(mt_plan_views(100000, 16384, 1u << 20, 5000, v, 64) == 1 && v[0].off == 0 && v[0].len == 114688);
    /* a tensor larger than a buffer cannot be placed */
    CHECK(mt_plan_views(10u << 20, 16384, 1u << 20, 1u << 20, v, 64) == 0);
    /* too many views for the caller's array */
    CHECK(mt_plan_views(1ull << 30, 16384, 1u << 20, 1000, v, 4) == 0);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 300; round++) {
        uint64_t page = round % 2 ? 16384 : 4096;
        uint64_t max_len = (1 + rnd(&s) % 64) * page * 4 + rnd(&s) % page;
        uint64_t largest = 1 + rnd(&s) % (max_len / 2);
        uint64_t map = 1 + rnd(&s) % (max_len * 12);
        int n = mt_plan_views(map, page, max_len, largest, v, 64);
        CHECK_MSG(n > 0, "no views for map %llu, buffer %llu, largest %llu", (unsigned long long)map,
                  (unsigned long long)max_len, (unsigned long long)largest);
        if (n <= 0)
            continue;
        uint64_t end = 0;
        for (int i = 0; i < n; i++) {
            CHECK(v[i].off % page == 0 && v[i].len % page == 0 && v[i].len <= max_len && v[i].len > 0);
            end = v[i].off + v[i].len;
        }
        CHECK(end >= map && end < map + page);
        for (int t = 0; t < 200; t++) { /* any tensor of at most `largest` bytes inside the map */
            uint64_t len = rnd(&s) % (largest + 1), off = map > len ? rnd(&s) % (map - len + 1) : 0;
            if (len > map)
                continue;
            int i = mt_view_of(v, n, off, len);
            CHECK_MSG(i >= 0, "[%llu, +%llu) in no view (map %llu, %d views)", (unsigned long long)off,
                      (unsigned long long)len, (unsigned long long)map, n);
            if (i < 0)
                break;
            CHECK(off >= v[i].off && off + len <= v[i].off + v[i].len);
        }
    }
}

static void table(void)
{
    CHECK(mt_kernel_count > 0);
    for (int i = 0; i < mt_kernel_count; i++) {
        const mt_kernel *k = &mt_kernel_table[i];
        char head[96], sig[96];
        snprintf(head, sizeof head, "// %s.metal - GENERATED", k->name);
        snprintf(sig, sizeof sig, "kernel void %s(", k->name);
        CHECK_MSG(!strncmp(k->src, head, strlen(head)) && strstr(k->src, sig), "%s: not its own source", k->name);
        CHECK(k->threads[0] * k->threads[1] * k->threads[2] > 0 && k->n_args >= 0 && k->n_args <= GD_MAX_ARGS);
        if (i)
            CHECK_MSG(strcmp(mt_kernel_table[i - 1].name, k->name) < 0, "table not sorted at %s", k->name);
        CHECK(mt_kernel_find(k->name) == k);
    }
}

int main(void)
{
    table();
    bind_rules();
    views();
    ops_against_table();
    return check_done("test_mt_plan");
}
