#!/bin/sh
# The tail-call loop of BENCHMARKS.md §7: wall time of `wdb run --invoke`
# per tier (process start, compile and the loop) and of V8 (node: the call
# alone), median of RUNS, for N iterations. Needs wat2wasm (wabt) and node.
# Usage: benches/tailcall/run.sh [N] [RUNS]   (from the repository root)
set -e
N=${1:-100000000}
RUNS=${2:-3}
DIR=$(dirname "$0")
WDB=${WDB:-target/debug/wdb}
WASM=$(mktemp /tmp/tailcall.XXXXXX.wasm)
trap 'rm -f "$WASM"' EXIT
command -v wat2wasm >/dev/null || { echo "wat2wasm missing (package wabt)"; exit 1; }
command -v node >/dev/null || { echo "node missing (package nodejs)"; exit 1; }
wat2wasm --enable-tail-call "$DIR/loop.wat" -o "$WASM"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for e in mutual indirect; do
  for t in baseline debug optimized mixed dynamic; do
    ms=$(for i in $(seq "$RUNS"); do
      s=$(date +%s%N)
      "$WDB" run "$WASM" --invoke "$e" --tier "$t" -- "$N" >/dev/null
      echo $(( ($(date +%s%N) - s) / 1000000 ))
    done | median)
    echo "$e $t $ms"
  done
  ms=$(for i in $(seq "$RUNS"); do node "$DIR/node_run.js" "$WASM" "$e" "$N" | cut -d' ' -f2; done | median)
  echo "$e node $ms"
done
