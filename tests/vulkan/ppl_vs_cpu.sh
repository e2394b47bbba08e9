#!/usr/bin/env bash
# ppl_vs_cpu.sh [BACKEND] - `gptoss-run ppl --backend BACKEND` (default vulkan;
# tests/metal runs it with metal) against `--backend cpu` on
# the tiny fixture (rt-models, made by tests/runtime/prepare_models.sh) over
# the golden ids (fixtures/golden/tiny.json, --ctx 100) and a text of 3000+
# tokens (1500+ scored, --ctx 256): perplexity equal within
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

# two inputs: the golden ids at ctx 100, and a text of 3000+ tokens at ctx 256
# (1500+ scored: the second half of each chunk, as llama.cpp scores them)
head -c 6000 "$GQ_SOURCE_DIR/docs/ARCHITECTURE.md" > "$tmp/text.txt"
check() { # check NAME ARGS... : ppl on the CPU (saving the reference), then on $be against it
  name=$1; shift
  "$bin/gptoss-run" ppl "$model" "$@" --json --backend cpu --save-ref "$tmp/ref-$name" > "$tmp/cpu-$name.json"
  set +e
  "$bin/gptoss-run" ppl "$model" "$@" --json --backend "$be" --ref "$tmp/ref-$name" \
    > "$tmp/vk-$name.json" 2> "$tmp/vk.err"
  rc=$?
  set -e
  if [ $rc != 0 ] && grep -q "cannot run here" "$tmp/vk.err" && [ -z "${CI:-}" ]; then
    echo "ppl_vs_cpu: skipped: $(cat "$tmp/vk.err")"
    exit 77
  fi
  cat "$tmp/vk.err" >&2
  [ $rc = 0 ] || { echo "ppl_vs_cpu: gptoss-run --backend $be exited $rc ($name)" >&2; exit 1; }
  python3 - "$tmp/cpu-$name.json" "$tmp/vk-$name.json" "$be" "$name" "${min_scored:-1}" <<'PY'
import json, sys
cpu = json.load(open(sys.argv[1])); vk = json.load(open(sys.argv[2]))
rel = abs(vk["ppl"] - cpu["ppl"]) / cpu["ppl"]
ref = vk.get("ref", {})
print(f"{sys.argv[4]}: ppl cpu {cpu['ppl']:.6f} {sys.argv[3]} {vk['ppl']:.6f} rel {rel:.2e} over {vk['scored']} scored tokens; "
      f"device {vk['device']}; kld mean {ref.get('kld_mean')}, top1 {ref.get('top1')}; {vk['tokens_per_s']:.1f} tokens/s")
ok = vk["backend"] == sys.argv[3] and rel <= 1e-5 and vk["scored"] == cpu["scored"]
ok = ok and vk["scored"] >= int(sys.argv[5])
ok = ok and ref.get("kld_mean", 1) < 1e-6 and ref.get("top1", 0) >= 0.99
sys.exit(0 if ok else 1)
PY
}
min_scored=1 check ids --ids "$ids" --ctx 100
min_scored=1000 check text --file "$tmp/text.txt" --ctx 256
