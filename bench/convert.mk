# bench/convert.mk - conversion of the 20b synthetic checkpoint vs the I/O floor,
# from an HF cache snapshot and from a plain folder, interleaved rounds.
#   make -f Makefile.bench bench-convert [RUNS=3] [RECIPES="mxfp4 q8 q4"] [LAYOUTS="cache dir local"]
#        [COLD=1] [FIXTURE=DIR] [BASE_BIN=other-build/bin BASE_RECIPES="mxfp4"]
.PHONY: bench-convert
BENCH_TARGETS += bench-convert
bench-convert: build
	RUNS=$(or $(RUNS),3) RECIPES="$(or $(RECIPES),mxfp4 q8 q4)" LAYOUTS="$(or $(LAYOUTS),cache dir)" \
	  FIXTURE="$(FIXTURE)" BASE_BIN="$(BASE_BIN)" BASE_RECIPES="$(BASE_RECIPES)" bench/convert.sh
