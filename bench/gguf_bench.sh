#!/usr/bin/env bash
# bench/gguf_bench.sh - `make -f Makefile.bench bench-gguf`: the GGUF export of
# the 20b synthetic checkpoint against the same I/O floor as bench-convert and
# against the .gptoss conversion of the same recipe, measured in the same
# interleaved rounds by the same driver (bench/convert.sh: see there for the
# environment). Recipes: q8e = experts MXFP4 + the rest Q8_0 (llama.cpp's own
# gpt-oss recipe), q8, q4. Figures: $OUT/gguf.json.
set -euo pipefail
export BENCH_NAME=gguf FORMATS="gguf gptoss" RECIPES="${RECIPES:-q8e q8 q4}"
exec "$(dirname "$0")/convert.sh"
