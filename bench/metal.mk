# bench/metal.mk - the Metal backend's speed on a Mac against llama.cpp's
# Metal build (Homebrew `llama.cpp`) on the GGUF export of the same weights,
# same run, with the Mac's memory-bandwidth floor (our read_bandwidth kernel).
# Runs only on macOS with a Metal device; never run by this project's CI.
#   make -f Makefile.bench bench-metal [PRESET=20b|small] [R=5] [BACKEND=metal|vulkan]
.PHONY: bench-metal
BENCH_TARGETS += bench-metal
bench-metal: build
	BIN=$(BIN) OUT=$(OUT) R=$(or $(R),5) PRESET=$(or $(PRESET),20b) BACKEND=$(or $(BACKEND),metal) bench/metal_bench.sh
