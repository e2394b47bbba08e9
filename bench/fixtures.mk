# bench/fixtures.mk - writing the 20b synthetic checkpoint (13.76 GB) with
# gptoss-fixture against the disk's write floor measured in the same run
# (dd of the same byte count with O_DIRECT + fsync). No peer tool exists.
#   make -f Makefile.bench bench-fixtures [FIX_RUNS=3]
.PHONY: bench-fixtures
BENCH_TARGETS += bench-fixtures
bench-fixtures: build
	FIX_RUNS=$(or $(FIX_RUNS),3) bench/fixtures.sh
