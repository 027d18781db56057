// Drives `wdb dap` with Microsoft's DebugClient (@vscode/debugadapter-testsupport),
// the library VS Code's own debug adapters are tested with. Run by
// ui/tests/dap_client.rs (which sets WDB to the binary under test):
//   WDB=target/debug/wdb node --test tests/npm/dap.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const WDB = process.env.WDB;
if (!WDB) throw new Error('set WDB to the wdb binary');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const program = path.join(root, 'samples/debugme-g.wasm');
const source = path.join(root, 'samples/c/debugme.c');

async function start() {
  const dc = new DebugClient(WDB, 'dap', 'wdb');
  // The machine running the tests may be slow; nothing here measures time.
  dc.defaultTimeout = 120000;
  await dc.start();
  return dc;
}

async function launch(dc, args, breakpointLines) {
  const init = await dc.initializeRequest({ adapterID: 'wdb', linesStartAt1: true, columnsStartAt1: true });
  assert.equal(init.body.supportsSteppingGranularity, true);
  assert.equal(init.body.supportsInstructionBreakpoints, true);
  const initialized = dc.waitForEvent('initialized');
  await dc.launchRequest({ program, args });
  await initialized;
  const bps = await dc.setBreakpointsRequest({
    source: { path: source },
    breakpoints: breakpointLines.map((line) => ({ line })),
  });
  for (const bp of bps.body.breakpoints) assert.equal(bp.verified, true, JSON.stringify(bp));
  await dc.setExceptionBreakpointsRequest({ filters: [] });
}

async function top(dc) {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  return st.body.stackFrames;
}

async function variables(dc, ref) {
  const r = await dc.variablesRequest({ variablesReference: ref });
  return Object.fromEntries(r.body.variables.map((v) => [v.name, v]));
}

async function scopes(dc, frameId) {
  const r = await dc.scopesRequest({ frameId });
  return Object.fromEntries(r.body.scopes.map((s) => [s.name, s.variablesReference]));
}

test('breakpoint, stack, scopes, variables, steps, evaluate, instruction breakpoint, memory, exit', async () => {
  const dc = await start();
  try {
    await launch(dc, ['0'], [75]);
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.equal((await stopped).body.reason, 'breakpoint');

    // Stack: mean at debugme.c:75, called by compute_stats, called by main.
    let frames = await top(dc);
    assert.match(frames[0].name, /^mean \[baseline·debug\]$/);
    assert.equal(frames[0].line, 75);
    assert.equal(frames[0].source.name, 'debugme.c');
    // A path the editor can open on this machine (DWARF names the build machine's).
    assert.ok(fs.existsSync(frames[0].source.path), frames[0].source.path);
    assert.match(frames[0].instructionPointerReference, /^0x[0-9a-f]+$/);
    assert.match(frames[1].name, /^compute_stats /);
    assert.equal(frames[1].line, 109);
    assert.ok(frames.some((f) => /^main /.test(f.name) || /__main_argc_argv /.test(f.name)), JSON.stringify(frames.map((f) => f.name)));

    // Scopes and variables of the top frame.
    let sc = await scopes(dc, frames[0].id);
    for (const name of ['Locals', 'Arguments', 'Wasm locals', 'Operand stack', 'Registers', 'Globals']) {
      assert.ok(sc[name] > 0, `scope ${name} missing: ${JSON.stringify(sc)}`);
    }
    let locals = await variables(dc, sc.Locals);
    assert.equal(locals.sum.value, '0');
    assert.equal(locals.i.value, '0');
    assert.equal(locals.sum.type, 'int');
    const args = await variables(dc, sc.Arguments);
    // gdb's shape: the pointer's type, then its address.
    assert.match(args.ds.value, /^\(const struct dataset \*\) 0x[0-9a-f]+$/);
    const ds = parseInt(args.ds.value.match(/0x[0-9a-f]+$/)[0], 16);
    const wasmLocals = await variables(dc, sc['Wasm locals']);
    assert.ok('$local0' in wasmLocals);
    assert.match(wasmLocals.$local0.type, /^i32 @ /);
    const regs = await variables(dc, sc.Registers);
    assert.ok(regs['general purpose'].variablesReference > 0, 'registers are nested');
    const gpr = await variables(dc, regs['general purpose'].variablesReference);
    assert.match(gpr.rsp.value, /^0x[0-9a-f]{16}$/);
    // xmm registers: all 128 bits, then their lanes in the current shape.
    const xmm = await variables(dc, regs.xmm.variablesReference);
    assert.match(xmm.xmm15.value, /^0x[0-9a-f]{32} i32x4 \[-?\d+ -?\d+ -?\d+ -?\d+\]$/);
    assert.equal(xmm.xmm15.type, 'v128');
    const globals = await variables(dc, sc.Globals);
    assert.ok(Object.keys(globals).some((n) => n.startsWith('$global0')));

    // Evaluate: a source variable (watch) and a console command (repl).
    let ev = await dc.evaluateRequest({ expression: 'sum', frameId: frames[0].id, context: 'watch' });
    assert.equal(ev.body.result, '0');
    // A C expression through DWARF (the engine's expression evaluator), as a watch and a hover.
    ev = await dc.evaluateRequest({ expression: 'ds->count', frameId: frames[0].id, context: 'watch' });
    assert.equal(ev.body.result, '16');
    ev = await dc.evaluateRequest({ expression: 'ds->values[1] * 2 + sum', frameId: frames[0].id, context: 'hover' });
    assert.equal(ev.body.result, '90');
    ev = await dc.evaluateRequest({ expression: 'info breakpoints', frameId: frames[0].id, context: 'repl' });
    assert.match(ev.body.result, /debugme\.c:75/);
    await assert.rejects(dc.evaluateRequest({ expression: 'no_such_var', frameId: frames[0].id, context: 'watch' }));

    // Memory: ds->values[0..16] and ds->count, as the C program parsed them.
    const mem = await dc.customRequest('readMemory', { memoryReference: `0x${ds.toString(16)}`, count: 68 });
    const bytes = Buffer.from(mem.body.data, 'base64');
    assert.equal(bytes.length, 68);
    const ints = [...Array(17).keys()].map((k) => bytes.readInt32LE(4 * k));
    assert.deepEqual(ints, [12, 45, 7, 30, 18, 52, 3, 41, 27, 36, 9, 60, 24, 15, 48, 53, 16]);

    // Step by line: from line 75 to the loop's increment on line 74.
    let s = dc.waitForEvent('stopped');
    await dc.nextRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'step');
    frames = await top(dc);
    assert.equal(frames[0].line, 74);
    assert.match(frames[0].name, /^mean /);

    // Back to the breakpoint: the second iteration has added values[0].
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'breakpoint');
    frames = await top(dc);
    sc = await scopes(dc, frames[0].id);
    locals = await variables(dc, sc.Locals);
    assert.equal(locals.i.value, '1');
    assert.equal(locals.sum.value, '12');

    // setVariable on a source variable (C assignment through DWARF), then
    // undo it: the program's result below is unchanged.
    let set = await dc.setVariableRequest({ variablesReference: sc.Locals, name: 'sum', value: '100' });
    assert.equal(set.body.value, '100');
    ev = await dc.evaluateRequest({ expression: 'sum', frameId: frames[0].id, context: 'watch' });
    assert.equal(ev.body.result, '100');
    set = await dc.setVariableRequest({ variablesReference: sc.Locals, name: 'sum', value: '12' });
    assert.equal(set.body.value, '12');

    // Step by instruction: exactly one wasm instruction further.
    const dis = await dc.disassembleRequest({
      memoryReference: frames[0].instructionPointerReference, instructionOffset: 0, instructionCount: 4,
    });
    const next = dis.body.instructions.map((i) => i.address);
    assert.equal(next[0], frames[0].instructionPointerReference);
    s = dc.waitForEvent('stopped');
    await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
    assert.equal((await s).body.reason, 'step');
    frames = await top(dc);
    assert.equal(frames[0].instructionPointerReference, next[1]);

    // An instruction breakpoint by module offset, two instructions ahead.
    await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: [] });
    const ib = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: next[3] }] });
    assert.equal(ib.body.breakpoints[0].verified, true);
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'breakpoint');
    frames = await top(dc);
    assert.equal(frames[0].instructionPointerReference, next[3]);

    // Off the breakpoints, run to the end: the program's output and exit code 0.
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    let stdout = '';
    dc.on('output', (e) => { if (e.body.category === 'stdout') stdout += e.body.output; });
    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
    await terminated;
    assert.match(stdout, /average 31\.00, variance 317\.00/);
  } finally {
    await dc.stop();
  }
});

test('a failing run reports its exit code', async () => {
  const dc = await start();
  try {
    await launch(dc, ['0', 'no digits here'], []);
    const exited = dc.waitForEvent('exited');
    const output = dc.assertOutput('stdout', 'no numbers in input');
    await dc.configurationDoneRequest();
    await output;
    assert.equal((await exited).body.exitCode, 1);
  } finally {
    await dc.stop();
  }
});

test('stop at a trap (exception filter "traps"), then the trap ends the program', async () => {
  const dc = await start();
  try {
    const init = await dc.initializeRequest({ adapterID: 'wdb' });
    assert.deepEqual(init.body.exceptionBreakpointFilters.map((f) => f.filter), ['traps', 'throws']);
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: path.join(root, 'samples/trap.wat'), invoke: 'boom' });
    await initialized;
    const eb = await dc.setExceptionBreakpointsRequest({ filters: ['traps'] });
    assert.equal(eb.body.breakpoints[0].verified, true);
    const s = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const stop = (await s).body;
    assert.equal(stop.reason, 'exception');
    assert.equal(stop.text, 'unreachable');
    // Stopped before the `unreachable`, two calls deep, with the frame intact.
    const frames = await top(dc);
    assert.deepEqual(frames.slice(0, 3).map((f) => f.name.split(' ')[0]), ['innermost', 'inner', 'boom']);
    const info = await dc.customRequest('exceptionInfo', { threadId: 1 });
    assert.equal(info.body.description, 'unreachable');
    const dis = await dc.disassembleRequest({
      memoryReference: frames[0].instructionPointerReference, instructionCount: 1,
    });
    assert.equal(dis.body.instructions[0].instruction, 'unreachable');
    // Continuing runs the instruction: the trap ends the program (exit code 134).
    let stderr = '';
    dc.on('output', (e) => { if (e.body.category === 'stderr') stderr += e.body.output; });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 134);
    assert.match(stderr, /wasm trap: unreachable in innermost \(func 4\) at 0x9a/);
  } finally {
    await dc.stop();
  }
});

test('stop at a C++ throw (exception filter "throws"), then run to the end without it', async () => {
  const dc = await start();
  try {
    await dc.initializeRequest({ adapterID: 'wdb' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: path.join(root, 'samples/ledger-g.wasm') });
    await initialized;
    const eb = await dc.setExceptionBreakpointsRequest({ filters: ['throws'] });
    assert.equal(eb.body.breakpoints[0].verified, true);
    const s = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const stop = (await s).body;
    assert.equal(stop.reason, 'exception');
    assert.match(stop.text, /a C\+\+ exception of type ParseError/);
    // The thrower is the top frame; the C++ frames that threw are below it.
    const frames = await top(dc);
    assert.equal(frames[0].name.split(' ')[0], '_Unwind_RaiseException');
    const thrower = frames.find((f) => f.name.startsWith('parse_amount'));
    assert.ok(thrower, JSON.stringify(frames.map((f) => f.name)));
    assert.equal(thrower.line, 73);
    const info = await dc.customRequest('exceptionInfo', { threadId: 1 });
    assert.equal(info.body.exceptionId, 'throw');
    assert.match(info.body.description, /ParseError/);
    // Without the filter the program runs to its end, as natively.
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    let stdout = '';
    dc.on('output', (e) => { if (e.body.category === 'stdout') stdout += e.body.output; });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
    assert.match(stdout, /failed lines: 5, ledger errors rethrown: 3/);
  } finally {
    await dc.stop();
  }
});

test('the repl takes console commands: profile on and off', async () => {
  const dc = await start();
  try {
    await launch(dc, ['0'], [75]);
    const s = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await s;
    let ev = await dc.evaluateRequest({ expression: 'profile on', context: 'repl' });
    assert.match(ev.body.result, /profile/i);
    ev = await dc.evaluateRequest({ expression: 'info functions', context: 'repl' });
    assert.match(ev.body.result, /optimized/);
    ev = await dc.evaluateRequest({ expression: 'profile off', context: 'repl' });
    assert.match(ev.body.result, /debug/i);
    ev = await dc.evaluateRequest({ expression: 'p ds->count', context: 'repl' });
    assert.match(ev.body.result, /= 16$/);
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest();
    await terminated;
  } finally {
    await dc.stop();
  }
});

test('stop on entry, function breakpoint, step out, restart', async () => {
  const dc = await start();
  try {
    await dc.initializeRequest({ adapterID: 'wdb' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program, args: ['0'], stopOnEntry: true });
    await initialized;
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'variance' }] });
    assert.equal(fb.body.breakpoints[0].verified, true);
    let s = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.equal((await s).body.reason, 'entry');
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'breakpoint');
    let frames = await top(dc);
    assert.match(frames[0].name, /^variance /);
    s = dc.waitForEvent('stopped');
    await dc.stepOutRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'step');
    frames = await top(dc);
    assert.match(frames[0].name, /^compute_stats /);
    // restart: the program starts over (stopOnEntry holds) and stops at the entry again.
    s = dc.waitForEvent('stopped');
    await dc.restartRequest({});
    assert.equal((await s).body.reason, 'entry');
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest();
    await terminated;
  } finally {
    await dc.stop();
  }
});

test('data breakpoints: dataBreakpointInfo, setDataBreakpoints, stops with old and new values', async () => {
  const dc = await start();
  try {
    const init = await dc.initializeRequest({ adapterID: 'wdb', linesStartAt1: true, columnsStartAt1: true });
    assert.equal(init.body.supportsDataBreakpoints, true);
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program, args: ['0'] });
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: [{ line: 75 }] });
    let s = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.equal((await s).body.reason, 'breakpoint');
    let frames = await top(dc);
    const sc = await scopes(dc, frames[0].id);

    // A C local in linear memory (the -O0 shadow stack): watchable, as an address-bound id.
    const info = await dc.customRequest('dataBreakpointInfo', { variablesReference: sc.Locals, name: 'sum' });
    assert.match(info.body.dataId, /^\*\(int \*\)0x[0-9a-f]+$/, JSON.stringify(info.body));
    assert.match(info.body.description, /^sum \(int, 4 bytes at 0x[0-9a-f]+\)$/);
    assert.deepEqual(info.body.accessTypes, ['write', 'read', 'readWrite']);
    // A wasm local, an operand-stack value: not in linear memory, so no id, and why.
    let no = await dc.customRequest('dataBreakpointInfo', { variablesReference: sc['Wasm locals'], name: '$local0' });
    assert.equal(no.body.dataId, null);
    assert.match(no.body.description, /wasm local or global, not in linear memory/);
    const globals = await variables(dc, sc.Globals);
    const sp = Object.keys(globals).find((n) => n.startsWith('$global0'));
    no = await dc.customRequest('dataBreakpointInfo', { variablesReference: sc.Globals, name: sp });
    assert.equal(no.body.dataId, null);
    assert.match(no.body.description, /wasm local or global, not in linear memory/);
    no = await dc.customRequest('dataBreakpointInfo', { variablesReference: sc['Operand stack'], name: '[0]' });
    assert.equal(no.body.dataId, null);
    assert.match(no.body.description, /operand-stack/);
    // An expression in the frame, and an address with a byte count.
    const count = await dc.customRequest('dataBreakpointInfo', { name: 'ds->count', frameId: frames[0].id });
    assert.match(count.body.dataId, /^\*\(int \*\)0x[0-9a-f]+$/);
    const countAddr = count.body.dataId.match(/0x[0-9a-f]+$/)[0];
    const byAddr = await dc.customRequest('dataBreakpointInfo', { name: countAddr, asAddress: true, bytes: 4 });
    assert.equal(byAddr.body.dataId, `*(unsigned int *)${countAddr}`);
    assert.equal(byAddr.body.description, `4 bytes at ${countAddr}`);
    no = await dc.customRequest('dataBreakpointInfo', { name: 'no_such_var', frameId: frames[0].id });
    assert.equal(no.body.dataId, null);
    assert.match(no.body.description, /no_such_var/);

    // A data id the adapter never gave out is refused; the session goes on.
    await assert.rejects(
      dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: 'bogus' }] }),
      /unknown dataId `bogus`/,
    );
    await assert.rejects(
      dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'sometimes' }] }),
      /unknown accessType/,
    );

    // Break when sum changes; off the line breakpoint.
    let set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
    assert.equal(set.body.breakpoints[0].verified, true, JSON.stringify(set.body));
    const sumId = set.body.breakpoints[0].id;
    await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: [] });
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    let stop = (await s).body;
    assert.equal(stop.reason, 'data breakpoint', JSON.stringify(stop));
    assert.deepEqual(stop.hitBreakpointIds, [sumId]);
    assert.equal(stop.description, `data breakpoint ${sumId} (sum): Old value = 0, New value = 12`);
    assert.match(stop.text, /^Hardware watchpoint \d+: sum\n\nOld value = 0\nNew value = 12\nwritten by the instruction at 0x[0-9a-f]+ in mean, debugme\.c:75 \[baseline·debug\]$/);
    // As in gdb, the program stops right after the write: the store ended
    // line 75, the next instruction is the loop's `i++` on line 74.
    frames = await top(dc);
    assert.match(frames[0].name, /^mean /);
    assert.equal(frames[0].line, 74);
    let ev = await dc.evaluateRequest({ expression: 'sum', frameId: frames[0].id, context: 'watch' });
    assert.equal(ev.body.result, '12');

    // The next write: 12 + values[1].
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    stop = (await s).body;
    assert.equal(stop.description, `data breakpoint ${sumId} (sum): Old value = 12, New value = 57`);

    // setDataBreakpoints replaces the whole set: now only reads of ds->count.
    set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: count.body.dataId, accessType: 'read' }] });
    const countId = set.body.breakpoints[0].id;
    assert.equal(set.body.breakpoints[0].verified, true);
    assert.notEqual(countId, sumId);
    ev = await dc.evaluateRequest({ expression: 'info watchpoints', context: 'repl' });
    assert.doesNotMatch(ev.body.result, new RegExp(`^${sumId} `, 'm'));
    assert.match(ev.body.result, new RegExp(`^${countId} +read watchpoint`, 'm'));
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    stop = (await s).body;
    assert.equal(stop.reason, 'data breakpoint');
    assert.deepEqual(stop.hitBreakpointIds, [countId]);
    assert.equal(stop.description, `data breakpoint ${countId} (ds->count): Value = 16`);
    assert.match(stop.text, /read by the instruction at 0x[0-9a-f]+ in mean, debugme\.c:74 /);

    // readWrite: the next access of sum is the read in `sum += ds->values[i]`.
    set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'readWrite' }] });
    const accessId = set.body.breakpoints[0].id;
    s = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    stop = (await s).body;
    assert.deepEqual(stop.hitBreakpointIds, [accessId]);
    assert.equal(stop.description, `data breakpoint ${accessId} (sum): Value = 57`);
    assert.match(stop.text, /^Hardware access \(read\/write\) watchpoint \d+: sum\n\nValue = 57\nread by the instruction at 0x[0-9a-f]+ in mean, debugme\.c:75 /);

    // Conditions are not taken (said so, not ignored); none left, the program runs to its end.
    set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, condition: 'sum > 100' }] });
    assert.equal(set.body.breakpoints[0].verified, false);
    assert.match(set.body.breakpoints[0].message, /no condition/);
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
  } finally {
    await dc.stop();
  }
});
