#!/usr/bin/env bash
# ppl_vs_cpu.sh [BACKEND] - `gptoss-run ppl --backend BACKEND` (default vulkan;
# tests/metal runs it with metal) against `--backend cpu` on
# the tiny fixture (rt-models, made by tests/runtime/prepare_models.sh) over
# the golden ids (fixtures/golden/tiny.json, --ctx 100; lavapipe is slow:
# docs/VULKAN.md gives a 1664-token run by hand): perplexity equal within
# 1e-5 relative; and with the CPU run as the reference (--ref), the mean KLD
# below 1e-6 and top-1 agreement of at least 0.99 (ties within fp32 noise
# may flip a few). Exit 77 only where BACKEND cannot run AND env CI is unset.
set -euo pipefail
be=${1:-vulkan}
bin="$GQ_BIN_DIR"
md="$GQ_BUILD_DIR/rt-models"
ids="$GQ_SOURCE_DIR/fixtures/golden/tiny.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model="$md/tiny-mxfp4.gptoss"

"$bin/gptoss-run" ppl "$model" --ids "$ids" --ctx 100 --json --backend cpu --save-ref "$tmp/ref" > "$tmp/cpu.json"
set +e
"$bin/gptoss-run" ppl "$model" --ids "$ids" --ctx 100 --json --backend "$be" --ref "$tmp/ref" \
  > "$tmp/vk.json" 2> "$tmp/vk.err"
rc=$?
set -e
if [ $rc != 0 ] && grep -q "cannot run here" "$tmp/vk.err" && [ -z "${CI:-}" ]; then
  echo "ppl_vs_cpu: skipped: $(cat "$tmp/vk.err")"
  exit 77
fi
cat "$tmp/vk.err" >&2
[ $rc = 0 ] || { echo "ppl_vs_cpu: gptoss-run --backend $be exited $rc" >&2; exit 1; }
python3 - "$tmp/cpu.json" "$tmp/vk.json" "$be" <<'PY'
import json, sys
cpu = json.load(open(sys.argv[1])); vk = json.load(open(sys.argv[2]))
rel = abs(vk["ppl"] - cpu["ppl"]) / cpu["ppl"]
ref = vk.get("ref", {})
print(f"ppl cpu {cpu['ppl']:.6f} {sys.argv[3]} {vk['ppl']:.6f} rel {rel:.2e}; device {vk['device']}; "
      f"kld mean {ref.get('kld_mean')}, top1 {ref.get('top1')}; {vk['tokens_per_s']:.1f} tokens/s")
ok = vk["backend"] == sys.argv[3] and rel <= 1e-5 and vk["scored"] == cpu["scored"]
ok = ok and ref.get("kld_mean", 1) < 1e-6 and ref.get("top1", 0) >= 0.99
sys.exit(0 if ok else 1)
PY
