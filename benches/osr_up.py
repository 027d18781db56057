#!/usr/bin/env python3
"""osr_up.py - OSR up (issue 11) on programs whose work is one long call:
whole-process wall time of `wdb run` under --tier baseline, optimized and
dynamic, interleaved round-robin (run 1 of every program under every tier,
then run 2, ...), medians. Under dynamic the long call starts in baseline code
and moves to the loop's OSR entry mid-call; one extra --trace-tiering run per
program shows whether it did.

    python3 benches/osr_up.py [--wdb target/release/wdb] [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIERS = ["baseline", "optimized", "dynamic"]
# (name, arguments after `wdb run --tier T`): each program's work is one call.
PROGRAMS = [
    ("debugme.wasm 2000000 (main's loop)", ["samples/debugme.wasm", "--", "2000000"]),
    ("loop.wat sum_to 300000000", ["--invoke", "sum_to", "samples/loop.wat", "--", "300000000"]),
    ("loop.wat factorial 300000000", ["--invoke", "factorial", "samples/loop.wat", "--", "300000000"]),
]


def run(wdb, tier, args):
    t0 = time.perf_counter()
    out = subprocess.run([wdb, "run", "--tier", tier] + args, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    ms = (time.perf_counter() - t0) * 1000
    if out.returncode != 0:
        raise SystemExit(f"{tier} {args}: exit {out.returncode}: {out.stderr.strip()}")
    return ms, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wdb", default=os.path.join(ROOT, "target/release/wdb"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    times = {(p, t): [] for p, _ in PROGRAMS for t in TIERS}
    outputs = {}
    for _ in range(a.runs):
        for name, args in PROGRAMS:
            for tier in TIERS:
                ms, stdout = run(a.wdb, tier, args)
                times[(name, tier)].append(ms)
                outputs.setdefault(name, set()).add(stdout)
    osr = {}
    for name, args in PROGRAMS:
        out = subprocess.run([a.wdb, "run", "--tier", "dynamic", "--trace-tiering"] + args,
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        osr[name] = "on-stack replacement" in out.stdout + out.stderr
    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| program | baseline ms | optimized ms | dynamic ms | dynamic ÷ optimized "
          "| OSR up seen | same output |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, _ in PROGRAMS:
        med = {t: statistics.median(times[(name, t)]) for t in TIERS}
        print(f"| {name} | {med['baseline']:.0f} | {med['optimized']:.0f} | {med['dynamic']:.0f} "
              f"| {med['dynamic'] / med['optimized']:.2f} | {'yes' if osr[name] else 'no'} "
              f"| {'yes' if len(outputs[name]) == 1 else 'NO'} |")


if __name__ == "__main__":
    main()
