// Calls one export of a .wasm in V8 (node) with integer arguments and
// prints the result: node [V8 FLAGS] node_invoke.mjs FILE EXPORT ARGS...
// With I64_ARGS=1 in the environment the arguments are passed as BigInt
// (for i64 parameters: node 20's JS API cannot tell the types).
import fs from 'node:fs';
const [file, name, ...args] = process.argv.slice(2);
const module = new WebAssembly.Module(fs.readFileSync(file));
const instance = new WebAssembly.Instance(module);
const big = process.env.I64_ARGS === '1';
const r = instance.exports[name](...args.map((a) => (big ? BigInt(a) : Number(a))));
console.log(`${r}`);
