#!/usr/bin/env bash
# runtime_bench.sh - see bench/runtime.mk. Writes $OUT/runtime.json.
# Env: BIN, OUT, P (prompt tokens), N (decoded tokens), R (runs, medians),
#      THREADS, KEEP (1: keep the converted 12 GB files for the next run).
set -euo pipefail
BIN=${BIN:-build-bench/bin}; OUT=${OUT:-bench-out}
P=${P:-64}; N=${N:-16}; R=${R:-3}; THREADS=${THREADS:-2}; KEEP=${KEEP:-0}
src=$OUT/fixture-20b
go=$OUT/rt-20b.gptoss
gg=$OUT/rt-20b.gguf
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
if [ ! -f "$src/config.json" ]; then
  echo "generating the 20b synthetic checkpoint in $src (13.8 GB, once)..."
  "$BIN/gptoss-fixture" 20b -o "$src" --no-sync
fi
if [ ! -f "$go" ]; then
  echo "converting to $go (experts mxfp4, rest q8)..."
  "$BIN/gptoss-convert" convert "$src" -o "$go" --quant q8 --experts mxfp4 --force -q
fi
echo "kernel ceilings (one thread, weights in cache):"
kern=$("$BIN/bench_kernels"); echo "$kern"
echo "ours: gptoss-run bench -p $P -n $N -r $R --threads $THREADS (+ memory bandwidth)"
"$BIN/gptoss-run" bench "$go" -p "$P" -n "$N" -r "$R" --threads "$THREADS" --membw --json > "$OUT/runtime-ours.json"
cat "$OUT/runtime-ours.json"
[ "$KEEP" = 1 ] || rm -f "$go"

peer='null'
if [ -d "${GQ_TOOLS_DIR:-tools}/node_modules/node-llama-cpp" ]; then
  if [ ! -f "$gg" ] && ! "$BIN/gptoss-convert" convert "$src" -o "$gg" --format gguf --quant q8 --experts mxfp4 --force -q; then
    echo "GGUF export failed: no llama.cpp comparison"
  fi
  if [ -f "$gg" ]; then
    echo "llama.cpp: same prompt length, decode length, runs and threads"
    if node "$here/runtime_llama.mjs" --gguf "$gg" --vocab 201088 --p "$P" --n "$N" --r "$R" --threads "$THREADS" > "$OUT/runtime-llama.json"; then
      peer=$(cat "$OUT/runtime-llama.json"); echo "$peer"
    fi
    [ "$KEEP" = 1 ] || rm -f "$gg"
  fi
else
  echo "node-llama-cpp not installed (scripts/setup.sh): no llama.cpp comparison"
fi
ours=$(cat "$OUT/runtime-ours.json")
cat > "$OUT/runtime.json" <<JSON
{"bench":"runtime","machine":"$(uname -m) $(getconf _NPROCESSORS_ONLN) cpus","load_avg":"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)",
 "kernels":$kern,"ours":$ours,"llama_cpp":$peer}
JSON
echo "wrote $OUT/runtime.json"
