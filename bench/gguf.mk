# bench/gguf.mk - GGUF export of the 20b synthetic checkpoint vs the same I/O
# floor as bench-convert and vs the .gptoss conversion in the same rounds.
#   make -f Makefile.bench bench-gguf [RUNS=3] [RECIPES="q8e q8 q4"] [LAYOUTS="cache dir"] [COLD=1]
.PHONY: bench-gguf
BENCH_TARGETS += bench-gguf
bench-gguf: build
	RUNS=$(or $(RUNS),3) RECIPES="$(or $(RECIPES),q8e q8 q4)" LAYOUTS="$(or $(LAYOUTS),cache dir)" \
	  FIXTURE="$(FIXTURE)" BASE_BIN="$(BASE_BIN)" BASE_RECIPES="$(BASE_RECIPES)" bench/gguf_bench.sh
