#!/usr/bin/env python3
"""wasmtime_wasi.py - wdb's benchmark runner for Wasmtime (the `wasmtime` PyPI package).

    python3 benches/runners/wasmtime_wasi.py [--engine cranelift|winch] [--single-threaded] \
        run MODULE.wasm [ARGS...]
    python3 benches/runners/wasmtime_wasi.py [...] compile MODULE.wasm [ITERS]
    python3 benches/runners/wasmtime_wasi.py [...] invoke MODULE.wasm|.wat EXPORT [ARGS...]

run:     runs the WASI command `_start` with argv = [MODULE, ARGS...] (stdout/stderr
         inherited); exits with the program's exit code.
compile: compiles ITERS+1 times (default 5+1); the first is a warm-up and not reported.
         wasmtime-py has no compilation cache unless configured, so nothing is reused.
invoke:  calls EXPORT with numeric arguments and prints the results one per line, or
         `trap:<kind>` (kinds as in samples/expected/wat.tsv) and exit code 1.

--engine:           cranelift (default; Wasmtime's optimizing compiler) or winch (its
                    single-pass baseline compiler).
--single-threaded:  Config.parallel_compilation = False (one core compiles everything).
--features LIST:    also enable these proposals (comma-separated: exceptions, tail-call),
                    as `wasmtime -W exceptions=y,tail-call=y` does.

Timings go to stderr as one line:  @@bench {"compile_ms": ..., ...}   (milliseconds)
"""
import json
import sys
import time

import wasmtime
from wasmtime import _ffi as ffi

# C API enum wasmtime_strategy_t: 0 auto, 1 cranelift, 2 winch. The Python
# `Config.strategy` setter only accepts "auto" and "cranelift", so set it directly.
STRATEGY = {"cranelift": 1, "winch": 2}

TRAP_KINDS = {
    "INTEGER_DIVISION_BY_ZERO": "integer-divide-by-zero",
    "INTEGER_OVERFLOW": "integer-overflow",
    "MEMORY_OUT_OF_BOUNDS": "out-of-bounds-memory-access",
    "STACK_OVERFLOW": "call-stack-exhausted",
    "UNREACHABLE": "unreachable",
    "BAD_CONVERSION_TO_INTEGER": "invalid-conversion-to-integer",
    "TABLE_OUT_OF_BOUNDS": "undefined-element",
    "INDIRECT_CALL_TO_NULL": "uninitialized-element",
    "BAD_SIGNATURE": "indirect-call-type-mismatch",
}


def report(**kw):
    sys.stderr.write("@@bench " + json.dumps(kw) + "\n")
    sys.stderr.flush()


def make_engine(engine, single_threaded, features=()):
    cfg = wasmtime.Config()
    ffi.wasmtime_config_strategy_set(cfg.ptr(), STRATEGY[engine])
    if single_threaded:
        cfg.parallel_compilation = False
    for f in features:
        if f == "exceptions":
            cfg.wasm_exceptions = True
        elif f == "tail-call":
            cfg.wasm_tail_call = True
        else:
            sys.exit(f"unknown feature {f}")
    return wasmtime.Engine(cfg)


def load(engine, path):
    if path.endswith(".wat"):
        with open(path) as f:
            return wasmtime.Module(engine, f.read())
    with open(path, "rb") as f:
        return wasmtime.Module(engine, f.read())


def parse_arg(s, ty):
    k = str(ty)
    if k in ("i32", "i64"):
        v = int(s)
        bits = 32 if k == "i32" else 64
        if v >= 1 << (bits - 1):
            v -= 1 << bits
        return v
    return float(s)


def main(argv):
    engine_name = "cranelift"
    single = False
    features = []
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--engine":
            engine_name = argv.pop(0)
        elif opt.startswith("--engine="):
            engine_name = opt.split("=", 1)[1]
        elif opt == "--single-threaded":
            single = True
        elif opt == "--features":
            features = [f for f in argv.pop(0).split(",") if f]
        else:
            sys.exit(f"unknown option {opt}")
    if len(argv) < 2 or engine_name not in STRATEGY:
        sys.exit(__doc__)
    mode, path, rest = argv[0], argv[1], argv[2:]
    engine = make_engine(engine_name, single, features)

    if mode == "compile":
        iters = int(rest[0]) if rest else 5
        with open(path, "rb") as f:
            data = f.read()
        times = []
        for i in range(iters + 1):
            t0 = time.perf_counter()
            wasmtime.Module(engine, data)
            t1 = time.perf_counter()
            if i > 0:
                times.append((t1 - t0) * 1e3)
        report(compile_ms=times, bytes=len(data))
        return 0

    t0 = time.perf_counter()
    module = load(engine, path)
    t1 = time.perf_counter()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    if mode == "run":
        w = wasmtime.WasiConfig()
        w.argv = [path] + rest
        w.inherit_stdout()
        w.inherit_stderr()
        store.set_wasi(w)
    else:
        store.set_wasi(wasmtime.WasiConfig())
    linker.define_wasi()
    inst = linker.instantiate(store, module)
    t2 = time.perf_counter()

    if mode == "run":
        code = 0
        try:
            inst.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            code = e.code
        except wasmtime.Trap as e:
            sys.stdout.flush()
            sys.stderr.write(f"trap: {e.message}\n")
            code = 134
        t3 = time.perf_counter()
        report(compile_ms=(t1 - t0) * 1e3, instantiate_ms=(t2 - t1) * 1e3,
               start_ms=(t3 - t2) * 1e3, exit=code)
        return code

    if mode == "invoke":
        name, fargs = rest[0], rest[1:]
        fn = inst.exports(store)[name]
        params = list(fn.type(store).params)
        vals = [parse_arg(a, t) for a, t in zip(fargs, params)]
        try:
            res = fn(store, *vals)
        except wasmtime.Trap as e:
            code = e.trap_code
            kind = TRAP_KINDS.get(code.name, code.name.lower()) if code else "unknown"
            print(f"trap:{kind}")
            return 1
        if res is None:
            res = []
        elif not isinstance(res, (list, tuple)):
            res = [res]
        for v in res:
            print(v)
        return 0
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
