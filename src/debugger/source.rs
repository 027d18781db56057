//! Source-level requests served on the program thread while it is paused: `print`, `ptype`,
//! `set var`, `info locals`/`info args`, `bt` with arguments, `display`, and breakpoint
//! conditions on any expression. Each evaluates C/C++ expressions ([`super::expr`]) in one
//! frame of the pause, reading its wasm locals and linear memory, and formats with
//! [`super::values`].

use super::api::*;
use super::dwarf::{DwarfEnv, DwarfInfo, Variable};
use super::dwarf_types::{TypeKind, TypeView};
use super::expr::eval::{Evaluator, Loc, Machine};
use super::expr::{self, Ast, ExprError};
use super::session::{short_file, Shared};
use super::values::Printer;
use crate::runtime::debug::DebugContext;
use crate::types::ValType;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Source-level state of a session: breakpoint conditions and the value-history counter.
#[derive(Default)]
pub(crate) struct SourceState {
    /// Breakpoint id -> condition expression.
    conditions: Mutex<HashMap<u32, String>>,
    /// The last `$N` of `print`.
    history: AtomicU32,
}

/// One frame's values for evaluation: its wasm locals, the globals, linear memory.
struct FrameMachine<'a> {
    ctx: &'a DebugContext<'a>,
    /// (type, bits, available) of each wasm local.
    locals: Vec<(ValType, u64, bool)>,
    /// Operand stack, bottom first (innermost frame only).
    stack: Vec<u64>,
    globals: Vec<(ValType, u64)>,
    /// Locals can be set (the innermost frame).
    top: bool,
}

impl<'a> FrameMachine<'a> {
    fn of_frame(ctx: &'a DebugContext<'a>, snap: &Snapshot, frame: usize) -> FrameMachine<'a> {
        let f = &snap.frames[frame];
        let locals = f
            .locals
            .as_ref()
            .map(|ls| {
                ls.iter()
                    .map(|v| (v.ty, v.bits, v.place.has_value()))
                    .collect()
            })
            .unwrap_or_default();
        let stack = if frame == 0 {
            f.stack
                .as_ref()
                .map(|s| s.iter().map(|v| v.bits).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        FrameMachine {
            ctx,
            locals,
            stack,
            globals: snap.globals.iter().map(|g| (g.ty, g.bits)).collect(),
            top: frame == 0,
        }
    }

    /// The innermost frame, straight from the hook (no snapshot yet).
    fn of_context(ctx: &'a DebugContext<'a>) -> FrameMachine<'a> {
        FrameMachine {
            ctx,
            locals: ctx
                .locals()
                .unwrap_or_default()
                .iter()
                .map(|v| (v.ty, v.bits, v.available))
                .collect(),
            stack: ctx
                .stack()
                .unwrap_or_default()
                .iter()
                .map(|v| v.bits)
                .collect(),
            globals: ctx.globals().iter().map(|(t, b)| (t.ty, *b)).collect(),
            top: true,
        }
    }
}

impl DwarfEnv for FrameMachine<'_> {
    fn local(&self, index: u32) -> Option<u64> {
        self.locals.get(index as usize).filter(|l| l.2).map(|l| l.1)
    }
    fn global(&self, index: u32) -> Option<u64> {
        self.globals.get(index as usize).map(|g| g.1)
    }
    fn stack(&self, index_from_top: u32) -> Option<u64> {
        let i = self.stack.len().checked_sub(1 + index_from_top as usize)?;
        self.stack.get(i).copied()
    }
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>> {
        let m = self.ctx.memory()?;
        let end = addr.checked_add(u64::from(len))?;
        m.get(usize::try_from(addr).ok()?..usize::try_from(end).ok()?)
            .map(<[u8]>::to_vec)
    }
}

impl Machine for FrameMachine<'_> {
    fn wasm_local(&self, index: u32) -> Option<(ValType, u64)> {
        self.locals
            .get(index as usize)
            .filter(|l| l.2)
            .map(|l| (l.0, l.1))
    }
    fn wasm_global(&self, index: u32) -> Option<(ValType, u64)> {
        self.globals.get(index as usize).copied()
    }
    fn write_memory(&self, addr: u64, bytes: &[u8]) -> Result<(), String> {
        self.ctx.write_memory(addr, bytes)
    }
    fn set_local(&self, index: u32, bits: u64) -> Result<(), String> {
        if !self.top {
            return Err("only the innermost frame's wasm locals can be set".into());
        }
        self.ctx.set_local(index, bits)
    }
    fn set_global(&self, index: u32, bits: u64) -> Result<(), String> {
        self.ctx.set_global(index, bits)
    }
}

/// The module's DWARF, or an empty one (then only `$localN`/`$globalN` and literals work).
fn dwarf(shared: &Shared) -> &DwarfInfo {
    static EMPTY: OnceLock<DwarfInfo> = OnceLock::new();
    shared
        .dwarf()
        .unwrap_or_else(|| EMPTY.get_or_init(DwarfInfo::empty))
}

fn expr_error(e: ExprError) -> String {
    e.to_string()
}

/// Parses `text` in a frame's scope.
fn parse(ev: &Evaluator<'_>, text: &str) -> Result<expr::Expr, String> {
    expr::parse(text, &|n| ev.is_type(n)).map_err(expr_error)
}

impl Shared {
    /// `break LOCATION if EXPR`: a breakpoint whose condition is checked when it is reached.
    pub(crate) fn break_if(&self, at: BreakAt, condition: String) {
        // A syntax error is reported now; names are resolved where the breakpoint is.
        if let Err(e) = expr::parse(&condition, &|_| false) {
            if !e.msg.starts_with("unexpected") && !e.msg.contains("type") {
                self.emit(Event::Error(format!("bad condition: {e}")));
                return;
            }
        }
        let before = self.control().next_id;
        self.breakpoint_command(Command::Break {
            at,
            condition: None,
        });
        let mut c = self.control();
        let after = c.next_id;
        let mut conditions = self
            .source
            .conditions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for b in c
            .breakpoints
            .iter_mut()
            .filter(|b| b.id > before && b.id <= after)
        {
            conditions.insert(b.id, condition.clone());
            b.spec = format!("{} if {condition}", b.spec);
        }
        let list = c.breakpoints.clone();
        drop(conditions);
        drop(c);
        self.emit(Event::Breakpoints(list));
    }

    /// Whether breakpoint `id`'s source condition (if any) holds at this stop. An error in the
    /// condition stops the program and says so.
    pub(crate) fn source_condition(&self, id: u32, ctx: &DebugContext<'_>) -> bool {
        let cond = self
            .source
            .conditions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        let Some(cond) = cond else { return true };
        let d = dwarf(self);
        let vars = d.variables_at(ctx.wasm_offset);
        let m = FrameMachine::of_context(ctx);
        let mut ev = Evaluator::new(d, &vars, &m);
        let result = parse(&ev, &cond).and_then(|e| {
            let v = ev.eval(&e).map_err(expr_error)?;
            let zero = ev.make(ev.b.int, super::expr::eval::Num::Int(0));
            let ne = ev.eval_binary("!=", v, zero, e.col).map_err(expr_error)?;
            Ok(ev.bytes(&ne, 4, 0).map(|b| b[0] != 0).unwrap_or(true))
        });
        match result {
            Ok(t) => t,
            Err(e) => {
                self.emit(Event::Error(format!(
                    "error in the condition of breakpoint {id} (`{cond}`): {e}"
                )));
                true
            }
        }
    }

    /// Answers a source-level request; true when the program's state changed (`set var`).
    pub(crate) fn source_request(
        &self,
        ctx: &DebugContext<'_>,
        snap: &Snapshot,
        frame: usize,
        request: SourceRequest,
    ) -> bool {
        if frame >= snap.frames.len() {
            self.emit(Event::Error(format!(
                "no frame {frame} (the stack has {})",
                snap.frames.len()
            )));
            return false;
        }
        if let SourceRequest::Inspect { expand, watch } = &request {
            let d = dwarf(self);
            let f = &snap.frames[frame];
            let vars = if f.tier != FrameTier::Host {
                d.variables_at(f.offset)
            } else {
                Vec::new()
            };
            let m = FrameMachine::of_frame(ctx, snap, frame);
            let mut ev = Evaluator::new(d, &vars, &m);
            let answer = super::inspect::inspect(&mut ev, &vars, frame, expand, watch);
            self.emit(Event::Values(answer));
            return false;
        }
        if let SourceRequest::WatchTarget(text) = &request {
            match self.watch_location(ctx, snap, frame, text) {
                Ok(t) => self.emit(Event::WatchTarget(t)),
                Err(e) => self.emit(Event::Error(format!("cannot watch `{text}`: {e}"))),
            }
            return false;
        }
        let changed = matches!(request, SourceRequest::Assign(_));
        match self.answer(ctx, snap, frame, request) {
            Ok(text) => {
                self.emit(Event::Message(text));
                changed
            }
            Err(e) => {
                self.emit(Event::Error(e));
                false
            }
        }
    }

    fn answer(
        &self,
        ctx: &DebugContext<'_>,
        snap: &Snapshot,
        frame: usize,
        request: SourceRequest,
    ) -> Result<String, String> {
        let d = dwarf(self);
        let f = &snap.frames[frame];
        let ours = f.tier != FrameTier::Host;
        let vars = if ours {
            d.variables_at(f.offset)
        } else {
            Vec::new()
        };
        let m = FrameMachine::of_frame(ctx, snap, frame);
        let mut ev = Evaluator::new(d, &vars, &m);
        match request {
            SourceRequest::Print { expr, format } => {
                let e = parse(&ev, &expr)?;
                let v = ev.eval(&e).map_err(expr_error)?;
                let text = Printer { ev: &ev, format }.value(&v, true);
                let n = self.source.history.fetch_add(1, Ordering::Relaxed) + 1;
                Ok(format!("${n} = {text}"))
            }
            SourceRequest::Ptype { expr, expand } => {
                let ty = match expr::parser::parse_type(&expr, &|n| ev.is_type(n)) {
                    Some(tn) => ev.resolve_type(&tn).map_err(expr_error)?,
                    None => {
                        let e = parse(&ev, &expr)?;
                        ev.eval(&e).map_err(expr_error)?.ty
                    }
                };
                let p = Printer {
                    ev: &ev,
                    format: PrintFormat::Natural,
                };
                Ok(format!(
                    "type = {}",
                    if expand {
                        p.ptype(ty)
                    } else {
                        ev.types.name(ty)
                    }
                ))
            }
            SourceRequest::Assign(text) => {
                let e = parse(&ev, &text)?;
                let Ast::Assign { .. } = &e.ast else {
                    return Err(format!(
                        "`set var` needs an assignment such as `x = 3`, not `{text}`"
                    ));
                };
                let lhs_text = text
                    .get(..lhs_end(&text))
                    .unwrap_or(&text)
                    .trim()
                    .to_string();
                let v = ev.eval(&e).map_err(expr_error)?;
                let shown = Printer {
                    ev: &ev,
                    format: PrintFormat::Natural,
                }
                .value(&v, false);
                Ok(format!("{lhs_text} = {shown}"))
            }
            SourceRequest::Locals | SourceRequest::Args => {
                let args = request == SourceRequest::Args;
                let list: Vec<&Variable> = if args {
                    // Parameters in declaration order.
                    let mut ps: Vec<&Variable> = vars.iter().filter(|v| v.is_param).collect();
                    ps.dedup_by(|a, b| a.name == b.name);
                    ps
                } else {
                    vars.iter().filter(|v| !v.is_param).collect()
                };
                if list.is_empty() {
                    return Ok(if args { "No arguments." } else { "No locals." }.into());
                }
                let p = Printer {
                    ev: &ev,
                    format: PrintFormat::Natural,
                };
                Ok(list
                    .iter()
                    .map(|v| {
                        let text = match ev.var_value(v, 0) {
                            Ok(val) => p.value(&val, false),
                            Err(e) => format!("<error: {}>", e.msg),
                        };
                        format!("{} = {text}", v.name)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            SourceRequest::Backtrace => Ok(self.backtrace(ctx, snap)),
            // Answered with `Event::Values` by `source_request`.
            SourceRequest::Inspect { .. } => Err("inspect has no text answer".into()),
            SourceRequest::WatchTarget(_) => Err("a watch target has no text answer".into()),
            SourceRequest::Displays(list) => Ok(list
                .iter()
                .map(|(n, format, text)| {
                    let value = parse(&ev, text).and_then(|e| {
                        let v = ev.eval(&e).map_err(expr_error)?;
                        Ok(Printer {
                            ev: &ev,
                            format: *format,
                        }
                        .value(&v, true))
                    });
                    let f = match format {
                        PrintFormat::Natural => String::new(),
                        f => format!("/{} ", f.letter()),
                    };
                    match value {
                        Ok(v) => format!("{n}: {f}{text} = {v}"),
                        Err(e) => format!("{n}: {f}{text} = <error: {e}>"),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")),
        }
    }

    /// gdb's backtrace: `#1  0x0007f7 in compute_stats (ds=0x11508) at debugme.c:109`.
    fn backtrace(&self, ctx: &DebugContext<'_>, snap: &Snapshot) -> String {
        let d = dwarf(self);
        let mut out = Vec::new();
        for (i, f) in snap.frames.iter().enumerate() {
            let args = if f.tier == FrameTier::Host {
                String::new()
            } else {
                let params = d.params_at(f.offset);
                let m = FrameMachine::of_frame(ctx, snap, i);
                let ev = Evaluator::new(d, &params, &m);
                let p = Printer {
                    ev: &ev,
                    format: PrintFormat::Natural,
                };
                params
                    .iter()
                    .map(|v| {
                        let mut ty = ev.types.strip(v.type_id);
                        if let TypeKind::Reference { target, .. } = ev.types.def(ty).kind {
                            ty = ev.types.strip(target);
                        }
                        let aggregate = matches!(
                            ev.types.def(ty).kind,
                            TypeKind::Struct { .. } | TypeKind::Array { .. }
                        );
                        let text = if aggregate {
                            "...".to_string()
                        } else {
                            match ev.var_value(v, 0) {
                                Ok(val) => p.value(&val, false),
                                Err(e) => format!("<error: {}>", e.msg),
                            }
                        };
                        format!("{}={text}", v.name)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let pc = if i == 0 {
                String::new()
            } else {
                format!("{:#08x} in ", f.offset)
            };
            let at = f
                .source
                .as_ref()
                .map(|p| format!(" at {}:{}", short_file(&p.file), p.line))
                .unwrap_or_default();
            out.push(format!("#{i:<2} {pc}{} ({args}){at}", f.func_name));
            if let Some(n) = &f.note {
                out.push(format!("      note: {n}"));
            }
        }
        out.join("\n")
    }
}

impl Shared {
    /// Where `watch EXPR` watches: the linear-memory address and size of the
    /// lvalue `text` in frame `frame` (at most `vm::watch::MAX_LEN` bytes).
    pub(crate) fn watch_target(
        &self,
        ctx: &DebugContext<'_>,
        snap: &Snapshot,
        frame: usize,
        text: &str,
    ) -> Result<(u64, u64), String> {
        let f = snap
            .frames
            .get(frame)
            .ok_or_else(|| format!("no frame {frame}"))?;
        let d = dwarf(self);
        let vars = if f.tier != FrameTier::Host {
            d.variables_at(f.offset)
        } else {
            Vec::new()
        };
        let m = FrameMachine::of_frame(ctx, snap, frame);
        let mut ev = Evaluator::new(d, &vars, &m);
        let e = parse(&ev, text)?;
        let v = ev.eval(&e).map_err(expr_error)?;
        let max = crate::vm::watch::MAX_LEN as u64;
        let (addr, size) = match v.loc {
            Loc::Memory(a) => (a, ev.types.size(v.ty)),
            Loc::Bits { addr, bit, bits } => (addr, u64::from((bit + bits).div_ceil(8))),
            Loc::Wasm(_) => {
                return Err(
                    "it lives in a wasm local or global, not in linear memory; only linear memory can be watched"
                        .into(),
                )
            }
            Loc::Gone(why) => return Err(format!("it has no location here ({why})")),
            Loc::Bytes(_) => return Err("not an lvalue (a computed value has no address)".into()),
        };
        if size == 0 {
            return Err("it has no size".into());
        }
        if size > max {
            return Err(format!(
                "it is {size} bytes; a watchpoint covers at most {max} (watch a member or an element, or `*(T *)ADDR`)"
            ));
        }
        Ok((addr, size))
    }

    /// `SourceRequest::WatchTarget`: what `watch_target` finds for `text`,
    /// with its type and an expression naming the same bytes from any frame:
    /// `*(T *)ADDR` when that cast evaluates to exactly those bytes, else an
    /// unsigned integer of their size.
    pub(crate) fn watch_location(
        &self,
        ctx: &DebugContext<'_>,
        snap: &Snapshot,
        frame: usize,
        text: &str,
    ) -> Result<WatchTarget, String> {
        let (addr, len) = self.watch_target(ctx, snap, frame, text)?;
        let f = &snap.frames[frame];
        let d = dwarf(self);
        let vars = if f.tier != FrameTier::Host {
            d.variables_at(f.offset)
        } else {
            Vec::new()
        };
        let m = FrameMachine::of_frame(ctx, snap, frame);
        let mut ev = Evaluator::new(d, &vars, &m);
        let e = parse(&ev, text)?;
        let v = ev.eval(&e).map_err(expr_error)?;
        let ty = ev.types.name(v.ty);
        let mut names_it = |loc: &str| {
            parse(&ev, loc)
                .ok()
                .and_then(|e| ev.eval(&e).ok())
                .is_some_and(|v| v.loc == Loc::Memory(addr) && ev.types.size(v.ty) == len)
        };
        let typed = format!("*({ty} *){addr:#x}");
        let location = if names_it(&typed) {
            typed
        } else {
            let int = match len {
                1 => "unsigned char",
                2 => "unsigned short",
                4 => "unsigned int",
                8 => "unsigned long long",
                _ => {
                    return Err(format!(
                        "its {len} bytes at {addr:#x} (`{ty}`) have no type a pointer cast names; watch a member or an element"
                    ))
                }
            };
            format!("*({int} *){addr:#x}")
        };
        Ok(WatchTarget {
            expr: text.to_string(),
            addr,
            len: len as u32,
            ty,
            location,
        })
    }

    /// `bytes` of watchpoint `wp` as its expression's type (evaluated in the
    /// innermost frame of this stop), or as an integer / bytes when the
    /// expression means something else here.
    pub(crate) fn watch_value(
        &self,
        ctx: &DebugContext<'_>,
        wp: &Watchpoint,
        bytes: &[u8],
    ) -> String {
        let d = dwarf(self);
        let vars = d.variables_at(ctx.wasm_offset);
        let m = FrameMachine::of_context(ctx);
        let mut ev = Evaluator::new(d, &vars, &m);
        let typed = parse(&ev, &wp.expr)
            .ok()
            .and_then(|e| ev.eval(&e).ok())
            .filter(|v| v.loc == Loc::Memory(wp.addr) && ev.types.size(v.ty) == wp.len as u64);
        if let Some(v) = typed {
            let shown = super::expr::eval::Val {
                ty: v.ty,
                loc: Loc::Bytes(bytes.to_vec()),
            };
            return Printer {
                ev: &ev,
                format: PrintFormat::Natural,
            }
            .value(&shown, true);
        }
        match bytes.len() {
            1 | 2 | 4 | 8 => {
                let mut raw = [0u8; 8];
                raw[..bytes.len()].copy_from_slice(bytes);
                u64::from_le_bytes(raw).to_string()
            }
            _ => format!(
                "{{{}}}",
                bytes
                    .iter()
                    .map(|b| format!("{b:#04x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Byte index where the left side of the first top-level `=` ends.
fn lhs_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut depth = 0i32;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if next != b'=' && !b"=!<>".contains(&prev) {
                    // `+=` and friends: the operator belongs to neither side.
                    let end = if b"+-*/%&|^".contains(&prev) {
                        i - 1
                    } else {
                        i
                    };
                    return end;
                }
            }
            _ => {}
        }
    }
    text.len()
}
