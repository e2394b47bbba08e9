# bench/gpu.mk - GPU runtime speed (Vulkan) against llama.cpp CUDA on the same
# weights, same run; for the GPU machine (see docs/PERFORMANCE.md for how the
# figures there were made through the device tool).
#   make -f Makefile.bench bench-gpu [PEER=path/to/llama-cuda-sm90(.tar.xz)] [R=5]
.PHONY: bench-gpu
BENCH_TARGETS += bench-gpu
bench-gpu: build
	BIN=$(BIN) OUT=$(OUT) R=$(or $(R),5) PEER=$(PEER) bench/gpu_bench.sh
