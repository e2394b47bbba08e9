# bench/runtime.mk - CPU runtime speed on the 20b synthetic checkpoint
# (experts MXFP4, everything else Q8: llama.cpp's own recipe for gpt-oss):
# prefill and decode tokens/s of `gptoss-run bench` against the decode floor
# (weight bytes per token / memory read bandwidth measured in the same run)
# and against llama.cpp on the GGUF export of the same weights, same prompt
# length, same threads: node-llama-cpp's prebuilt CPU build, and (LLAMA_CPP_BIN)
# llama-bench built from source, e.g. the bundle in node-llama-cpp:
#   git clone tools/node_modules/node-llama-cpp/llama/gitRelease.bundle SRC
#   cmake -S SRC -B B -DGGML_NATIVE=ON -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF
#   cmake --build B --target llama-bench llama-perplexity
# On a CPU with AMX add -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" (and the same
# CMAKE_CXX_FLAGS): GGML_NATIVE's AMX build (build de3ff81) died with SIGSEGV in prompt processing
# of the gpt-oss GGUF on the Xeon of 2026-12-03 (the build without AMX runs; use that one).
# Our side is built in $(BUILD) (Makefile.bench: build-bench, Release); BUILD=dir to use another.
# Our exact and fast numerics both run (NUMERICS), rounds interleaved with the peers, and each
# round a read-only decode (`gptoss-run bench --numerics read`: the weights read by the same tasks,
# no arithmetic), the ceiling of the access pattern; runtime.json sets every engine's decode
# against it ("decode_read_only").
#   make -f Makefile.bench bench-runtime [P=64] [N=16] [R=3] [THREADS=2] [KEEP=1]
#        [LAYERS=N] [LLAMA_CPP_BIN=B/bin] [NUMERICS="exact fast"] [WEIGHTS=map|huge]
.PHONY: bench-runtime
BENCH_TARGETS += bench-runtime
bench-runtime: build
	BIN=$(BIN) OUT=$(OUT) P=$(or $(P),64) N=$(or $(N),16) R=$(or $(R),3) THREADS=$(or $(THREADS),2) \
	  KEEP=$(or $(KEEP),0) LAYERS=$(or $(LAYERS),0) LLAMA_CPP_BIN=$(LLAMA_CPP_BIN) \
	  NUMERICS="$(or $(NUMERICS),exact fast)" WEIGHTS=$(or $(WEIGHTS),map) bench/runtime_bench.sh
