#!/usr/bin/env python3
"""startup.py - time to the first executed instruction of a large module, eager vs
streaming vs lazy compilation, read from a file and from a pipe at throttled rates;
and `wdb debug --batch` paused at entry, lazy (the default) vs --eager.

    python3 benches/startup.py                         # largest corpus -O0 -g module
    python3 benches/startup.py --module samples/big.wasm --runs 7 --rates 2,8,32,0

Time zero is just before wdb is started (and, for a pipe, the writer with it). The
first instruction runs when the entry function is called (wdb's hidden
`--startup-time` prints that instant) plus, under --lazy, the entry function's own
compile (printed after the run). Each cell is the median of --runs runs: the machine
is shared, so single runs are noisy. Pipe rates are MB/s (0 = unthrottled); a writer
thread writes 64 KiB blocks on a schedule, so "read" is when the last byte was written.
Markdown goes to stdout.
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = 64 << 10


def largest_module():
    d = os.path.join(ROOT, "benches", "corpus")
    mods = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".wasm")]
    mods.append(os.path.join(ROOT, "samples", "big.wasm"))
    return max(mods, key=os.path.getsize)


def run_once(wdb, module, mode, rate, args):
    """One `wdb run`; returns (ms to first instruction, ms to last byte written)."""
    flags = {"eager": ["--no-streaming"], "streaming": [], "lazy": ["--lazy"]}[mode]
    src = "-" if rate is not None else module
    cmd = [wdb, "run", "--tier", "baseline", "--startup-time"] + flags + [src, "--"] + args
    data = open(module, "rb").read() if rate is not None else None
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if data else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    written = [t0]

    def feed():
        try:
            for i in range(0, len(data), BLOCK):
                if rate:
                    due = t0 + i / (rate * 1e6)
                    delay = due - time.time()
                    if delay > 0:
                        time.sleep(delay)
                p.stdin.write(data[i:i + BLOCK])
            written[0] = time.time()
            p.stdin.close()
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed) if data else None
    if feeder:
        feeder.start()
    err = p.stderr.read().decode(errors="replace")
    p.wait()
    if feeder:
        feeder.join()
    entry, compile_ms = None, 0.0
    for line in err.splitlines():
        if line.startswith("wdb: startup: entry called at "):
            entry = float(line.rsplit(" ", 1)[1])
        elif line.startswith("wdb: startup: entry compile "):
            compile_ms = float(line.split()[-2])
    if entry is None:
        raise SystemExit(f"no startup line from {' '.join(cmd)}:\n{err}")
    return (entry - t0) * 1e3 + compile_ms, (written[0] - t0) * 1e3 if data else None


def debug_once(wdb, module, eager, args):
    """ms from starting `wdb debug --batch` to its `Stopped (entry)` line."""
    cmd = [wdb, "debug", "--batch"] + (["--eager"] if eager else []) + [module, "--"] + args
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    t = None
    for line in p.stdout:
        if line.startswith(b"Stopped (entry)"):
            t = (time.time() - t0) * 1e3
            break
    p.communicate(b"quit\n")
    if t is None:
        raise SystemExit(f"{' '.join(cmd)}: never stopped at entry")
    return t


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wdb", default=os.path.join(ROOT, "target", "release", "wdb"))
    ap.add_argument("--module", default=None, help="default: the largest corpus module")
    ap.add_argument("--args", default="0.01", help="the program's arguments")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rates", default="4,16,0", help="pipe rates in MB/s (0 = unthrottled)")
    args = ap.parse_args()
    module = args.module or largest_module()
    prog_args = args.args.split()
    size = os.path.getsize(module)
    sources = [("file", None)] + [
        (f"pipe {r} MB/s" if float(r) else "pipe, unthrottled", float(r))
        for r in args.rates.split(",")
    ]
    print(f"`{os.path.relpath(module, ROOT)}` ({size / 1e6:.1f} MB), median of {args.runs} "
          f"runs (ms from starting wdb)\n")
    print("| source | read | eager | streaming | lazy |")
    print("|---|---:|---:|---:|---:|")
    for name, rate in sources:
        cells, reads = {}, []
        for mode in ("eager", "streaming", "lazy"):
            xs = []
            for _ in range(args.runs):
                ms, read = run_once(args.wdb, module, mode, rate, prog_args)
                xs.append(ms)
                if read is not None:
                    reads.append(read)
            cells[mode] = med(xs)
            print(f"  {name} {mode}: {', '.join(f'{x:.0f}' for x in xs)}", file=sys.stderr)
        read = f"{med(reads):.0f}" if reads else "-"
        print(f"| {name} | {read} | {cells['eager']:.0f} | {cells['streaming']:.0f} "
              f"| {cells['lazy']:.0f} |")
    print()
    print("| `wdb debug --batch`, to `Stopped (entry)` | ms |")
    print("|---|---:|")
    for eager in (False, True):
        xs = [debug_once(args.wdb, module, eager, prog_args) for _ in range(args.runs)]
        label = "--eager" if eager else "lazy (default)"
        print(f"  debug {label}: {', '.join(f'{x:.0f}' for x in xs)}", file=sys.stderr)
        print(f"| {label} | {med(xs):.0f} |")


if __name__ == "__main__":
    main()
