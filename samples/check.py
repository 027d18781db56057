#!/usr/bin/env python3
"""check.py - check the samples against their expected outputs, in several engines.

    python3 samples/check.py                     # C samples + .wat exports, native/node/wasmtime
    python3 samples/check.py --wdb               # also target/release/wdb (tier baseline)
    python3 samples/check.py --wdb --tiers baseline,optimized,dynamic
    python3 samples/check.py --engines node,wdb --wat      # only the .wat table, chosen engines
    python3 samples/check.py --bless             # rewrite expected/<test>.txt from native gcc
                                                 # builds (big: from wasmtime), then check

Expected data:
  expected/manifest.tsv   test, module, args, exit code of each WASI program run
  expected/<test>.txt     its stdout, with every line starting with "kernel_ms" removed
  expected/wat.tsv        file, export, args, expected results or trap:<kind>

Engines: native (samples/build/<name>, from build.sh), node (V8 default tiering, via
benches/runners/node_wasi.mjs), liftoff (node --liftoff-only), wasmtime (Cranelift) and
winch (via benches/runners/wasmtime_wasi.py), wdb (`wdb run`, one engine per --tiers entry).
For wdb, a trap expectation passes when wdb exits non-zero and its output names the trap
(the kind with '-' read as ' ', case-insensitive, e.g. "integer divide by zero").
Python stdlib only (plus the wasmtime package for the wasmtime/winch engines).
"""
import argparse
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXPECTED = os.path.join(HERE, "expected")
NODE_RUNNER = os.path.join(ROOT, "benches", "runners", "node_wasi.mjs")
WT_RUNNER = os.path.join(ROOT, "benches", "runners", "wasmtime_wasi.py")
NODE_FLAGS = ["--no-warnings", "--no-turbo-fast-api-calls"]
TIMEOUT = 300


def strip_timing(text):
    return "".join(l for l in text.splitlines(True) if not l.startswith("kernel_ms"))


def read_tsv(path):
    rows = []
    header = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            cols += [""] * (len(header) - len(cols))
            rows.append(dict(zip(header, cols)))
    return rows


def run(cmd):
    try:
        p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError as e:
        return None, "", str(e)
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    return p.returncode, p.stdout, p.stderr


def engine_run_cmd(engine, wdb, module, args):
    name = module[:-len(".wasm")]
    if engine == "native":
        for suffix in ("-g", "-simd"):
            if name.endswith(suffix):
                name = name[:-len(suffix)]
        exe = os.path.join(HERE, "build", name)
        return [exe] + args if os.path.exists(exe) else None
    if engine == "node":
        return ["node"] + NODE_FLAGS + [NODE_RUNNER, "run", module] + args
    if engine == "liftoff":
        return ["node"] + NODE_FLAGS + ["--liftoff-only", "--no-wasm-lazy-compilation",
                                        NODE_RUNNER, "run", module] + args
    if engine in ("wasmtime", "winch"):
        eng = "cranelift" if engine == "wasmtime" else "winch"
        return [sys.executable, WT_RUNNER, "--engine", eng, "run", module] + args
    if engine.startswith("wdb:"):
        return [wdb, "run", "--tier", engine[4:], module, "--"] + args
    raise ValueError(engine)


def engine_invoke_cmd(engine, wdb, wat, export, args):
    if engine == "native":
        return None
    if engine in ("node", "liftoff"):
        wasm = os.path.join(HERE, "build", wat[:-len(".wat")] + ".wasm")
        if not os.path.exists(wasm):
            return None
        flags = [] if engine == "node" else ["--liftoff-only", "--no-wasm-lazy-compilation"]
        return ["node"] + NODE_FLAGS + flags + [NODE_RUNNER, "invoke", wasm, export] + args
    if engine in ("wasmtime", "winch"):
        eng = "cranelift" if engine == "wasmtime" else "winch"
        return [sys.executable, WT_RUNNER, "--engine", eng, "invoke", wat, export] + args
    if engine.startswith("wdb:"):
        return [wdb, "run", "--tier", engine[4:], wat, "--invoke", export, "--"] + args
    raise ValueError(engine)


def same_values(got_lines, want):
    want_vals = want.split()
    if len(got_lines) != len(want_vals):
        return False
    for g, w in zip(got_lines, want_vals):
        if g == w:
            continue
        try:
            if float(g) == float(w):
                continue
        except ValueError:
            pass
        return False
    return True


def check_wat(engines, wdb, failures):
    rows = read_tsv(os.path.join(EXPECTED, "wat.tsv"))
    for row in rows:
        args = row["args"].split()
        want = row["expected"]
        for eng in engines:
            cmd = engine_invoke_cmd(eng, wdb, row["file"], row["export"], args)
            if cmd is None:
                continue
            rc, out, err = run(cmd)
            lines = [l.strip() for l in out.splitlines() if l.strip()]
            if want.startswith("trap:"):
                kind = want[5:]
                text = (out + err).lower()
                ok = rc not in (0, None) and (kind in text or kind.replace("-", " ") in text)
            else:
                ok = rc == 0 and same_values(lines, want)
            label = f"{row['file']} {row['export']}({' '.join(args)}) [{eng}]"
            if not ok:
                got = " ".join(lines) or " ".join(err.strip().splitlines()[-1:])
                failures.append(f"{label}: want {want}, got exit {rc}: {got}")
            print(("ok   " if ok else "FAIL ") + label, file=sys.stderr)


def check_programs(engines, wdb, bless, only, failures):
    rows = read_tsv(os.path.join(EXPECTED, "manifest.tsv"))
    for row in rows:
        test = row["test"]
        if only and test not in only:
            continue
        args = shlex.split(row["args"])
        want_rc = int(row["exit"])
        path = os.path.join(EXPECTED, test + ".txt")
        if bless:
            src = "native" if engine_run_cmd("native", wdb, row["module"], args) else "wasmtime"
            rc, out, err = run(engine_run_cmd(src, wdb, row["module"], args))
            if rc != want_rc:
                failures.append(f"{test}: bless from {src} exited {rc}, manifest says {want_rc}: {err}")
                continue
            with open(path, "w") as f:
                f.write(strip_timing(out))
            print(f"blessed {test} from {src}", file=sys.stderr)
        with open(path) as f:
            want = f.read()
        for eng in engines:
            cmd = engine_run_cmd(eng, wdb, row["module"], args)
            if cmd is None:
                continue
            rc, out, err = run(cmd)
            ok = rc == want_rc and strip_timing(out) == want
            label = f"{test} ({row['module']} {row['args']}) [{eng}]"
            if not ok:
                failures.append(f"{label}: exit {rc} (want {want_rc}); stdout {'differs' if strip_timing(out) != want else 'ok'}; "
                                f"stderr: {err.strip()[-300:]}")
            print(("ok   " if ok else "FAIL ") + label, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="native,node,wasmtime",
                    help="comma list of native,node,liftoff,wasmtime,winch,wdb (default native,node,wasmtime)")
    ap.add_argument("--wdb", nargs="?", const=os.path.join(ROOT, "target", "release", "wdb"), default=None,
                    metavar="PATH", help="also check wdb (default path target/release/wdb)")
    ap.add_argument("--tiers", default="baseline", help="wdb tiers to check (comma list)")
    ap.add_argument("--wat", action="store_true", help="only the .wat table")
    ap.add_argument("--programs", action="store_true", help="only the WASI programs")
    ap.add_argument("--only", default="", help="comma list of manifest tests to check")
    ap.add_argument("--bless", action="store_true", help="regenerate expected/<test>.txt first")
    a = ap.parse_args()

    engines = [e for e in a.engines.split(",") if e and e != "wdb"]
    wdb = a.wdb
    if wdb is None and "wdb" in a.engines.split(","):
        wdb = os.path.join(ROOT, "target", "release", "wdb")
    if wdb:
        engines += ["wdb:" + t for t in a.tiers.split(",") if t]
    failures = []
    if not a.wat:
        only = set(x for x in a.only.split(",") if x)
        check_programs(engines, wdb, a.bless, only, failures)
    if not a.programs:
        check_wat(engines, wdb, failures)
    for f in failures:
        print("FAIL " + f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
