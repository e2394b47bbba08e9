/* model.h - a gpt-oss model opened from a .gptoss file, every tensor bound.
 *
 * gm_open maps the file (formats/gptoss_format.h validates its structure;
 * a GGUF goes through formats/gguf.h and model_gguf.c first),
 * then binds each canonical tensor by name and checks its type class and
 * shape against the hyper-parameters, so the forward pass can index weights
 * without further checks. Every tensor, the small f32 ones too, is described
 * once as a gb_weight (kernels/backend.h) whose host bytes stay in the
 * mapping (zero copy); only the RoPE table is computed here (model memory).
 * gm_prepare hands them all to a backend, once, before any session.
 */
#ifndef GQ_MODEL_H
#define GQ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "gptoss_format.h"

/* The return value of the runtime's calls when the backend failed (its
 * b->error is in the message): distinct from -1, a problem of the input. */
#define GQ_ERR_BACKEND (-2)

typedef struct {
    int sliding;                    /* 1: sliding-window attention */
    gb_weight attn_norm, ffn_norm;  /* [D] */
    gb_weight q, k, v, o;           /* [Hq, D], [Hkv, D], [Hkv, D], [D, Hq] */
    gb_weight q_bias, k_bias, v_bias, o_bias;
    gb_weight sinks;                /* [n_heads] */
    gb_weight router;               /* [E, D] f32 */
    gb_weight router_bias;          /* [E] */
    gb_weight gate_up, down;        /* [E][2I, D], [E][D, I] */
    gb_weight gate_up_bias, down_bias; /* E x [2I], E x [D] */
} gm_layer;

typedef struct {
    gf_file *file;                  /* the .gptoss file, or NULL for a GGUF (gguf below) */
    struct gguf_file *gguf;         /* the GGUF file (model_gguf.c), or NULL */
    gf_tensor *tab;                 /* GGUF: its tensors under canonical names and shapes */
    size_t n_tab;
    char *tab_names;                /* GGUF: the storage of tab's names */
    void *owned;                    /* GGUF: the re-interleaved expert gate_up weights and biases */
    const char *path;
    gf_hparams hp;
    gb_weight embed, head;          /* [vocab, D] */
    gb_weight norm;                 /* [D] */
    gb_weight inv_freq;             /* [head_dim / 2]: YaRN inverse frequencies (host: inv_freq_host) */
    gm_layer *layers;
    gb_weight **weights;            /* every weight above, once: what gm_prepare hands the backend */
    int n_weights;
    float inv_freq_host[256];
    float rope_mscale;              /* YaRN concentration, applied to cos and sin */
    gb_backend *prepared;           /* the backend gm_prepare made the weights for, or NULL */
} gm_model;

/* PATH is a .gptoss file or a GGUF (llama.cpp's gpt-oss layout, ours or
 * llama.cpp's own export), told apart by the magic; a GGUF is translated to
 * the same canonical tensors (model_gguf.c, docs/GGUF.md) and bound by the
 * same checks. NULL with a message naming PATH, the tensor and the fix. */
gm_model *gm_open(const char *path, char *err, size_t errlen);
void gm_close(gm_model *m);

/* Make every weight be's (be->prepare with the file mapping), once, before
 * sessions are created. 0; -1 if already prepared; GQ_ERR_BACKEND with
 * be->error in the message. */
int gm_prepare(gm_model *m, gb_backend *be, char *err, size_t errlen);

/* Bytes of weights one decoded token reads: its embedding row, every
 * attention and router weight, top-k experts per layer, the head. */
uint64_t gm_bytes_per_token(const gm_model *m);
/* Bytes of all tensor payloads. */
uint64_t gm_weight_bytes(const gm_model *m);

/* Recompute m's rotary frequencies as llama.cpp does, which rounds the
 * YaRN correction range to whole dimensions (floor / ceil) whatever the
 * checkpoint's rope_scaling.truncate says. Goes with GB_GGML
 * (backend_cpu.h); a no-op for checkpoints that already truncate. Must come
 * before gm_prepare (a device backend copies the table): 0, or -1 after it. */
int gm_use_ggml_rope(gm_model *m);

#endif
