#!/bin/bash
B=/work/wt/cpudec3/build-bench/bin/gptoss-run; X=/work/scratch/cpudec3/x.gptoss; L=/work/scratch/lead-bench/rt-20b-l8.gptoss
echo "start $(date -u +%T) $(uptime)"
one() { GQ_CPU_WEIGHTS=$1 $B bench $2 -p 0 -n 48 -r 1 --threads 2 --backend cpu --numerics exact --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('$3 $1', d['decode_tok_s'], d['decode_cpu_s_per_tok'], 'huge', d['weights_huge_fraction'])"; }
a() { one map $X small-folio; }; b() { one huge $X copy; }; c() { one map $L huge-folio; }
for r in 1 2 3 4 5; do
  case $((r % 3)) in 0) a; b; c;; 1) c; a; b;; 2) b; c; a;; esac
  echo "st=$(vmstat 1 2 | tail -1 | awk '{print $NF}')"
done
echo "end $(date -u +%T) $(uptime)"
