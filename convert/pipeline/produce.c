/* produce.c - turning source rows into output rows: the unit of work the
 * pipeline's workers run (see pipeline.h and produce.h). */
#include <string.h>

#include "pipeline.h"
#include "produce.h"

void cv_produce_view(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch, gq_stats *st,
                    const uint8_t *src, uint64_t src_row0, const uint8_t *scales)
{
    const cv_producer *p = &t->prod;
    const gq_traits *ot = gq_traits_of(t->type);
    const uint64_t cols = p->cols, out_row = gq_row_bytes(t->type, cols);
    uint8_t *dst = out;
    const int contiguous = p->row_stride == 1;

    if (p->kind == CV_SRC_MXFP4) {
        const uint64_t nb = cols / 32;
        const uint8_t *codes = src;
        if (t->type == GQ_MXFP4) {
            /* Exact re-layout: same values, ggml nibble order. */
            if (contiguous) {
                uint64_t sr = cv_producer_src_row(p, r0) - src_row0;
                gq_mxfp4_from_hf(codes + sr * nb * 16, scales + sr * nb, nb * nrows, dst);
            } else {
                for (uint64_t r = 0; r < nrows; r++) {
                    uint64_t sr = cv_producer_src_row(p, r0 + r) - src_row0;
                    gq_mxfp4_from_hf(codes + sr * nb * 16, scales + sr * nb, nb, dst + r * out_row);
                }
            }
            if (st) {
                st->blocks += nb * nrows;
                st->values += cols * nrows;
            }
            return;
        }
        for (uint64_t r = 0; r < nrows; r++) {
            uint64_t sr = cv_producer_src_row(p, r0 + r) - src_row0;
            if (t->type == GQ_Q8_32) {
                /* integer codes to int8 directly, no floats (quant.h) */
                gq_mxfp4_hf_to_q8(codes + sr * nb * 16, scales + sr * nb, nb, dst + r * out_row, st);
                continue;
            }
            gq_mxfp4_hf_decode(codes + sr * nb * 16, scales + sr * nb, nb, scratch);
            ot->encode(scratch, dst + r * out_row, cols, st);
        }
        return;
    }

    const gq_traits *it = gq_traits_of(p->src_type);
    const uint64_t in_row = cols * (uint64_t)it->block_bytes;
    if (p->src_type == t->type) {
        /* bf16 -> bf16, f32 -> f32: bytes are the values. */
        if (contiguous)
            memcpy(dst, src + (cv_producer_src_row(p, r0) - src_row0) * in_row, nrows * in_row);
        else
            for (uint64_t r = 0; r < nrows; r++)
                memcpy(dst + r * out_row, src + (cv_producer_src_row(p, r0 + r) - src_row0) * in_row, in_row);
        if (st) {
            st->blocks += nrows * cols / (uint64_t)ot->block_values;
            st->values += nrows * cols;
        }
        return;
    }
    for (uint64_t r = 0; r < nrows; r++) {
        it->decode(src + (cv_producer_src_row(p, r0 + r) - src_row0) * in_row, scratch, cols);
        ot->encode(scratch, dst + r * out_row, cols, st);
    }
}

void cv_produce_rows(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch,
                     gq_stats *st)
{
    const cv_producer *p = &t->prod;
    cv_produce_view(t, r0, nrows, out, scratch, st, p->src->data, 0,
            p->kind == CV_SRC_MXFP4 ? (const uint8_t *)p->scales->data : NULL);
}

