# bench/gptoss.mk - the .gptoss writer vs plain write+fsync of the same bytes.
#   make -f Makefile.bench bench-gfile [GIB=4] [RUNS=3] [DIR=bench-out]
.PHONY: bench-gfile
BENCH_TARGETS += bench-gfile
bench-gfile: build
	$(BIN)/bench_gptoss_writer $(or $(DIR),$(OUT)) $(or $(GIB),4) $(or $(RUNS),3) $(OUT)/gptoss.json
