//! DWARF reader (`wdb::debugger::dwarf`) against the `-g` samples built by clang.

use std::collections::HashMap;
use std::path::PathBuf;

use wdb::debugger::dwarf::*;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn debugme() -> DwarfInfo {
    DwarfInfo::parse(&sample("debugme-g.wasm"))
        .expect("debugme-g.wasm parses")
        .expect("debugme-g.wasm has DWARF")
}

/// 1-based line of the first line of samples/c/debugme.c containing `text`.
fn line_of(text: &str) -> u32 {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/c/debugme.c"))
        .unwrap();
    let i = src.lines().position(|l| l.contains(text)).unwrap();
    i as u32 + 1
}

/// The Code section's payload range in the module.
fn code_range(bytes: &[u8]) -> (u32, u32) {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionStart {
            unchecked_range, ..
        } = payload.unwrap()
        {
            return (unchecked_range.start as u32, unchecked_range.end as u32);
        }
    }
    panic!("no code section");
}

/// Locals, globals and stack from maps; memory from a vector at address 0.
#[derive(Default)]
struct FakeEnv {
    locals: HashMap<u32, u64>,
    globals: HashMap<u32, u64>,
    stack: Vec<u64>,
    memory: Vec<u8>,
}

impl FakeEnv {
    fn write(&mut self, addr: u32, bytes: &[u8]) {
        let a = addr as usize;
        if self.memory.len() < a + bytes.len() {
            self.memory.resize(a + bytes.len(), 0);
        }
        self.memory[a..a + bytes.len()].copy_from_slice(bytes);
    }
}

impl DwarfEnv for FakeEnv {
    fn local(&self, index: u32) -> Option<u64> {
        self.locals.get(&index).copied()
    }
    fn global(&self, index: u32) -> Option<u64> {
        self.globals.get(&index).copied()
    }
    fn stack(&self, index_from_top: u32) -> Option<u64> {
        let i = self.stack.len().checked_sub(1 + index_from_top as usize)?;
        self.stack.get(i).copied()
    }
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>> {
        let start = usize::try_from(addr).ok()?;
        let end = start.checked_add(len as usize)?;
        self.memory.get(start..end).map(<[u8]>::to_vec)
    }
}

/// The address a FrameBase-over-local location names, given the env's locals.
fn frame_address(v: &Variable, env: &FakeEnv) -> u32 {
    match &v.location {
        VarLocation::FrameBase { base, offset } => match **base {
            VarLocation::WasmLocal(n) => (env.locals[&n] as i64 + offset) as u32,
            ref other => panic!("{}: base {other:?}", v.name),
        },
        other => panic!("{}: location {other:?}", v.name),
    }
}

fn frame_local(v: &Variable) -> u32 {
    match &v.location {
        VarLocation::FrameBase { base, .. } => match **base {
            VarLocation::WasmLocal(n) => n,
            ref other => panic!("{}: base {other:?}", v.name),
        },
        other => panic!("{}: location {other:?}", v.name),
    }
}

#[test]
fn no_dwarf_is_none() {
    assert!(DwarfInfo::parse(&sample("debugme.wasm")).unwrap().is_none());
    assert!(DwarfInfo::parse(&sample("fib.wasm")).unwrap().is_none());
    // An empty module.
    assert!(DwarfInfo::parse(b"\0asm\x01\0\0\0").unwrap().is_none());
}

#[test]
fn rows_are_sorted_and_inside_the_code_section() {
    let bytes = sample("debugme-g.wasm");
    let info = debugme();
    let (start, end) = code_range(&bytes);
    assert!(info.rows().len() > 100);
    assert!(info.rows().windows(2).all(|w| w[0].offset <= w[1].offset));
    for row in info.rows() {
        assert!(
            row.offset > start && row.offset < end,
            "row {row:?} outside code {start:#x}..{end:#x}"
        );
        assert_eq!(info.line_at(row.offset).map(|r| r.offset), Some(row.offset));
    }
    for (name, s, e) in info.functions() {
        assert!(start < s && s < e && e <= end, "{name} {s:#x}..{e:#x}");
    }
    assert!(info.line_at(0).is_none());
    assert!(info.line_at(start).is_none());
    assert!(info.line_at(u32::MAX).is_none());
}

#[test]
fn breakpoint_line_in_mean() {
    let info = debugme();
    let line = line_of("sum += ds->values[i];");
    let offsets = info.offsets_for_line("debugme.c", line);
    assert!(!offsets.is_empty());
    // The same with a longer suffix; a non-matching file gives nothing.
    assert_eq!(info.offsets_for_line("c/debugme.c", line), offsets);
    assert!(info.offsets_for_line("ebugme.c", line).is_empty());
    assert!(info.offsets_for_line("debugme.c", 100_000).is_empty());
    for &off in &offsets {
        let row = info.line_at(off).unwrap();
        assert_eq!(row.line, line);
        assert!(row.file.ends_with("debugme.c"), "{}", row.file);
        assert!(row.is_stmt);
        assert_eq!(info.function_name_at(off), Some("mean"));

        let vars = info.variables_at(off);
        let get = |n: &str| {
            vars.iter()
                .find(|v| v.name == n)
                .unwrap_or_else(|| panic!("no {n} in {vars:?}"))
        };
        for n in ["sum", "i"] {
            let v = get(n);
            assert_eq!(
                v.ty,
                VarType {
                    name: "int".into(),
                    size: 4,
                    kind: ScalarKind::Signed
                }
            );
            assert!(!v.is_param);
            frame_local(v);
        }
        let ds = get("ds");
        assert!(ds.is_param);
        assert_eq!(ds.ty.kind, ScalarKind::Pointer);
        assert_eq!(ds.ty.size, 4);
        assert_eq!(ds.ty.name, "const struct dataset *");
        frame_local(ds);
        // `i` is declared in the loop's block: it comes before the function-level `sum`.
        let pos = |n: &str| vars.iter().position(|v| v.name == n).unwrap();
        assert!(pos("i") < pos("sum"));
    }
}

#[test]
fn evaluate_variables_with_a_fake_env() {
    let info = debugme();
    let off = info.offsets_for_line("debugme.c", line_of("sum += ds->values[i];"))[0];
    let vars = info.variables_at(off);
    let get = |n: &str| vars.iter().find(|v| v.name == n).unwrap().clone();
    let (sum, i, ds) = (get("sum"), get("i"), get("ds"));

    let mut env = FakeEnv::default();
    env.locals.insert(frame_local(&sum), 0x1000);
    let a = frame_address(&sum, &env);
    env.write(a, &42i32.to_le_bytes());
    env.write(frame_address(&i, &env), &(-7i32).to_le_bytes());
    env.write(frame_address(&ds, &env), &0x2040u32.to_le_bytes());
    assert_eq!(sum.read(&env).unwrap(), 42i32.to_le_bytes().to_vec());
    assert_eq!(sum.format(&env).unwrap(), "42");
    assert_eq!(i.format(&env).unwrap(), "-7");
    assert_eq!(ds.format(&env).unwrap(), "0x00002040");

    // Unreadable memory and a missing local are errors, not panics.
    env.locals.insert(frame_local(&sum), 0x10_0000);
    assert!(sum.format(&env).is_err());
    env.locals.clear();
    assert!(sum.read(&env).is_err());

    // Other kinds, built by hand.
    let mut env = FakeEnv::default();
    env.locals.insert(2, 0x100);
    env.globals.insert(0, 0x1234_5678_9abc_def0);
    env.stack = vec![1, 0x61];
    env.write(0x100, &2.5f64.to_le_bytes());
    env.write(0x108, &1.5f32.to_le_bytes());
    env.write(0x110, &[1, 2, 3, 4, 5]);
    env.write(0x200, &[0xab; 100]);
    env.write(0x300, &0x108u32.to_le_bytes());
    let var = |ty: VarType, location: VarLocation| Variable {
        name: "x".into(),
        ty,
        location,
        type_id: 0,
        is_param: false,
    };
    let ty = |name: &str, size: u32, kind: ScalarKind| VarType {
        name: name.into(),
        size,
        kind,
    };
    let mem = |offset: i64| VarLocation::FrameBase {
        base: Box::new(VarLocation::WasmLocal(2)),
        offset,
    };
    let fmt = |v: Variable| v.format(&env);
    assert_eq!(
        fmt(var(ty("double", 8, ScalarKind::Float), mem(0))).unwrap(),
        "2.5"
    );
    assert_eq!(
        fmt(var(ty("float", 4, ScalarKind::Float), mem(8))).unwrap(),
        "1.5"
    );
    assert_eq!(
        fmt(var(
            ty("char", 1, ScalarKind::Char),
            VarLocation::WasmStack(0)
        ))
        .unwrap(),
        "'a' (97)"
    );
    assert_eq!(
        fmt(var(
            ty("_Bool", 1, ScalarKind::Bool),
            VarLocation::WasmStack(1)
        ))
        .unwrap(),
        "true"
    );
    assert_eq!(
        fmt(var(
            ty("unsigned short", 2, ScalarKind::Unsigned),
            VarLocation::WasmGlobal(0)
        ))
        .unwrap(),
        "57072"
    );
    assert_eq!(
        fmt(var(
            ty("unsigned int", 4, ScalarKind::Unsigned),
            VarLocation::WasmLocal(2)
        ))
        .unwrap(),
        "256"
    );
    assert_eq!(
        fmt(var(ty("char[5]", 5, ScalarKind::Other), mem(0x10))).unwrap(),
        "01 02 03 04 05"
    );
    let big = fmt(var(
        ty("int[25]", 100, ScalarKind::Other),
        VarLocation::Address(0x200),
    ))
    .unwrap();
    assert!(big.ends_with(" …"));
    assert_eq!(big.matches("ab").count(), 64);
    // Memory at an address read from memory (one dereference).
    let deref = VarLocation::FrameBase {
        base: Box::new(VarLocation::Address(0x300)),
        offset: 0,
    };
    assert_eq!(
        fmt(var(ty("float", 4, ScalarKind::Float), deref)).unwrap(),
        "1.5"
    );
    assert!(fmt(var(
        ty("int", 4, ScalarKind::Signed),
        VarLocation::Unsupported("gone".into())
    ))
    .is_err());
    assert!(fmt(var(
        ty("struct big", 16, ScalarKind::Other),
        VarLocation::WasmLocal(2)
    ))
    .is_err());
}

#[test]
fn other_functions_and_types() {
    let info = debugme();
    let names: Vec<String> = info.functions().into_iter().map(|f| f.0).collect();
    for n in [
        "main",
        "mean",
        "variance",
        "parse_numbers",
        "is_digit",
        "smooth_step",
    ] {
        assert!(names.iter().any(|m| m == n), "{n} missing from {names:?}");
    }
    let fns = info.functions();
    let find = |n: &str| fns.iter().find(|f| f.0 == n).unwrap().clone();

    // variance(const struct dataset *ds, double avg): avg is a double parameter.
    let (_, start, end) = find("variance");
    assert_eq!(info.function_name_at(start), Some("variance"));
    assert_eq!(info.function_name_at(end - 1), Some("variance"));
    assert_ne!(info.function_name_at(end), Some("variance"));
    let off = info.offsets_for_line("debugme.c", line_of("acc += d * d;"))[0];
    let vars = info.variables_at(off);
    let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["d", "i", "ds", "avg", "acc"]);
    let avg = &vars[3];
    assert!(avg.is_param);
    assert_eq!(avg.ty.kind, ScalarKind::Float);
    assert_eq!(avg.ty.size, 8);

    // is_digit(char c)
    let (_, start, _) = find("is_digit");
    let c = info
        .variables_at(start + 1)
        .into_iter()
        .find(|v| v.name == "c")
        .unwrap();
    assert_eq!(c.ty.kind, ScalarKind::Char);
    let mut env = FakeEnv::default();
    env.locals.insert(frame_local(&c), 0x40);
    env.write(frame_address(&c, &env), b"7");
    assert_eq!(c.format(&env).unwrap(), "'7' (55)");

    // main's locals: a struct, an array-bearing struct, argv.
    let (_, start, _) = find("main");
    let vars = info.variables_at(start + 1);
    let ty = |n: &str| vars.iter().find(|v| v.name == n).unwrap().ty.clone();
    assert_eq!(ty("ds").name, "struct dataset");
    assert_eq!(ty("ds").size, 68);
    assert_eq!(ty("ds").kind, ScalarKind::Other);
    assert_eq!(ty("argv").name, "char **");
    assert_eq!(ty("input").name, "const char *");
    assert_eq!(ty("iterations").kind, ScalarKind::Signed);
    assert_eq!(ty("result").kind, ScalarKind::Unsigned);

    // compute_stats: an int[16] array; `st` lives where local 0 (the sret pointer) points.
    let (_, start, _) = find("compute_stats");
    let vars = info.variables_at(start + 1);
    let sorted = vars.iter().find(|v| v.name == "sorted").unwrap();
    assert_eq!(sorted.ty.name, "int [16]");
    assert_eq!(sorted.ty.size, 64);
    let st = vars.iter().find(|v| v.name == "st").unwrap();
    assert_eq!(
        st.location,
        VarLocation::FrameBase {
            base: Box::new(VarLocation::WasmLocal(0)),
            offset: 0
        }
    );

    // Outside any function.
    assert!(info.variables_at(0).is_empty());
    assert!(info.function_name_at(0).is_none());
}

#[test]
fn files_and_source() {
    let info = debugme();
    let files = info.files();
    let main = files
        .iter()
        .find(|f| f.ends_with("/c/debugme.c"))
        .unwrap_or_else(|| panic!("{files:?}"));
    assert!(main.starts_with('/'), "{main}");
    let expected: Vec<String> =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/c/debugme.c"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
    let dirs = [PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples"
    ))];
    assert_eq!(info.source_lines("debugme.c", &dirs).unwrap(), expected);
    // Found by file name when the directory does not match the DWARF path.
    let dirs = [PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/c"
    ))];
    assert_eq!(info.source_lines("debugme.c", &dirs).unwrap(), expected);
    assert!(info.source_lines("no-such-file.c", &dirs).is_none());
}

#[test]
fn other_samples_parse() {
    for (name, func, file) in [
        ("fib-g.wasm", "fib", "fib.c"),
        ("sha256-g.wasm", "main", "sha256.c"),
    ] {
        let bytes = sample(name);
        let info = DwarfInfo::parse(&bytes).unwrap().unwrap();
        let (start, end) = code_range(&bytes);
        assert!(
            info.functions().iter().any(|f| f.0 == func),
            "{name}: no {func}"
        );
        assert!(info.files().iter().any(|f| f.ends_with(file)), "{name}");
        for row in info.rows() {
            assert!(row.offset > start && row.offset < end);
        }
    }
}

#[test]
fn malformed_input_does_not_panic() {
    assert!(!matches!(DwarfInfo::parse(b"garbage bytes"), Ok(Some(_))));
    assert!(!matches!(DwarfInfo::parse(&[]), Ok(Some(_))));
    let bytes = sample("debugme-g.wasm");
    // Truncated modules.
    for cut in (0..bytes.len()).step_by(997) {
        let _ = DwarfInfo::parse(&bytes[..cut]);
    }
    // Corrupted bytes after the code section (the DWARF custom sections), then use the result.
    let (_, code_end) = code_range(&bytes);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let env = FakeEnv {
        memory: vec![0x11; 4096],
        ..FakeEnv::default()
    };
    for _ in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..8 {
            let span = b.len() - code_end as usize;
            let at = code_end as usize + (next() as usize % span);
            b[at] = next() as u8;
        }
        if let Ok(Some(info)) = DwarfInfo::parse(&b) {
            for (_, s, e) in info.functions().into_iter().take(20) {
                for off in [s, (s + e) / 2] {
                    let _ = info.line_at(off);
                    for v in info.variables_at(off) {
                        let _ = v.format(&env);
                    }
                }
            }
            let _ = info.offsets_for_line("debugme.c", 75);
        }
    }
}

// ---- the type table -------------------------------------------------------------

use wdb::debugger::dwarf_types::{Aggregate, TypeKind, TypeView};

/// (name, offset, bitfield (offset, size), type) of each member.
type Member = (String, u64, Option<(u32, u32)>, String);

fn members(info: &DwarfInfo, name: &str) -> Vec<Member> {
    let t = info.types();
    let id = t.lookup(name).unwrap_or_else(|| panic!("no type {name}"));
    match &t.get(t.strip(id)).kind {
        TypeKind::Struct { members, .. } => members
            .iter()
            .map(|m| {
                (
                    m.name.clone().unwrap_or_default(),
                    m.offset,
                    m.bits,
                    t.name(m.ty),
                )
            })
            .collect(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn c_types_structs_bitfields_arrays_enums_typedefs() {
    let info = DwarfInfo::parse(&sample("inventory-g.wasm"))
        .unwrap()
        .unwrap();
    let t = info.types();
    type Want<'a> = (&'a str, u64, Option<(u32, u32)>, &'a str);
    let s = |v: &[Want]| -> Vec<Member> {
        v.iter()
            .map(|(a, b, c, d)| (a.to_string(), *b, *c, d.to_string()))
            .collect()
    };
    assert_eq!(
        members(&info, "struct item"),
        s(&[
            ("name", 0, None, "char [12]"),
            ("cat", 12, None, "enum category"),
            ("count", 16, None, "int"),
            ("price", 24, None, "double"),
            ("fl", 32, None, "struct flags"),
            ("tag", 36, None, "union number"),
            ("next", 40, None, "struct item *"),
        ])
    );
    assert_eq!(t.size(t.lookup("struct item").unwrap()), 48);
    // Bitfields: (first bit, width) from the least significant bit.
    assert_eq!(
        members(&info, "struct flags"),
        s(&[
            ("fragile", 0, Some((0, 1)), "unsigned int"),
            ("heavy", 0, Some((1, 1)), "unsigned int"),
            ("shelf", 0, Some((2, 4)), "unsigned int"),
            ("level", 0, Some((6, 5)), "int"),
        ])
    );
    let number = t.lookup("union number").unwrap();
    assert!(matches!(
        t.get(number).kind,
        TypeKind::Struct {
            kind: Aggregate::Union,
            size: 4,
            ..
        }
    ));
    assert_eq!(
        members(&info, "struct grid")[0],
        ("cells".to_string(), 0, None, "short [3][4]".to_string())
    );
    let category = t.lookup("enum category").unwrap();
    match &t.get(category).kind {
        TypeKind::Enum { values, size, .. } => {
            assert_eq!(*size, 4);
            assert_eq!(
                values,
                &[
                    ("CAT_TOOL".to_string(), 1),
                    ("CAT_PART".to_string(), 2),
                    ("CAT_SPARE".to_string(), 4)
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let u32_ = t.lookup("u32").unwrap();
    assert_eq!(t.name(u32_), "u32");
    assert_eq!(t.name(t.strip(u32_)), "unsigned int");

    // Globals and file statics, with their addresses; unused ones are gone from the module.
    let global = |n: &str| {
        info.globals()
            .iter()
            .find(|g| g.name == n)
            .unwrap_or_else(|| panic!("no global {n}"))
    };
    assert!(matches!(global("settings").location, VarLocation::Address(a) if a > 0));
    assert!(matches!(
        global("pool_used").location,
        VarLocation::Address(_)
    ));
    assert_eq!(global("pool").ty.name, "struct item [4]");
    assert_eq!(global("greeting").ty.name, "const char *");
    assert_eq!(global("ticks").ty.name, "volatile int");

    // Locals of nested blocks in fill_board: c (inner), r, then the parameter g.
    let off = info.offsets_for_line(
        "inventory.c",
        line_in("inventory.c", "g->cells[r][c] = (short)(r * 10 + c);"),
    )[0];
    let names: Vec<String> = info.variables_at(off).into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["c", "r", "g"]);
    let params: Vec<String> = info.params_at(off).into_iter().map(|v| v.name).collect();
    assert_eq!(params, ["g"]);
}

fn line_in(file: &str, text: &str) -> u32 {
    let src = std::fs::read_to_string(format!("{}/samples/c/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    src.lines().position(|l| l.contains(text)).unwrap() as u32 + 1
}

#[test]
fn cplus_types_namespaces_classes_and_static_members() {
    let info = DwarfInfo::parse(&sample("shapes-g.wasm")).unwrap().unwrap();
    let t = info.types();
    let rect = t.lookup("geo::Rect").expect("geo::Rect");
    match &t.get(rect).kind {
        TypeKind::Struct { kind, members, .. } => {
            assert_eq!(*kind, Aggregate::Class);
            assert!(
                members[0].is_base && t.name(members[0].ty) == "geo::Shape",
                "{members:?}"
            );
            let width = members
                .iter()
                .find(|m| m.name.as_deref() == Some("width"))
                .unwrap();
            assert_eq!(t.name(width.ty), "int");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.name(t.lookup("geo::Point").unwrap()), "geo::Point");
    let kind = t.lookup("geo::Kind").expect("geo::Kind");
    assert!(
        matches!(&t.get(kind).kind, TypeKind::Enum { values, .. } if values[1].0 == "geo::Kind::Rect")
    );
    assert!(info.globals().iter().any(|g| g.name == "geo::Shape::count"));
    // A reference parameter: shift(const geo::Point &p, int dx, int &moves).
    let off = info.offsets_for_line("shapes.cpp", line_in("shapes.cpp", "// line SHIFT"))[0];
    let params: Vec<(String, String)> = info
        .params_at(off)
        .into_iter()
        .map(|v| (v.name, v.ty.name))
        .collect();
    assert_eq!(
        params,
        [
            ("p".to_string(), "const geo::Point &".to_string()),
            ("dx".to_string(), "int".to_string()),
            ("moves".to_string(), "int &".to_string())
        ]
    );
}

#[test]
fn optimized_code_has_location_lists_and_gaps() {
    let info = DwarfInfo::parse(&sample("inventory-O2g.wasm"))
        .unwrap()
        .unwrap();
    // Somewhere in the program a variable is a wasm local at one offset and has no location
    // at another (a location list), rather than one fixed place.
    let mut located = 0;
    let mut gone = 0;
    for row in info.rows() {
        for v in info.variables_at(row.offset) {
            match v.location {
                VarLocation::Unsupported(_) => gone += 1,
                VarLocation::WasmLocal(_) => located += 1,
                _ => {}
            }
        }
    }
    assert!(located > 0 && gone > 0, "located {located}, gone {gone}");
}

/// The stop position the debugger shows before the whole DWARF is parsed
/// (`parse_lines_at`: only the units whose ranges cover the offset) is the
/// whole table's, at every row start, just before it, and past each function's
/// code; on samples with several units and on the largest `-g` corpus modules.
#[test]
fn lines_of_the_covering_units_answer_as_the_whole_table() {
    let corpus = |name: &str| {
        let path = format!("{}/benches/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    for (name, bytes) in [
        ("debugme-g.wasm", sample("debugme-g.wasm")),
        ("sha256-g.wasm", sample("sha256-g.wasm")),
        ("zlib-g.wasm", corpus("zlib-g.wasm")),
        ("lua-g.wasm", corpus("lua-g.wasm")),
    ] {
        let whole = DwarfInfo::parse(&bytes).unwrap().unwrap();
        let (start, end) = code_range(&bytes);
        let rows = whole.rows();
        // Every row of the small modules; a spread of rows of the large ones
        // (each early parse reads one unit's line program: a few ms).
        let step = (rows.len() / 40).max(1);
        let mut offsets: Vec<u32> = vec![start, start + 1, end - 1];
        for row in rows.iter().step_by(step) {
            offsets.extend([row.offset - 1, row.offset, row.offset + 1]);
        }
        for f in whole.functions().iter().step_by(step) {
            offsets.extend([f.1, f.2, f.2 + 1]);
        }
        let mut checked = 0;
        for off in offsets {
            let early = DwarfInfo::parse_lines_at(&bytes, off).unwrap();
            let got = early.as_ref().and_then(|d| d.line_at(off));
            assert_eq!(got, whole.line_at(off), "{name} at {off:#x}");
            checked += usize::from(got.is_some());
        }
        assert!(checked > 20, "{name}: only {checked} offsets had a row");
    }
}
