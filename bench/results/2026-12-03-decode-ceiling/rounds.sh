#!/bin/bash
# interleaved decode rounds: llama.cpp prebuilt, llama.cpp source, ours exact / fast (main), ours with
# read-only dots (cpudec4 + GQ_TOUCH=all), and the --membw floor; CPU-s per token for each
M=/work/scratch/lead-bench/rt-20b-l8.gptoss; G=/work/scratch/lead-bench/rt-20b-l8.gguf
B=${B:-/work/main/build-bench/bin/gptoss-run}; T=/work/scratch/l5/touch-bin/gptoss-run
L=/work/scratch/cpu/llama-noamx/bin/llama-bench; R=${R:-3}
cd /work/main
echo "start $(date -u +%T) $(uptime)"
cpu_of() { /usr/bin/time -f "%U %S" -o /tmp/l5.t "$@" > /tmp/l5.o 2>/dev/null; awk '{print $1+$2}' /tmp/l5.t; }
ours() { python3 -c "import json,sys; d=json.load(sys.stdin); print('$1', d['decode_tok_s'], d['decode_cpu_s_per_tok'], d.get('mem_read_gb_s',''), d.get('weights_huge_fraction',''))"; }
for r in $(seq $R); do
  node bench/runtime_llama.mjs --gguf $G --vocab 201088 --p 16 --n 32 --r 1 --threads 2 2>/dev/null | python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print('llama-prebuilt', d['decode_tok_s'], d['decode_cpu_s_per_tok'])"
  c0=$(cpu_of $L -m $G -t 2 -p 1 -n 0 -r 1 --no-warmup -o json); ct=$(cpu_of $L -m $G -t 2 -p 0 -n 32 -r 1 --no-warmup -o json)
  echo "llama-source $(grep -o '"avg_ts": [0-9.]*' /tmp/l5.o | tail -1 | awk '{print $2}') $(python3 -c "print(round(($ct-$c0)/32,5))")"
  $B bench $M -p 0 -n 32 -r 3 --threads 2 --numerics exact --membw --json 2>/dev/null | ours exact
  $B bench $M -p 0 -n 32 -r 3 --threads 2 --numerics fast --json 2>/dev/null | ours fast
  [ -n "$B2" ] && $B2 bench $M -p 0 -n 32 -r 3 --threads 2 --numerics ${N2:-fast} --json 2>/dev/null | ours new-${N2:-fast}
  GQ_TOUCH=all $T bench $M -p 0 -n 32 -r 3 --threads 2 --numerics exact --json 2>/dev/null | ours read-only
  echo "round $r $(date -u +%T) st=$(vmstat 1 2 | tail -1 | awk '{print $NF}') $(uptime)"
done
