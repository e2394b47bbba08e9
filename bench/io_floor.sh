# bench/io_floor.sh - sourced by the conversion benches (convert.sh, gguf_bench.sh)
# so that both measure against one and the same I/O floor:
#   read_floor SRC_DIR      seconds to read every input byte once
#   write_floor BYTES PATH  seconds to write BYTES of incompressible data once,
#                           fsynced at the end like the converters' output
# plus drop (page cache, when COLD=1 and permitted; sets $cache), now, median.
# Call io_floor_cleanup when done.
#
# The floor is measured by $BIN/io_floor (tests/bench/io_floor.c) the fastest
# way this machine allows: large read()/write() calls from one reused buffer,
# and O_DIRECT, the faster of the two (the method is logged to stderr). The
# earlier floor (cat | head | dd conv=fsync) pushed every byte through two
# pipes and was CPU-bound: 54.5 s to write 13.8 GB where a program writing
# from memory took 19.5 s (issue 16), which flattered every ratio.

cache=warm
drop() {
  sync
  if [ "${COLD:-1}" = 1 ] && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cache=cold; else cache=warm; fi
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

io_floor_bin=${BIN:-build-bench/bin}/io_floor
[ -x "$io_floor_bin" ] || { echo "io_floor.sh: $io_floor_bin is missing (build the project first)" >&2; exit 1; }

read_floor() { # src_dir
  drop
  local line
  line=$(COLD=${COLD:-1} "$io_floor_bin" read "$1"/*.safetensors "$1"/*.json "$1"/tokenizer*) || return 1
  echo "read floor: $line" >&2
  sed -n 's/^seconds=\([0-9.]*\).*/\1/p' <<< "$line"
}

write_floor() { # bytes path
  drop
  local line
  line=$(COLD=${COLD:-1} "$io_floor_bin" write "$1" "$2") || return 1
  echo "write floor: $line" >&2
  sed -n 's/^seconds=\([0-9.]*\).*/\1/p' <<< "$line"
}

io_floor_cleanup() { :; }
