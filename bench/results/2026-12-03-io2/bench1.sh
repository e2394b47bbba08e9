#!/bin/bash
cd /work/wt/io2
echo "start $(date -u +%T) $(uptime)"; vmstat 1 5
BIN=build-bench/bin OUT=/work/scratch/io2/bench-out FIXTURE=/work/scratch/io2/fixture-20b RUNS=${RUNS:-2} RECIPES="${RECIPES:-mxfp4 q8}" LAYOUTS="cache dir" BASE_BIN=${BASE_BIN-/work/scratch/io2/base-build/bin} BASE_RECIPES=${BASE_RECIPES:-q8} BENCH_NAME=${BENCH_NAME:-convert} FORMATS=${FORMATS:-gptoss} bench/convert.sh
echo "end $(date -u +%T) $(uptime)"; vmstat 1 5
