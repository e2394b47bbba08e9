#!/usr/bin/env bash
# run-default.sh - README command 1: set up, build, make the tiny synthetic
# gpt-oss checkpoint, convert it (experts kept in MXFP4, everything else
# 8-bit: the recipe llama.cpp ships for gpt-oss), inspect and verify it.
#
#   scripts/run-default.sh            build in build/, work in out/
#   OUT=dir scripts/run-default.sh    work elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
bin=build/bin

mkdir -p "$out"
if [ -f "$out/tiny/config.json" ]; then
  echo "== reusing the tiny checkpoint in $out/tiny"
else
  echo "== generating the tiny synthetic checkpoint in $out/tiny"
  "$bin/gptoss-fixture" tiny -o "$out/tiny"
fi

model="$out/tiny-q8-mxfp4.gptoss"
echo "== converting: experts MXFP4 (exact copy), everything else q8_32"
"$bin/gptoss-convert" convert "$out/tiny" -o "$model" --quant q8 --experts mxfp4 --force
echo "== inspecting"
"$bin/gptoss-convert" inspect "$model"
echo "== verifying every tensor and blob checksum"
"$bin/gptoss-convert" verify "$model"
echo
echo "done: $model"

# CPU runtime (docs/RUNTIME.md): perplexity of the converted file on a text,
# then the KL-divergence regression check against a reference saved from it.
echo "== perplexity on README.md (chunks of 128 tokens, second halves scored)"
"$bin/gptoss-run" ppl "$model" --file README.md --ctx 128 --save-ref "$out/tiny-ppl.ref"
echo "== regression check: the same file against its saved reference (exit 8 on regression)"
"$bin/gptoss-run" ppl "$model" --file README.md --ctx 128 --ref "$out/tiny-ppl.ref" --max-kld 1e-6 --min-top1 0.999
