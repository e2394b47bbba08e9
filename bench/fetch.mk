# bench/fetch.mk - Hub fetch throughput: one multi-GB LFS file from the local
# hub server on loopback; our fetch (1 and 8 connections, with sha256 and
# fsync) against plain `curl -o FILE` and `curl -o /dev/null` in the same run.
#   make -f Makefile.bench bench-fetch [FETCH_GB=2] [FETCH_REPS=3]
FETCH_GB ?= 2
FETCH_REPS ?= 3
BENCH_TARGETS += bench-fetch
.PHONY: bench-fetch
bench-fetch: build
	python3 tests/hub/bench_fetch.py --bin $(BIN) --out $(OUT) --gb $(FETCH_GB) --reps $(FETCH_REPS)
