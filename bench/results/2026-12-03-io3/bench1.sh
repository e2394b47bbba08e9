#!/bin/bash
# bench/convert.sh for the recipes in $RECIPES (one locked piece each), both layouts
cd /work/wt/io3
echo "start $(date -u +%T) $(uptime)"; vmstat 1 5
BIN=${BIN:-build-bench/bin} OUT=/work/scratch/io3/bench-out FIXTURE=/work/scratch/io3/fixture-20b RUNS=${RUNS:-2} RECIPES="$RECIPES" LAYOUTS="${LAYOUTS:-cache dir}" BENCH_NAME=${BENCH_NAME:-convert} FORMATS=${FORMATS:-gptoss} bench/convert.sh
echo "end $(date -u +%T) $(uptime)"; vmstat 1 5
