#!/usr/bin/env bash
# runtime_bench.sh - see bench/runtime.mk. Writes $OUT/runtime.json.
# Env: BIN, OUT, P (prompt tokens), N (decoded tokens), R (runs, medians),
#      THREADS, KEEP (1: keep the converted files for the next run),
#      LAYERS (0: all 24 of the 20b; N: gptoss-fixture --layers N, the same
#              shapes, a shorter model for a small or busy machine),
#      LLAMA_CPP_BIN (a directory holding llama-bench built from source, e.g.
#              the source bundle inside node-llama-cpp with -DGGML_NATIVE=ON:
#              the strongest llama.cpp this machine runs; besides the prebuilt)
#      NUMERICS ("exact fast": which of our numerics modes to run),
#      WEIGHTS (map: the CPU backend's default, weights in the file mapping;
#              huge: GQ_CPU_WEIGHTS=huge, a copy on 2 MiB pages, docs/RUNTIME.md).
# Each round also runs `gptoss-run bench --numerics read` (decode reading the weights, no
# arithmetic): the ceiling of the access pattern, beside the --membw floor.
# Interleaved: for each of R rounds, ours (each mode), then each peer, so a
# change in the machine's load touches all of them alike; medians over rounds.
set -euo pipefail
BIN=${BIN:-build-bench/bin}; OUT=${OUT:-bench-out}
P=${P:-64}; N=${N:-16}; R=${R:-3}; THREADS=${THREADS:-2}; KEEP=${KEEP:-0}; LAYERS=${LAYERS:-0}
NUMERICS=${NUMERICS:-exact fast}; WEIGHTS=${WEIGHTS:-map}
tag=20b${LAYERS/#0/}
[ "$LAYERS" = 0 ] || tag=20b-l$LAYERS
src=$OUT/fixture-$tag
go=$OUT/rt-$tag.gptoss
gg=$OUT/rt-$tag.gguf
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
if [ ! -f "$go" ] || [ ! -f "$gg" ]; then
  if [ ! -f "$src/config.json" ]; then
    echo "generating the 20b synthetic checkpoint in $src${LAYERS/#0/ (all layers)}..."
    if [ "$LAYERS" = 0 ]; then "$BIN/gptoss-fixture" 20b -o "$src" --no-sync
    else "$BIN/gptoss-fixture" 20b -o "$src" --layers "$LAYERS" --no-sync; fi
  fi
  [ -f "$go" ] || "$BIN/gptoss-convert" convert "$src" -o "$go" --quant q8 --experts mxfp4 --force -q
  [ -f "$gg" ] || "$BIN/gptoss-convert" convert "$src" -o "$gg" --format gguf --quant q8 --experts mxfp4 --force -q \
    || echo "GGUF export failed: no llama.cpp comparison"
  [ "$KEEP" = 1 ] || rm -rf "$src"
fi
echo "kernel ceilings (one thread, weights in cache):"
kern=$("$BIN/bench_kernels"); echo "$kern"
gemm=$("$BIN/bench_gemm" 16 64 128); echo "$gemm"

# Run a command with stdout to file $1; print the CPU seconds (user + system,
# all threads) it used, from bash's times
cpu_to() { local f=$1; shift; bash -c 'f=$1; shift; "$@" > "$f" 2>/dev/null; times' _ "$f" "$@" | tail -1 |
  awk '{ split($1,a,"m"); split($2,b,"m"); sub("s","",a[2]); sub("s","",b[2]); print a[1]*60+a[2]+b[1]*60+b[2] }'; }

ours_runs() { # $1 numerics -> one JSON line per round into $OUT/runtime-ours-$1.jsonl
  GQ_CPU_WEIGHTS=$WEIGHTS "$BIN/gptoss-run" bench "$go" -p "$P" -n "$N" -r 1 --threads "$THREADS" --backend cpu \
    --numerics "$1" --membw --json \
    >> "$OUT/runtime-ours-$1.jsonl"
}
read_runs() { # the decode ceiling: the same run with every weight product only reading its bytes
  GQ_CPU_WEIGHTS=$WEIGHTS "$BIN/gptoss-run" bench "$go" -p 0 -n "$N" -r 1 --threads "$THREADS" --backend cpu \
    --numerics read --json >> "$OUT/runtime-read.jsonl"
}
native_runs() { # llama-bench built from source: pp and tg as separate runs, the CPU time of each, and of
  # a one-token run (model load, mapped) to subtract
  local lb=$LLAMA_CPP_BIN/llama-bench t=$OUT/runtime-native.tmp c0 cp ct jp jt
  c0=$(cpu_to "$t" "$lb" -m "$gg" -t "$THREADS" -p 1 -n 0 -r 1 --no-warmup -o json)
  cp=$(cpu_to "$t" "$lb" -m "$gg" -t "$THREADS" -p "$P" -n 0 -r 1 --no-warmup -o json); jp=$(tr -d '\n' < "$t")
  ct=$(cpu_to "$t" "$lb" -m "$gg" -t "$THREADS" -p 0 -n "$N" -r 1 --no-warmup -o json); jt=$(tr -d '\n' < "$t")
  echo "{\"pp\":$jp,\"tg\":$jt,\"cpu_load_s\":$c0,\"cpu_pp_s\":$cp,\"cpu_tg_s\":$ct}" >> "$OUT/runtime-native.jsonl"
  rm -f "$t"
}
rm -f "$OUT"/runtime-ours-*.jsonl "$OUT/runtime-read.jsonl" "$OUT/runtime-native.jsonl" "$OUT/runtime-llama.jsonl"
have_node=0; [ -d "${GQ_TOOLS_DIR:-tools}/node_modules/node-llama-cpp" ] && [ -f "$gg" ] && have_node=1
have_native=0
if [ -n "${LLAMA_CPP_BIN:-}" ]; then
  if [ -x "$LLAMA_CPP_BIN/llama-bench" ] && [ -f "$gg" ]; then have_native=1
  else echo "LLAMA_CPP_BIN=$LLAMA_CPP_BIN has no llama-bench (or no GGUF): no source-built peer"; fi
fi
for r in $(seq 1 "$R"); do
  echo "round $r/$R (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for m in $NUMERICS; do ours_runs "$m"; done
  [ "$N" -gt 0 ] && read_runs
  [ "$have_native" = 1 ] && native_runs
  [ "$have_node" = 1 ] && node "$here/runtime_llama.mjs" --gguf "$gg" --vocab 201088 --p "$P" --n "$N" --r 1 \
    --threads "$THREADS" >> "$OUT/runtime-llama.jsonl"
done
[ "$KEEP" = 1 ] || rm -f "$go" "$gg"

# medians and ratios (python3 is in the project's tool set: fixtures/golden)
python3 - "$OUT" "$P" "$N" "$THREADS" "$LAYERS" "$NUMERICS" "$kern" "$gemm" "$WEIGHTS" <<'PY'
import json, os, statistics as st, sys
out, P, N, T, L, modes, kern, gemm, weights = sys.argv[1:10]
P, N = int(P), int(N)
med = lambda v: st.median(v) if v else None
def lines(f):
    p = os.path.join(out, f)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
res = {"bench": "runtime", "machine": f"{os.uname().machine} {os.cpu_count()} cpus",
       "load_avg": open("/proc/loadavg").read().split()[:3], "threads": int(T), "prompt": P, "gen": N,
       "layers": int(L) or 24, "kernels": json.loads(kern), "gemm": json.loads(gemm), "weights": weights,
       "ours": {}}
for m in modes.split():
    rs = lines(f"runtime-ours-{m}.jsonl")
    if not rs: continue
    o = {k: med([r[k] for r in rs]) for k in ("prefill_tok_s", "decode_tok_s", "prefill_cpu_s_per_tok",
         "decode_cpu_s_per_tok", "decode_floor_tok_s", "mem_read_gb_s")}
    o["decode_vs_floor"] = o["decode_tok_s"] / o["decode_floor_tok_s"]
    # the share of the streamed weights on 2 MiB pages (docs/RUNTIME.md): the lowest round, null if unknown
    hf = [r["weights_huge_fraction"] for r in rs if r.get("weights_huge_fraction") is not None]
    o["weights_huge_fraction"] = min(hf) if hf else None
    o["isa"] = rs[0]["isa"]; o["device"] = rs[0]["device"]; o["rounds"] = len(rs)
    res["ours"][m] = o
nat = lines("runtime-native.jsonl")
if nat:
    pp = [x["avg_ts"] for r in nat for x in r["pp"]]
    tg = [x["avg_ts"] for r in nat for x in r["tg"]]
    res["llama_cpp_native"] = {"engine": "llama.cpp built from source (LLAMA_CPP_BIN)", "pp_tok_s": med(pp),
        "tg_tok_s": med(tg),
        "pp_cpu_s_per_tok": med([(r["cpu_pp_s"] - r["cpu_load_s"]) / P for r in nat]),
        "tg_cpu_s_per_tok": med([(r["cpu_tg_s"] - r["cpu_load_s"]) / N for r in nat]),
        "cpu_info": nat[0]["pp"][0].get("cpu_info"), "build": nat[0]["pp"][0].get("build_commit"),
        "rounds": len(nat)}
pb = lines("runtime-llama.jsonl")
if pb:
    res["llama_cpp_prebuilt"] = {"engine": pb[0]["engine"], "pp_tok_s": med([r["prefill_tok_s"] for r in pb]),
        "tg_tok_s": med([r["decode_tok_s"] for r in pb]),
        "pp_cpu_s_per_tok": med([r["prefill_cpu_s_per_tok"] for r in pb]),
        "tg_cpu_s_per_tok": med([r["decode_cpu_s_per_tok"] for r in pb]), "rounds": len(pb)}
peers = [k for k in ("llama_cpp_native", "llama_cpp_prebuilt") if k in res]
# the read-only decode (gptoss-run bench --numerics read): the weights' bytes read by the same tasks,
# no arithmetic. Its CPU-s/token over a peer's is the most any engine reading these bytes this way
# could gain on that peer here.
rd = lines("runtime-read.jsonl")
if rd:
    c = {"decode_tok_s": med([r["decode_tok_s"] for r in rd]),
         "decode_cpu_s_per_tok": med([r["decode_cpu_s_per_tok"] for r in rd]), "rounds": len(rd)}
    fl = [o["decode_floor_tok_s"] for o in res["ours"].values() if o.get("decode_floor_tok_s")]
    if fl:
        c["vs_floor"] = c["decode_tok_s"] / med(fl)
    c["ours_vs_read_only"] = {m: {"decode": o["decode_tok_s"] / c["decode_tok_s"],
        "decode_cpu": c["decode_cpu_s_per_tok"] / o["decode_cpu_s_per_tok"]} for m, o in res["ours"].items()}
    c["peer_cpu_over_read_only"] = {k: res[k]["tg_cpu_s_per_tok"] / c["decode_cpu_s_per_tok"] for k in peers}
    c["peer_tok_s_read_only_over_peer"] = {k: c["decode_tok_s"] / res[k]["tg_tok_s"] for k in peers}
    res["decode_read_only"] = c
if peers:
    best = max(peers, key=lambda k: res[k]["pp_tok_s"])
    bestd = max(peers, key=lambda k: res[k]["tg_tok_s"])
    res["vs_best_peer"] = {m: {"prefill": o["prefill_tok_s"] / res[best]["pp_tok_s"], "prefill_peer": best,
        "prefill_cpu": res[best]["pp_cpu_s_per_tok"] / o["prefill_cpu_s_per_tok"],
        "decode": o["decode_tok_s"] / res[bestd]["tg_tok_s"], "decode_peer": bestd,
        "decode_cpu": res[bestd]["tg_cpu_s_per_tok"] / o["decode_cpu_s_per_tok"]} for m, o in res["ours"].items()}
json.dump(res, open(os.path.join(out, "runtime.json"), "w"), indent=1)
print(json.dumps(res, indent=1))
PY
echo "wrote $OUT/runtime.json"
