# bench/gguf.mk - GGUF export of the 20b synthetic checkpoint (experts MXFP4,
# rest Q8_0: llama.cpp's own recipe for gpt-oss) against the I/O floor of the
# same machine in the same run, and against the .gptoss conversion of the
# same checkpoint and recipe (the same pipeline, another layout).
#   make -f Makefile.bench bench-gguf [FIX20B=dir] [RUNS=3]
FIX20B ?= fixtures/20b
RUNS ?= 3

.PHONY: bench-gguf
bench-gguf: build
	BIN=$(BIN) OUT=$(OUT) FIX20B=$(FIX20B) RUNS=$(RUNS) bench/gguf_bench.sh

BENCH_TARGETS += bench-gguf
