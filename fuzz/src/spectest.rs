//! The `spectest` host module the spec suite's modules import, so mutated
//! spec modules with such imports can be instantiated and run: the wast
//! runner's own definition ([`wdb::wast::define_spectest`]).

use wdb::{Linker, Store};

/// A linker holding `spectest` for `store`.
pub fn linker(store: &mut Store<()>) -> Result<Linker<()>, wdb::Error> {
    let mut linker = Linker::new();
    wdb::wast::define_spectest(&mut linker, store)?;
    Ok(linker)
}
