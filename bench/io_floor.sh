# bench/io_floor.sh - sourced by the conversion benches (convert.sh, gguf_bench.sh)
# so that both measure against one and the same I/O floor:
#   read_floor FILE...       seconds to read every byte of the files once
#   write_floor BYTES PATH   seconds to write BYTES of incompressible data once, fsynced
#   copy_floor BYTES PATH FILE...
#                            seconds to do both at the same time (a reader and a
#                            writer in parallel, what an overlapping converter
#                            competes with)
#   floor_of R W C           the floor: min(R + W, C)
# plus drop (page cache, when COLD=1 and permitted; sets $cache), now, median,
# load (the 1-minute load average), timed (runs a command under GNU time).
#
# How (tests/bench/io_floor.c): every floor is the faster of two methods, each
# measured cold: large buffered read()/write() calls from one reused 64 MiB
# buffer (+ one fsync), and O_DIRECT with IO_DEPTH (4) requests of IO_BLOCK
# (256 MiB) in flight (this virtual disk's throughput grows with the bytes in
# flight: 0.6-0.7 GB/s one 16 MiB request at a time, 1.0-1.5 GB/s with 1 GiB in
# flight). copy uses O_DIRECT only (the faster method for both sides on this
# machine every time it was measured; buffered copying only adds CPU). The floor
# before issue 16 (cat | head | dd conv=fsync) pushed every byte through two
# pipes and was CPU-bound: 54.5 s to write 13.8 GB where a program writing from
# memory took 19.5 s, which flattered every ratio.

cache=warm
drop() {
  sync
  if [ "${COLD:-1}" = 1 ] && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then cache=cold; else cache=warm; fi
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
load() { cut -d' ' -f1 /proc/loadavg; }

io_floor_bin=${BIN:-build-bench/bin}/io_floor
[ -x "$io_floor_bin" ] || { echo "io_floor.sh: $io_floor_bin is missing (build the project first)" >&2; exit 1; }
IO_BLOCK=${IO_BLOCK:-268435456}
IO_DEPTH=${IO_DEPTH:-4}
FLOOR_LOG=${FLOOR_LOG:-/dev/stderr}

# io_floor drops the page cache itself before each method (COLD=1)
_io_floor() { # label io_floor-args...
  local label=$1 line
  shift
  sync
  line=$(COLD=${COLD:-1} "$io_floor_bin" -v -b "$IO_BLOCK" -q "$IO_DEPTH" "$@" 2>>"$FLOOR_LOG") || return 1
  echo "  floor $label: $line (load $(load))" >> "$FLOOR_LOG"
  sed -n 's/^seconds=\([0-9.]*\).*/\1/p' <<< "$line"
}
read_floor() { _io_floor read read "$@"; }
write_floor() { _io_floor write write "$1" "$2"; }
copy_floor() { local b=$1 p=$2; shift 2; _io_floor copy -m direct copy "$b" "$p" "$@"; }
floor_of() { echo "$1 $2 $3" | awk '{s = $1 + $2; print ($3 > 0 && $3 < s) ? $3 : s}'; }

# timed OUTFILE cmd...: runs cmd under GNU time; OUTFILE gets "wall user sys maxrss_kb"
timed() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out" "$@"
}

io_floor_cleanup() { :; }
