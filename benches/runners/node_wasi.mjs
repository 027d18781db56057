// node_wasi.mjs - wdb's benchmark runner for V8 (through Node's node:wasi).
//
//   node [NODE/V8 FLAGS] benches/runners/node_wasi.mjs run     MODULE.wasm [ARGS...]
//   node [NODE/V8 FLAGS] benches/runners/node_wasi.mjs compile MODULE.wasm [ITERS]
//   node [NODE/V8 FLAGS] benches/runners/node_wasi.mjs invoke  MODULE.wasm EXPORT [ARGS...]
//
// run:     runs the WASI command (`_start`) with argv = [MODULE, ARGS...]; its stdout is
//          passed through untouched and the runner exits with the program's exit code.
// compile: compiles the module ITERS+1 times (default 5+1) with `new WebAssembly.Module`;
//          the first compile is a warm-up and is not reported. Every compile gets its own
//          copy of the bytes with a custom section of a unique name appended, so V8's
//          native-module cache (keyed on the wire bytes) never hits.
// invoke:  instantiates (WASI imports available, no _start) and calls EXPORT with numeric
//          arguments, printing each result on its own line (used by samples/check.py).
//
// Timings go to stderr as one line:  @@bench {"compile_ms": ..., ...}   (milliseconds)
//
// Flags used by benches/harness.py (always with --no-warnings --no-turbo-fast-api-calls;
// the latter avoids a node 20 crash in WASI fast API calls when memory grows large):
//   --liftoff-only --no-wasm-lazy-compilation   V8's baseline compiler only, eager
//   --no-liftoff   --no-wasm-lazy-compilation   TurboFan only, eager
//   (none)                                      default: lazy, Liftoff, dynamic tier-up
//   --single-threaded                           no background compile threads
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

function report(obj) {
  process.stderr.write('@@bench ' + JSON.stringify(obj) + '\n');
}

// Appends a custom section (id 0) named `wdb-bench-nocache-<tag>` to a copy of `bytes`.
function withUniqueSection(bytes, tag) {
  const name = Buffer.from(`wdb-bench-nocache-${process.pid}-${tag}`, 'utf8');
  const leb = (n) => {               // unsigned LEB128
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return Buffer.from(out);
  };
  const payload = Buffer.concat([leb(name.length), name]);
  return Buffer.concat([bytes, Buffer.from([0]), leb(payload.length), payload]);
}

// V8's trap messages -> the kinds of samples/expected/wat.tsv
const TRAP_KINDS = [
  [/divide by zero|remainder by zero/, 'integer-divide-by-zero'],
  [/divide result unrepresentable/, 'integer-overflow'],
  [/float unrepresentable/, 'invalid-conversion-to-integer'],
  [/memory access out of bounds/, 'out-of-bounds-memory-access'],
  [/call stack size exceeded/, 'call-stack-exhausted'],
  [/unreachable/, 'unreachable'],
  [/table index is out of bounds/, 'undefined-element'],
  [/null function|function signature mismatch/, 'indirect-call-type-mismatch'],
];

function parseArg(s) {
  if (/^-?\d+$/.test(s)) {
    const n = BigInt(s);
    return (n >= -(2n ** 31n) && n < 2n ** 32n) ? Number(n) : n;
  }
  return Number(s);
}

const [mode, path, ...rest] = process.argv.slice(2);
if (!mode || !path) {
  process.stderr.write('usage: node [flags] node_wasi.mjs run|compile|invoke MODULE.wasm [...]\n');
  process.exit(2);
}
const bytes = readFileSync(path);

if (mode === 'compile') {
  const iters = rest.length ? Number(rest[0]) : 5;
  const times = [];
  for (let i = 0; i <= iters; i++) {
    const b = withUniqueSection(bytes, i);
    const t0 = performance.now();
    const m = new WebAssembly.Module(b);
    const t1 = performance.now();
    if (WebAssembly.Module.exports(m).length < 0) throw new Error('unreachable');
    if (i > 0) times.push(t1 - t0);
  }
  report({ compile_ms: times, bytes: bytes.length });
} else if (mode === 'run' || mode === 'invoke') {
  const args = mode === 'run' ? rest : [];
  const wasi = new WASI({ version: 'preview1', args: [path, ...args], env: {}, returnOnExit: true });
  const t0 = performance.now();
  const mod = new WebAssembly.Module(bytes);
  const t1 = performance.now();
  const imports = WebAssembly.Module.imports(mod).length ? wasi.getImportObject() : {};
  const inst = new WebAssembly.Instance(mod, imports);
  const t2 = performance.now();
  if (mode === 'run') {
    const rc = wasi.start(inst);
    const t3 = performance.now();
    report({ compile_ms: t1 - t0, instantiate_ms: t2 - t1, start_ms: t3 - t2, exit: rc });
    process.exitCode = rc;
  } else {
    const [name, ...fargs] = rest;
    const fn = inst.exports[name];
    if (typeof fn !== 'function') {
      process.stderr.write(`no exported function ${name}\n`);
      process.exit(2);
    }
    let res;
    try {
      res = fn(...fargs.map(parseArg));
    } catch (e) {
      const hit = TRAP_KINDS.find(([re]) => re.test(String(e.message)));
      process.stdout.write(`trap:${hit ? hit[1] : 'unknown'}\n`);
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    const list = res === undefined ? [] : Array.isArray(res) ? res : [res];
    for (const v of list) process.stdout.write(String(v) + '\n');
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
