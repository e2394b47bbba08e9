# bench/convert.mk - conversion of the 20b synthetic checkpoint vs the I/O floor.
#   make -f Makefile.bench bench-convert [RUNS=3] [RECIPES="mxfp4 q8 q4"] [COLD=1]
.PHONY: bench-convert
BENCH_TARGETS += bench-convert
bench-convert: build
	RUNS=$(or $(RUNS),3) RECIPES="$(or $(RECIPES),mxfp4 q8 q4)" bench/convert.sh
