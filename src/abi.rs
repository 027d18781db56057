//! Where each parameter and result of a wasm function lives in the native
//! calling convention (see `vm::layout` for the convention itself). Both
//! compilers and the trampolines use this one function.

use crate::types::FuncType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgLoc {
    Gpr(u8),
    Xmm(u8),
    /// 8-byte stack slot `n` above the return address (`[rsp + 8 n]` at the
    /// call); a v128 takes slots `n` and `n + 1`, `n` even.
    Stack(u32),
}

#[derive(Debug, Clone)]
pub struct Abi {
    pub params: Vec<ArgLoc>,
    /// Results go through a pointer in `rdx` (two or more results).
    pub retptr: bool,
    pub stack_slots: u32,
}

const RDX: u8 = 2;
const RCX: u8 = 1;
const R8: u8 = 8;
const R9: u8 = 9;

pub fn abi_for(ty: &FuncType) -> Abi {
    let retptr = ty.results().len() >= 2;
    let int_regs: &[u8] = if retptr {
        &[RCX, R8, R9]
    } else {
        &[RDX, RCX, R8, R9]
    };
    let (mut ni, mut nf, mut ns) = (0, 0u8, 0u32);
    let params = ty
        .params()
        .iter()
        .map(|t| {
            if t.in_xmm() {
                if nf < 8 {
                    nf += 1;
                    return ArgLoc::Xmm(nf - 1);
                }
            } else if ni < int_regs.len() {
                ni += 1;
                return ArgLoc::Gpr(int_regs[ni - 1]);
            }
            if t.is_v128() {
                // A vector on the stack takes a 16-byte aligned pair of slots
                // (as Cranelift's System V lowering places it).
                ns = (ns + 1) & !1;
                ns += 2;
                return ArgLoc::Stack(ns - 2);
            }
            ns += 1;
            ArgLoc::Stack(ns - 1)
        })
        .collect();
    Abi {
        params,
        retptr,
        stack_slots: ns,
    }
}
