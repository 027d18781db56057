#!/usr/bin/env bash
# setup.sh - install what a fresh Debian 12 machine lacks for wdb's benchmarks and samples.
#
#   sudo benches/setup.sh            # everything
#   benches/setup.sh --no-apt        # only the Python package (samples already built)
#
# - clang-14, lld-14, wasi-libc, libclang-rt-14-dev-wasm32: only to rebuild samples/*.wasm
#   (samples/build.sh); the built modules are committed.
# - wabt: wat2wasm / wasm-objdump / wasm-validate (build.sh checks the .wat samples with it).
# - gcc: native baseline builds (samples/build/, git-ignored; the harness needs them).
# - wasmtime (PyPI): the Wasmtime anchors (Cranelift, Winch) of benches/harness.py.
# - node (>= 20, for node:wasi) is assumed present; it is checked, not installed.
set -euo pipefail

if [ "${1:-}" != "--no-apt" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update
    $SUDO apt-get install -y gcc clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt python3-pip
fi

if ! python3 -c 'import wasmtime' 2>/dev/null; then
    # Debian 12 marks the system Python as externally managed; fall back accordingly.
    pip install wasmtime || pip install --break-system-packages wasmtime
fi

if command -v node >/dev/null; then
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 20 ] || echo "warning: node $(node --version) is older than 20 (node:wasi preview1 needs 20)" >&2
else
    echo "warning: node not found; the V8 anchors (v8-*) will fail" >&2
fi

cd "$(dirname "$0")/.."
echo "building samples (native builds are needed by the harness)..." >&2
if command -v clang-14 >/dev/null; then
    samples/build.sh
    benches/corpus/build.sh     # the corpus: fetches its crates with cargo (harness.py --corpus)
else
    # no wasm toolchain: build only the native baselines from the committed sources
    mkdir -p samples/build
    for n in fib nbody matmul sha256 sieve qsort interp memstr debugme; do
        gcc -O2 -o "samples/build/$n" "samples/c/$n.c" -lm
    done
fi
echo "ready: python3 benches/harness.py --quick" >&2
