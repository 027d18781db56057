#!/usr/bin/env python3
"""harness.py - wdb's benchmark harness: wdb's tiers next to V8, Wasmtime and native code.

    python3 benches/harness.py                        # everything, 5 runs, scale 1 (~15-20 min)
    python3 benches/harness.py --quick                # smoke test: 1 run, scale 0.05
    python3 benches/harness.py --wdb-tiers baseline,optimized,dynamic
    python3 benches/harness.py --only wdb,v8-liftoff,native --benches fib,sha256
    python3 benches/harness.py --no-compile           # run-time tables only
    python3 benches/harness.py --no-run               # compile-time table only
    python3 benches/harness.py --write                # also update BENCHMARKS.md (marked section)
    python3 benches/harness.py --corpus --wdb-tiers baseline,debug,optimized,mixed,dynamic --write
                                                      # the real-program corpus (benches/corpus)

Run time: every C sample (samples/<name>.wasm, built by samples/build.sh) is run as a
process under every selected engine, interleaved round-robin (run 1 of every benchmark
under every engine, then run 2, ...), so that drift of the machine hits all engines
alike. Each program times its own main computation and prints `kernel_ms`; the harness
also times the whole process (start-up, compile, instantiate, run). Cells are medians.
Checksums are compared with native gcc -O2 at the same scale; a mismatch is marked `!`.

--corpus: the same for the corpus of real programs (benches/corpus, built by its
build.sh): SQLite, zstd, zlib and Lua with our drivers, each at -O2 (`NAME`) and at
-O0 -g (`NAME-g`), native `benches/corpus/build/NAME`; --write replaces the section
between `<!-- corpus:begin -->` and `<!-- corpus:end -->` instead.

Engines (names accepted by --only; a group name selects all its members):
  wdb-<tier>     target/release/wdb run --tier <tier> samples/X.wasm -- SCALE   (group: wdb)
  wdb-debug      a debug session with no breakpoints run to its end: wdb debug --batch --eager
                 -x benches/runners/continue.wdb X.wasm -- SCALE (plain baseline code except
                 where something may stop; see README "Debug code only where something stops")
  wdb-debug-full wdb run --tier debug: a debug-byte check before every instruction everywhere
  wdb-<tier>-base  the same with the binary given by --wdb-base (before/after a change)
  v8-liftoff     node --liftoff-only --no-wasm-lazy-compilation               (group: node, v8)
  v8-turbofan    node --no-liftoff --no-wasm-lazy-compilation                 (group: node, v8)
  v8-default     node (lazy compilation, Liftoff, dynamic tier-up)            (group: node, v8)
  wt-cranelift   wasmtime PyPI package, Cranelift                             (group: wasmtime)
  wt-winch       wasmtime PyPI package, Winch                                 (group: wasmtime)
  native         samples/build/X SCALE (gcc -O2)
node always gets --no-warnings --no-turbo-fast-api-calls (node 20's WASI fast API calls
can crash when memory grows large).

Compile time (single-threaded): `wdb compile --tier T --threads 1 FILE` (prints
`functions: F, code: B bytes, time: T ms, throughput: X MB/s`; one compile per process),
`node --single-threaded --liftoff-only|--no-liftoff --no-wasm-lazy-compilation` timing
`new WebAssembly.Module` (a unique custom section per compile defeats V8's cache), Wasmtime
Winch/Cranelift with parallel compilation off. Anchor runners compile a warm-up copy first
and then --compile-iters timed copies per process. MB/s = code-section bytes / 10^6 / s.

A missing wdb binary, a failed run, a non-zero exit or unparsable output is reported as
`fail` in the tables (details at the end); the harness itself carries on.
Python 3 stdlib only, plus the `wasmtime` PyPI package for the wt-* engines.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLES = os.path.join(ROOT, "samples")
NODE_RUNNER = os.path.join(HERE, "runners", "node_wasi.mjs")
WT_RUNNER = os.path.join(HERE, "runners", "wasmtime_wasi.py")
NODE_BASE = ["node", "--no-warnings", "--no-turbo-fast-api-calls"]
ALL_BENCHES = ["fib", "nbody", "matmul", "sha256", "sieve", "qsort", "interp", "memstr"]
BEGIN, END = "<!-- harness:begin -->", "<!-- harness:end -->"
CORPUS = os.path.join(HERE, "corpus")
CORPUS_PROGRAMS = ["sqlite", "zstd", "zlib", "lua"]
CORPUS_BENCHES = [p + v for p in CORPUS_PROGRAMS for v in ("", "-g")]
CORPUS_BEGIN, CORPUS_END = "<!-- corpus:begin -->", "<!-- corpus:end -->"


def module_path(opts, bench):
    """The .wasm of a benchmark: samples/<b>.wasm, or benches/corpus/<b>.wasm with --corpus."""
    return os.path.join(CORPUS if opts.corpus else SAMPLES, bench + ".wasm")


def native_path(opts, bench):
    """The native gcc -O2 build of a benchmark (a corpus NAME-g shares NAME's)."""
    if opts.corpus:
        return os.path.join(CORPUS, "build", bench[:-2] if bench.endswith("-g") else bench)
    return os.path.join(SAMPLES, "build", bench)

WDB_COMPILE_RE = re.compile(
    r"functions:\s*(\d+),\s*code:\s*(\d+)\s*bytes,\s*time:\s*([0-9.]+)\s*ms,\s*throughput:\s*([0-9.]+)\s*MB/s")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- engines

class Engine:
    """One way to run a WASI program: a command template and its group names."""

    def __init__(self, name, groups, argv_fn, needs=None):
        self.name = name
        self.groups = groups
        self.argv_fn = argv_fn          # (bench, scale) -> argv
        self.needs = needs              # path that must exist, else every run fails

    def argv(self, bench, scale):
        return self.argv_fn(bench, scale)


def run_engines(opts):
    wasm = lambda b: module_path(opts, b)
    node_run = lambda flags: (lambda b, s: NODE_BASE + flags + [NODE_RUNNER, "run", wasm(b), s])
    wt_run = lambda eng: (lambda b, s: [sys.executable, WT_RUNNER, "--engine", eng, "run", wasm(b), s])
    engines = []
    for tier in opts.wdb_tiers:
        engines.append(Engine(f"wdb-{tier}", ["wdb"], wdb_argv(opts, tier, wasm), needs=opts.wdb))
        if opts.wdb_base:
            # The same tier of another wdb binary (before/after a change, one run).
            base = argparse.Namespace(**{**vars(opts), "wdb": opts.wdb_base})
            engines.append(Engine(f"wdb-{tier}-base", ["wdb"], wdb_argv(base, tier, wasm),
                                  needs=opts.wdb_base))
    engines += [
        Engine("v8-liftoff", ["node", "v8"], node_run(["--liftoff-only", "--no-wasm-lazy-compilation"])),
        Engine("v8-turbofan", ["node", "v8"], node_run(["--no-liftoff", "--no-wasm-lazy-compilation"])),
        Engine("v8-default", ["node", "v8"], node_run([])),
        Engine("wt-cranelift", ["wasmtime", "wt"], wt_run("cranelift")),
        Engine("wt-winch", ["wasmtime", "wt"], wt_run("winch")),
        Engine("native", ["native", "gcc"], lambda b, s: [native_path(opts, b), s]),
    ]
    return engines


def wdb_argv(opts, tier, wasm):
    """How engine wdb-<tier> runs a benchmark. `debug` is a debug session with no
    breakpoints run to the end (`wdb debug --batch --eager`, script `continue`):
    the code a debugger runs when nothing stops, i.e. plain baseline code except
    where something may stop. `debug-full` is debug code with a check at every
    instruction in every function (`wdb run --tier debug`, what the spec suite's
    debug tier runs). Any other tier is `wdb run --tier <tier>`."""
    if tier == "debug":
        script = os.path.join(HERE, "runners", "continue.wdb")
        return lambda b, s: [opts.wdb, "debug", "--batch", "--eager", "-x", script, wasm(b), "--", s]
    t = "debug" if tier == "debug-full" else tier
    return lambda b, s: [opts.wdb, "run", "--tier", t, wasm(b), "--", s]


def compilers(opts):
    """Compile configurations: name -> (groups, argv_fn(module_path, iters), kind)."""
    out = []
    for tier in opts.wdb_tiers:
        if tier not in ("baseline", "optimized"):
            continue           # `wdb compile` knows only the two compilers
        out.append((f"wdb-{tier}", ["wdb"],
                    (lambda t: lambda m, it: [opts.wdb, "compile", "--tier", t, "--threads", "1", m])(tier),
                    "wdb"))
    st = ["--single-threaded", "--no-wasm-lazy-compilation"]
    out += [
        ("v8-liftoff", ["node", "v8"],
         lambda m, it: NODE_BASE + st + ["--liftoff-only", NODE_RUNNER, "compile", m, str(it)], "anchor"),
        ("v8-turbofan", ["node", "v8"],
         lambda m, it: NODE_BASE + st + ["--no-liftoff", NODE_RUNNER, "compile", m, str(it)], "anchor"),
        ("wt-winch", ["wasmtime", "wt"],
         lambda m, it: [sys.executable, WT_RUNNER, "--engine", "winch", "--single-threaded",
                        "compile", m, str(it)], "anchor"),
        ("wt-cranelift", ["wasmtime", "wt"],
         lambda m, it: [sys.executable, WT_RUNNER, "--engine", "cranelift", "--single-threaded",
                        "compile", m, str(it)], "anchor"),
    ]
    return out


def selected(name, groups, only):
    if not only:
        return True
    return any(o == name or o in groups for o in only)


# --------------------------------------------------------------------------- helpers

def run_process(argv, timeout):
    """Runs argv; returns dict(rc, out, err, wall_ms) or dict(error=...)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except FileNotFoundError as e:
        return {"error": f"cannot start: {e}"}
    except PermissionError as e:
        return {"error": f"cannot start: {e}"}
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    wall = (time.perf_counter() - t0) * 1e3
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr, "wall_ms": wall}


def parse_program_output(out):
    checksum = kernel = None
    for line in out.splitlines():
        if line.startswith("checksum "):
            checksum = line.split()[1]
        elif line.startswith("kernel_ms "):
            try:
                kernel = float(line.split()[1])
            except (IndexError, ValueError):
                pass
    return checksum, kernel


def bench_lines(err):
    """The runners' `@@bench {json}` lines from stderr, merged."""
    info = {}
    for line in err.splitlines():
        if line.startswith("@@bench "):
            try:
                info.update(json.loads(line[len("@@bench "):]))
            except json.JSONDecodeError:
                pass
    return info


def code_section_size(path):
    """Size in bytes of the code section (id 10) of a wasm binary."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 8

    def leb(p):
        result = shift = 0
        while True:
            b = data[p]
            p += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return result, p

    while pos < len(data):
        sid = data[pos]
        size, pos = leb(pos + 1)
        if sid == 10:
            return size
        pos += size
    return 0


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    if not xs or any(x is None or x <= 0 for x in xs):
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def fmt_ms(v):
    if v is None:
        return "fail"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(v):
    return "fail" if v is None else f"{v:.2f}"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def cmd_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return None


# --------------------------------------------------------------------------- measuring

def measure_runs(opts, engines, benches, scale, failures):
    """Returns results[engine][bench] = list of dicts(kernel_ms, wall_ms, checksum)."""
    results = {e.name: {b: [] for b in benches} for e in engines}
    dead = {}
    for e in engines:
        if e.needs and not os.access(e.needs, os.X_OK):
            dead[e.name] = f"{e.needs} not found (build it: cargo build --release)"
            failures.append(f"{e.name}: {dead[e.name]}")
    total = opts.runs * len(benches) * len(engines)
    n = 0
    for r in range(opts.runs):
        # rotate the engine order every round so no engine always runs first
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for b in benches:
            for e in order:
                n += 1
                if e.name in dead:
                    continue
                argv = e.argv(b, scale)
                res = run_process(argv, opts.timeout)
                cell = {"kernel_ms": None, "wall_ms": res.get("wall_ms"), "checksum": None}
                why = None
                if "error" in res:
                    why = res["error"]
                elif res["rc"] != 0:
                    why = f"exit code {res['rc']}: {res['err'].strip()[-200:]}"
                else:
                    cell["checksum"], cell["kernel_ms"] = parse_program_output(res["out"])
                    if cell["kernel_ms"] is None or cell["checksum"] is None:
                        why = "no checksum/kernel_ms in output"
                    info = bench_lines(res["err"])
                    if "compile_ms" in info:
                        cell["engine_compile_ms"] = info["compile_ms"]
                if why:
                    cell = {"kernel_ms": None, "wall_ms": None, "checksum": None, "error": why}
                    failures.append(f"{e.name} {b} (run {r + 1}): {why}   [{shlex.join(argv)}]")
                results[e.name][b].append(cell)
                log(f"[{n}/{total}] {e.name:13s} {b:8s} "
                    + (f"kernel {fmt_ms(cell['kernel_ms'])} ms, wall {fmt_ms(cell['wall_ms'])} ms"
                       if not why else f"FAIL {why[:100]}"))
    for name, why in dead.items():
        for b in benches:
            results[name][b] = [{"kernel_ms": None, "wall_ms": None, "checksum": None, "error": why}]
    return results


def measure_compiles(opts, comps, modules, failures):
    """Returns results[compiler][module] = {"ms": [..], "bytes": B, "functions": F}."""
    results = {c[0]: {m: {"ms": []} for m in modules} for c in comps}
    sizes = {m: code_section_size(module_path(opts, m)) for m in modules}
    dead = {}
    for name, _, _, kind in comps:
        if kind == "wdb" and not os.access(opts.wdb, os.X_OK):
            dead[name] = f"{opts.wdb} not found"
    total = opts.runs * len(modules) * len(comps)
    n = 0
    for r in range(opts.runs):
        for m in modules:
            path = module_path(opts, m)
            for name, _, argv_fn, kind in comps:
                n += 1
                cell = results[name][m]
                cell["bytes"] = sizes[m]
                if name in dead:
                    continue
                argv = argv_fn(path, opts.compile_iters)
                res = run_process(argv, opts.timeout)
                why = None
                if "error" in res:
                    why = res["error"]
                elif res["rc"] != 0:
                    why = f"exit code {res['rc']}: {res['err'].strip()[-200:]}"
                elif kind == "wdb":
                    mt = WDB_COMPILE_RE.search(res["out"] + res["err"])
                    if not mt:
                        why = "no 'functions: .., code: .., time: ..' line"
                    else:
                        cell["functions"] = int(mt.group(1))
                        cell["ms"].append(float(mt.group(3)))
                        if int(mt.group(2)) != sizes[m] and not cell.get("size_warned"):
                            cell["size_warned"] = True
                            failures.append(f"note: {name} reports {mt.group(2)} code bytes for {m}, "
                                            f"the code section has {sizes[m]} (MB/s uses the latter)")
                else:
                    info = bench_lines(res["err"])
                    if not info.get("compile_ms"):
                        why = "no @@bench compile_ms line"
                    else:
                        cell["ms"].extend(info["compile_ms"])
                if why:
                    cell.setdefault("errors", []).append(why)
                    failures.append(f"compile {name} {m} (run {r + 1}): {why}   [{shlex.join(argv)}]")
                log(f"[{n}/{total}] compile {name:13s} {m:8s} "
                    + (f"{fmt_ms(cell['ms'][-1])} ms" if not why else f"FAIL {why[:100]}"))
    for name, why in dead.items():
        failures.append(f"compile {name}: {why}")
    return results


# --------------------------------------------------------------------------- reporting

def environment(opts):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1048576:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        from importlib.metadata import version
        wt = version("wasmtime")
    except Exception:
        wt = "not installed"
    wdb_v = cmd_output([opts.wdb, "--version"]) if os.access(opts.wdb, os.X_OK) else None
    load = os.getloadavg()
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}",
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "versions": {
            "wdb": wdb_v or f"not available ({os.path.relpath(opts.wdb, ROOT)} missing)",
            "node": f"{cmd_output(['node', '--version'])} (V8 {cmd_output(['node', '-p', 'process.versions.v8'])})",
            "wasmtime (PyPI)": wt,
            "gcc": cmd_output(["gcc", "-dumpfullversion"]),
            "python": platform.python_version(),
        },
    }


def run_tables(opts, engines, benches, results, scale):
    names = [e.name for e in engines]
    native = results.get("native")
    ref_sum = {}
    if native:
        for b in benches:
            sums = [c["checksum"] for c in native[b] if c.get("checksum")]
            if sums:
                ref_sum[b] = sums[0]

    def med(name, b, key):
        return median([c[key] for c in results[name][b] if c.get(key) is not None])

    def mismatch(name, b):
        return any(c.get("checksum") and b in ref_sum and c["checksum"] != ref_sum[b]
                   for c in results[name][b])

    def cell(name, b, key):
        v = med(name, b, key)
        s = fmt_ms(v)
        if v is not None and mismatch(name, b):
            s += " !"
        return s

    out = []
    for key, title in (("kernel_ms", "Main computation (guest `kernel_ms`), ms"),
                       ("wall_ms", "Whole process wall time, ms")):
        rows = []
        for b in benches:
            rows.append([b] + [cell(n, b, key) for n in names])
        rows.append(["**geomean**"] + [fmt_ms(geomean([med(n, b, key) for b in benches])) for n in names])
        out.append(f"### {title}\n\n" + md_table(["bench"] + names, rows))

    # wdb ÷ every anchor (main computation)
    wdbs = [n for n in names if n.startswith("wdb-")]
    anchors = [n for n in names if not n.startswith("wdb-")]
    if wdbs and anchors:
        pairs = [(w, a) for w in wdbs for a in anchors]
        rows = []
        for b in benches:
            row = [b]
            for w, a in pairs:
                x, y = med(w, b, "kernel_ms"), med(a, b, "kernel_ms")
                row.append(fmt_ratio(x / y if x and y else None))
            rows.append(row)
        gm = ["**geomean**"]
        for w, a in pairs:
            rs = [(med(w, b, "kernel_ms") or 0) / y if (y := med(a, b, "kernel_ms")) else None for b in benches]
            gm.append(fmt_ratio(geomean(rs)))
        rows.append(gm)
        out.append("### Ratios wdb ÷ anchor (main computation; < 1 means wdb is faster)\n\n"
                   + md_table(["bench"] + [f"{w} ÷ {a}" for w, a in pairs], rows))

    # every engine ÷ native
    if native and len(names) > 1:
        others = [n for n in names if n != "native"]
        rows = []
        for b in benches:
            nv = med("native", b, "kernel_ms")
            rows.append([b] + [fmt_ratio(med(n, b, "kernel_ms") / nv if nv and med(n, b, "kernel_ms") else None)
                               for n in others])
        rows.append(["**geomean**"] + [fmt_ratio(geomean(
            [(med(n, b, "kernel_ms") or 0) / nv if (nv := med("native", b, "kernel_ms")) else None
             for b in benches])) for n in others])
        out.append("### Ratios engine ÷ native gcc -O2 (main computation)\n\n"
                   + md_table(["bench"] + [f"{n} ÷ native" for n in others], rows))

    # noise
    rows = []
    for n in names:
        spreads = []
        for b in benches:
            ks = [c["kernel_ms"] for c in results[n][b] if c.get("kernel_ms") is not None]
            if len(ks) >= 2 and statistics.median(ks) > 0:
                spreads.append((max(ks) - min(ks)) / statistics.median(ks))
        if spreads:
            rows.append([n, f"{100 * statistics.median(spreads):.1f}%", f"{100 * max(spreads):.1f}%",
                         max(len(results[n][b]) for b in benches)])
        else:
            rows.append([n, "n/a", "n/a", max(len(results[n][b]) for b in benches)])
    out.append("### Noise: (max - min) / median of `kernel_ms` over the runs\n\n"
               + md_table(["engine", "median over benches", "worst bench", "runs"], rows)
               + ("\n\n(one run per cell: no noise estimate)" if opts.runs < 2 else ""))
    return "\n\n".join(out)


def compile_tables(opts, comps, modules, results):
    names = [c[0] for c in comps]
    sizes = {m: code_section_size(module_path(opts, m)) for m in modules}
    header = ["compiler"]
    for m in modules:
        header += [f"{m} ms", f"{m} MB/s"]
    rows = []
    for n in names:
        row = [n]
        for m in modules:
            v = median(results[n][m]["ms"])
            row += [fmt_ms(v), "fail" if v is None else f"{sizes[m] / 1e3 / v:.1f}"]
        rows.append(row)
    mods = ", ".join(f"{m} = {sizes[m]:,} code bytes" for m in modules)
    out = ["### Compile time, single-threaded (median ms) and throughput (code-section MB/s)\n\n"
           + md_table(header, rows) + f"\n\nModules: {mods}."]
    wdbs = [n for n in names if n.startswith("wdb-")]
    anchors = [n for n in names if not n.startswith("wdb-")]
    if wdbs and anchors:
        rows = []
        for w in wdbs:
            for a in anchors:
                row = [f"{w} ÷ {a}"]
                for m in modules:
                    x, y = median(results[w][m]["ms"]), median(results[a][m]["ms"])
                    row.append(fmt_ratio(x / y if x and y else None))
                rows.append(row)
        out.append("### Compile-time ratios wdb ÷ anchor (< 1 means wdb compiles faster)\n\n"
                   + md_table(["ratio"] + modules, rows))
    return "\n\n".join(out)


def render(opts, env, run_md, compile_md, failures, argv):
    title = "Corpus results" if opts.corpus else "Benchmark results"
    parts = [f"## {title} ({env['date']})",
             "",
             f"- machine: {env['machine']}; load average at start: {env['load']}",
             "- versions: " + "; ".join(f"{k} {v}" for k, v in env["versions"].items()),
             f"- settings: {opts.runs} run(s) per cell (median), scale {opts.scale}, "
             f"benches {','.join(opts.benches)}; compile: {opts.runs} process(es) x "
             f"{opts.compile_iters} timed compile(s) (wdb: 1 per process)",
             f"- command: `python3 benches/harness.py {shlex.join(argv)}`"]
    if run_md:
        parts += ["", run_md]
    if compile_md:
        parts += ["", compile_md]
    if failures:
        parts += ["", "### Failures", ""]
        shown = failures[:40]
        parts += [f"- {f}" for f in shown]
        if len(failures) > len(shown):
            parts.append(f"- ... and {len(failures) - len(shown)} more")
    return "\n".join(parts) + "\n"


def write_benchmarks_md(path, section, begin=BEGIN, end=END):
    block = f"{begin}\n{section}{end}"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if begin in text and end in text:
            a = text.index(begin)
            b = text.index(end) + len(end)
            text = text[:a] + block + text[b:]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = ("# wdb benchmarks\n\n"
                "Generated by `python3 benches/harness.py --write` (see benches/README.md);\n"
                "the part between the harness markers is replaced on every run.\n\n"
                + block + "\n")
    with open(path, "w") as f:
        f.write(text)
    log(f"wrote {path}")


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs per cell (median); default 5")
    ap.add_argument("--scale", default="1", help="scale argument of the programs; default 1 (~1 s native)")
    ap.add_argument("--quick", action="store_true", help="smoke test: --runs 1 --scale 0.05 --compile-iters 1")
    ap.add_argument("--benches", default=None,
                    help="comma list of C samples (with --corpus: of corpus modules, e.g. sqlite,lua-g)")
    ap.add_argument("--corpus", action="store_true",
                    help="run the corpus of real programs (benches/corpus) instead of the C samples")
    ap.add_argument("--only", default="", help="comma list of engines or groups (wdb,node,v8,wasmtime,wt,native)")
    ap.add_argument("--wdb", default=os.path.join(ROOT, "target", "release", "wdb"), help="wdb binary")
    ap.add_argument("--wdb-tiers", default="baseline", help="comma list of wdb tiers; default baseline")
    ap.add_argument("--wdb-base", default=None,
                    help="a second wdb binary run in the same tiers as wdb-<tier>-base (before/after a change)")
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time table")
    ap.add_argument("--no-run", action="store_true", help="skip the run-time tables")
    ap.add_argument("--compile-modules", default=None,
                    help="modules for the compile table (samples/<name>.wasm, with --corpus benches/corpus/<name>.wasm);"
                         " 'benches' adds every benchmark; default big (--corpus: the -O0 -g modules)")
    ap.add_argument("--compile-iters", type=int, default=3, help="timed compiles per anchor process; default 3")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per process; default 600")
    ap.add_argument("--write", action="store_true", help="replace the harness section of BENCHMARKS.md")
    ap.add_argument("--benchmarks-md", default=os.path.join(ROOT, "BENCHMARKS.md"), help="file for --write")
    ap.add_argument("--json", help="also dump every single measurement to this JSON file")
    argv = sys.argv[1:]
    opts = ap.parse_args()
    if opts.quick:
        opts.runs = 1
        if opts.scale == "1":
            opts.scale = "0.05"
        opts.compile_iters = 1
    if opts.benches is None:
        opts.benches = ",".join(CORPUS_BENCHES if opts.corpus else ALL_BENCHES)
    opts.benches = [b for b in opts.benches.split(",") if b]
    if opts.compile_modules is None:
        opts.compile_modules = ",".join(p + "-g" for p in CORPUS_PROGRAMS) if opts.corpus else "big"
    opts.wdb_tiers = [t for t in opts.wdb_tiers.split(",") if t]
    opts.wdb = os.path.abspath(opts.wdb)
    if opts.wdb_base:
        opts.wdb_base = os.path.abspath(opts.wdb_base)
    only = [o for o in opts.only.split(",") if o]
    known = set()
    for e in run_engines(opts):
        known |= {e.name, *e.groups}
    for c in compilers(opts):
        known |= {c[0], *c[1]}
    unknown = [o for o in only if o not in known]
    if unknown:
        sys.exit(f"--only: unknown engine(s) {','.join(unknown)}; known: {','.join(sorted(known))}")
    for b in opts.benches:
        if not os.path.exists(module_path(opts, b)):
            sys.exit(f"{os.path.relpath(module_path(opts, b), ROOT)} is missing: run "
                     + ("benches/corpus/build.sh" if opts.corpus else "samples/build.sh"))

    env = environment(opts)
    failures = []
    run_md = compile_md = ""
    raw = {"env": env, "argv": argv}

    if not opts.no_run:
        engines = [e for e in run_engines(opts) if selected(e.name, e.groups, only)]
        if any(e.name == "native" for e in engines) and not os.path.exists(
                native_path(opts, opts.benches[0])):
            log("native builds missing: run " + ("benches/corpus/build.sh" if opts.corpus else "samples/build.sh"))
        if engines:
            results = measure_runs(opts, engines, opts.benches, opts.scale, failures)
            run_md = run_tables(opts, engines, opts.benches, results, opts.scale)
            raw["runs"] = results

    if not opts.no_compile:
        comps = [c for c in compilers(opts) if selected(c[0], c[1], only)]
        modules = []
        for m in opts.compile_modules.split(","):
            modules += opts.benches if m == "benches" else [m] if m else []
        modules = [m for m in modules if os.path.exists(module_path(opts, m))]
        if comps and modules:
            cres = measure_compiles(opts, comps, modules, failures)
            compile_md = compile_tables(opts, comps, modules, cres)
            raw["compiles"] = cres

    md = render(opts, env, run_md, compile_md, failures, argv)
    print(md)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(raw, f, indent=1)
    if opts.write:
        if opts.corpus:
            write_benchmarks_md(opts.benchmarks_md, md, CORPUS_BEGIN, CORPUS_END)
        else:
            write_benchmarks_md(opts.benchmarks_md, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
