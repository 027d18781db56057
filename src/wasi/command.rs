//! Starting a WASI program as `wdb run` and the debugger both do: argv,
//! environment and preopened directories, instantiation with the WASI
//! imports, and the function to call with its arguments parsed from text.
//! Errors are one line naming the program.

use super::WasiCtx;
use crate::engine::Engine;
use crate::error::Error;
use crate::runtime::{Extern, Func, Instance, Linker, Module, Store, Val};
use std::path::PathBuf;

/// What to run.
pub struct CommandSpec<'a> {
    /// Shown in errors; its file name is argv[0].
    pub name: &'a str,
    /// Exported function to call instead of `_start`.
    pub invoke: Option<&'a str>,
    /// argv after the program name, or the `invoke`d function's arguments.
    pub args: &'a [String],
    /// Preopened directories (host path, guest path).
    pub dirs: &'a [(PathBuf, String)],
    pub env: &'a [(String, String)],
}

/// An instantiated program ready for `func.call(&mut store, &params, &mut results)`.
pub struct Prepared {
    pub store: Store<WasiCtx>,
    pub instance: Instance,
    pub func: Func,
    pub params: Vec<Val>,
    pub results: Vec<Val>,
}

/// Fills `wasi` (whose standard streams the caller has chosen) from `spec`,
/// instantiates `module` and finds the function to call.
pub fn prepare(
    engine: &Engine,
    module: &Module,
    mut wasi: WasiCtx,
    spec: &CommandSpec<'_>,
) -> Result<Prepared, String> {
    let program = std::path::Path::new(spec.name)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut argv = vec![program];
    if spec.invoke.is_none() {
        argv.extend(spec.args.iter().cloned());
    }
    wasi.args(argv);
    for (k, v) in spec.env {
        wasi.env(k, v);
    }
    for (host, guest) in spec.dirs {
        wasi.preopen_dir(host, guest)
            .map_err(|e| format!("--dir {}: {e}", host.display()))?;
    }
    let mut store = Store::new(engine, wasi);
    let mut linker: Linker<WasiCtx> = Linker::new();
    super::add_to_linker(&mut linker, &mut store, |w| w).map_err(|e| e.to_string())?;
    let instance = linker
        .instantiate(&mut store, module)
        .map_err(|e| match e {
            Error::Trap(t) => format!("{}: trap during instantiation: {t}", spec.name),
            e => format!("{}: {e}", spec.name),
        })?;
    let name = spec.invoke.unwrap_or("_start");
    let func = instance.get_func(&store, name).ok_or_else(|| {
        let exported: Vec<String> = instance
            .exports(&store)
            .into_iter()
            .filter(|(_, e)| matches!(e, Extern::Func(_)))
            .map(|(n, _)| n)
            .collect();
        format!(
            "{}: no exported function `{name}` (exported functions: {})",
            spec.name,
            if exported.is_empty() {
                "none".to_string()
            } else {
                exported.join(", ")
            }
        )
    })?;
    let ty = func.ty(&store).ok_or("function without a type")?;
    let params = if spec.invoke.is_some() {
        if spec.args.len() != ty.params().len() {
            return Err(format!(
                "`{name}` takes {} argument(s) ({ty}), {} given",
                ty.params().len(),
                spec.args.len()
            ));
        }
        ty.params()
            .iter()
            .zip(spec.args)
            .enumerate()
            .map(|(i, (t, s))| Val::parse(*t, s).map_err(|e| format!("argument {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?
    } else if !ty.params().is_empty() {
        return Err(format!(
            "`_start` takes {} parameters; use --invoke",
            ty.params().len()
        ));
    } else {
        Vec::new()
    };
    let results = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    Ok(Prepared {
        store,
        instance,
        func,
        params,
        results,
    })
}
