//! DWARF types as one owned table: base types, typedefs, qualifiers, pointers, references,
//! structs/classes/unions (with bitfields and base classes), arrays (one entry per dimension),
//! enums and function types, with their C/C++ spellings as gdb writes them.
//!
//! [`TypeReader`] fills a [`TypeTable`] from the DIEs of one unit; a type is read once, the first
//! time a variable or another type refers to it (cycles through pointers are fine: the id is
//! handed out before the pointee is read). Malformed DWARF gives `Unknown` types, never a panic.

use std::collections::HashMap;

use gimli::constants;
use gimli::{AttributeValue, DebuggingInformationEntry, EndianSlice, LittleEndian, UnitOffset};

type Slice<'a> = EndianSlice<'a, LittleEndian>;
type Dwarf<'a> = gimli::Dwarf<Slice<'a>>;
type Unit<'a> = gimli::Unit<Slice<'a>>;
type Entry<'a> = DebuggingInformationEntry<Slice<'a>>;

/// Index of a type in a [`TypeTable`].
pub type TypeId = u32;

/// Nesting followed before a type is given up as `Unknown`.
const MAX_DEPTH: u32 = 48;
/// Members, enumerators or dimensions read per type.
const MAX_CHILDREN: usize = 4096;

/// How a base type's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Signed,
    Unsigned,
    Float,
    Bool,
    SignedChar,
    UnsignedChar,
    /// Anything else (complex, decimal float...): shown as bytes.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Struct,
    Class,
    Union,
}

/// C++ access of a member, base or method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Protected,
    Private,
}

impl Access {
    /// `DW_AT_accessibility` of `e`, else the aggregate's default.
    fn of(e: &Entry<'_>, default: Access) -> Access {
        match e.attr_value(constants::DW_AT_accessibility) {
            Some(AttributeValue::Accessibility(constants::DW_ACCESS_public)) => Access::Public,
            Some(AttributeValue::Accessibility(constants::DW_ACCESS_protected)) => {
                Access::Protected
            }
            Some(AttributeValue::Accessibility(constants::DW_ACCESS_private)) => Access::Private,
            _ => default,
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Protected => "protected",
            Access::Private => "private",
        }
    }
}

/// A C++ member function as its class declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    pub name: String,
    /// Return type (0: void; constructors and destructors have none).
    pub ret: TypeId,
    /// Parameter types, without the implicit `this`.
    pub params: Vec<TypeId>,
    pub is_virtual: bool,
    /// The type of `this` (`const T *` for a const method); None: static.
    /// (Read when printing: while the class is read it may be unfinished.)
    pub this: Option<TypeId>,
    /// Made by the compiler (implicit constructors and the like).
    pub is_artificial: bool,
    pub access: Access,
}

/// A data member (or a base class, with `name` None and `is_base`).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: Option<String>,
    pub ty: TypeId,
    /// Byte offset in the enclosing object.
    pub offset: u64,
    /// Bitfield: (first bit counted from the least significant bit of the byte at `offset`,
    /// number of bits).
    pub bits: Option<(u32, u32)>,
    pub is_base: bool,
    /// A C++ static member: no storage in the object.
    pub is_static: bool,
    /// Made by the compiler (clang's `_vtable$`), not declared in the source.
    pub is_artificial: bool,
    /// C++ access (`public` in C).
    pub access: Access,
    /// A virtual base class.
    pub is_virtual: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Void,
    Base {
        enc: Encoding,
        size: u32,
    },
    Pointer {
        target: TypeId,
        size: u32,
    },
    Reference {
        target: TypeId,
        rvalue: bool,
    },
    Typedef {
        target: TypeId,
    },
    Const(TypeId),
    Volatile(TypeId),
    Struct {
        kind: Aggregate,
        size: u64,
        members: Vec<Member>,
        /// A declaration only (the definition is elsewhere or missing).
        incomplete: bool,
    },
    /// One dimension: `count` elements of `elem` (which is an array for the next dimension).
    Array {
        elem: TypeId,
        count: Option<u64>,
    },
    Enum {
        size: u32,
        signed: bool,
        values: Vec<(String, i64)>,
        /// C++ `enum class` (DW_AT_enum_class).
        scoped: bool,
        /// The underlying integer type (DW_AT_type), when the DWARF names one.
        underlying: Option<TypeId>,
    },
    Function {
        ret: TypeId,
        params: Vec<TypeId>,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// The name as written in the source, qualified with namespaces/classes in C++
    /// (`point`, `geo::Point`); None for unnamed and derived types.
    pub name: Option<String>,
    pub kind: TypeKind,
    /// The unit is C++ (no `struct`/`enum` keyword in spellings).
    pub cplus: bool,
}

/// All types of a module.
#[derive(Debug, Clone, Default)]
pub struct TypeTable {
    types: Vec<TypeDef>,
    /// Named types (structs, unions, enums, typedefs, base types) by spelling
    /// ("struct item", "item" in C++, "u32", "unsigned int").
    by_name: HashMap<String, TypeId>,
    /// The member functions of C++ classes that declare any.
    methods: HashMap<TypeId, Vec<Method>>,
}

/// Well-known types every evaluation needs, created with the table.
#[derive(Debug, Clone, Copy)]
pub struct Builtins {
    pub void: TypeId,
    pub int: TypeId,
    pub uint: TypeId,
    pub long_long: TypeId,
    pub ulong_long: TypeId,
    pub char: TypeId,
    pub float: TypeId,
    pub double: TypeId,
    pub bool: TypeId,
}

impl TypeTable {
    pub fn new() -> TypeTable {
        let mut t = TypeTable::default();
        t.add(TypeDef {
            name: Some("void".into()),
            kind: TypeKind::Void,
            cplus: false,
        });
        t
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    pub fn get(&self, id: TypeId) -> &TypeDef {
        static UNKNOWN: TypeDef = TypeDef {
            name: None,
            kind: TypeKind::Unknown,
            cplus: false,
        };
        self.types.get(id as usize).unwrap_or(&UNKNOWN)
    }

    pub fn add(&mut self, def: TypeDef) -> TypeId {
        self.types.push(def);
        (self.types.len() - 1) as TypeId
    }

    fn set(&mut self, id: TypeId, def: TypeDef) {
        if let Some(slot) = self.types.get_mut(id as usize) {
            *slot = def;
        }
    }

    /// A named type by its spelling (`struct item`, `u32`, `unsigned int`, `geo::Point`).
    pub fn lookup(&self, name: &str) -> Option<TypeId> {
        self.by_name.get(name).copied()
    }

    /// Records a spelling for a named type; a complete struct wins over a declaration.
    pub fn register(&mut self, id: TypeId) {
        let Some(spelling) = self.named_spelling(id) else {
            return;
        };
        match self.by_name.get(&spelling) {
            Some(&old) if !self.is_incomplete(old) => {}
            _ => {
                self.by_name.insert(spelling, id);
            }
        }
    }

    fn is_incomplete(&self, id: TypeId) -> bool {
        matches!(
            self.get(id).kind,
            TypeKind::Struct {
                incomplete: true,
                ..
            }
        )
    }

    /// The spelling a named type is looked up by.
    fn named_spelling(&self, id: TypeId) -> Option<String> {
        let def = self.get(id);
        let name = def.name.as_ref()?;
        let keyword = match (&def.kind, def.cplus) {
            (_, true) => "",
            (TypeKind::Struct { kind, .. }, false) => match kind {
                Aggregate::Union => "union ",
                _ => "struct ",
            },
            (TypeKind::Enum { .. }, false) => "enum ",
            (TypeKind::Base { .. } | TypeKind::Typedef { .. } | TypeKind::Void, _) => "",
            _ => return None,
        };
        Some(format!("{keyword}{name}"))
    }
}

/// Reading types: the table of a module, or the table plus the types an expression made
/// (`&x`, casts).
pub trait TypeView {
    fn def(&self, id: TypeId) -> &TypeDef;

    /// Follows typedefs and const/volatile to the type that says what the bytes are.
    fn strip(&self, mut id: TypeId) -> TypeId {
        for _ in 0..MAX_DEPTH {
            match self.def(id).kind {
                TypeKind::Typedef { target }
                | TypeKind::Const(target)
                | TypeKind::Volatile(target) => id = target,
                _ => return id,
            }
        }
        id
    }

    /// Size in bytes (0 when unknown or void).
    fn size(&self, id: TypeId) -> u64 {
        self.size_depth(id, 0)
    }

    fn size_depth(&self, id: TypeId, depth: u32) -> u64 {
        if depth > MAX_DEPTH {
            return 0;
        }
        match &self.def(id).kind {
            TypeKind::Void | TypeKind::Unknown | TypeKind::Function { .. } => 0,
            TypeKind::Base { size, .. } | TypeKind::Enum { size, .. } => u64::from(*size),
            TypeKind::Pointer { size, .. } => u64::from(*size),
            TypeKind::Reference { .. } => 4,
            TypeKind::Typedef { target } | TypeKind::Const(target) | TypeKind::Volatile(target) => {
                self.size_depth(*target, depth + 1)
            }
            TypeKind::Struct { size, .. } => *size,
            TypeKind::Array { elem, count } => count
                .unwrap_or(0)
                .saturating_mul(self.size_depth(*elem, depth + 1)),
        }
    }

    /// The member functions a C++ class declares (none for other types).
    fn methods(&self, _id: TypeId) -> &[Method] {
        &[]
    }

    /// The C spelling of a type, as gdb's `whatis` shows it (`const struct item *`, `short [3][4]`).
    fn name(&self, id: TypeId) -> String {
        let (base, decl) = self.spell(id, String::new(), 0);
        if decl.is_empty() {
            base
        } else {
            format!("{base} {decl}")
        }
    }

    /// (base name, declarator) for `id` wrapped around the declarator `decl`.
    fn spell(&self, id: TypeId, decl: String, depth: u32) -> (String, String) {
        if depth > MAX_DEPTH {
            return ("?".into(), decl);
        }
        let def = self.def(id);
        match &def.kind {
            TypeKind::Pointer { target, .. } | TypeKind::Reference { target, .. } => {
                let sigil = match def.kind {
                    TypeKind::Reference { rvalue: true, .. } => "&&",
                    TypeKind::Reference { .. } => "&",
                    _ => "*",
                };
                let inner = self.strip_cv_kind(*target);
                let d = if matches!(inner, TypeKind::Array { .. } | TypeKind::Function { .. }) {
                    format!("({sigil}{decl})")
                } else {
                    format!("{sigil}{decl}")
                };
                self.spell(*target, d, depth + 1)
            }
            TypeKind::Array { elem, count } => {
                let dim = match count {
                    Some(n) => format!("[{n}]"),
                    None => "[]".to_string(),
                };
                self.spell(*elem, format!("{decl}{dim}"), depth + 1)
            }
            TypeKind::Function { ret, params } => {
                let ps: Vec<String> = params.iter().map(|p| self.name(*p)).collect();
                let ps = if ps.is_empty() {
                    "void".to_string()
                } else {
                    ps.join(", ")
                };
                self.spell(*ret, format!("{decl}({ps})"), depth + 1)
            }
            TypeKind::Const(t) | TypeKind::Volatile(t) => {
                let q = if matches!(def.kind, TypeKind::Const(_)) {
                    "const"
                } else {
                    "volatile"
                };
                if matches!(self.def(*t).kind, TypeKind::Pointer { .. }) {
                    self.spell(*t, format!(" {q}{decl}"), depth + 1)
                } else {
                    let (b, d) = self.spell(*t, decl, depth + 1);
                    (format!("{q} {b}"), d)
                }
            }
            _ => (self.base_name(id), decl),
        }
    }

    fn strip_cv_kind(&self, id: TypeId) -> &TypeKind {
        let mut id = id;
        for _ in 0..MAX_DEPTH {
            match self.def(id).kind {
                TypeKind::Const(t) | TypeKind::Volatile(t) => id = t,
                _ => break,
            }
        }
        &self.def(id).kind
    }

    /// The name of a type that is not built from others (`struct item`, `int`, `u32`).
    fn base_name(&self, id: TypeId) -> String {
        let def = self.def(id);
        let name = def.name.clone();
        let anon = |what: &str| format!("{what} {{...}}");
        match &def.kind {
            TypeKind::Struct { kind, .. } => {
                let kw = match kind {
                    Aggregate::Struct => "struct",
                    Aggregate::Class => "class",
                    Aggregate::Union => "union",
                };
                match name {
                    Some(n) if def.cplus => n,
                    Some(n) => format!("{kw} {n}"),
                    None => anon(kw),
                }
            }
            TypeKind::Enum { .. } => match name {
                Some(n) if def.cplus => n,
                Some(n) => format!("enum {n}"),
                None => anon("enum"),
            },
            TypeKind::Void => "void".into(),
            _ => name.unwrap_or_else(|| "?".into()),
        }
    }
}

impl TypeView for TypeTable {
    fn def(&self, id: TypeId) -> &TypeDef {
        self.get(id)
    }

    fn methods(&self, id: TypeId) -> &[Method] {
        self.methods.get(&id).map_or(&[], Vec::as_slice)
    }
}

/// A table plus the types one evaluation adds (pointer types of `&x` and casts).
pub struct Overlay<'a> {
    pub base: &'a TypeTable,
    extra: Vec<TypeDef>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a TypeTable) -> Overlay<'a> {
        Overlay {
            base,
            extra: Vec::new(),
        }
    }

    pub fn add(&mut self, def: TypeDef) -> TypeId {
        self.extra.push(def);
        (self.base.len() + self.extra.len() - 1) as TypeId
    }

    /// `T *` for a type `T`.
    pub fn pointer_to(&mut self, target: TypeId) -> TypeId {
        let cplus = self.def(target).cplus;
        self.add(TypeDef {
            name: None,
            kind: TypeKind::Pointer { target, size: 4 },
            cplus,
        })
    }
}

impl TypeView for Overlay<'_> {
    fn def(&self, id: TypeId) -> &TypeDef {
        match (id as usize).checked_sub(self.base.len()) {
            Some(i) => self.extra.get(i).unwrap_or_else(|| self.base.get(u32::MAX)),
            None => self.base.get(id),
        }
    }

    fn methods(&self, id: TypeId) -> &[Method] {
        self.base.methods(id)
    }
}

/// Reads type DIEs of one unit into a table.
pub struct TypeReader<'d, 'a> {
    pub dwarf: &'d Dwarf<'a>,
    pub unit: &'d Unit<'a>,
    /// DIE offset in this unit -> type id.
    pub memo: HashMap<UnitOffset, TypeId>,
    /// Namespace/class prefix of DIEs nested in namespaces or classes ("geo::").
    pub prefixes: &'d HashMap<UnitOffset, String>,
    pub cplus: bool,
}

impl<'a> TypeReader<'_, 'a> {
    fn string(&self, value: AttributeValue<Slice<'a>>) -> Option<String> {
        let s = self.dwarf.attr_string(self.unit, value).ok()?;
        Some(s.to_string_lossy().into_owned())
    }

    fn unit_offset(&self, value: AttributeValue<Slice<'a>>) -> Option<UnitOffset> {
        match value {
            AttributeValue::UnitRef(off) => Some(off),
            AttributeValue::DebugInfoRef(off) => off.to_unit_offset(&self.unit.header),
            _ => None,
        }
    }

    /// The type a DW_AT_type value names (None: void).
    pub fn type_ref(
        &mut self,
        table: &mut TypeTable,
        value: Option<AttributeValue<Slice<'a>>>,
        depth: u32,
    ) -> TypeId {
        let Some(value) = value else {
            return 0;
        };
        match self.unit_offset(value) {
            Some(off) => self.type_at(table, off, depth),
            None => unknown(table),
        }
    }

    /// The type DIE at `offset`.
    pub fn type_at(&mut self, table: &mut TypeTable, offset: UnitOffset, depth: u32) -> TypeId {
        if let Some(&id) = self.memo.get(&offset) {
            return id;
        }
        if depth > MAX_DEPTH {
            return unknown(table);
        }
        let Ok(entry) = self.unit.entry(offset) else {
            return unknown(table);
        };
        // The id exists before anything it refers to is read (pointer cycles).
        let id = table.add(TypeDef {
            name: None,
            kind: TypeKind::Unknown,
            cplus: self.cplus,
        });
        self.memo.insert(offset, id);
        let def = self.read(table, &entry, offset, depth);
        let class = matches!(def.kind, TypeKind::Struct { .. }) && self.cplus;
        table.set(id, def);
        table.register(id);
        if class {
            let methods = self.methods(table, &entry, offset, depth);
            if !methods.is_empty() {
                table.methods.insert(id, methods);
            }
        }
        id
    }

    fn read(
        &mut self,
        table: &mut TypeTable,
        entry: &Entry<'a>,
        offset: UnitOffset,
        depth: u32,
    ) -> TypeDef {
        let raw_name = entry
            .attr_value(constants::DW_AT_name)
            .and_then(|v| self.string(v));
        let name = raw_name.map(|n| match self.prefixes.get(&offset) {
            Some(p) => format!("{p}{n}"),
            None => n,
        });
        let size = entry
            .attr_value(constants::DW_AT_byte_size)
            .and_then(|v| v.udata_value());
        let inner = |me: &mut Self, table: &mut TypeTable| {
            me.type_ref(table, entry.attr_value(constants::DW_AT_type), depth + 1)
        };
        let pointer_size = u32::from(self.unit.encoding().address_size);
        let kind = match entry.tag() {
            constants::DW_TAG_base_type => {
                let enc = match entry.attr_value(constants::DW_AT_encoding) {
                    Some(AttributeValue::Encoding(e)) => match e {
                        constants::DW_ATE_signed => Encoding::Signed,
                        constants::DW_ATE_unsigned => Encoding::Unsigned,
                        constants::DW_ATE_float => Encoding::Float,
                        constants::DW_ATE_boolean => Encoding::Bool,
                        constants::DW_ATE_signed_char => Encoding::SignedChar,
                        constants::DW_ATE_unsigned_char => Encoding::UnsignedChar,
                        constants::DW_ATE_UTF => Encoding::Unsigned,
                        _ => Encoding::Other,
                    },
                    _ => Encoding::Other,
                };
                TypeKind::Base {
                    enc,
                    size: size.map_or(0, |s| u32::try_from(s).unwrap_or(0)),
                }
            }
            constants::DW_TAG_unspecified_type => TypeKind::Void,
            constants::DW_TAG_typedef => TypeKind::Typedef {
                target: inner(self, table),
            },
            constants::DW_TAG_const_type => TypeKind::Const(inner(self, table)),
            constants::DW_TAG_volatile_type
            | constants::DW_TAG_restrict_type
            | constants::DW_TAG_atomic_type => {
                let t = inner(self, table);
                if entry.tag() == constants::DW_TAG_volatile_type {
                    TypeKind::Volatile(t)
                } else {
                    // restrict/_Atomic change nothing about the bytes.
                    TypeKind::Typedef { target: t }
                }
            }
            constants::DW_TAG_pointer_type | constants::DW_TAG_ptr_to_member_type => {
                TypeKind::Pointer {
                    target: inner(self, table),
                    size: size.map_or(pointer_size, |s| u32::try_from(s).unwrap_or(pointer_size)),
                }
            }
            constants::DW_TAG_reference_type | constants::DW_TAG_rvalue_reference_type => {
                TypeKind::Reference {
                    target: inner(self, table),
                    rvalue: entry.tag() == constants::DW_TAG_rvalue_reference_type,
                }
            }
            constants::DW_TAG_structure_type
            | constants::DW_TAG_class_type
            | constants::DW_TAG_union_type => {
                let kind = match entry.tag() {
                    constants::DW_TAG_structure_type => Aggregate::Struct,
                    constants::DW_TAG_class_type => Aggregate::Class,
                    _ => Aggregate::Union,
                };
                let incomplete = matches!(
                    entry.attr_value(constants::DW_AT_declaration),
                    Some(AttributeValue::Flag(true))
                );
                let default = match kind {
                    Aggregate::Class => Access::Private,
                    _ => Access::Public,
                };
                let members = self.members(table, offset, depth, default);
                TypeKind::Struct {
                    kind,
                    size: size.unwrap_or(0),
                    members,
                    incomplete,
                }
            }
            constants::DW_TAG_enumeration_type => {
                let mut underlying = None;
                let signed = match entry.attr_value(constants::DW_AT_type) {
                    Some(_) => {
                        let t = inner(self, table);
                        underlying = Some(t);
                        let t = table.strip(t);
                        !matches!(
                            table.get(t).kind,
                            TypeKind::Base {
                                enc: Encoding::Unsigned | Encoding::UnsignedChar | Encoding::Bool,
                                ..
                            }
                        )
                    }
                    None => true,
                };
                let mut values = self.enumerators(offset);
                let scoped = matches!(
                    entry.attr_value(constants::DW_AT_enum_class),
                    Some(AttributeValue::Flag(true))
                );
                // A scoped enum's values are written `geo::Kind::Rect`.
                if let (true, Some(n)) = (scoped, &name) {
                    for (v, _) in &mut values {
                        *v = format!("{n}::{v}");
                    }
                }
                TypeKind::Enum {
                    size: size.map_or(4, |s| u32::try_from(s).unwrap_or(4)),
                    signed,
                    values,
                    scoped,
                    underlying,
                }
            }
            constants::DW_TAG_array_type => {
                let elem = inner(self, table);
                let dims = self.array_dims(offset);
                // int a[3][4]: Array{3, Array{4, int}}; build from the innermost dimension.
                let mut t = elem;
                for (i, count) in dims.iter().enumerate().rev() {
                    if i == 0 {
                        return TypeDef {
                            name: None,
                            kind: TypeKind::Array {
                                elem: t,
                                count: *count,
                            },
                            cplus: self.cplus,
                        };
                    }
                    t = table.add(TypeDef {
                        name: None,
                        kind: TypeKind::Array {
                            elem: t,
                            count: *count,
                        },
                        cplus: self.cplus,
                    });
                }
                TypeKind::Array {
                    elem: t,
                    count: None,
                }
            }
            constants::DW_TAG_subroutine_type => {
                let ret = inner(self, table);
                let params = self.params(table, offset, depth);
                TypeKind::Function { ret, params }
            }
            _ => TypeKind::Unknown,
        };
        TypeDef {
            name,
            kind,
            cplus: self.cplus,
        }
    }

    fn children(&self, offset: UnitOffset, mut f: impl FnMut(&Entry<'a>)) {
        let Ok(mut tree) = self.unit.entries_tree(Some(offset)) else {
            return;
        };
        let Ok(root) = tree.root() else { return };
        let mut children = root.children();
        let mut n = 0;
        while let Ok(Some(child)) = children.next() {
            f(child.entry());
            n += 1;
            if n > MAX_CHILDREN {
                break;
            }
        }
    }

    fn members(
        &mut self,
        table: &mut TypeTable,
        offset: UnitOffset,
        depth: u32,
        default: Access,
    ) -> Vec<Member> {
        let mut raw = Vec::new();
        self.children(offset, |e| {
            if matches!(
                e.tag(),
                constants::DW_TAG_member
                    | constants::DW_TAG_inheritance
                    | constants::DW_TAG_variable
            ) {
                raw.push(e.clone());
            }
        });
        let mut out = Vec::new();
        for e in raw {
            let is_base = e.tag() == constants::DW_TAG_inheritance;
            let is_static = e.tag() == constants::DW_TAG_variable
                || matches!(
                    e.attr_value(constants::DW_AT_external),
                    Some(AttributeValue::Flag(true))
                ) && e
                    .attr_value(constants::DW_AT_data_member_location)
                    .is_none();
            let name = e
                .attr_value(constants::DW_AT_name)
                .and_then(|v| self.string(v));
            let ty = self.type_ref(table, e.attr_value(constants::DW_AT_type), depth + 1);
            let mut offset = match e.attr_value(constants::DW_AT_data_member_location) {
                Some(v) => v.udata_value().unwrap_or(0),
                None => 0,
            };
            let bit_size = e
                .attr_value(constants::DW_AT_bit_size)
                .and_then(|v| v.udata_value());
            let bits = match bit_size {
                None => None,
                Some(bits) => {
                    let bits = u32::try_from(bits).unwrap_or(0).min(64);
                    // DWARF 4: DW_AT_bit_offset counts from the most significant bit of a
                    // storage unit of DW_AT_byte_size bytes. DWARF 5: DW_AT_data_bit_offset
                    // counts from the start of the object.
                    if let Some(dbo) = e
                        .attr_value(constants::DW_AT_data_bit_offset)
                        .and_then(|v| v.udata_value())
                    {
                        offset = dbo / 8;
                        Some(((dbo % 8) as u32, bits))
                    } else {
                        let storage = e
                            .attr_value(constants::DW_AT_byte_size)
                            .and_then(|v| v.udata_value())
                            .unwrap_or_else(|| table.size(ty))
                            .min(8);
                        let from_msb = e
                            .attr_value(constants::DW_AT_bit_offset)
                            .and_then(|v| v.udata_value())
                            .unwrap_or(0);
                        let lsb = (storage * 8).saturating_sub(from_msb + u64::from(bits));
                        offset += lsb / 8;
                        Some(((lsb % 8) as u32, bits))
                    }
                }
            };
            out.push(Member {
                name,
                ty,
                offset,
                bits,
                is_base,
                is_static,
                is_artificial: matches!(
                    e.attr_value(constants::DW_AT_artificial),
                    Some(AttributeValue::Flag(true))
                ),
                access: Access::of(&e, default),
                is_virtual: matches!(
                    e.attr_value(constants::DW_AT_virtuality),
                    Some(AttributeValue::Virtuality(v)) if v != constants::DW_VIRTUALITY_none
                ),
            });
        }
        out
    }

    /// The member functions (DW_TAG_subprogram children) of the class at `offset`.
    fn methods(
        &mut self,
        table: &mut TypeTable,
        class: &Entry<'a>,
        offset: UnitOffset,
        depth: u32,
    ) -> Vec<Method> {
        let default = if class.tag() == constants::DW_TAG_class_type {
            Access::Private
        } else {
            Access::Public
        };
        let mut raw = Vec::new();
        self.children(offset, |e| {
            if e.tag() == constants::DW_TAG_subprogram {
                raw.push((e.offset(), e.clone()));
            }
        });
        let mut out = Vec::new();
        for (off, e) in raw {
            let Some(name) = e
                .attr_value(constants::DW_AT_name)
                .and_then(|v| self.string(v))
            else {
                continue;
            };
            let flag = |a| matches!(e.attr_value(a), Some(AttributeValue::Flag(true)));
            let mut params = Vec::new();
            let mut this = None;
            let mut first = true;
            let mut raw_params = Vec::new();
            self.children(off, |p| {
                if p.tag() == constants::DW_TAG_formal_parameter {
                    let artificial = matches!(
                        p.attr_value(constants::DW_AT_artificial),
                        Some(AttributeValue::Flag(true))
                    );
                    raw_params.push((artificial, p.attr_value(constants::DW_AT_type)));
                }
            });
            for (artificial, ty) in raw_params {
                let t = self.type_ref(table, ty, depth + 1);
                if first && artificial {
                    this = Some(t);
                } else {
                    params.push(t);
                }
                first = false;
            }
            out.push(Method {
                name,
                ret: self.type_ref(table, e.attr_value(constants::DW_AT_type), depth + 1),
                params,
                is_virtual: matches!(
                    e.attr_value(constants::DW_AT_virtuality),
                    Some(AttributeValue::Virtuality(v)) if v != constants::DW_VIRTUALITY_none
                ),
                this,
                is_artificial: flag(constants::DW_AT_artificial),
                access: Access::of(&e, default),
            });
        }
        out
    }

    fn enumerators(&self, offset: UnitOffset) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        self.children(offset, |e| {
            if e.tag() != constants::DW_TAG_enumerator {
                return;
            }
            let name = e
                .attr_value(constants::DW_AT_name)
                .and_then(|v| self.string(v));
            let value = e.attr_value(constants::DW_AT_const_value).and_then(|v| {
                v.sdata_value()
                    .or_else(|| v.udata_value().map(|u| u as i64))
            });
            if let (Some(n), Some(v)) = (name, value) {
                out.push((n, v));
            }
        });
        out
    }

    fn params(&mut self, table: &mut TypeTable, offset: UnitOffset, depth: u32) -> Vec<TypeId> {
        let mut raw = Vec::new();
        self.children(offset, |e| {
            if e.tag() == constants::DW_TAG_formal_parameter {
                raw.push(e.attr_value(constants::DW_AT_type));
            }
        });
        raw.into_iter()
            .map(|t| self.type_ref(table, t, depth + 1))
            .collect()
    }

    /// Element counts of an array type's subranges (None: unknown).
    fn array_dims(&self, offset: UnitOffset) -> Vec<Option<u64>> {
        let mut dims = Vec::new();
        self.children(offset, |e| {
            if e.tag() != constants::DW_TAG_subrange_type || dims.len() > 64 {
                return;
            }
            let count = e
                .attr_value(constants::DW_AT_count)
                .and_then(|v| v.udata_value())
                .or_else(|| {
                    let upper = e.attr_value(constants::DW_AT_upper_bound)?.sdata_value()?;
                    let lower = e
                        .attr_value(constants::DW_AT_lower_bound)
                        .and_then(|v| v.sdata_value())
                        .unwrap_or(0);
                    u64::try_from(upper.checked_sub(lower)?.checked_add(1)?).ok()
                });
            dims.push(count);
        });
        if dims.is_empty() {
            dims.push(None);
        }
        dims
    }
}

fn unknown(table: &mut TypeTable) -> TypeId {
    table.add(TypeDef {
        name: None,
        kind: TypeKind::Unknown,
        cplus: false,
    })
}

impl TypeTable {
    /// Adds the base types that literals and arithmetic need, unless the module has them.
    pub fn builtins(&mut self) -> Builtins {
        let mut base = |name: &str, enc: Encoding, size: u32| -> TypeId {
            if let Some(id) = self.lookup(name) {
                if matches!(self.get(self.strip(id)).kind, TypeKind::Base { .. }) {
                    return id;
                }
            }
            let id = self.add(TypeDef {
                name: Some(name.into()),
                kind: TypeKind::Base { enc, size },
                cplus: false,
            });
            self.by_name.entry(name.into()).or_insert(id);
            id
        };
        let b = Builtins {
            void: 0,
            int: base("int", Encoding::Signed, 4),
            uint: base("unsigned int", Encoding::Unsigned, 4),
            long_long: base("long long", Encoding::Signed, 8),
            ulong_long: base("unsigned long long", Encoding::Unsigned, 8),
            char: base("char", Encoding::SignedChar, 1),
            float: base("float", Encoding::Float, 4),
            double: base("double", Encoding::Float, 8),
            bool: base("bool", Encoding::Bool, 1),
        };
        // Other spellings of C's base types (wasm32: long is 4 bytes).
        for (name, enc, size) in [
            ("signed char", Encoding::SignedChar, 1),
            ("unsigned char", Encoding::UnsignedChar, 1),
            ("short", Encoding::Signed, 2),
            ("unsigned short", Encoding::Unsigned, 2),
            ("long", Encoding::Signed, 4),
            ("unsigned long", Encoding::Unsigned, 4),
            ("_Bool", Encoding::Bool, 1),
        ] {
            base(name, enc, size);
        }
        for (alias, canonical) in [
            ("signed", "int"),
            ("signed int", "int"),
            ("unsigned", "unsigned int"),
            ("short int", "short"),
            ("signed short", "short"),
            ("short unsigned int", "unsigned short"),
            ("unsigned short int", "unsigned short"),
            ("long int", "long"),
            ("long unsigned int", "unsigned long"),
            ("unsigned long int", "unsigned long"),
            ("long long int", "long long"),
            ("signed long long", "long long"),
            ("long long unsigned int", "unsigned long long"),
            ("unsigned long long int", "unsigned long long"),
        ] {
            if let Some(id) = self.lookup(canonical) {
                self.by_name.entry(alias.into()).or_insert(id);
            }
        }
        b
    }
}
