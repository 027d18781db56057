#!/usr/bin/env python3
"""wasm3.py - the Wasm 3.0 control-flow benchmarks (issue 13, BENCHMARKS.md §11): exception
throw-and-catch across 10 frames and the tail-call loop, every wdb tier next to V8 and Wasmtime.

    python3 benches/wasm3.py --wdb target/release/wdb --runs 5
    python3 benches/wasm3.py --quick                  # 1 run, small N

Kernels (`--invoke`-style exports, no WASI):
  exn         benches/exceptions/throw.wat, the standard form (`try_table`, `throw`):
              throw_catch(N, 10): N throws, each 10 frames below the catching `try_table`
  exn-legacy  benches/exceptions/throw_legacy.wat, the same in the legacy form (`try`/`catch`)
  tail-mutual benches/tailcall/loop.wat `mutual`: 2N `return_call`s ($even <-> $odd)
  tail-indir  benches/tailcall/loop.wat `indirect`: N `return_call_indirect`s

Engines: wdb-<tier> (`wdb run --tier T --invoke`), v8-liftoff (`--liftoff-only`), v8-turbofan
(`--no-liftoff`), v8-default (node's default: lazy, Liftoff then TurboFan), wt-cranelift and
wt-winch (the `wasmtime` PyPI package with exceptions enabled for the exception kernels and
tail calls for the tail-call kernels, as `wasmtime -W exceptions=y` / `-W tail-call=y`). A kernel an engine cannot run (it refuses the
module) is shown as `cannot run` with the engine's reason, never hidden.

Method: every engine runs each kernel as a fresh process at N and at N = 1 (start-up, compile
and instantiate only), all interleaved round-robin (run 1 of everything, then run 2, ...) so
that drift of the machine hits all engines alike. kernel ms = median wall(N) - median wall(1),
the same subtraction for every engine. Results are checked against the expected checksum.
Prints markdown. Python 3 stdlib plus the `wasmtime` PyPI package (also used for wat2wasm,
since wabt's wat2wasm lacks `try_table`).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_INVOKE = os.path.join(HERE, "runners", "node_invoke.mjs")
TIERS = ["baseline", "debug", "optimized", "mixed", "dynamic"]
DEPTH = 10
M32, M64 = (1 << 32) - 1, (1 << 64) - 1


def tail_mutual(n):
    """What loop.wat's `mutual` returns: $even adds n, $odd xors 10."""
    acc = 0
    while n:
        acc = ((acc + n) & M64) ^ 10
        n -= 1
    return acc


def tail_indirect(n):
    acc = 0
    while n:
        acc ^= n
        n -= 1
    return acc


# name: (file, export, args(N), i64 args, expected(N), unit per N, N, quick N)
KERNELS = {
    "exn": ("exceptions/throw.wat", "throw_catch", lambda n: [n, DEPTH], False,
            lambda n: n * (n - 1) // 2 & M32, "throw+catch", 200_000, 5_000),
    "exn-legacy": ("exceptions/throw_legacy.wat", "throw_catch", lambda n: [n, DEPTH], False,
                   lambda n: n * (n - 1) // 2 & M32, "throw+catch", 200_000, 5_000),
    "tail-mutual": ("tailcall/loop.wat", "mutual", lambda n: [n], True, tail_mutual,
                    "2 tail calls", 20_000_000, 100_000),
    "tail-indir": ("tailcall/loop.wat", "indirect", lambda n: [n], True, tail_indirect,
                   "tail call", 20_000_000, 100_000),
}


# The proposals Wasmtime gets per module (`-W exceptions=y` / `-W tail-call=y`); Winch
# refuses any module once exceptions are on, so each kernel gets only its own.
FEATURES = {"throw.wasm": "exceptions", "throw_legacy.wasm": "exceptions", "loop.wasm": "tail-call"}


def engines(opts):
    """(name, argv prefix builder, env) of every engine."""
    out = []
    for t in opts.wdb_tiers:
        out.append((f"wdb-{t}", lambda f, e, a, t=t: [opts.wdb, "run", f, "--tier", t,
                                                      "--invoke", e, "--"] + a))
    node = ["node", "--no-warnings"]
    for name, flags in [("v8-liftoff", ["--liftoff-only", "--no-wasm-lazy-compilation"]),
                        ("v8-turbofan", ["--no-liftoff", "--no-wasm-lazy-compilation"]),
                        ("v8-default", [])]:
        out.append((name, lambda f, e, a, fl=flags: node + fl + [NODE_INVOKE, f, e] + a))
    wt = [sys.executable, os.path.join(HERE, "runners", "wasmtime_wasi.py")]
    for name, eng in [("wt-cranelift", "cranelift"), ("wt-winch", "winch")]:
        out.append((name, lambda f, e, a, eng=eng: wt + ["--engine", eng, "--features",
                                                         FEATURES[os.path.basename(f)], "invoke", f, e] + a))
    only = [o for o in opts.only.split(",") if o]
    return [x for x in out if not only or any(x[0].startswith(o) for o in only)]


def run_once(argv, i64, timeout):
    env = dict(os.environ, I64_ARGS="1" if i64 else "0")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    ms = (time.perf_counter() - t0) * 1e3
    if p.returncode != 0:
        err = [ln.strip() for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
        key = ("Unsupported", "CompileError", "Invalid", "error:", "Error:")
        why = [ln for w in key for ln in err if w in ln] or err[-1:] or [f"exit {p.returncode}"]
        return None, why[0][:200]
    return ms, p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--wdb", default=os.path.join(H.ROOT, "target", "release", "wdb"))
    ap.add_argument("--wdb-tiers", default=",".join(TIERS))
    ap.add_argument("--kernels", default=",".join(KERNELS))
    ap.add_argument("--only", default="", help="engine name prefixes (wdb,v8,wt-cranelift,...)")
    ap.add_argument("--timeout", type=float, default=300)
    opts = ap.parse_args()
    if opts.quick:
        opts.runs = 1
    opts.wdb = os.path.abspath(opts.wdb)
    opts.wdb_tiers = [t for t in opts.wdb_tiers.split(",") if t]
    opts.corpus = False
    kernels = [k for k in opts.kernels.split(",") if k]
    import wasmtime  # wat2wasm: wabt's lacks try_table

    tmp = tempfile.mkdtemp(prefix="wasm3bench.")
    files = {}
    for k in kernels:
        src = os.path.join(HERE, KERNELS[k][0])
        out = os.path.join(tmp, os.path.basename(src).replace(".wat", ".wasm"))
        if not os.path.exists(out):
            with open(src) as f, open(out, "wb") as o:
                o.write(wasmtime.wat2wasm(f.read()))
        files[k] = out
    engs = engines(opts)
    env = H.environment(opts)
    loads = [os.getloadavg()[0]]
    walls = {}  # (engine, kernel, n) -> [ms]
    bad = {}  # (engine, kernel) -> reason
    for r in range(opts.runs):
        for k in kernels:
            file_, export, args, i64, expect, _, n_full, n_quick = KERNELS[k]
            n = n_quick if opts.quick else n_full
            for name, argv in engs:
                if (name, k) in bad:
                    continue
                for nn in (n, 1):
                    ms, out = run_once(argv(files[k], export, [str(a) for a in args(nn)]), i64,
                                       opts.timeout)
                    if ms is None:
                        bad[(name, k)] = out
                        break
                    # engines print i32/i64 results signed or unsigned
                    mask = M64 if i64 else M32
                    want = expect(nn) & mask
                    try:
                        ok = int(out) & mask == want
                    except ValueError:
                        ok = False
                    if not ok:
                        bad[(name, k)] = f"wrong result {out!r}, expected {want}"
                        break
                    walls.setdefault((name, k, nn), []).append(ms)
        loads.append(os.getloadavg()[0])
        H.log(f"run {r + 1}/{opts.runs} done (load {loads[-1]:.1f})")
    for f in set(files.values()):
        os.unlink(f)
    os.rmdir(tmp)

    names = [e[0] for e in engs]
    print(f"{env['date']}; {env['machine']}; load average before/after runs: "
          + ", ".join(f"{x:.1f}" for x in loads) + f"; {opts.runs} runs")
    for k, v in env["versions"].items():
        print(f"- {k}: {v}")
    print()
    cells = {}
    header = ["kernel"] + names
    rows, per_op, noise = [], [], []
    for k in kernels:
        n = KERNELS[k][7] if opts.quick else KERNELS[k][6]
        row, prow, nrow = [f"`{k}`, N = {n:,}, ms"], [f"`{k}`, ns per {KERNELS[k][5]}"], [f"`{k}`"]
        for name in names:
            if (name, k) in bad:
                row.append("cannot run" if "wrong result" not in bad[(name, k)] else "wrong")
                prow.append("-")
                nrow.append("-")
                continue
            full, one = walls[(name, k, n)], walls[(name, k, 1)]
            ms = statistics.median(full) - statistics.median(one)
            cells[(name, k)] = ms
            row.append(f"{ms:.0f}")
            prow.append(f"{ms * 1e6 / n:.1f}")
            spread = (max(full) - min(full)) / statistics.median(full) if len(full) > 1 else 0
            nrow.append(f"{spread * 100:.0f}%")
        rows.append(row)
        per_op.append(prow)
        noise.append(nrow)
    print("### Kernel time (median wall at N minus median wall at N = 1), ms\n")
    print(H.md_table(header, rows))
    print("\n### Per operation, ns\n")
    print(H.md_table(header, per_op))
    for anchor in ("v8-default", "v8-turbofan", "v8-liftoff", "wt-cranelift"):
        if anchor not in names:
            continue
        rrows = []
        for k in kernels:
            a = cells.get((anchor, k))
            rrow = [f"`{k}`"]
            for name in names:
                if not name.startswith("wdb-"):
                    continue
                v = cells.get((name, k))
                rrow.append(f"{v / a:.2f}" if a and v is not None and a > 0 else "-")
            rrows.append(rrow)
        print(f"\n### Ratios wdb ÷ {anchor} (< 1: wdb faster)\n")
        print(H.md_table(["kernel"] + [n for n in names if n.startswith("wdb-")], rrows))
    print("\n### Noise: (max - min) / median of the wall time at N\n")
    print(H.md_table(header, noise))
    if bad:
        print("\n### Engines that cannot run a kernel\n")
        for (name, k), why in sorted(bad.items()):
            print(f"- {name}, `{k}`: {why}")


if __name__ == "__main__":
    main()
