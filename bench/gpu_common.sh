# shellcheck shell=bash
# gpu_common.sh - sourced by bench/gpu_bench.sh and bench/metal_bench.sh: the
# steps both GPU benches share. Expects BIN, OUT, R, BACKEND, TOKDIR and log().

# gpu_models PRESET SRC GPTOSS GGUF TAG: the synthetic checkpoint and its two
# exports (experts MXFP4, the rest q8), made once.
gpu_models() {
  local preset=$1 src=$2 go=$3 gg=$4 tag=$5
  if [ ! -f "$src/config.json" ]; then
    log "fixture $preset -> $src"
    "$BIN/gptoss-fixture" "$preset" -o "$src" --no-sync --tokenizer-dir "$TOKDIR" > "$OUT/$tag-fixture.log" 2>&1 || { log "fixture failed"; return 1; }
  fi
  [ -f "$go" ] || { log "convert -> .gptoss"; "$BIN/gptoss-convert" convert "$src" -o "$go" --quant q8 --experts mxfp4 --force -q; }
  [ -f "$gg" ] || { log "convert -> .gguf"; "$BIN/gptoss-convert" convert "$src" -o "$gg" --format gguf --quant q8 --experts mxfp4 --force -q; }
  ls -l "$go" "$gg" >&2
}

# gpu_ppl_text FILE: a text for ppl, the project's own docs twice (~70k tokens)
gpu_ppl_text() {
  : > "$1"
  for _ in 1 2; do cat docs/*.md README.md >> "$1"; done
}

# ours_bench GPTOSS TAG -p P -n N: `gptoss-run bench --json` with the decode floor
ours_bench() {
  local go=$1 tag=$2
  shift 2
  "$BIN/gptoss-run" bench "$go" --backend "$BACKEND" "$@" -r "$R" --membw --json 2>> "$OUT/$tag-ours.log"
}

# llama_ppl_tok_s LOG: llama-perplexity's tokens/s over its whole run, from
# its log's timestamps (M.SS.mmm.uuu at the start of each line): chunks x
# n_ctx tokens between "calculating perplexity over N chunks, n_ctx=C" and
# "Final estimate". Its "S seconds per pass" line is printed after the FIRST
# pass (warm-up included) and is noisy: used only when the log has no
# timestamps. Nothing when neither is there.
llama_ppl_tok_s() {
  local r
  r=$(awk '
    function ts(s,  a) { split(s, a, "."); return a[1] * 60 + a[2] + a[3] / 1e3 + a[4] / 1e6 }
    /calculating perplexity over [0-9]+ chunks/ && $1 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ {
      t0 = ts($1)
      match($0, /over [0-9]+ chunks/); nc = substr($0, RSTART + 5, RLENGTH - 12) + 0
      match($0, /n_ctx=[0-9]+/); nctx = substr($0, RSTART + 6, RLENGTH - 6) + 0
    }
    /Final estimate/ && $1 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { t1 = ts($1) }
    END { if (nc > 0 && nctx > 0 && t1 > t0) printf "%.1f", nc * nctx / (t1 - t0) }' "$1")
  if [ -n "$r" ]; then echo "$r"; return; fi
  local sp ns
  sp=$(sed -n 's/.*perplexity: *\([0-9.]*\) seconds per pass.*/\1/p' "$1" | head -1)
  ns=$(sed -n 's/.*n_seq *= *\([0-9]*\).*/\1/p' "$1" | head -1)
  if [ -n "$sp" ] && [ -n "$ns" ]; then awk -v n="$ns" -v s="$sp" 'BEGIN {printf "%.1f", n * 512 / s}'; fi
}
