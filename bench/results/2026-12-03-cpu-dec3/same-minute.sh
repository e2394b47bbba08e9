#!/bin/bash
# Same-minute decode set (issue 15, branch cpudec3): R rounds, interleaved: ours (exact/fast x weights
# mapped/huge copy), ours exact on a copy of the file made by `cp` (page cache in 4 KiB folios, docs/RUNTIME.md),
# llama.cpp from source (no AMX) tg less a load run; then the load cost; steal (vmstat st) per round.
M=/work/scratch/lead-bench/rt-20b-l8.gptoss; G=/work/scratch/lead-bench/rt-20b-l8.gguf; X=/work/scratch/cpudec3/x.gptoss
B=/work/wt/cpudec3/build-bench/bin/gptoss-run; L=/work/scratch/cpu/llama-noamx/bin/llama-bench; R=${R:-4}
cat $M $G > /dev/null; rm -f $X; cp $M $X
echo "start $(date -u +%T) $(uptime)"
cpu_of() { /usr/bin/time -f "%U %S" -o /tmp/cpudec3.t "$@" > /tmp/cpudec3.o 2>/dev/null; awk '{print $1+$2}' /tmp/cpudec3.t; }
ours() { GQ_CPU_WEIGHTS=$2 $B bench $3 -p 0 -n 32 -r 1 --threads 2 --backend cpu --numerics $1 --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('ours', '$1', '$2', '$4', 'tok/s', d['decode_tok_s'], 'cpu-s/tok', d['decode_cpu_s_per_tok'], 'huge', d['weights_huge_fraction'])"; }
for r in $(seq 1 $R); do
  for nm in exact fast; do for w in map huge; do ours $nm $w $M file; done; done
  ours exact map $X cp-copy
  c0=$(cpu_of $L -m $G -t 2 -p 1 -n 0 -r 1 --no-warmup -o json); ct=$(cpu_of $L -m $G -t 2 -p 0 -n 32 -r 1 --no-warmup -o json)
  echo "llama tg $(grep -o '"avg_ts": [0-9.]*' /tmp/cpudec3.o | tail -1) cpu-s/tok $(python3 -c "print(round(($ct-$c0)/32, 5))") st=$(vmstat 1 2 | tail -1 | awk '{print $NF}') load $(cut -d' ' -f1-3 /proc/loadavg)"
done
for w in map huge; do echo "load cost $w: CPU-s of bench -p 0 -n 1: $(GQ_CPU_WEIGHTS=$w cpu_of $B bench $M -p 0 -n 1 -r 1 --threads 2 --backend cpu --json)"; done
rm -f $X
echo "end $(date -u +%T) $(uptime)"
