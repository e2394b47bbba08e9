/* model_impl.h - what model.c shares with model_gguf.c (private to
 * runtime/model/). */
#ifndef GQ_MODEL_IMPL_H
#define GQ_MODEL_IMPL_H

#include "model.h"

/* Bind m's canonical tensors: from m->file, or (m->file NULL) from
 * m->tab[0..n_tab), after checking m->hp; then the weight list and the
 * rotary table. 0, or -1 with a message naming m->path (m is left for
 * gm_close). */
int gm_bind(gm_model *m, char *err, size_t errlen);

/* gm_open for a file that starts with "GGUF" (model_gguf.c). */
gm_model *gm_open_gguf(const char *path, char *err, size_t errlen);

/* The same for an open GGUF G (a file or gguf_open_memory: fuzz_gguf),
 * which the model owns from here on, also when NULL is returned. PATH
 * names it in messages and must outlive the model. */
struct gguf_file;
gm_model *gm_from_gguf(struct gguf_file *g, const char *path, char *err, size_t errlen);

#endif
