#!/usr/bin/env bash
# gguf_run.sh - gptoss-run on GGUF files: for the tiny fixture (and the
# small one, real 201088-token vocabulary) and the recipes mxfp4 (experts
# mxfp4, rest bf16), q8 + mxfp4 experts (llama.cpp's), q8 and q4, the GGUF
# export and the .gptoss of the same recipe give: the same weights, bytes
# and tokenizer and bit-identical greedy logits (test_gguf_run), the same
# ppl JSON (timings aside), the same tokenize ids and the same generate
# output; malformed and unsupported GGUFs are refused (exit 3) with a
# message naming the tensor or key.
set -uo pipefail
BIN=${GQ_BIN_DIR:-bin}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for p in gptoss-fixture gptoss-convert gptoss-run test_gguf_run; do
  [ -x "$BIN/$p" ] || { echo "missing $BIN/$p: skipping"; exit 77; }
done
tmp=$(mktemp -d /tmp/gq-gguf-run-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
notime() { sed -E 's/"(seconds|tokens_per_s|prefill_tok_s|decode_tok_s|file)":("[^"]*"|[0-9.e+-]+),?//g'; }
texts="$SRC/README.md $SRC/docs/GGUF.md $SRC/docs/TOKENIZER.md"
head -c 5000 "$SRC/README.md" > "$tmp/text.txt"

presets="tiny small"
[ -n "${GQ_GGUF_RUN_QUICK:-}" ] && presets=tiny
for preset in $presets; do
  "$BIN/gptoss-fixture" $preset -o "$tmp/$preset" --no-sync >/dev/null 2>"$tmp/err" || {
    echo "no $preset fixture ($(head -c 200 "$tmp/err")): skipping it"; continue; }
  for recipe in "mxfp4" "q8 --experts mxfp4" "q8" "q4"; do
    n=$preset-$(echo "$recipe" | tr -d ' -')
    "$BIN/gptoss-convert" convert "$tmp/$preset" -o "$tmp/$n.gptoss" --quant $recipe -q || { fails=$((fails+1)); continue; }
    "$BIN/gptoss-convert" convert "$tmp/$preset" -o "$tmp/$n.gguf" --quant $recipe -q || { fails=$((fails+1)); continue; }
    "$BIN/test_gguf_run" "$tmp/$n.gptoss" "$tmp/$n.gguf" $texts > "$tmp/t.out" 2>&1; rc=$?
    check "$n: same weights, tokenizer, greedy logits ($(grep -o "greedy: [0-9]* steps" "$tmp/t.out"), $(grep -o "[0-9]* weights, [0-9]* ids" "$tmp/t.out"))" '[ $rc = 0 ]'
    [ $rc = 0 ] || cat "$tmp/t.out"
    # the CLI runs are slow on the real vocabulary: on small, one recipe (llama.cpp's)
    [ $preset = small ] && [ "$recipe" != "q8 --experts mxfp4" ] && continue
    for e in gptoss gguf; do
      "$BIN/gptoss-run" ppl "$tmp/$n.$e" --file "$tmp/text.txt" --ctx 128 --json | notime > "$tmp/ppl.$e"
      "$BIN/gptoss-run" tokenize "$tmp/$n.$e" --file "$SRC/README.md" > "$tmp/tok.$e"
      "$BIN/gptoss-run" generate "$tmp/$n.$e" --prompt "What is 2+2? Answer briefly." --temperature 0 -n 24 \
        --json | notime > "$tmp/gen.$e"
    done
    check "$n: ppl equal ($(grep -o '"ppl":[0-9.]*' "$tmp/ppl.gguf"))" 'grep -q "\"ppl\"" "$tmp/ppl.gguf" && cmp -s "$tmp/ppl.gptoss" "$tmp/ppl.gguf"'
    check "$n: tokenize equal ($(wc -w < "$tmp/tok.gguf") ids)" '[ -s "$tmp/tok.gguf" ] && cmp -s "$tmp/tok.gptoss" "$tmp/tok.gguf"'
    check "$n: generate equal" 'grep -q generated_tokens "$tmp/gen.gguf" && cmp -s "$tmp/gen.gptoss" "$tmp/gen.gguf"'
  done
done

# refusals: exit 3, the file and what is wrong named
g=$tmp/tiny-q8.gguf
bad() { # NAME FILE GREP
  "$BIN/gptoss-run" ppl "$2" --file "$tmp/text.txt" 2>"$tmp/err" >/dev/null; rc=$?
  bad_file=$(basename "$2") bad_re=$3
  check "$1: exit 3" '[ $rc = 3 ]'
  check "$1: message names it ($(head -c 200 "$tmp/err"))" 'grep -q -- "$bad_re" "$tmp/err" && grep -q "$bad_file" "$tmp/err"'
}
head -c 40000 "$g" > "$tmp/trunc.gguf"; bad "truncated GGUF" "$tmp/trunc.gguf" "trunc.gguf"
"$BIN/test_gguf_run" --replace "$g" "$tmp/arch.gguf" gpt-oss llama-7
bad "another architecture" "$tmp/arch.gguf" "general.architecture"
"$BIN/test_gguf_run" --replace "$g" "$tmp/miss.gguf" blk.2.ffn_up_exps.weight blk.2.ffn_up_exps.weighz
bad "missing tensor" "$tmp/miss.gguf" "blk.2.ffn_up_exps.weight"
# retyped to a type of the same block bytes (the reader checks the offsets): q4_0 -> iq4_nl, f32 -> i32
g4=$tmp/tiny-q4.gguf
"$BIN/test_gguf_run" --retype "$g4" "$tmp/type.gguf" blk.1.attn_q.weight 20
bad "unsupported type (iq4_nl)" "$tmp/type.gguf" "blk.1.attn_q.weight.*iq4_nl"
"$BIN/test_gguf_run" --retype "$g4" "$tmp/type2.gguf" blk.3.ffn_gate_inp.weight 26
bad "router of type i32" "$tmp/type2.gguf" "blk.3.ffn_gate_inp.weight.*i32"
"$BIN/test_gguf_run" --retype "$g4" "$tmp/gu.gguf" blk.0.ffn_gate_exps.weight 20
bad "gate and up of different types" "$tmp/gu.gguf" "blk.0.ffn_gate_exps.weight"
"$BIN/test_gguf_run" --retype "$tmp/gu.gguf" "$tmp/gu2.gguf" blk.0.ffn_up_exps.weight 20
bad "gate and up both iq4_nl" "$tmp/gu2.gguf" "blk.0.ffn_gate_exps.weight.*iq4_nl"
"$BIN/test_gguf_run" --replace "$g" "$tmp/pre.gguf" gpt-4o llama3
"$BIN/gptoss-run" tokenize "$tmp/pre.gguf" --text hi 2>"$tmp/err" >/dev/null; rc=$?
check "another pre-tokenizer: tokenize exit 3 naming tokenizer.ggml.pre" '[ $rc = 3 ] && grep -q tokenizer.ggml.pre "$tmp/err"'
"$BIN/test_gguf_run" --replace "$g" "$tmp/nokv.gguf" tokenizer.ggml.tokens tokenizer.ggml.tokenz
"$BIN/gptoss-run" generate "$tmp/nokv.gguf" --prompt hi 2>"$tmp/err" >/dev/null; rc=$?
check "no tokens array: generate exit 3 naming the key" '[ $rc = 3 ] && grep -q tokenizer.ggml.tokens "$tmp/err"'
echo "gguf_run: $fails failed"
[ $fails = 0 ]
