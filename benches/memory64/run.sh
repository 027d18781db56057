#!/bin/sh
# The memory64 kernel of BENCHMARKS.md §9: wall time of `wdb run --invoke
# kernel` on a 32-bit memory and on a 64-bit memory (the same kernel), per
# tier, median of RUNS, ROUNDS passes over 4 MiB. Both must print the same
# result. Usage: benches/memory64/run.sh [ROUNDS] [RUNS] (from the repository root)
set -e
ROUNDS=${1:-200}
RUNS=${2:-3}
DIR=$(dirname "$0")
WDB=${WDB:-target/debug/wdb}
W32=$(mktemp /tmp/mem32.XXXXXX.wat)
W64=$(mktemp /tmp/mem64.XXXXXX.wat)
trap 'rm -f "$W32" "$W64"' EXIT
sed 's/IDX/i32/g' "$DIR/kernel.wat.in" >"$W32"
sed 's/IDX/i64/g' "$DIR/kernel.wat.in" >"$W64"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for t in baseline debug optimized; do
  r32=$("$WDB" run "$W32" --invoke kernel --tier "$t" -- "$ROUNDS")
  r64=$("$WDB" run "$W64" --invoke kernel --tier "$t" -- "$ROUNDS")
  [ "$r32" = "$r64" ] || { echo "results differ in $t: $r32 vs $r64"; exit 1; }
  for w in 32 64; do
    f=$W32; [ $w = 64 ] && f=$W64
    ms=$(for i in $(seq "$RUNS"); do
      s=$(date +%s%N)
      "$WDB" run "$f" --invoke kernel --tier "$t" -- "$ROUNDS" >/dev/null
      echo $(( ($(date +%s%N) - s) / 1000000 ))
    done | median)
    echo "$t mem$w $ms"
  done
done
