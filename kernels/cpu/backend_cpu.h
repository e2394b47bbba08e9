/* backend_cpu.h - the CPU backend (kernels/cpu), the exact reference every
 * other backend is compared with, and its one CPU-only option.
 *
 * The registry (backend.h gb_backend_create("cpu")) gives the exact CPU
 * backend; this header is for callers that want GB_GGML numerics
 * (`gptoss-run ppl --numerics ggml`, the llama.cpp comparison).
 *
 * Buffers are host memory: alloc'ed ones are owned (calloc), prepared
 * weights wrap the model's host bytes (zero copy: the file mapping). */
#ifndef GQ_BACKEND_CPU_H
#define GQ_BACKEND_CPU_H

#include <stddef.h>

#include "backend.h"

/* How matrix products see their input.
 * GB_EXACT: fp32, as the model was trained to be run (the reference).
 * GB_GGML: rounded first as ggml's CPU kernels round it (llama.cpp): to Q8_0
 *   blocks before Q8_32 / Q4_32 / MXFP4 weights, to BF16 / F16 before BF16 /
 *   F16 weights (kernels/cpu gk_round_like_ggml). The MoE router (f32) sees
 *   fp32 in both. Less accurate than GB_EXACT; it exists so that our logits
 *   can be compared with llama.cpp's at the level of float rounding. */
/* GB_FAST: quantized weights (MXFP4, Q8_32, Q4_32) meet activations
 *   rounded to 8-bit blocks (32 values, fp32 scale: kernels/cpu gk_fast.h)
 *   in integer dot products (AVX512-VNNI / AVX-VNNI / AVX2 / AMX-INT8 /
 *   NEON, chosen at run time); other weights (the f32 router, bf16) and
 *   everything outside the products stay exact. Faster, less accurate: its
 *   KL divergence from GB_EXACT is measured in docs/PERFORMANCE.md. */
/* GB_READ: a measuring instrument, not numerics (`gptoss-run bench
 *   --numerics read`; the other commands refuse it). Every product with
 *   quantized or bf16 weights reads the weight bytes the exact product would
 *   read, split into the same pool tasks with the same prefetch, and does no
 *   arithmetic: its outputs are the bias alone. The MoE router is read as
 *   well, and the experts come from a fixed pseudo-random sequence (top-k
 *   distinct per layer and token), so each token reads other experts as a
 *   real decode does. What is left is a decode's memory traffic: its tokens/s
 *   is the ceiling of this access pattern on this machine (docs/RUNTIME.md).
 *   Its logits mean nothing. */
typedef enum { GB_EXACT = 0, GB_GGML = 1, GB_FAST = 2, GB_READ = 3 } gb_numerics;

/* The CPU backend on n_threads threads (<= 0: one per CPU). NULL with a
 * message in err if the thread pool cannot start. */
gb_backend *gb_cpu_create(int n_threads, gb_numerics numerics, char *err, size_t errlen);

/* Its registry entry (backend.c lists it). */
extern const gb_backend_entry gb_cpu_entry;

#endif
