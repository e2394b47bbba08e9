#!/bin/bash
# bench-gguf (bench/gguf_bench.sh) for one recipe, both layouts
cd /work/wt/io3
echo "start $(date -u +%T) $(uptime)"; vmstat 1 5
BIN=${BIN:-build-bench/bin} OUT=/work/scratch/io3/bench-out FIXTURE=/work/scratch/io3/fixture-20b RUNS=${RUNS:-2} RECIPES="$1" LAYOUTS="${LAYOUTS:-cache dir}" BENCH_NAME=${BENCH_NAME:-gguf-$1} bench/gguf_bench.sh
echo "end $(date -u +%T) $(uptime)"; vmstat 1 5
