//! Trampolines between the host and wasm code, one per signature:
//! - the *entry* trampoline (host → wasm): saves callee-saved registers,
//!   records `rsp`/`rbp` in the activation for trap unwinding, moves arguments
//!   from a values array into the calling convention, calls, stores results;
//! - the *landing pad*: where the signal handler resumes after a trap;
//! - the *host* trampoline (wasm → host): spills arguments into a values
//!   array and calls the runtime's host-call entry.

// dynasm! expands register operands through `u8::from`, which clippy flags.
#![allow(clippy::useless_conversion)]

use super::x64::asm::{Assembler as Masm, RAX, RBP, RSP};
use crate::abi::{abi_for, ArgLoc};
use crate::code::{FuncCode, TrapSite};
use crate::types::FuncType;
use crate::vm::layout::{value_offsets, values_size};
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

/// `extern "C" fn(callee_vmctx, code, values, activation) -> u32` (0 ok, 1 trapped)
pub type EntryFn = unsafe extern "C" fn(*mut u8, *const u8, *mut u64, *mut u8) -> u32;

/// Signature of the runtime function host trampolines call:
/// `(host_ctx, caller_vmctx, values) -> u32` (0 ok, else a pending trap).
pub type HostEntryFn = unsafe extern "C" fn(*mut u8, *mut u8, *mut u64) -> u32;

/// Offset of `rsp` below `rbp` after the entry trampoline saved its registers.
const ENTRY_SAVED: i32 = 40;

pub fn entry_trampoline(ty: &FuncType) -> FuncCode {
    let abi = abi_for(ty);
    let mut m = Masm::new();
    dynasm!(m.ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        ; sub rsp, 8
        ; mov [rcx], rsp
        ; mov [rcx + 8], rbp
        ; mov r12, rdx
        ; mov r13, rsi
        ; mov rbx, rdi
    );
    // The callee pops this area; the exit restores rsp from rbp.
    m.sub_rsp(abi.stack_arg_bytes());
    let offs = value_offsets(ty.params());
    for (i, loc) in abi.params.iter().enumerate() {
        let t = ty.params()[i];
        let src = offs[i];
        match *loc {
            ArgLoc::Stack(n) => {
                for w in 0..t.words() as i32 {
                    let (d, s) = (8 * n as i32 + 8 * w, src + 8 * w);
                    dynasm!(m.ops ; .arch x64 ; mov r11, [r12 + s] ; mov [rsp + d], r11);
                }
            }
            ArgLoc::Gpr(r) => dynasm!(m.ops ; .arch x64 ; mov Rq(r), [r12 + src]),
            ArgLoc::Xmm(x) => m.xload(t, x, 12, src),
        }
    }
    if abi.retptr {
        dynasm!(m.ops ; .arch x64 ; mov rdx, r12);
    }
    dynasm!(m.ops
        ; .arch x64
        ; mov rdi, rbx
        ; xor esi, esi
        ; call r13
    );
    if ty.results().len() == 1 {
        let t = ty.results()[0];
        if t.in_xmm() {
            m.xstore(t, 12, 0, 0);
        } else {
            dynasm!(m.ops ; .arch x64 ; mov [r12], rax);
        }
    }
    dynasm!(m.ops ; .arch x64 ; xor eax, eax);
    emit_entry_exit(&mut m);
    code_of(m, Vec::new())
}

fn emit_entry_exit(m: &mut Masm) {
    dynasm!(m.ops
        ; .arch x64
        ; lea rsp, [rbp - ENTRY_SAVED]
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );
}

/// The landing pad: entered with rsp/rbp of an entry trampoline frame.
pub fn landing_pad() -> FuncCode {
    let mut m = Masm::new();
    dynasm!(m.ops ; .arch x64 ; mov eax, 1);
    emit_entry_exit(&mut m);
    code_of(m, Vec::new())
}

pub fn host_trampoline(ty: &FuncType, host_entry: HostEntryFn) -> FuncCode {
    let abi = abi_for(ty);
    let n = values_size(ty.params())
        .max(values_size(ty.results()))
        .max(8);
    let frame = (n + 8 + 15) & !15;
    let mut m = Masm::new();
    dynasm!(m.ops ; .arch x64 ; push rbp ; mov rbp, rsp ; sub rsp, frame);
    if abi.retptr {
        dynasm!(m.ops ; .arch x64 ; mov [rbp - 8], rdx);
    }
    let offs = value_offsets(ty.params());
    for (i, loc) in abi.params.iter().enumerate() {
        let t = ty.params()[i];
        let d = offs[i];
        match *loc {
            ArgLoc::Gpr(r) => dynasm!(m.ops ; .arch x64 ; mov [rsp + d], Rq(r)),
            ArgLoc::Xmm(x) => m.xstore(t, RSP, d, x),
            ArgLoc::Stack(s) => {
                for w in 0..t.words() as i32 {
                    m.copy_slot(RSP, d + 8 * w, RBP, 16 + 8 * s as i32 + 8 * w);
                }
            }
        }
    }
    let entry = host_entry as usize as i64;
    dynasm!(m.ops
        ; .arch x64
        ; mov rdx, rsp
        ; mov rax, QWORD entry
        ; call rax
        ; test eax, eax
        ; jnz >trap
    );
    match ty.results().len() {
        0 => {}
        1 => {
            let t = ty.results()[0];
            if t.in_xmm() {
                m.xload(t, 0, RSP, 0);
            } else {
                m.load(true, RAX, RSP, 0);
            }
        }
        _ => {
            // The values array and the results area share one layout.
            dynasm!(m.ops ; .arch x64 ; mov rax, [rbp - 8]);
            for k in 0..values_size(ty.results()) / 8 {
                m.copy_slot(RAX, 8 * k, RSP, 8 * k);
            }
        }
    }
    dynasm!(m.ops ; .arch x64 ; mov rsp, rbp ; pop rbp);
    m.ret_pop(abi.stack_arg_bytes());
    // Status 2: the host function passes on an exception its wasm callee
    // left uncaught; it is thrown from here into the caller.
    let rethrow = crate::vm::unwind::rethrow_pending_stub() as i64;
    dynasm!(m.ops
        ; .arch x64
        ; trap:
        ; cmp eax, 2
        ; jne >ud
        ; mov rax, QWORD rethrow
        ; call rax
        ; ud:
    );
    let trap = TrapSite {
        native: m.offset(),
        code: None,
        wasm_offset: 0,
    };
    m.ud2();
    code_of(m, vec![trap])
}

/// Lazy tier-down stubs for functions `first..first+count`: stub `k` is
/// `mov r11d, first+k; jmp common` (r11 is free at calls: neither argument nor
/// callee-saved). The common part saves the argument registers, asks the
/// runtime for the function's debug code (compiling it the first time),
/// restores them and jumps there, so the call proceeds as if made directly.
/// Returns the code and the byte offset of each stub.
pub fn lazy_stubs(first: u32, count: u32) -> (FuncCode, Vec<u32>) {
    use crate::vm::layout::{Builtin, VMCTX_BUILTINS};
    let mut m = Masm::new();
    let common = m.new_label();
    let mut offsets = Vec::with_capacity(count as usize);
    for k in 0..count {
        offsets.push(m.offset());
        let f = (first + k) as i32;
        dynasm!(m.ops ; .arch x64 ; mov r11d, DWORD f ; jmp =>common ; .align 16);
    }
    let disp = 8 * Builtin::LazyDebugCompile as i32;
    dynasm!(m.ops
        ; .arch x64
        ; =>common
        ; push rbp
        ; mov rbp, rsp
        ; sub rsp, 176
        ; mov [rsp], rdi
        ; mov [rsp + 8], rsi
        ; mov [rsp + 16], rdx
        ; mov [rsp + 24], rcx
        ; mov [rsp + 32], r8
        ; mov [rsp + 40], r9
    );
    for x in 0..8u8 {
        let d = 48 + 16 * x as i32;
        dynasm!(m.ops ; .arch x64 ; movdqu [rsp + d], Rx(x));
    }
    dynasm!(m.ops
        ; .arch x64
        ; mov esi, r11d
        ; mov rax, [rdi + VMCTX_BUILTINS]
        ; call QWORD [rax + disp]
        ; mov r11, rax
    );
    for x in 0..8u8 {
        let d = 48 + 16 * x as i32;
        dynasm!(m.ops ; .arch x64 ; movdqu Rx(x), [rsp + d]);
    }
    dynasm!(m.ops
        ; .arch x64
        ; mov rdi, [rsp]
        ; mov rsi, [rsp + 8]
        ; mov rdx, [rsp + 16]
        ; mov rcx, [rsp + 24]
        ; mov r8, [rsp + 32]
        ; mov r9, [rsp + 40]
        ; mov rsp, rbp
        ; pop rbp
        ; test r11, r11
        ; jz >trap
        ; jmp r11
        ; trap:
    );
    let trap = TrapSite {
        native: m.offset(),
        code: None,
        wasm_offset: 0,
    };
    m.ud2();
    (code_of(m, vec![trap]), offsets)
}

fn code_of(m: Masm, traps: Vec<TrapSite>) -> FuncCode {
    let bytes = m.finish().expect("trampoline labels are all defined");
    FuncCode {
        bytes,
        offset_map: Vec::new(),
        traps,
        debug: None,
        checks: Default::default(),
        opt_frame: None,
        handlers: Vec::new(),
        osr_loop: None,
    }
}
