# bench/runtime.mk - CPU runtime speed on the 20b synthetic checkpoint
# (experts MXFP4, everything else Q8: llama.cpp's own recipe for gpt-oss):
# prefill and decode tokens/s of `gptoss-run bench` against the decode floor
# (weight bytes per token / memory read bandwidth measured in the same run)
# and against llama.cpp (node-llama-cpp's prebuilt CPU build) on the GGUF
# export of the same weights, same prompt length, same threads.
#   make -f Makefile.bench bench-runtime [P=64] [N=16] [R=3] [THREADS=2] [KEEP=1]
.PHONY: bench-runtime
BENCH_TARGETS += bench-runtime
bench-runtime: build
	BIN=$(BIN) OUT=$(OUT) P=$(or $(P),64) N=$(or $(N),16) R=$(or $(R),3) THREADS=$(or $(THREADS),2) \
	  KEEP=$(or $(KEEP),0) bench/runtime_bench.sh
