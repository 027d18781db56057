//! The one native calling convention for wasm → wasm calls (any tier to any
//! tier, host functions and trampolines included), and where each parameter
//! and result of a wasm function lives in it. Both compilers and the
//! trampolines use `abi_for`; nothing else may decide a location.
//!
//! # The convention
//! It is Cranelift's `tail` convention on x86-64 (optimized code is compiled
//! with `CallConv::Tail`; baseline code and the trampolines emit the same by
//! hand), with a fixed set of leading arguments:
//! 1. `rdi` = callee VMContext (or host-function context),
//! 2. `rsi` = caller VMContext (null when called from the host),
//! 3. if the function has two or more results: `rdx` = pointer to a results
//!    area; result `i` is stored at `area + 8 * i` before returning,
//!
//! then the wasm parameters: integer-class values (i32, i64, funcref,
//! externref) in the remaining integer argument registers of `rdi, rsi, rdx,
//! rcx, r8, r9`, floats in `xmm0..xmm7`, the rest on the stack in 8-byte
//! slots, in order: slot `n` is at `[rsp + 8 + 8 n]` at the callee's entry
//! (`[rbp + 16 + 8 n]` once it pushed `rbp`). The stack-argument area is
//! `stack_arg_bytes` long (a multiple of 16, so `rsp` is `8 mod 16` at entry
//! as in System V).
//!
//! **The callee pops the stack-argument area** (`ret N`), unlike System V.
//! That is what makes tail calls possible between functions with different
//! stack arguments: a tail call moves the return address and writes the new
//! callee's stack arguments so that they end where the caller's own incoming
//! area ended, and the new callee's `ret N` leaves `rsp` exactly where the
//! original caller expects it. A caller therefore must not address its
//! outgoing area through `rsp` after the call returns (it moved by `N`).
//!
//! A single result comes back in `rax` (integers and references) or `xmm0`
//! (floats); two or more go through the results area (a tail call passes
//! its own incoming area pointer on: caller and callee have the same
//! results). The upper 32 bits of an i32 in a register are unspecified at a
//! call boundary; the receiver zero-extends.
//!
//! Callee-saved, as in System V: `rbx`, `rbp`, `r12`–`r15`; every other
//! general-purpose register and every xmm register may be clobbered. Frames
//! keep the `rbp` chain (`[rbp]` = caller's `rbp`, `[rbp + 8]` = return
//! address) in every tier. Optimized code whose tail calls need more stack
//! arguments than it received grows its incoming area in the prologue
//! (Cranelift moves the return address and saved `rbp` down), so its
//! incoming stack arguments are not at `[rbp + 16]`; baseline code never
//! grows it (it moves the return address at the tail call instead).

use crate::types::FuncType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgLoc {
    Gpr(u8),
    Xmm(u8),
    /// 8-byte stack slot `n` above the return address (`[rsp + 8 + 8 n]` at
    /// the callee's entry, `[rsp + 8 n]` at the caller's `call`); a v128
    /// takes slots `n` and `n + 1`, `n` even.
    Stack(u32),
}

#[derive(Debug, Clone)]
pub struct Abi {
    pub params: Vec<ArgLoc>,
    /// Results go through a pointer in `rdx` (two or more results).
    pub retptr: bool,
    pub stack_slots: u32,
}

impl Abi {
    /// Bytes of the stack-argument area (the callee pops them): the slots,
    /// rounded up to 16.
    pub fn stack_arg_bytes(&self) -> i32 {
        (8 * self.stack_slots as i32 + 15) & !15
    }
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
