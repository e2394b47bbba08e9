#!/bin/bash
# 2 rounds: ours (exact/fast x map/huge) and llama.cpp (source, no AMX) tg, interleaved; then load cost; then a profile
M=/work/scratch/lead-bench/rt-20b-l8.gptoss; G=/work/scratch/lead-bench/rt-20b-l8.gguf
B=/work/wt/cpudec2/build-bench/bin/gptoss-run; L=/work/scratch/cpu/llama-noamx/bin/llama-bench
cat $M $G > /dev/null
echo "start $(date -u +%T) $(uptime)"
cpu_of() { /usr/bin/time -f "%U %S" -o /tmp/cpudec2.t "$@" > /tmp/cpudec2.o 2>/dev/null; awk '{print $1+$2}' /tmp/cpudec2.t; }
for r in 1 2; do
  for nm in exact fast; do for w in map huge; do
    GQ_CPU_WEIGHTS=$w $B bench $M -p 0 -n 32 -r 1 --threads 2 --backend cpu --numerics $nm --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('ours', '$nm', '$w', d['decode_tok_s'], d['decode_cpu_s_per_tok'])"
  done; done
  c0=$(cpu_of $L -m $G -t 2 -p 1 -n 0 -r 1 --no-warmup -o json); ct=$(cpu_of $L -m $G -t 2 -p 0 -n 32 -r 1 --no-warmup -o json)
  echo "llama tg $(grep -o '"avg_ts": [0-9.]*' /tmp/cpudec2.o | tail -1) cpu/token $(python3 -c "print(($ct-$c0)/32)") st=$(vmstat 1 2 | tail -1 | awk '{print $NF}')"
done
for w in map huge; do echo "load cost $w: CPU-s of bench -p 0 -n 1: $(GQ_CPU_WEIGHTS=$w cpu_of $B bench $M -p 0 -n 1 -r 1 --threads 2 --backend cpu --json)"; done
GQ_CPU_WEIGHTS=huge perf record -e cpu-clock -F 1999 -g -o /work/scratch/cpudec2/final/perf.final.data $B bench $M -p 0 -n 64 -r 1 --threads 2 --backend cpu --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print('profiled run', d['decode_tok_s'], d['decode_cpu_s_per_tok'])"
echo "end $(date -u +%T) $(uptime)"
