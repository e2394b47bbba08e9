#!/usr/bin/env bash
# gguf_cli.sh - the GGUF paths of the gptoss-convert CLI: -o X.gguf and
# --format gguf, exit codes (7 exists, 3 bad input), nothing left behind on
# refusal, deterministic bytes across thread counts, inspect (text, JSON,
# malformed file -> 3 with the file named).
set -uo pipefail
BIN=${GQ_BIN_DIR:-bin}
for p in gptoss-fixture gptoss-convert; do [ -x "$BIN/$p" ] || { echo "missing $BIN/$p: skipping"; exit 77; }; done
tmp=$(mktemp -d /tmp/gq-gguf-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

"$BIN/gptoss-fixture" tiny -o "$tmp/tiny" --no-sync >/dev/null || { echo "fixture failed"; exit 1; }
"$BIN/gptoss-convert" convert "$tmp/tiny" -o "$tmp/a.gguf" --quant q8 --experts mxfp4 -j 1 -q; rc=$?
check "convert -o X.gguf exits 0" '[ $rc = 0 ]'
check "the output is GGUF" '[ "$(head -c 4 "$tmp/a.gguf")" = GGUF ]'
"$BIN/gptoss-convert" convert "$tmp/tiny" -o "$tmp/b.out" --format gguf --quant q8 --experts mxfp4 -j 2 --json > "$tmp/b.json"; rc=$?
check "--format gguf exits 0" '[ $rc = 0 ]'
check "--json names the format" 'grep -q "\"format\":\"gguf\"" "$tmp/b.json"'
check "same bytes with 1 and 2 threads, either spelling" 'cmp -s "$tmp/a.gguf" "$tmp/b.out"'
"$BIN/gptoss-convert" convert "$tmp/tiny" -o "$tmp/a.gguf" --quant q8 -q 2>"$tmp/err"; rc=$?
check "existing output: exit 7" '[ $rc = 7 ]'
check "existing output untouched" 'cmp -s "$tmp/a.gguf" "$tmp/b.out"'
"$BIN/gptoss-convert" convert "$tmp/tiny" -o "$tmp/a.gguf" --quant q4 --force -q; rc=$?
check "--force replaces it" '[ $rc = 0 ] && ! cmp -s "$tmp/a.gguf" "$tmp/b.out"'
cp -r "$tmp/tiny" "$tmp/notok" && rm "$tmp/notok/tokenizer.json"
"$BIN/gptoss-convert" convert "$tmp/notok" -o "$tmp/c.gguf" -q 2>"$tmp/err"; rc=$?
check "no tokenizer.json: exit 3" '[ $rc = 3 ]'
check "... says what to do" 'grep -q "tokenizer.json" "$tmp/err"'
check "... leaves nothing" '[ -z "$(ls "$tmp" | grep -E "^c\.gguf")" ]'

# interrupted mid-stream (slowed down: small chunks, a pause after each): exit 130, nothing left
GPTOSS_CONVERT_CHUNK=65536 GPTOSS_CONVERT_TEST_DELAY_MS=50 "$BIN/gptoss-convert" convert "$tmp/tiny" -o "$tmp/int.gguf" -q &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid; rc=$?
check "SIGINT: exit 130" '[ $rc = 130 ]'
check "... no output and no temporary" '[ -z "$(ls "$tmp" | grep -E "^int\.gguf")" ]'

"$BIN/gptoss-convert" inspect "$tmp/b.out" > "$tmp/i.txt"; rc=$?
check "inspect exits 0" '[ $rc = 0 ]'
check "inspect lists a split expert tensor" 'grep -q "blk.3.ffn_up_exps.weight .*mxfp4 .*128 x 128 x 8" "$tmp/i.txt"'
check "inspect lists the architecture" 'grep -q "general.architecture .*gpt-oss" "$tmp/i.txt"'
"$BIN/gptoss-convert" inspect "$tmp/b.out" --json > "$tmp/i.json"; rc=$?
check "inspect --json exits 0" '[ $rc = 0 ]'
check "inspect --json has 79 tensors" '[ "$(grep -o "\"ggml_type\"" "$tmp/i.json" | wc -l)" = 79 ]'
head -c 30000 "$tmp/b.out" > "$tmp/trunc.gguf"
"$BIN/gptoss-convert" inspect "$tmp/trunc.gguf" 2>"$tmp/err" >/dev/null; rc=$?
check "truncated GGUF: exit 3" '[ $rc = 3 ]'
check "... naming the file" 'grep -q "trunc.gguf" "$tmp/err"'
echo "gguf_cli: $fails failed"
[ $fails = 0 ]
