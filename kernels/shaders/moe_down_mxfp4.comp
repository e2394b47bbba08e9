#version 450
/* moe_down_mxfp4.comp - down + bias + weighted sum of the chosen experts, mxfp4 weights (moe_vec_body.glsl).
 * 64 threads on 1 output row, 3 parts in flight a thread and expert (the body: 128, 2, 2): on the
 * H200, 20b decode, 65 tokens x 8 layers, 13.8 ms against 16.7 (128 threads on 2 rows, 1 expert in
 * flight: 14.0; 128 on 1 row: 16.5; 256 on 4: 17.2; 64 on 2: 26.4; bench/results/2026-12-03-h200-vk5).
 * gd_ops_moe.c's grid uses the same rows a workgroup (MV_ROWS_MXFP4). */
#define WT_MXFP4
#define MOE_DOWN
#define MO_WG_N 64
#define MO_DROWS 1u
#define MO_DUNROLL 3u
#include "moe_vec_body.glsl"
