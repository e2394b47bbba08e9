#!/bin/bash
B=/work/wt/cpudec3/build-bench/bin/gptoss-run; X=/work/scratch/cpudec3/x.gptoss; L=/work/scratch/lead-bench/rt-20b-l8.gptoss
cat $L > /dev/null
echo "start $(date -u +%T) $(uptime)"
one() { GQ_CPU_WEIGHTS=$1 $B bench $2 -p 0 -n 32 -r 1 --threads 2 --backend cpu --numerics $3 --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('$4 $3 $1', d['decode_tok_s'], d['decode_cpu_s_per_tok'], 'huge', d['weights_huge_fraction'])"; }
for r in 1 2 3; do
  for nm in exact fast; do
    one map $X $nm small-folio-file; one huge $X $nm small-folio-file; one map $L $nm huge-folio-file
  done
  echo "st=$(vmstat 1 2 | tail -1 | awk '{print $NF}')"
done
echo "end $(date -u +%T) $(uptime)"
