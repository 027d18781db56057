//! Debug code and its side table (DESIGN.md §3.5, §3.8): with the debug flag on,
//! the hook runs at every instruction in execution order, and the locals and
//! operand-stack values it reads through the side table equal those of a small
//! reference interpreter written here in Rust; the operand types agree with
//! wasmparser's validator; locations are plausible; with the flag off the hook
//! never runs; a hook error stops execution with that trap.

use std::sync::{Arc, Mutex};
use wasmparser::{Operator, Parser, Payload, ValidPayload, Validator};
use wdb::ValueLoc;
use wdb::*;

/// One hook call.
#[derive(Debug, Clone)]
struct Rec {
    func: u32,
    point: u32,
    offset: u32,
    module_id: u64,
    locals: Vec<DebugValue>,
    stack: Vec<DebugValue>,
    gprs: [u64; 16],
    fp: usize,
}

type Log = Arc<Mutex<Vec<Rec>>>;

struct Setup {
    module: Module,
    store: Store<()>,
    inst: Instance,
    log: Log,
}

fn setup(strategy: Strategy, wat: &str) -> Setup {
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let log: Log = Arc::default();
    let l = log.clone();
    store.set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
        l.lock().unwrap().push(Rec {
            func: ctx.func_index,
            point: ctx.point().unwrap(),
            offset: ctx.wasm_offset,
            module_id: ctx.module_id,
            locals: ctx.locals().unwrap(),
            stack: ctx.stack().unwrap(),
            gprs: ctx.registers().unwrap().0,
            fp: ctx.frame_pointer(),
        });
        Ok(())
    })));
    Setup {
        module,
        store,
        inst,
        log,
    }
}

impl Setup {
    fn index(&self, name: &str) -> u32 {
        self.module.info().export(name).unwrap().index
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let f = self.inst.get_func(&self.store, name).unwrap();
        let ty = f.ty(&self.store).unwrap();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut self.store, args, &mut results)?;
        Ok(results)
    }

    fn take_log(&self) -> Vec<Rec> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

// ---- a reference interpreter for the operators these tests use ----------------

/// (offset, operator) of every instruction of function `func`, and the
/// validator's operand types before each one.
struct Body {
    ops: Vec<(u32, Operator<'static>)>,
    types: Vec<Vec<ValType>>,
}

fn body(module: &Module, func: u32) -> Body {
    let bytes: &'static [u8] = Box::leak(module.info().bytes.clone().into_boxed_slice());
    let want = func - module.info().num_imported_funcs;
    let mut validator = Validator::new();
    let mut n = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.unwrap();
        let valid = validator.payload(&payload).unwrap();
        if let (Payload::CodeSectionEntry(b), ValidPayload::Func(fv, _)) = (&payload, valid) {
            if n == want {
                let mut fv = fv.into_validator(Default::default());
                fv.read_locals(&mut b.get_binary_reader()).unwrap();
                let mut r = b.get_operators_reader().unwrap();
                let (mut ops, mut types) = (Vec::new(), Vec::new());
                while !r.eof() {
                    let (op, off) = r.read_with_offset().unwrap();
                    let h = fv.operand_stack_height() as usize;
                    let tys = (0..h)
                        .rev()
                        .map(|d| {
                            ValType::from_wasmparser(fv.get_operand_type(d).unwrap().unwrap())
                                .unwrap()
                        })
                        .collect();
                    fv.op(off, &op).unwrap();
                    types.push(tys);
                    ops.push((off as u32, op));
                }
                return Body { ops, types };
            }
            n += 1;
        }
    }
    panic!("no function {func}");
}

/// A typed value as raw bits (32-bit values zero-extended).
type V = (ValType, u64);

fn i32b(v: i32) -> V {
    (ValType::I32, v as u32 as u64)
}
fn i64b(v: i64) -> V {
    (ValType::I64, v as u64)
}
fn f32b(v: f32) -> V {
    (ValType::F32, v.to_bits() as u64)
}
fn f64b(v: f64) -> V {
    (ValType::F64, v.to_bits())
}

/// The state before each executed instruction: (offset, op index, locals, stack).
type Step = (u32, usize, Vec<V>, Vec<V>);

fn interpret(b: &Body, mut locals: Vec<V>) -> Vec<Step> {
    let mut stack: Vec<V> = Vec::new();
    let mut loops: Vec<usize> = Vec::new();
    let mut trace = Vec::new();
    let mut pc = 0;
    let i32_ = |v: V| v.1 as u32 as i32;
    let f32_ = |v: V| f32::from_bits(v.1 as u32);
    let f64_ = |v: V| f64::from_bits(v.1);
    loop {
        let (off, op) = &b.ops[pc];
        trace.push((*off, pc, locals.clone(), stack.clone()));
        pc += 1;
        macro_rules! bin {
            ($get:expr, $mk:expr, $f:expr) => {{
                let y = $get(stack.pop().unwrap());
                let x = $get(stack.pop().unwrap());
                stack.push($mk($f(x, y)));
            }};
        }
        macro_rules! un {
            ($f:expr) => {{
                let x = stack.pop().unwrap();
                stack.push($f(x));
            }};
        }
        match *op {
            Operator::I32Const { value } => stack.push(i32b(value)),
            Operator::I64Const { value } => stack.push(i64b(value)),
            Operator::F32Const { value } => stack.push((ValType::F32, value.bits() as u64)),
            Operator::F64Const { value } => stack.push((ValType::F64, value.bits())),
            Operator::LocalGet { local_index } => stack.push(locals[local_index as usize]),
            Operator::LocalSet { local_index } => {
                locals[local_index as usize] = stack.pop().unwrap()
            }
            Operator::LocalTee { local_index } => {
                locals[local_index as usize] = *stack.last().unwrap()
            }
            Operator::Drop => drop(stack.pop()),
            Operator::I32Add => bin!(i32_, i32b, i32::wrapping_add),
            Operator::I32Mul => bin!(i32_, i32b, i32::wrapping_mul),
            Operator::I32LtS => bin!(i32_, i32b, |x: i32, y: i32| (x < y) as i32),
            Operator::I64Add => bin!(|v: V| v.1 as i64, i64b, i64::wrapping_add),
            Operator::I64Mul => bin!(|v: V| v.1 as i64, i64b, i64::wrapping_mul),
            Operator::F32Add => bin!(f32_, f32b, |x: f32, y: f32| x + y),
            Operator::F64Add => bin!(f64_, f64b, |x: f64, y: f64| x + y),
            Operator::F64Mul => bin!(f64_, f64b, |x: f64, y: f64| x * y),
            Operator::I64ExtendI32U => un!(|v: V| i64b(v.1 as u32 as i64)),
            Operator::F64ConvertI32S => un!(|v: V| f64b(i32_(v) as f64)),
            Operator::F64ConvertI64S => un!(|v: V| f64b(v.1 as i64 as f64)),
            Operator::F64PromoteF32 => un!(|v: V| f64b(f32_(v) as f64)),
            Operator::Loop { .. } => loops.push(pc),
            Operator::BrIf { relative_depth: 0 } => {
                if i32_(stack.pop().unwrap()) != 0 {
                    pc = *loops.last().expect("br_if to a loop");
                }
            }
            Operator::End => {
                if loops.pop().is_none() {
                    return trace;
                }
            }
            ref other => panic!("the reference interpreter does not know {other:?}"),
        }
    }
}

fn bits(v: &[DebugValue]) -> Vec<V> {
    v.iter().map(|d| (d.ty, d.bits)).collect()
}

fn check_loc(what: &str, d: &DebugValue, r: &Rec) {
    match d.loc.expect("debug code values have a location") {
        ValueLoc::Gpr(n) => {
            assert!(n < 16 && n != 4 && n != 5, "{what}: value in gpr {n}");
            let mask = if d.ty.is_64bit() {
                u64::MAX
            } else {
                0xffff_ffff
            };
            assert_eq!(
                r.gprs[n as usize] & mask,
                d.bits,
                "{what}: gprs() disagrees with the value in gpr {n}"
            );
            assert!(!d.ty.is_float(), "{what}: a float in a gpr");
        }
        ValueLoc::Xmm(n) => {
            assert!(n < 16, "{what}: xmm{n}");
            assert!(d.ty.is_float(), "{what}: an integer in an xmm register");
        }
        ValueLoc::Frame(off) => assert!(
            off < 0 && off > -(1 << 20),
            "{what}: frame slot at rbp{off:+}"
        ),
        ValueLoc::Const(_) => {}
        ValueLoc::Flags(cc) => {
            assert!(cc < 16, "{what}: condition code {cc}");
            assert_eq!(d.ty, ValType::I32, "{what}: a compare result");
            assert!(d.bits <= 1, "{what}: a boolean");
        }
    }
}

/// The hook log equals the interpreter's trace, step by step.
fn compare(s: &Setup, func: u32, b: &Body, got: &[Rec], want: &[Step]) {
    let offs = |v: &[Rec]| v.iter().map(|r| r.offset).collect::<Vec<_>>();
    let want_offs: Vec<u32> = want.iter().map(|w| w.0).collect();
    assert_eq!(offs(got), want_offs, "hook offsets in execution order");
    for (k, (r, (off, idx, locals, stack))) in got.iter().zip(want).enumerate() {
        let what = format!("step {k} at {off:#x} ({:?})", b.ops[*idx].1);
        assert_eq!(r.func, func, "{what}");
        assert_eq!(r.module_id, s.module.info().id, "{what}");
        assert_eq!(r.point as usize, *idx, "{what}: breakable position index");
        assert_eq!(bits(&r.locals), *locals, "{what}: locals");
        assert_eq!(bits(&r.stack), *stack, "{what}: operand stack");
        let tys: Vec<ValType> = r.stack.iter().map(|d| d.ty).collect();
        assert_eq!(
            tys, b.types[*idx],
            "{what}: operand types per the validator"
        );
        for d in r.locals.iter().chain(&r.stack) {
            check_loc(&what, d, r);
        }
        for d in &r.locals {
            assert!(
                matches!(d.loc, Some(ValueLoc::Frame(_))),
                "{what}: locals live in frame slots"
            );
        }
        assert_eq!(
            r.gprs[5] as usize, r.fp,
            "{what}: registers()[rbp] is the frame pointer"
        );
        assert!(
            (r.gprs[4] as usize) < r.fp,
            "{what}: registers()[rsp] lies below the frame pointer"
        );
    }
    // Every instruction of the function ran at least once.
    for (off, op) in &b.ops {
        assert!(
            got.iter().any(|r| r.offset == *off),
            "no hook call at {off:#x} ({op:?})"
        );
    }
}

const ACC: &str = r#"(module
  (func $acc (export "acc") (param $n i32) (result f64)
    (local $i i32) (local $sum i64) (local $f f32) (local $d f64)
    i32.const 0
    local.set $i
    loop $l
      local.get $sum
      local.get $i
      i64.extend_i32_u
      local.get $i
      i64.extend_i32_u
      i64.mul
      i64.add
      local.set $sum
      local.get $f
      f32.const 1.5
      f32.add
      local.set $f
      local.get $d
      f64.const 0.5
      f64.mul
      local.get $i
      f64.convert_i32_s
      f64.add
      local.set $d
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.lt_s
      br_if $l
    end
    local.get $d
    local.get $sum
    f64.convert_i64_s
    f64.add
    local.get $f
    f64.promote_f32
    f64.add)
  (func (export "other") (result i32) i32.const 1 i32.const 2 i32.add))"#;

/// Closed form of $acc, independent of the interpreter.
fn acc_rust(n: i32) -> (i32, i64, f32, f64) {
    let (mut i, mut sum, mut f, mut d) = (0i32, 0i64, 0f32, 0f64);
    loop {
        sum += (i as i64) * (i as i64);
        f += 1.5;
        d = d * 0.5 + i as f64;
        i += 1;
        if i >= n {
            return (i, sum, f, d);
        }
    }
}

#[test]
fn locals_and_stack_match_reference_at_every_instruction() {
    let mut s = setup(Strategy::Debug, ACC);
    let acc = s.index("acc");
    let b = body(&s.module, acc);
    s.inst.set_debug_flag(&mut s.store, acc, true);
    for n in [1, 2, 7] {
        let r = s.call("acc", &[Val::I32(n)]).unwrap();
        let got = s.take_log();
        let want = interpret(&b, vec![i32b(n), i32b(0), i64b(0), f32b(0.0), f64b(0.0)]);
        assert_eq!(got.len(), 3 + 26 * n as usize + 9, "n = {n}: hook calls");
        compare(&s, acc, &b, &got, &want);
        // Independently of the interpreter: the locals right after each
        // `local.set`/`local.tee`, and the inputs of every add.
        let (i, sum, f, d) = acc_rust(n);
        let last = got.last().unwrap();
        assert_eq!(
            bits(&last.locals),
            [i32b(n), i32b(i), i64b(sum), f32b(f), f64b(d)],
            "n = {n}: final locals"
        );
        let result = f64::from_bits(match r[0] {
            Val::F64(x) => x,
            _ => unreachable!(),
        });
        assert_eq!(result, d + sum as f64 + f as f64);
        let (mut ri, mut rsum, mut rf, mut rd) = (0i32, 0i64, 0f32, 0f64);
        let mut i_initialised = false;
        for (k, rec) in got.iter().enumerate() {
            let op = &b.ops[rec.point as usize].1;
            let stack = bits(&rec.stack);
            let top2 = &stack[stack.len().saturating_sub(2)..];
            match op {
                Operator::I64Add => {
                    assert_eq!(top2, [i64b(rsum), i64b(ri as i64 * ri as i64)], "step {k}")
                }
                Operator::F32Add => assert_eq!(top2, [f32b(rf), f32b(1.5)], "step {k}"),
                Operator::F64Add if stack.len() == 2 && rec.offset < b.ops[b.ops.len() - 9].0 => {
                    assert_eq!(top2, [f64b(rd * 0.5), f64b(ri as f64)], "step {k}")
                }
                Operator::I32Add => assert_eq!(top2, [i32b(ri), i32b(1)], "step {k}"),
                _ => {}
            }
            if k > 0 {
                if let Operator::LocalSet { local_index } | Operator::LocalTee { local_index } =
                    b.ops[got[k - 1].point as usize].1
                {
                    match local_index {
                        1 if !i_initialised => i_initialised = true,
                        1 => ri += 1,
                        2 => rsum += ri as i64 * ri as i64,
                        3 => rf += 1.5,
                        4 => rd = rd * 0.5 + ri as f64,
                        _ => unreachable!(),
                    }
                    let want =
                        [i32b(n), i32b(ri), i64b(rsum), f32b(rf), f64b(rd)][local_index as usize];
                    assert_eq!(
                        bits(&rec.locals)[local_index as usize],
                        want,
                        "step {k}: local {local_index} after its set"
                    );
                }
            }
        }
    }
}

/// A function with `n` values live on the operand stack at once (more than the
/// register allocator has registers), folded with alternating mul/add.
fn deep_wat(n: usize, float: bool) -> String {
    let mut w = String::from("(module (func (export \"deep\") (param $x i32) (result ");
    w.push_str(if float { "f64)\n" } else { "i32)\n" });
    for k in 1..=n {
        if float {
            w.push_str(&format!(
                "local.get $x f64.convert_i32_s f64.const {k}.25 f64.add\n"
            ));
        } else {
            w.push_str(&format!("local.get $x i32.const {k} i32.add\n"));
        }
    }
    for k in 1..n {
        let op = if k % 2 == 1 { "mul" } else { "add" };
        w.push_str(&format!("{}.{op}\n", if float { "f64" } else { "i32" }));
    }
    w.push_str("))");
    w
}

#[test]
fn deep_operand_stacks_with_spills() {
    for float in [false, true] {
        let mut s = setup(Strategy::Debug, &deep_wat(24, float));
        let f = s.index("deep");
        let b = body(&s.module, f);
        s.inst.set_debug_flag(&mut s.store, f, true);
        for x in [0, 3, -5] {
            s.call("deep", &[Val::I32(x)]).unwrap();
            let got = s.take_log();
            let want = interpret(&b, vec![i32b(x)]);
            compare(&s, f, &b, &got, &want);
            // 23 values, then x and the constant of the 24th.
            let max = got.iter().map(|r| r.stack.len()).max().unwrap();
            assert_eq!(max, 25, "float {float}");
            // With 25 live values some must have been spilled to frame slots.
            let deepest = got.iter().find(|r| r.stack.len() == 25).unwrap();
            assert!(
                deepest
                    .stack
                    .iter()
                    .any(|d| matches!(d.loc, Some(ValueLoc::Frame(_)))),
                "no spills at depth 25"
            );
        }
    }
}

#[test]
fn hook_never_runs_with_debug_flag_off() {
    let mut s = setup(Strategy::Debug, ACC);
    s.call("acc", &[Val::I32(50)]).unwrap();
    s.call("other", &[]).unwrap();
    assert!(
        s.take_log().is_empty(),
        "hook ran with every debug flag off"
    );
    // Only the flagged function reports.
    let other = s.index("other");
    s.inst.set_debug_flag(&mut s.store, other, true);
    s.call("acc", &[Val::I32(5)]).unwrap();
    assert!(
        s.take_log().is_empty(),
        "hook ran for a function whose flag is off"
    );
    s.call("other", &[]).unwrap();
    let log = s.take_log();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|r| r.func == other));
    // Turned off again.
    s.inst.set_debug_flag(&mut s.store, other, false);
    s.call("other", &[]).unwrap();
    assert!(
        s.take_log().is_empty(),
        "hook ran after the flag was cleared"
    );
    // Baseline code has no breakable positions: the flag changes nothing there.
    let mut b = setup(Strategy::Baseline, ACC);
    let acc = b.index("acc");
    b.inst.set_debug_flag(&mut b.store, acc, true);
    b.call("acc", &[Val::I32(5)]).unwrap();
    assert!(
        b.take_log().is_empty(),
        "baseline code called the debug hook"
    );
}

#[test]
fn hook_across_calls_sees_callee_frames() {
    let wat = r#"(module
      (func $sq (param $v i32) (result i32) local.get $v local.get $v i32.mul)
      (func (export "outer") (param $a i32) (result i32)
        i32.const 100 local.get $a call $sq i32.add))"#;
    let mut s = setup(Strategy::Debug, wat);
    let outer = s.index("outer");
    s.inst.set_debug_flag(&mut s.store, 0, true);
    s.inst.set_debug_flag(&mut s.store, outer, true);
    assert_eq!(s.call("outer", &[Val::I32(6)]).unwrap()[0].i32(), Some(136));
    let log = s.take_log();
    let funcs: Vec<u32> = log.iter().map(|r| r.func).collect();
    assert_eq!(funcs, [outer, outer, outer, 0, 0, 0, 0, outer, outer]);
    // Inside $sq the caller's pending 100 is not on the callee's stack.
    assert_eq!(bits(&log[3].locals), [i32b(6)]);
    assert_eq!(bits(&log[5].stack), [i32b(6), i32b(6)]);
    // Back in the caller: 100 and the call's result.
    assert_eq!(bits(&log[7].stack), [i32b(100), i32b(36)]);
    assert_ne!(log[3].fp, log[2].fp, "callee has its own frame");
    assert_eq!(log[7].fp, log[2].fp);
}

#[test]
fn hook_error_stops_execution_with_that_trap() {
    let wat = r#"(module (memory (export "mem") 1)
      (func (export "run") (param $v i32)
        i32.const 0 local.get $v i32.store
        i32.const 4 local.get $v i32.store))"#;
    let engine = Engine::new(Config {
        strategy: Strategy::Debug,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    // Stop at the second `i32.const` (instruction 3), before the second store.
    store.set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
        c.lock().unwrap().push(ctx.wasm_offset);
        if ctx.point() == Some(3) {
            return Err(Trap::host("stopped by the debugger"));
        }
        Ok(())
    })));
    let f = inst.get_func(&store, "run").unwrap();
    let idx = module.info().export("run").unwrap().index;
    inst.set_debug_flag(&mut store, idx, true);
    let e = f.call(&mut store, &[Val::I32(77)], &mut []).unwrap_err();
    let t = e.as_trap().unwrap_or_else(|| panic!("not a trap: {e}"));
    assert_eq!(t.code, TrapCode::HostError);
    assert_eq!(t.message.as_deref(), Some("stopped by the debugger"));
    let b = body(&module, idx);
    let offs: Vec<u32> = b.ops.iter().take(4).map(|o| o.0).collect();
    assert_eq!(
        *calls.lock().unwrap(),
        offs,
        "no instruction ran after the hook failed"
    );
    if let Some(func) = t.func {
        assert_eq!(func, idx);
    }
    if let Some(off) = t.wasm_offset {
        assert_eq!(
            off, offs[3],
            "trap offset is the instruction whose hook failed"
        );
    }
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(
        &mem.data(&store)[..8],
        &[77, 0, 0, 0, 0, 0, 0, 0],
        "second store did not run"
    );
    // The store is still usable.
    inst.set_debug_flag(&mut store, idx, false);
    f.call(&mut store, &[Val::I32(5)], &mut []).unwrap();
    assert_eq!(&mem.data(&store)[..8], &[5, 0, 0, 0, 5, 0, 0, 0]);
    assert_eq!(calls.lock().unwrap().len(), 4);
}

/// A binary module with one exported function `deep`: `depth` × `i32.const 1`
/// then `depth − 1` × `i32.add` (operand stack `depth` deep).
fn deep_stack_module(depth: usize) -> Vec<u8> {
    let mut body = vec![0u8]; // no locals
    for _ in 0..depth {
        body.extend_from_slice(&[0x41, 0x01]);
    }
    body.extend(std::iter::repeat_n(0x6a, depth - 1));
    body.push(0x0b);
    let leb = |mut v: usize, out: &mut Vec<u8>| loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    };
    let section = |id: u8, content: &[u8], out: &mut Vec<u8>| {
        out.push(id);
        leb(content.len(), out);
        out.extend_from_slice(content);
    };
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 0, 1, 0x7f], &mut m); // type () -> i32
    section(3, &[1, 0], &mut m);
    section(7, &[1, 4, b'd', b'e', b'e', b'p', 0, 0], &mut m);
    let mut code = vec![1u8];
    leb(body.len(), &mut code);
    code.extend_from_slice(&body);
    section(10, &code, &mut m);
    m
}

/// Issue 18: the side table stored a full operand-stack snapshot per
/// position, so debug code of a deep stack took memory (and time) quadratic
/// in the depth; 50,000 deep did not finish. The table's stack entries must
/// stay linear in the number of instructions, and the hook must still read
/// the right stacks.
#[test]
fn side_table_is_linear_in_stack_depth() {
    for depth in [2_000usize, 50_000] {
        let engine = Engine::new(Config {
            strategy: Strategy::Debug,
            ..Config::default()
        })
        .unwrap();
        let module = Module::new(&engine, deep_stack_module(depth)).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        // (point, stack depth, top value, table entries) at a few positions.
        type Seen = Vec<(u32, usize, Option<DebugValue>, Option<usize>)>;
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let s = seen.clone();
        store.set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
            let point = ctx.point().unwrap();
            let p = point as usize;
            if p == depth || p == depth + depth / 2 || p == 2 * depth - 1 || p == 7 {
                let stack = ctx.stack().unwrap();
                let top = stack.last().cloned();
                s.lock()
                    .unwrap()
                    .push((point, stack.len(), top, ctx.side_table_entries()));
            }
            Ok(())
        })));
        let idx = module.info().export("deep").unwrap().index;
        inst.set_debug_flag(&mut store, idx, true);
        let f = inst.get_func(&store, "deep").unwrap();
        let mut results = [Val::I32(0)];
        f.call(&mut store, &[], &mut results).unwrap();
        assert_eq!(results[0].i32(), Some(depth as i32));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4, "[{depth}] positions seen: {seen:?}");
        let instructions = 2 * depth; // consts, adds and the final `end`
        for (point, len, top, entries) in seen {
            let entries = entries.expect("debug code reports its side table");
            assert!(
                entries <= 4 * instructions,
                "[{depth}] side table stores {entries} stack entries for {instructions} instructions"
            );
            let p = point as usize;
            // Before instruction p: p constants pushed (p < depth), or all of
            // them and p − depth adds done.
            let want_len = if p < depth { p } else { depth - (p - depth) };
            assert_eq!(len, want_len, "[{depth}] stack depth at position {p}");
            let want_top = if p <= depth {
                1
            } else {
                (p - depth + 1) as u64
            };
            assert_eq!(
                top.map(|v| v.bits),
                Some(want_top),
                "[{depth}] top of the stack at position {p}"
            );
        }
    }
}
