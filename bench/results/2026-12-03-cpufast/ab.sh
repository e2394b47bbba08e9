#!/bin/sh
# ab.sh OUTDIR ROUNDS: main (A) and this branch (B) interleaved, A B A B ...,
# each one `gptoss-run bench` of 32 decoded tokens x 3 runs, $T threads (2), fast
# numerics, on the lead's 8-layer 20b synthetic file; each run under the
# machine lock, uptime before and after, /usr/bin/time for CPU seconds.
set -e
out=$1; n=${2:-3}; T=${T:-2}
A=/work/main/build-bench/bin/gptoss-run
B=/work/wt/cpufast/build-bench/bin/gptoss-run
F=/work/scratch/lead-bench/rt-20b-l8.gptoss
mkdir -p "$out"
for i in $(seq "$n"); do
  for v in A B; do
    eval bin=\$$v
    flock /work/cmp/bench.lock sh -c "uptime > '$out/$v$i.uptime'; /usr/bin/time -f '%U user %S sys %e wall' -o '$out/$v$i.time' '$bin' bench '$F' -p 0 -n 32 -r 3 --threads $T --numerics fast --json > '$out/$v$i.json'; uptime >> '$out/$v$i.uptime'"
  done
done
for v in A B; do
  for i in $(seq "$n"); do
    python3 -c "import json,sys; j=json.load(open('$out/$v$i.json')); print('$v$i', j['isa'], 'decode_cpu_s_per_tok', j['decode_cpu_s_per_tok'], 'decode_tok_s', j['decode_tok_s'])"
  done
done
