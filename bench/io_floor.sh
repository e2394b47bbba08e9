# bench/io_floor.sh - sourced by the conversion benches (convert.sh, gguf_bench.sh)
# so that both measure against one and the same I/O floor:
#   read_floor SRC_DIR      seconds to read every input byte once
#   write_floor BYTES PATH  seconds to write BYTES of incompressible data once,
#                           fsynced at the end like the converters' output
# plus drop (page cache, when COLD=1 and permitted; sets $cache), now, median.
# Call io_floor_cleanup when done.

cache=warm
drop() {
  sync
  if [ "${COLD:-1}" = 1 ] && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cache=cold; else cache=warm; fi
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

read_floor() { # src_dir
  drop
  local t0; t0=$(now)
  cat "$1"/*.safetensors "$1"/*.json "$1"/tokenizer* > /dev/null
  echo "$(now) - $t0" | bc -l
}

# Incompressible bytes: the virtual disk here writes zeros measurably faster
# than data, and the converters write data.
io_floor_rand=/dev/shm/gq-bench-rand64M
[ -d /dev/shm ] || io_floor_rand=${OUT:-.}/gq-bench-rand64M
head -c 67108864 /dev/urandom > "$io_floor_rand"

write_floor() { # bytes path
  local n=$1 out=$2 t0 t reps=$(( ($1 + 67108863) / 67108864 ))
  drop
  t0=$(now)
  for ((k = 0; k < reps; k++)); do cat "$io_floor_rand"; done | head -c "$n" |
    dd of="$out" bs=64M iflag=fullblock conv=fsync status=none
  t=$(echo "$(now) - $t0" | bc -l)
  rm -f "$out"
  echo "$t"
}

io_floor_cleanup() { rm -f "$io_floor_rand"; }
