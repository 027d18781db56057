//! The `spectest` host module the spec suite's modules import (print
//! functions that do nothing, four constant globals, a table and a memory),
//! so mutated spec modules with such imports can be instantiated and run.

use wdb::{Extern, Func, FuncType, Global, Linker, Memory, Store, Table, Val, ValType};

/// A linker holding `spectest` for `store`.
pub fn linker(store: &mut Store<()>) -> Result<Linker<()>, wdb::Error> {
    use ValType::*;
    let mut linker = Linker::new();
    let prints: [(&str, Vec<ValType>); 7] = [
        ("print", vec![]),
        ("print_i32", vec![I32]),
        ("print_i64", vec![I64]),
        ("print_f32", vec![F32]),
        ("print_f64", vec![F64]),
        ("print_i32_f32", vec![I32, F32]),
        ("print_f64_f64", vec![F64, F64]),
    ];
    for (name, params) in prints {
        let f = Func::new(store, FuncType::new(params, []), |_, _, _| Ok(()))?;
        linker.define("spectest", name, Extern::Func(f));
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, v) in globals {
        let g = Global::new(store, wdb::GlobalType { ty, mutable: false }, v)?;
        linker.define("spectest", name, Extern::Global(g));
    }
    let table = Table::new(store, FuncRef, 10, Some(20), Val::FuncRef(None))?;
    linker.define("spectest", "table", Extern::Table(table));
    let memory = Memory::new(store, 1, Some(2))?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(linker)
}
