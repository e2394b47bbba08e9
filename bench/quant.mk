# bench/quant.mk - single-core encode/decode throughput of every block format,
# against memcpy of the same input (floor) and llama.cpp's Q4_0 rule (peer),
# same run.   make -f Makefile.bench bench-quant [RUNS=7]
.PHONY: bench-quant
BENCH_TARGETS += bench-quant
bench-quant: build
	RUNS=$(or $(RUNS),7) $(BIN)/bench_quant $(OUT)/quant.json
