/* produce.h - the pipeline's unit of work, private to convert/pipeline.
 * (cv_produce_rows, in pipeline.h, is the public form; produce.c holds
 * both. The block arithmetic itself is quant/'s: the MXFP4 re-layout and
 * MXFP4 -> q8_32 are gq_mxfp4_from_hf and gq_mxfp4_hf_to_q8.) */
#ifndef GQ_CONVERT_PRODUCE_H
#define GQ_CONVERT_PRODUCE_H

#include "pipeline.h"

/* Rows [r0, r0+nrows) of t into out, reading the source through a view:
 * src holds the source from source row src_row0 on (the codes for MXFP4,
 * whose scales from that row on are at scales). The mapping (src_row0 = 0)
 * or a chunk's buffer read by srcio.h. */
void cv_produce_view(const cv_out_tensor *t, uint64_t r0, uint64_t nrows, void *out, float *scratch, gq_stats *st,
                     const uint8_t *src, uint64_t src_row0, const uint8_t *scales);

#endif
