//! Evaluates an [`Expr`] in a paused frame: names through DWARF (locals, parameters, globals,
//! statics, enumerators, `this->` members, `$localN`/`$globalN`), C's arithmetic conversions,
//! pointer arithmetic, member access, indexing, casts, `sizeof`, and assignment (`set var`).
//!
//! A value is a type plus where its bytes are ([`Loc`]): linear memory, a wasm value, a
//! bitfield, or computed bytes. Nothing is read until an operation needs it, so `&x`, `sizeof x`
//! and `ptype x` work on values that cannot be read.

use super::{Ast, Expr, ExprError, TypeName};
use crate::debugger::dwarf::{DwarfEnv, DwarfInfo, VarLocation, Variable};
use crate::debugger::dwarf_types::{
    Aggregate, Builtins, Encoding, Member, Overlay, TypeDef, TypeId, TypeKind, TypeView,
};
use crate::types::ValType;

/// What an evaluation reads and writes besides DWARF.
pub trait Machine: DwarfEnv {
    /// A wasm local of the frame: its type and bits.
    fn wasm_local(&self, index: u32) -> Option<(ValType, u64)>;
    fn wasm_global(&self, index: u32) -> Option<(ValType, u64)>;
    fn write_memory(&self, addr: u64, bytes: &[u8]) -> Result<(), String>;
    fn set_local(&self, index: u32, bits: u64) -> Result<(), String>;
    fn set_global(&self, index: u32, bits: u64) -> Result<(), String>;
}

/// Where a value's bytes are.
#[derive(Debug, Clone, PartialEq)]
pub enum Loc {
    /// An lvalue in linear memory.
    Memory(u64),
    /// An lvalue that is a wasm local, global or operand-stack value.
    Wasm(VarLocation),
    /// A bitfield in memory: `bits` bits from bit `bit` of the byte at `addr`.
    Bits { addr: u64, bit: u32, bits: u32 },
    /// A computed value (little-endian bytes).
    Bytes(Vec<u8>),
    /// No location here (`<optimized out>`); the text says why.
    Gone(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub ty: TypeId,
    pub loc: Loc,
}

/// A number for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

/// Evaluation of expressions in one frame.
pub struct Evaluator<'a> {
    pub dwarf: &'a DwarfInfo,
    pub types: Overlay<'a>,
    pub b: Builtins,
    /// Variables in scope, innermost first.
    pub vars: &'a [Variable],
    pub m: &'a dyn Machine,
}

type R<T> = Result<T, ExprError>;

fn err<T>(col: usize, msg: impl Into<String>) -> R<T> {
    Err(ExprError::new(col, msg))
}

impl<'a> Evaluator<'a> {
    pub fn new(dwarf: &'a DwarfInfo, vars: &'a [Variable], m: &'a dyn Machine) -> Evaluator<'a> {
        Evaluator {
            dwarf,
            types: Overlay::new(dwarf.types()),
            b: dwarf.builtins(),
            vars,
            m,
        }
    }

    /// Whether `name` names a type (for the parser's casts).
    pub fn is_type(&self, name: &str) -> bool {
        self.vars.iter().all(|v| v.name != name) && self.lookup_type(name).is_some()
    }

    fn lookup_type(&self, name: &str) -> Option<TypeId> {
        let t = self.dwarf.types();
        t.lookup(name).or_else(|| {
            // `struct X` in C++, `X` for a C struct.
            let bare = name
                .strip_prefix("struct ")
                .or_else(|| name.strip_prefix("class "))
                .or_else(|| name.strip_prefix("union "))
                .or_else(|| name.strip_prefix("enum "));
            match bare {
                Some(b) => t.lookup(b),
                None => ["struct ", "union ", "enum "]
                    .iter()
                    .find_map(|k| t.lookup(&format!("{k}{name}"))),
            }
        })
    }

    /// The type a type name in an expression means.
    pub fn resolve_type(&mut self, tn: &TypeName) -> R<TypeId> {
        let mut id = self
            .lookup_type(&tn.base)
            .ok_or_else(|| ExprError::new(tn.col, format!("no type named `{}`", tn.base)))?;
        for p in &tn.pointers {
            id = if *p == "*" {
                self.types.pointer_to(id)
            } else {
                let cplus = self.types.def(id).cplus;
                self.types.add(TypeDef {
                    name: None,
                    kind: TypeKind::Reference {
                        target: id,
                        rvalue: *p == "&&",
                    },
                    cplus,
                })
            };
        }
        Ok(id)
    }

    fn kind(&self, ty: TypeId) -> &TypeKind {
        &self.types.def(self.types.strip(ty)).kind
    }

    /// A variable as a value (references are followed).
    pub fn var_value(&self, v: &Variable, col: usize) -> R<Val> {
        let loc = match &v.location {
            VarLocation::WasmLocal(_) | VarLocation::WasmGlobal(_) | VarLocation::WasmStack(_) => {
                Loc::Wasm(v.location.clone())
            }
            VarLocation::FrameBase { .. } | VarLocation::Address(_) => {
                match v.location.address(self.m) {
                    Ok(a) => Loc::Memory(a),
                    Err(e) => Loc::Gone(e),
                }
            }
            VarLocation::Unsupported(what) => Loc::Gone(what.clone()),
        };
        self.deref_reference(Val { ty: v.type_id, loc }, col)
    }

    /// A C++ reference is its referent.
    fn deref_reference(&self, v: Val, col: usize) -> R<Val> {
        if let TypeKind::Reference { target, .. } = *self.kind(v.ty) {
            if matches!(v.loc, Loc::Gone(_)) {
                return Ok(Val {
                    ty: target,
                    loc: v.loc,
                });
            }
            let addr = self.read_uint(&v, col)?;
            return Ok(Val {
                ty: target,
                loc: Loc::Memory(addr),
            });
        }
        Ok(v)
    }

    /// `len` bytes of a value.
    pub fn bytes(&self, v: &Val, len: u64, col: usize) -> R<Vec<u8>> {
        let len32 = u32::try_from(len).map_err(|_| ExprError::new(col, "value too large"))?;
        match &v.loc {
            Loc::Memory(a) => self.memory(*a, len32, col),
            Loc::Wasm(loc) => {
                if len > 8 {
                    return err(
                        col,
                        format!("a {len}-byte value cannot live in a wasm value"),
                    );
                }
                let bits = match loc {
                    VarLocation::WasmLocal(i) => self.m.local(*i),
                    VarLocation::WasmGlobal(i) => self.m.global(*i),
                    VarLocation::WasmStack(i) => self.m.stack(*i),
                    _ => None,
                }
                .ok_or_else(|| ExprError::new(col, "value not available in this frame"))?;
                Ok(bits.to_le_bytes()[..len as usize].to_vec())
            }
            Loc::Bits { addr, bit, bits } => {
                let n = (bit + bits).div_ceil(8).max(1);
                let raw = self.memory(*addr, n, col)?;
                let mut word = [0u8; 16];
                word[..raw.len()].copy_from_slice(&raw);
                let all = u128::from_le_bytes(word);
                let mask = if *bits >= 128 {
                    u128::MAX
                } else {
                    (1u128 << bits) - 1
                };
                let mut value = (all >> bit) & mask;
                if self.is_signed(v.ty) && *bits > 0 && value >> (bits - 1) & 1 == 1 {
                    value |= !mask;
                }
                Ok(value.to_le_bytes()[..len.min(16) as usize].to_vec())
            }
            Loc::Bytes(b) => {
                let mut out = b.clone();
                out.resize(len as usize, 0);
                Ok(out)
            }
            Loc::Gone(_) => err(col, "value has been optimized out"),
        }
    }

    fn memory(&self, addr: u64, len: u32, col: usize) -> R<Vec<u8>> {
        match self.m.memory(addr, len) {
            Some(b) if b.len() == len as usize => Ok(b),
            _ => err(col, format!("cannot access memory at address {addr:#x}")),
        }
    }

    fn read_uint(&self, v: &Val, col: usize) -> R<u64> {
        let size = self.types.size(v.ty).clamp(1, 8);
        let b = self.bytes(v, size, col)?;
        let mut raw = [0u8; 8];
        raw[..b.len()].copy_from_slice(&b);
        Ok(u64::from_le_bytes(raw))
    }

    pub fn is_signed(&self, ty: TypeId) -> bool {
        match self.kind(ty) {
            TypeKind::Base { enc, .. } => matches!(enc, Encoding::Signed | Encoding::SignedChar),
            TypeKind::Enum { signed, .. } => *signed,
            _ => false,
        }
    }

    fn is_integer(&self, ty: TypeId) -> bool {
        matches!(
            self.kind(ty),
            TypeKind::Base {
                enc: Encoding::Signed
                    | Encoding::Unsigned
                    | Encoding::SignedChar
                    | Encoding::UnsignedChar
                    | Encoding::Bool,
                ..
            } | TypeKind::Enum { .. }
        )
    }

    fn is_float(&self, ty: TypeId) -> bool {
        matches!(
            self.kind(ty),
            TypeKind::Base {
                enc: Encoding::Float,
                ..
            }
        )
    }

    /// The pointee of a pointer, or the element of an array.
    fn pointee(&self, ty: TypeId) -> Option<TypeId> {
        match *self.kind(ty) {
            TypeKind::Pointer { target, .. } => Some(target),
            TypeKind::Array { elem, .. } => Some(elem),
            _ => None,
        }
    }

    /// A scalar's number.
    fn num(&self, v: &Val, col: usize) -> R<Num> {
        let ty = v.ty;
        let size = self.types.size(ty);
        if self.is_float(ty) {
            let b = self.bytes(v, size, col)?;
            return match size {
                4 => Ok(Num::Float(f64::from(f32::from_le_bytes([
                    b[0], b[1], b[2], b[3],
                ])))),
                8 => {
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(&b);
                    Ok(Num::Float(f64::from_le_bytes(raw)))
                }
                _ => err(col, format!("cannot compute with a {size}-byte float")),
            };
        }
        if self.is_integer(ty) || matches!(self.kind(ty), TypeKind::Pointer { .. }) {
            if size == 0 || size > 8 {
                return err(col, format!("cannot compute with a {size}-byte integer"));
            }
            let raw = self.read_uint(v, col)?;
            let bits = size * 8;
            let value = if self.is_signed(ty) && bits < 64 {
                let shift = 64 - bits;
                i128::from(((raw << shift) as i64) >> shift)
            } else if self.is_signed(ty) {
                i128::from(raw as i64)
            } else {
                i128::from(raw)
            };
            return Ok(Num::Int(value));
        }
        if let TypeKind::Array { .. } = self.kind(ty) {
            if let Loc::Memory(a) = v.loc {
                return Ok(Num::Int(i128::from(a)));
            }
        }
        err(col, format!("`{}` is not a number", self.types.name(ty)))
    }

    /// An rvalue of scalar type `ty` holding `n` (converted as C converts).
    pub fn make(&self, ty: TypeId, n: Num) -> Val {
        let size = self.types.size(ty).clamp(1, 16) as usize;
        let bytes = if self.is_float(ty) {
            let f = match n {
                Num::Int(i) => i as f64,
                Num::Float(f) => f,
            };
            if size == 4 {
                (f as f32).to_le_bytes().to_vec()
            } else {
                f.to_le_bytes().to_vec()
            }
        } else {
            let i = match n {
                Num::Int(i) => i,
                Num::Float(f) => f as i128,
            };
            let i = if matches!(
                self.kind(ty),
                TypeKind::Base {
                    enc: Encoding::Bool,
                    ..
                }
            ) {
                i128::from(i != 0)
            } else {
                i
            };
            i.to_le_bytes()[..size.min(16)].to_vec()
        };
        Val {
            ty,
            loc: Loc::Bytes(bytes),
        }
    }

    fn int(&self, n: i128) -> Val {
        self.make(self.b.int, Num::Int(n))
    }

    /// Evaluates an expression to a value.
    pub fn eval(&mut self, e: &Expr) -> R<Val> {
        let col = e.col;
        match &e.ast {
            Ast::Int {
                value,
                unsigned,
                long,
            } => {
                let v = *value;
                let ty = match (*unsigned, *long || v > u64::from(u32::MAX)) {
                    (false, false) if v <= i32::MAX as u64 => self.b.int,
                    (true, false) | (false, false) => self.b.uint,
                    (false, true) if v <= i64::MAX as u64 => self.b.long_long,
                    _ => self.b.ulong_long,
                };
                Ok(self.make(ty, Num::Int(i128::from(v))))
            }
            Ast::Float { value, single } => {
                let ty = if *single { self.b.float } else { self.b.double };
                Ok(self.make(ty, Num::Float(*value)))
            }
            Ast::Char(c) => Ok(self.make(self.b.char, Num::Int(i128::from(*c as i8)))),
            Ast::Str(s) => {
                let mut bytes = s.clone();
                bytes.push(0);
                let ty = self.array_of(self.b.char, bytes.len() as u64);
                Ok(Val {
                    ty,
                    loc: Loc::Bytes(bytes),
                })
            }
            Ast::Name(name) => self.name(name, col),
            Ast::Dollar(d) => self.dollar(d, col),
            Ast::Member { base, field, arrow } => {
                let mut v = self.eval(base)?;
                if *arrow {
                    v = self.deref(v, base.col)?;
                }
                self.member(v, field, col)
            }
            Ast::Index(base, index) => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                let Num::Int(i) = self.num(&i, index.col)? else {
                    return err(index.col, "an index must be an integer");
                };
                self.index(b, i, col)
            }
            Ast::Unary(op, operand) => {
                let v = self.eval(operand)?;
                self.unary(op, v, col)
            }
            Ast::Cast(tn, operand) => {
                let ty = self.resolve_type(tn)?;
                let v = self.eval(operand)?;
                self.cast(v, ty, col)
            }
            Ast::SizeofType(tn) => {
                let ty = self.resolve_type(tn)?;
                Ok(self.size_value(self.types.size(ty)))
            }
            Ast::SizeofExpr(inner) => {
                let v = self.eval(inner)?;
                Ok(self.size_value(self.types.size(v.ty)))
            }
            Ast::Binary(op, l, r) => {
                if *op == "&&" || *op == "||" {
                    let lv = self.eval(l)?;
                    let lt = self.truth(&lv, l.col)?;
                    if (*op == "&&" && !lt) || (*op == "||" && lt) {
                        return Ok(self.int(i128::from(lt)));
                    }
                    let rv = self.eval(r)?;
                    let rt = self.truth(&rv, r.col)?;
                    return Ok(self.int(i128::from(rt)));
                }
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                self.binary(op, lv, rv, col)
            }
            Ast::Ternary(c, t, f) => {
                let cv = self.eval(c)?;
                if self.truth(&cv, c.col)? {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            Ast::Assign { op, lhs, rhs } => {
                let target = self.eval(lhs)?;
                let mut value = self.eval(rhs)?;
                if let Some(op) = op {
                    value = self.binary(op, target.clone(), value, col)?;
                }
                self.assign(target, value, col)
            }
        }
    }

    fn size_value(&self, n: u64) -> Val {
        let ty = self
            .dwarf
            .types()
            .lookup("unsigned long")
            .unwrap_or(self.b.uint);
        self.make(ty, Num::Int(i128::from(n)))
    }

    fn array_of(&mut self, elem: TypeId, count: u64) -> TypeId {
        let cplus = self.types.def(elem).cplus;
        self.types.add(TypeDef {
            name: None,
            kind: TypeKind::Array {
                elem,
                count: Some(count),
            },
            cplus,
        })
    }

    pub(crate) fn name(&self, name: &str, col: usize) -> R<Val> {
        if let Some(v) = self.vars.iter().find(|v| v.name == name) {
            return self.var_value(v, col);
        }
        // A member of `this` in a C++ method.
        if let Some(this) = self.vars.iter().find(|v| v.name == "this") {
            if let Ok(obj) = self.var_value(this, col).and_then(|t| self.deref(t, col)) {
                if let Ok(v) = self.member(obj, name, col) {
                    return Ok(v);
                }
            }
        }
        let globals = self.dwarf.globals();
        let global = globals.iter().find(|g| g.name == name).or_else(|| {
            let suffix = format!("::{name}");
            let mut it = globals.iter().filter(|g| g.name.ends_with(&suffix));
            match (it.next(), it.next()) {
                (Some(g), None) => Some(g),
                _ => None,
            }
        });
        if let Some(g) = global {
            return self.var_value(g, col);
        }
        if let Some((ty, value)) = self.enumerator(name) {
            return Ok(self.make(ty, Num::Int(i128::from(value))));
        }
        err(col, format!("no symbol `{name}` in the current context"))
    }

    /// An enumerator of any enum type.
    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        let t = self.dwarf.types();
        (0..t.len() as TypeId).find_map(|id| match &t.get(id).kind {
            TypeKind::Enum { values, .. } => values
                .iter()
                .find(|(n, _)| n == name || n.rsplit("::").next() == Some(name))
                .map(|(_, v)| (id, *v)),
            _ => None,
        })
    }

    fn dollar(&self, d: &str, col: usize) -> R<Val> {
        let wasm = |ty: ValType, bits: u64| -> Val {
            let id = match ty {
                ValType::I32 => self.b.int,
                ValType::I64 => self.b.long_long,
                ValType::F32 => self.b.float,
                ValType::F64 => self.b.double,
                _ => self.b.uint,
            };
            let size = self.types.size(id) as usize;
            Val {
                ty: id,
                loc: Loc::Bytes(bits.to_le_bytes()[..size].to_vec()),
            }
        };
        if let Some(n) = d.strip_prefix("local").and_then(|n| n.parse::<u32>().ok()) {
            let (ty, bits) = self
                .m
                .wasm_local(n)
                .ok_or_else(|| ExprError::new(col, format!("no wasm local {n} in this frame")))?;
            let mut v = wasm(ty, bits);
            v.loc = Loc::Wasm(VarLocation::WasmLocal(n));
            return Ok(v);
        }
        if let Some(n) = d.strip_prefix("global").and_then(|n| n.parse::<u32>().ok()) {
            let (ty, bits) = self
                .m
                .wasm_global(n)
                .ok_or_else(|| ExprError::new(col, format!("no wasm global {n}")))?;
            let mut v = wasm(ty, bits);
            v.loc = Loc::Wasm(VarLocation::WasmGlobal(n));
            return Ok(v);
        }
        err(
            col,
            format!("unknown `${d}` (use $localN or $globalN for wasm values)"),
        )
    }

    /// `*p`: the object a pointer points to (an array's first element).
    pub fn deref(&self, v: Val, col: usize) -> R<Val> {
        match *self.kind(v.ty) {
            TypeKind::Pointer { target, .. } => {
                if matches!(self.kind(target), TypeKind::Void) {
                    return err(col, "attempt to take the contents of a void pointer");
                }
                let addr = self.read_uint(&v, col)?;
                self.deref_reference(
                    Val {
                        ty: target,
                        loc: Loc::Memory(addr),
                    },
                    col,
                )
            }
            TypeKind::Array { elem, .. } => self.index(v, 0, col).map(|x| Val { ty: elem, ..x }),
            _ => err(
                col,
                format!(
                    "cannot dereference a value of type `{}`",
                    self.types.name(v.ty)
                ),
            ),
        }
    }

    /// A data member by name (also inside base classes and unnamed members).
    pub fn member(&self, v: Val, field: &str, col: usize) -> R<Val> {
        let ty = self.types.strip(v.ty);
        if matches!(self.kind(ty), TypeKind::Pointer { .. }) {
            return err(
                col,
                format!("`{}` is a pointer: use `->{field}`", self.types.name(v.ty)),
            );
        }
        let TypeKind::Struct { .. } = self.kind(ty) else {
            return err(
                col,
                format!(
                    "`{}` is not a struct, class or union: it has no member `{field}`",
                    self.types.name(v.ty)
                ),
            );
        };
        let Some((m, offset, owner)) = self.find_member(ty, field, 0, 0) else {
            return err(
                col,
                format!(
                    "there is no member named `{field}` in `{}`",
                    self.types.name(v.ty)
                ),
            );
        };
        if m.is_static {
            // Named after the class that declares it (a base class's static through a derived object).
            let qualified = format!("{}::{field}", self.types.base_name(owner));
            return self.name(&qualified, col);
        }
        let loc = match (&v.loc, m.bits) {
            (Loc::Memory(a), None) => Loc::Memory(a + offset),
            (Loc::Memory(a), Some((bit, bits))) => Loc::Bits {
                addr: a + offset,
                bit,
                bits,
            },
            (Loc::Gone(w), _) => Loc::Gone(w.clone()),
            (_, bits) => {
                let size = self.types.size(ty);
                let all = self.bytes(&v, size, col)?;
                let msize = self.types.size(m.ty);
                let start = offset as usize;
                let end = (start + msize as usize).min(all.len());
                let mut b = all.get(start..end).unwrap_or(&[]).to_vec();
                if let Some((bit, n)) = bits {
                    let mut word = [0u8; 16];
                    let take = all.len().saturating_sub(start).min(16);
                    word[..take].copy_from_slice(&all[start..start + take]);
                    let raw = u128::from_le_bytes(word) >> bit;
                    let mask = if n >= 128 {
                        u128::MAX
                    } else {
                        (1u128 << n) - 1
                    };
                    let mut value = raw & mask;
                    if self.is_signed(m.ty) && n > 0 && value >> (n - 1) & 1 == 1 {
                        value |= !mask;
                    }
                    b = value.to_le_bytes()[..msize.min(16) as usize].to_vec();
                }
                Loc::Bytes(b)
            }
        };
        self.deref_reference(Val { ty: m.ty, loc }, col)
    }

    /// The member named `field`, its offset in the object and the struct that declares it.
    fn find_member(
        &self,
        ty: TypeId,
        field: &str,
        base: u64,
        depth: u32,
    ) -> Option<(Member, u64, TypeId)> {
        if depth > 16 {
            return None;
        }
        let owner = self.types.strip(ty);
        let TypeKind::Struct { members, .. } = &self.types.def(owner).kind else {
            return None;
        };
        if let Some(m) = members.iter().find(|m| m.name.as_deref() == Some(field)) {
            return Some((m.clone(), base + m.offset, owner));
        }
        members
            .iter()
            .filter(|m| m.name.is_none() || m.is_base)
            .find_map(|m| self.find_member(m.ty, field, base + m.offset, depth + 1))
    }

    /// `a[i]` for arrays and pointers.
    pub fn index(&self, v: Val, i: i128, col: usize) -> R<Val> {
        match *self.kind(v.ty) {
            TypeKind::Array { elem, .. } => {
                let size = i128::from(self.types.size(elem));
                match &v.loc {
                    Loc::Memory(a) => Ok(Val {
                        ty: elem,
                        loc: Loc::Memory(offset_addr(*a, i * size, col)?),
                    }),
                    Loc::Gone(w) => Ok(Val {
                        ty: elem,
                        loc: Loc::Gone(w.clone()),
                    }),
                    _ => {
                        let all = self.bytes(&v, self.types.size(v.ty), col)?;
                        let start = usize::try_from(i * size)
                            .ok()
                            .filter(|s| *s + size as usize <= all.len())
                            .ok_or_else(|| ExprError::new(col, "index out of range"))?;
                        Ok(Val {
                            ty: elem,
                            loc: Loc::Bytes(all[start..start + size as usize].to_vec()),
                        })
                    }
                }
            }
            TypeKind::Pointer { target, .. } => {
                let size = i128::from(self.types.size(target).max(1));
                let a = self.read_uint(&v, col)?;
                Ok(Val {
                    ty: target,
                    loc: Loc::Memory(offset_addr(a, i * size, col)?),
                })
            }
            _ => err(
                col,
                format!(
                    "cannot subscript a value of type `{}`",
                    self.types.name(v.ty)
                ),
            ),
        }
    }

    fn unary(&mut self, op: &str, v: Val, col: usize) -> R<Val> {
        match op {
            "*" => self.deref(v, col),
            "&" => {
                let ptr = self.types.pointer_to(v.ty);
                match v.loc {
                    Loc::Memory(a) => Ok(Val {
                        ty: ptr,
                        loc: Loc::Bytes((a as u32).to_le_bytes().to_vec()),
                    }),
                    Loc::Wasm(l) => err(
                        col,
                        format!("cannot take the address of a value in {}", describe(&l)),
                    ),
                    Loc::Bits { .. } => err(col, "cannot take the address of a bitfield"),
                    Loc::Gone(_) => err(col, "cannot take the address of an optimized-out value"),
                    Loc::Bytes(_) => err(col, "cannot take the address of a computed value"),
                }
            }
            "!" => {
                let t = self.truth(&v, col)?;
                Ok(self.int(i128::from(!t)))
            }
            "-" | "+" | "~" => {
                let n = self.num(&v, col)?;
                let ty = self.promote(v.ty);
                let r = match (op, n) {
                    ("-", Num::Int(i)) => Num::Int(-i),
                    ("-", Num::Float(f)) => Num::Float(-f),
                    ("~", Num::Int(i)) => Num::Int(!i),
                    ("~", Num::Float(_)) => return err(col, "`~` needs an integer"),
                    (_, n) => n,
                };
                Ok(self.make(ty, r))
            }
            _ => err(col, format!("unknown operator `{op}`")),
        }
    }

    /// Integer promotion: types smaller than int become int.
    fn promote(&self, ty: TypeId) -> TypeId {
        if self.is_integer(ty) && self.types.size(ty) < 4 {
            return self.b.int;
        }
        if matches!(self.kind(ty), TypeKind::Enum { .. }) {
            return if self.is_signed(ty) {
                self.b.int
            } else {
                self.b.uint
            };
        }
        ty
    }

    /// The common type of two arithmetic operands (C's usual arithmetic conversions).
    fn common(&self, a: TypeId, b: TypeId) -> TypeId {
        let (a, b) = (self.promote(a), self.promote(b));
        let fa = self.is_float(a);
        let fb = self.is_float(b);
        if fa || fb {
            let sa = if fa { self.types.size(a) } else { 0 };
            let sb = if fb { self.types.size(b) } else { 0 };
            return if sa >= sb { a } else { b };
        }
        let (sa, sb) = (self.types.size(a), self.types.size(b));
        if sa != sb {
            return if sa > sb { a } else { b };
        }
        if !self.is_signed(a) {
            a
        } else {
            b
        }
    }

    fn truth(&self, v: &Val, col: usize) -> R<bool> {
        Ok(match self.num(v, col)? {
            Num::Int(i) => i != 0,
            Num::Float(f) => f != 0.0,
        })
    }

    fn binary(&mut self, op: &str, l: Val, r: Val, col: usize) -> R<Val> {
        if op == "@" {
            let Loc::Memory(a) = l.loc else {
                return err(col, "only values in memory can be the left operand of `@`");
            };
            let Num::Int(n) = self.num(&r, col)? else {
                return err(col, "the right operand of `@` must be an integer");
            };
            if !(1..=1 << 20).contains(&n) {
                return err(col, "the right operand of `@` must be 1 or more");
            }
            let ty = self.array_of(l.ty, n as u64);
            return Ok(Val {
                ty,
                loc: Loc::Memory(a),
            });
        }
        let lp = self.pointee(l.ty);
        let rp = self.pointee(r.ty);
        // Pointer arithmetic.
        if let (Some(t), None, "+" | "-") = (lp, rp, op) {
            let Num::Int(n) = self.num(&r, col)? else {
                return err(col, "only integers can be added to pointers");
            };
            let Num::Int(a) = self.num(&l, col)? else {
                unreachable_num()?
            };
            let size = i128::from(self.types.size(t).max(1));
            let n = if op == "-" { -n } else { n };
            let ptr = self.as_pointer(l.ty, t);
            return Ok(self.make(ptr, Num::Int((a + n * size) & 0xffff_ffff)));
        }
        if let (None, Some(t), "+") = (lp, rp, op) {
            let Num::Int(n) = self.num(&l, col)? else {
                return err(col, "only integers can be added to pointers");
            };
            let Num::Int(a) = self.num(&r, col)? else {
                unreachable_num()?
            };
            let size = i128::from(self.types.size(t).max(1));
            let ptr = self.as_pointer(r.ty, t);
            return Ok(self.make(ptr, Num::Int((a + n * size) & 0xffff_ffff)));
        }
        if let (Some(t), Some(_), "-") = (lp, rp, op) {
            let (Num::Int(a), Num::Int(b)) = (self.num(&l, col)?, self.num(&r, col)?) else {
                unreachable_num()?
            };
            let size = i128::from(self.types.size(t).max(1));
            let ty = self.dwarf.types().lookup("long").unwrap_or(self.b.int);
            return Ok(self.make(ty, Num::Int((a - b) / size)));
        }
        let a = self.num(&l, col)?;
        let b = self.num(&r, col)?;
        let ty = if lp.is_some() || rp.is_some() {
            self.b.uint
        } else {
            self.common(l.ty, r.ty)
        };
        let float = self.is_float(ty);
        let (fa, fb) = (as_f64(a), as_f64(b));
        let size = self.types.size(ty).clamp(1, 8);
        let signed = self.is_signed(ty);
        // Integers in the common type (wrapped to its size).
        let wrap = |i: i128| -> i128 {
            let bits = size * 8;
            let m = i & ((1i128 << bits) - 1);
            if signed && m >> (bits - 1) & 1 == 1 {
                m - (1i128 << bits)
            } else {
                m
            }
        };
        let (ia, ib) = (wrap(as_int(a)), wrap(as_int(b)));
        let cmp = |ord: Option<std::cmp::Ordering>| -> bool {
            use std::cmp::Ordering::*;
            match (op, ord) {
                ("==", Some(Equal)) => true,
                ("!=", o) => o != Some(Equal),
                ("<", Some(Less)) | (">", Some(Greater)) => true,
                ("<=", Some(Less | Equal)) | (">=", Some(Greater | Equal)) => true,
                _ => false,
            }
        };
        if matches!(op, "==" | "!=" | "<" | ">" | "<=" | ">=") {
            let ord = if float {
                fa.partial_cmp(&fb)
            } else {
                Some(ia.cmp(&ib))
            };
            return Ok(self.int(i128::from(cmp(ord))));
        }
        if float {
            let v = match op {
                "+" => fa + fb,
                "-" => fa - fb,
                "*" => fa * fb,
                "/" => fa / fb,
                _ => return err(col, format!("`{op}` needs integer operands")),
            };
            return Ok(self.make(ty, Num::Float(v)));
        }
        let v = match op {
            "+" => ia + ib,
            "-" => ia - ib,
            "*" => ia.wrapping_mul(ib),
            "/" | "%" if ib == 0 => return err(col, "division by zero"),
            "/" => ia / ib,
            "%" => ia % ib,
            "&" => ia & ib,
            "|" => ia | ib,
            "^" => ia ^ ib,
            "<<" => ia.wrapping_shl((ib & 127) as u32),
            ">>" => ia >> ((ib & 127) as u32),
            _ => return err(col, format!("unknown operator `{op}`")),
        };
        let ty = if matches!(op, "<<" | ">>") {
            self.promote(l.ty)
        } else {
            ty
        };
        Ok(self.make(ty, Num::Int(v)))
    }

    /// A pointer type to `target`: `ty` itself when it is one, else a new one (arrays decay).
    fn as_pointer(&mut self, ty: TypeId, target: TypeId) -> TypeId {
        if matches!(self.kind(ty), TypeKind::Pointer { .. }) {
            ty
        } else {
            self.types.pointer_to(target)
        }
    }

    /// Offset of base class `base` inside an object of class `derived` (0 for the class
    /// itself); None when `base` is not among its bases.
    pub fn base_offset(&self, derived: TypeId, base: TypeId, depth: u32) -> Option<u64> {
        let (d, b) = (self.types.strip(derived), self.types.strip(base));
        if d == b || (depth > 0 && self.types.name(d) == self.types.name(b)) {
            return Some(0);
        }
        if depth > 16 {
            return None;
        }
        let TypeKind::Struct { members, .. } = &self.types.def(d).kind else {
            return None;
        };
        members
            .iter()
            .filter(|m| m.is_base)
            .find_map(|m| Some(m.offset + self.base_offset(m.ty, b, depth + 1)?))
    }

    pub fn cast(&mut self, v: Val, ty: TypeId, col: usize) -> R<Val> {
        let target = self.kind(ty).clone();
        // Derived * to base *: the pointer moves to the base's part, as in C++.
        if let (TypeKind::Pointer { target: to, .. }, TypeKind::Pointer { target: from, .. }) =
            (&target, self.kind(v.ty).clone())
        {
            let by = match (self.kind(from), self.kind(*to)) {
                (TypeKind::Struct { .. }, TypeKind::Struct { .. }) => {
                    self.base_offset(from, *to, 0).unwrap_or(0)
                }
                _ => 0,
            };
            if by != 0 {
                let a = self.read_uint(&v, col)?;
                return Ok(self.make(ty, Num::Int(i128::from(a + by) & 0xffff_ffff)));
            }
        }
        match target {
            TypeKind::Base { .. } | TypeKind::Enum { .. } | TypeKind::Pointer { .. } => {
                let n = self.num(&v, col)?;
                let n = if matches!(target, TypeKind::Pointer { .. }) {
                    Num::Int(as_int(n) & 0xffff_ffff)
                } else {
                    n
                };
                Ok(self.make(ty, n))
            }
            TypeKind::Reference { target, .. } => match v.loc {
                Loc::Memory(_) => Ok(Val { ty: target, ..v }),
                _ => err(col, "only values in memory can be cast to references"),
            },
            TypeKind::Struct { .. } if self.base_offset(v.ty, ty, 0).is_some() => {
                // A derived object cast to one of its bases: the base's part (gdb slices too).
                let by = self.base_offset(v.ty, ty, 0).unwrap_or(0);
                let loc = match v.loc {
                    Loc::Memory(a) => Loc::Memory(a + by),
                    Loc::Bytes(b) => Loc::Bytes(b.get(by as usize..).unwrap_or(&[]).to_vec()),
                    other => other,
                };
                Ok(Val { ty, loc })
            }
            TypeKind::Struct { .. } | TypeKind::Array { .. }
                if self.types.size(ty) == self.types.size(v.ty) =>
            {
                Ok(Val { ty, ..v })
            }
            TypeKind::Void => Ok(Val {
                ty,
                loc: Loc::Bytes(Vec::new()),
            }),
            _ => err(
                col,
                format!(
                    "invalid cast from `{}` to `{}`",
                    self.types.name(v.ty),
                    self.types.name(ty)
                ),
            ),
        }
    }

    /// `l OP r` for a binary operator (`==`, `+`, ...).
    pub fn eval_binary(&mut self, op: &str, l: Val, r: Val, col: usize) -> R<Val> {
        self.binary(op, l, r, col)
    }

    /// `lhs = rhs`: converts and stores; the value stored is the result.
    fn assign(&mut self, target: Val, value: Val, col: usize) -> R<Val> {
        let ty = target.ty;
        let size = self.types.size(ty);
        let bytes = match self.kind(ty) {
            TypeKind::Struct { .. } | TypeKind::Array { .. } => {
                if self.types.name(self.types.strip(value.ty))
                    != self.types.name(self.types.strip(ty))
                {
                    return err(
                        col,
                        format!(
                            "cannot assign `{}` to `{}`",
                            self.types.name(value.ty),
                            self.types.name(ty)
                        ),
                    );
                }
                self.bytes(&value, size, col)?
            }
            _ => {
                let converted = self.cast(value, ty, col)?;
                self.bytes(&converted, size, col)?
            }
        };
        let write = |r: Result<(), String>| r.map_err(|e| ExprError::new(col, e));
        match &target.loc {
            Loc::Memory(a) => write(self.m.write_memory(*a, &bytes))?,
            Loc::Wasm(loc) => {
                let mut raw = [0u8; 8];
                let n = bytes.len().min(8);
                raw[..n].copy_from_slice(&bytes[..n]);
                // Keep the value's other bits (an i32 holding a short).
                let bits = u64::from_le_bytes(raw);
                match loc {
                    VarLocation::WasmLocal(i) => write(self.m.set_local(*i, bits))?,
                    VarLocation::WasmGlobal(i) => write(self.m.set_global(*i, bits))?,
                    _ => return err(col, "operand-stack values cannot be set"),
                }
            }
            Loc::Bits { addr, bit, bits } => {
                let n = (bit + bits).div_ceil(8).max(1);
                let raw = self.memory(*addr, n, col)?;
                let mut word = [0u8; 16];
                word[..raw.len()].copy_from_slice(&raw);
                let mut all = u128::from_le_bytes(word);
                let mask = ((1u128 << bits) - 1) << bit;
                let mut v = [0u8; 16];
                v[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
                all = (all & !mask) | ((u128::from_le_bytes(v) << bit) & mask);
                write(self.m.write_memory(*addr, &all.to_le_bytes()[..n as usize]))?;
            }
            Loc::Bytes(_) => return err(col, "left operand of assignment is not an lvalue"),
            Loc::Gone(_) => return err(col, "cannot assign to an optimized-out value"),
        }
        Ok(Val {
            ty,
            loc: Loc::Bytes(bytes),
        })
    }

    /// Whether a value's type is a struct/union/class.
    pub fn is_aggregate(&self, ty: TypeId) -> Option<Aggregate> {
        match self.kind(ty) {
            TypeKind::Struct { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

fn unreachable_num<T>() -> R<T> {
    err(0, "a pointer did not read as a number")
}

fn offset_addr(a: u64, delta: i128, col: usize) -> R<u64> {
    u64::try_from(i128::from(a) + delta)
        .ok()
        .filter(|x| *x <= u64::from(u32::MAX))
        .ok_or_else(|| ExprError::new(col, "address out of range"))
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

fn as_int(n: Num) -> i128 {
    match n {
        Num::Int(i) => i,
        Num::Float(f) => f as i128,
    }
}

fn describe(l: &VarLocation) -> String {
    match l {
        VarLocation::WasmLocal(i) => format!("wasm local {i}"),
        VarLocation::WasmGlobal(i) => format!("wasm global {i}"),
        VarLocation::WasmStack(i) => format!("operand-stack slot {i}"),
        _ => "a wasm value".into(),
    }
}
