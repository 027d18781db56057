//! Resolves imports by (module, name) and instantiates.

use super::func::{Caller, Func};
use super::instance::{Extern, Instance};
use super::module::Module;
use super::store::Store;
use super::values::Val;
use crate::error::{Error, Result, Trap};
use crate::types::FuncType;
use std::collections::HashMap;

pub struct Linker<T> {
    defs: HashMap<(String, String), Extern>,
    _marker: std::marker::PhantomData<fn(T)>,
}

impl<T: 'static> Default for Linker<T> {
    fn default() -> Self {
        Linker::new()
    }
}

impl<T: 'static> Linker<T> {
    pub fn new() -> Linker<T> {
        Linker {
            defs: HashMap::new(),
            _marker: std::marker::PhantomData,
        }
    }

    pub fn define(&mut self, module: &str, name: &str, ext: Extern) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), ext);
        self
    }

    pub fn func_new(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let func = Func::new(store, ty, f)?;
        Ok(self.define(module, name, Extern::Func(func)))
    }

    /// Defines every export of `instance` under module name `name`.
    pub fn instance(&mut self, store: &Store<T>, name: &str, instance: Instance) -> &mut Self {
        for (n, e) in instance.exports(store) {
            self.define(name, &n, e);
        }
        self
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    pub fn instantiate(&self, store: &mut Store<T>, module: &Module) -> Result<Instance> {
        let mut imports = Vec::with_capacity(module.info().imports.len());
        for imp in &module.info().imports {
            match self.get(&imp.module, &imp.name) {
                Some(e) => imports.push(e),
                None => {
                    return Err(Error::Link(format!(
                        "unknown import: \"{}\" \"{}\" is not defined",
                        imp.module, imp.name
                    )))
                }
            }
        }
        Instance::new(store, module, &imports)
    }
}
