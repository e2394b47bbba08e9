#!/usr/bin/env bash
# llama_kld.sh - llama.cpp's own KL divergence of our GGUF exports beside
# ours on the .gptoss of the same recipes (not run in CI: it needs a
# llama.cpp build, e.g. the CUDA one in shared/peers/llama-cuda-sm90.tar.xz).
#
# usage: tests/gguf/llama_kld.sh LLAMA_BIN_DIR CHECKPOINT OUT_DIR [TEXT] [CTX]
#   LLAMA_BIN_DIR  folder with llama-perplexity and its libraries (LD_LIBRARY_PATH is set to it)
#   CHECKPOINT     a gpt-oss checkpoint folder (HF layout), e.g. build/rt-models/small or gpt-oss-20b
#   OUT_DIR        results: kld.json (one object per recipe), the logs, the converted files
#   TEXT           text to score (default: README.md of this repository)
#   CTX            chunk length (default 512; llama-perplexity -c)
# env: GQ_BIN_DIR (default build/bin) for gptoss-convert / gptoss-run;
#      RECIPES (default "q8 q4"); NGL (default 99: llama.cpp GPU layers).
#
# Base (the reference) on both sides: the mxfp4 recipe (experts as shipped,
# the rest bf16). llama.cpp: --kl-divergence-base on base.gguf, then
# --kl-divergence on each recipe. Ours: ppl --numerics ggml --save-ref on
# base.gptoss (full vocabulary), then --ref on each recipe, so both sides
# round matrix inputs the same way. Each side tokenizes the text itself.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,20p' "$0"; exit 2; }
lbin=$(cd "$1" && pwd); ckpt=$2; out=$3; here=$(cd "$(dirname "$0")/../.." && pwd)
text=${4:-$here/README.md}; ctx=${5:-512}
gq=${GQ_BIN_DIR:-$here/build/bin}; recipes=${RECIPES:-"q8 q4"}; ngl=${NGL:-99}
mkdir -p "$out"
export LD_LIBRARY_PATH="$lbin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
lp() { "$lbin/llama-perplexity" -ngl "$ngl" -c "$ctx" -f "$text" "$@"; }
conv() { "$gq/gptoss-convert" convert "$ckpt" -o "$out/$1" --quant "$2" --force -q; }

conv base.gguf mxfp4
conv base.gptoss mxfp4
lp -m "$out/base.gguf" --kl-divergence-base "$out/base.kld" > "$out/llama-base.log" 2>&1
"$gq/gptoss-run" ppl "$out/base.gptoss" --backend cpu --file "$text" --ctx "$ctx" --numerics ggml \
  --save-ref "$out/base.ref" --force --json > "$out/ours-base.json"

# the value after "NAME :" in llama-perplexity's log (first number)
val() { grep -E "^$2 *:" "$1" | head -1 | sed -E 's/^[^:]*: *([-0-9.e+]+).*/\1/'; }
err() { grep -E "^$2 *:" "$1" | head -1 | sed -E 's/.*(\+\/-|±) *([-0-9.e+]+).*/\2/'; }
echo "[" > "$out/kld.json"
sep=""
printf '%-8s %-24s %-24s %-16s %-16s\n' recipe "KLD llama.cpp" "KLD ours (ggml)" "same top llama" "same top ours"
for r in $recipes; do
  conv "$r.gguf" "$r"
  conv "$r.gptoss" "$r"
  log="$out/llama-$r.log"
  lp -m "$out/$r.gguf" --kl-divergence-base "$out/base.kld" --kl-divergence > "$log" 2>&1
  "$gq/gptoss-run" ppl "$out/$r.gptoss" --backend cpu --file "$text" --ctx "$ctx" --numerics ggml --ref "$out/base.ref" \
    --json > "$out/ours-$r.json"
  lk=$(val "$log" "Mean +KLD"); lke=$(err "$log" "Mean +KLD"); lt=$(val "$log" "Same top p"); lte=$(err "$log" "Same top p")
  lpq=$(val "$log" "Mean PPL\(Q\)"); lpb=$(val "$log" "Mean PPL\(base\)")
  ours=$(cat "$out/ours-$r.json")
  printf '%s{"recipe":"%s","ctx":%s,"llama":{"kld_mean":%s,"kld_err":%s,"same_top_p_pct":%s,"same_top_p_err_pct":%s,"ppl":%s,"ppl_base":%s},"ours":%s}\n' \
    "$sep" "$r" "$ctx" "${lk:-null}" "${lke:-null}" "${lt:-null}" "${lte:-null}" "${lpq:-null}" "${lpb:-null}" "$ours" >> "$out/kld.json"
  sep=","
  ok=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["ref"]; print("%.6f +/- %.6f" % (j["kld_mean"], j["kld_err"]))' "$out/ours-$r.json" 2>/dev/null || echo "?")
  ot=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["ref"]; print("%.3f %%" % (100*j["top1"]))' "$out/ours-$r.json" 2>/dev/null || echo "?")
  printf '%-8s %-24s %-24s %-16s %-16s\n' "$r" "${lk:-?} +/- ${lke:-?}" "$ok" "${lt:-?} %" "$ot"
done
echo "]" >> "$out/kld.json"
echo "results: $out/kld.json"
