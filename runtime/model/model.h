/* model.h - a gpt-oss model opened from a .gptoss file, every tensor bound.
 *
 * gm_open maps the file (formats/gptoss_format.h validates its structure),
 * then binds each canonical tensor by name and checks its type class and
 * shape against the hyper-parameters, so the forward pass can index weights
 * without further checks. Weights stay in the mapping (zero copy); only the
 * RoPE table is computed here.
 */
#ifndef GQ_MODEL_H
#define GQ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "gptoss_format.h"

typedef struct {
    int sliding;                    /* 1: sliding-window attention */
    const float *attn_norm, *ffn_norm;
    gb_weight q, k, v, o;           /* [Hq, D], [Hkv, D], [Hkv, D], [D, Hq] */
    const float *q_bias, *k_bias, *v_bias, *o_bias, *sinks;
    gb_weight router;               /* [E, D] f32 */
    const float *router_bias;
    gb_weight gate_up, down;        /* [E][2I, D], [E][D, I] */
    const float *gate_up_bias, *down_bias;
} gm_layer;

typedef struct {
    gf_file *file;
    const char *path;
    gf_hparams hp;
    gb_weight embed, head;          /* [vocab, D] */
    const float *norm;
    gm_layer *layers;
    float inv_freq[256];            /* YaRN inverse frequencies, head_dim/2 of them */
    float rope_mscale;              /* YaRN concentration, applied to cos and sin */
} gm_model;

/* NULL with a message naming PATH, the tensor and the fix. */
gm_model *gm_open(const char *path, char *err, size_t errlen);
void gm_close(gm_model *m);

/* Bytes of weights one decoded token reads: its embedding row, every
 * attention and router weight, top-k experts per layer, the head. */
uint64_t gm_bytes_per_token(const gm_model *m);
/* Bytes of all tensor payloads. */
uint64_t gm_weight_bytes(const gm_model *m);

/* YaRN (NeoX) inverse frequencies and concentration for hparams, as HF
 * transformers computes them (exposed for tests). */
void gm_yarn(const gf_hparams *hp, float *inv_freq, float *mscale);

/* Recompute m's rotary frequencies as llama.cpp does, which rounds the
 * YaRN correction range to whole dimensions (floor / ceil) whatever the
 * checkpoint's rope_scaling.truncate says. Goes with GB_GGML (backend.h);
 * a no-op for checkpoints that already truncate. */
void gm_use_ggml_rope(gm_model *m);

#endif
