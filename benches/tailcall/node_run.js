// Runs one export of loop.wasm in V8 (node) and prints the result and the
// time of the call alone in ms: node node_run.js loop.wasm EXPORT N
import fs from 'node:fs';
const [file, name, n] = process.argv.slice(2);
const module = new WebAssembly.Module(fs.readFileSync(file));
const instance = new WebAssembly.Instance(module);
const f = instance.exports[name];
const t0 = process.hrtime.bigint();
const r = f(BigInt(n));
const t1 = process.hrtime.bigint();
console.log(`${r} ${(Number(t1 - t0) / 1e6).toFixed(1)}`);
