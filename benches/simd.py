#!/usr/bin/env python3
"""simd.py - the SIMD benchmark table (issue 12): scalar `NAME.wasm` beside `-msimd128` `NAME-simd.wasm`.

    python3 benches/simd.py --wdb target/release/wdb --runs 3 --scale 0.25
    python3 benches/simd.py --quick                   # 1 run, scale 0.05

Runs every kernel that samples/build.sh also builds with -O2 -msimd128 (nbody, matmul, sha256,
sieve, interp; plus imgproc, which exists only as a vector build) under every wdb tier and every
anchor of benches/harness.py (V8 Liftoff/TurboFan/default, Wasmtime Cranelift/Winch, native gcc
-O2), interleaved round-robin, with the harness's own runner (`measure_runs`). A tier that
refuses a module (none does since baseline SIMD) is shown as `refused`, never hidden.
Prints markdown: kernel and whole-process medians, SIMD speedup per engine, ratios
wdb ÷ V8 default and wdb ÷ Wasmtime Cranelift, and noise. Python 3 stdlib (+ wasmtime PyPI).
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

KERNELS = ["nbody", "matmul", "sha256", "sieve", "interp"]
SIMD_ONLY = ["imgproc"]
TIERS = ["baseline", "debug", "optimized", "mixed", "dynamic"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", default="0.25")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--wdb", default=os.path.join(H.ROOT, "target", "release", "wdb"))
    ap.add_argument("--wdb-tiers", default=",".join(TIERS))
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=300)
    argv = sys.argv[1:]
    opts = ap.parse_args()
    if opts.quick:
        opts.runs, opts.scale = 1, "0.05"
    opts.corpus = False
    opts.wdb = os.path.abspath(opts.wdb)
    opts.wdb_tiers = [t for t in opts.wdb_tiers.split(",") if t]
    only = [o for o in opts.only.split(",") if o]
    modules = []
    for k in KERNELS:
        modules += [k, k + "-simd"]
    modules += SIMD_ONLY
    for m in modules:
        if not os.path.exists(H.module_path(opts, m)):
            sys.exit(f"samples/{m}.wasm is missing: run samples/build.sh")
    # NAME-simd has the same native reference as NAME
    orig_native = H.native_path
    H.native_path = lambda o, b: orig_native(o, b[:-5] if b.endswith("-simd") else b)
    engines = [e for e in H.run_engines(opts) if H.selected(e.name, e.groups, only)]
    env = H.environment(opts)
    failures = []
    res = H.measure_runs(opts, engines, modules, opts.scale, failures)
    names = [e.name for e in engines]

    ref = {}
    if "native" in res:
        for m in modules:
            sums = [c["checksum"] for c in res["native"][m] if c.get("checksum")]
            if sums:
                ref[m] = sums[0]

    def cells(n, m):
        return res[n][m]

    def med(n, m, key="kernel_ms"):
        return H.median([c[key] for c in cells(n, m) if c.get(key) is not None])

    def show(n, m, key="kernel_ms"):
        v = med(n, m, key)
        if v is None:
            errs = [c.get("error", "") for c in cells(n, m)]
            return "refused" if any("v128" in e.lower() or "simd" in e.lower() for e in errs) else "fail"
        bad = any(c.get("checksum") and m in ref and c["checksum"] != ref[m] for c in cells(n, m))
        return H.fmt_ms(v) + (" !" if bad else "")

    out = [f"- machine: {env['machine']}; load average at start: {env['load']}",
           "- versions: " + "; ".join(f"{k} {v}" for k, v in env["versions"].items()),
           f"- settings: {opts.runs} run(s) per cell (median), scale {opts.scale}; "
           f"command: `python3 benches/simd.py {' '.join(argv)}`", ""]
    for key, title in (("kernel_ms", "Main computation (guest `kernel_ms`), ms: scalar / SIMD"),
                       ("wall_ms", "Whole process wall time, ms: scalar / SIMD")):
        rows = []
        for k in KERNELS:
            rows.append([k] + [f"{show(n, k, key)} / {show(n, k + '-simd', key)}" for n in names])
        for k in SIMD_ONLY:
            rows.append([k + " (SIMD only)"] + [f"– / {show(n, k, key)}" for n in names])
        out.append(f"#### {title}\n\n" + H.md_table(["kernel"] + names, rows))

    rows = []
    for k in KERNELS:
        row = [k]
        for n in names:
            a, b = med(n, k), med(n, k + "-simd")
            row.append(H.fmt_ratio(a / b) if a and b else "–")
        rows.append(row)
    gm = ["**geomean**"]
    for n in names:
        rs = [(med(n, k) / med(n, k + "-simd")) if med(n, k) and med(n, k + "-simd") else None for k in KERNELS]
        gm.append(H.fmt_ratio(H.geomean(rs)) if all(rs) else "–")
    rows.append(gm)
    out.append("#### SIMD speedup per engine: scalar kernel_ms ÷ SIMD kernel_ms (> 1: the vector build is faster)\n\n"
               + H.md_table(["kernel"] + names, rows))

    wdbs = [n for n in names if n.startswith("wdb-")]
    anchors = [a for a in ("v8-default", "v8-turbofan", "v8-liftoff", "wt-cranelift", "wt-winch") if a in names]
    if wdbs and anchors:
        pairs = [(w, a) for w in wdbs for a in anchors
                 if a in ("v8-default", "wt-cranelift") or (w, a) in
                 (("wdb-optimized", "v8-turbofan"), ("wdb-baseline", "v8-liftoff"), ("wdb-baseline", "wt-winch"))]
        rows = []
        for m in modules:
            row = [m]
            for w, a in pairs:
                x, y = med(w, m), med(a, m)
                row.append(H.fmt_ratio(x / y) if x and y else "–")
            rows.append(row)
        out.append("#### Ratios wdb ÷ anchor, main computation (< 1: wdb faster; – : a cell refused or failed)\n\n"
                   + H.md_table(["module"] + [f"{w} ÷ {a}" for w, a in pairs], rows))

    rows = []
    for n in names:
        spreads = []
        for m in modules:
            ks = [c["kernel_ms"] for c in cells(n, m) if c.get("kernel_ms") is not None]
            if len(ks) >= 2 and statistics.median(ks) > 0:
                spreads.append((max(ks) - min(ks)) / statistics.median(ks))
        rows.append([n, f"{100 * statistics.median(spreads):.1f}%" if spreads else "n/a",
                     f"{100 * max(spreads):.1f}%" if spreads else "n/a"])
    out.append("#### Noise: (max - min) / median of `kernel_ms` over the runs\n\n"
               + H.md_table(["engine", "median over modules", "worst module"], rows))
    if failures:
        out.append("#### Failures and refusals\n\n" + "\n".join(f"- {f}" for f in sorted(set(
            f.split(" (run")[0] + ": " + f.split(": ", 1)[-1].split("   [")[0] for f in failures))[:30]))
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
