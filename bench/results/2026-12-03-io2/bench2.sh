#!/bin/bash
# bench-gguf (bench/gguf_bench.sh) for one recipe, both layouts
cd /work/wt/io2
echo "start $(date -u +%T) $(uptime)"; vmstat 1 5
BIN=build-bench/bin OUT=/work/scratch/io2/bench-out FIXTURE=/work/scratch/io2/fixture-20b RUNS=${RUNS:-2} RECIPES="$1" LAYOUTS="cache dir" BENCH_NAME=gguf-$1 bench/gguf_bench.sh
echo "end $(date -u +%T) $(uptime)"; vmstat 1 5
