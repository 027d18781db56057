;; trap.wat - one function per kind of trap, for testing trap reports
;; (code, function, wasm offset, backtrace) in every tier and in the debugger.
;;
;; Trap kinds in samples/expected/wat.tsv are the spec's trap messages in
;; kebab case: trap:integer-divide-by-zero, trap:integer-overflow,
;; trap:out-of-bounds-memory-access, trap:call-stack-exhausted, trap:unreachable.
;;
;; Exports:
;;   (func $divide (param $a i32) (param $b i32) (result i32))
;;       a / b (signed). Traps when b = 0 (divide by zero) and for
;;       -2147483648 / -1 (integer overflow).
;;   (func $oob (param $addr i32) (result i32))
;;       i32.load from byte address addr of a one-page (64 KiB) memory; the
;;       first 8 bytes hold 42 and 7 (data segment). Traps when addr + 4 > 65536.
;;   (func $recurse (param $n i32) (result i32))
;;       calls itself with n+1 forever: traps with call stack exhausted.
;;       The backtrace is very deep; the top frames are all $recurse.
;;   (func $boom (result i32))
;;       executes `unreachable` two calls deep ($boom -> $inner -> $innermost).
;;   (func $safe_divide (param $a i32) (param $b i32) (result i32))
;;       a / b, or -1 when b = 0 (no trap; for comparing with $divide).
;;
;; Examples:
;;   wdb run samples/trap.wat --invoke divide -- 10 3                 =>  3
;;   wdb run samples/trap.wat --invoke divide -- 10 0                 =>  trap: integer divide by zero
;;   wdb run samples/trap.wat --invoke divide -- -2147483648 -1       =>  trap: integer overflow
;;   wdb run samples/trap.wat --invoke oob -- 0                       =>  42
;;   wdb run samples/trap.wat --invoke oob -- 4                       =>  7
;;   wdb run samples/trap.wat --invoke oob -- 65532                   =>  0
;;   wdb run samples/trap.wat --invoke oob -- 65533                   =>  trap: out of bounds memory access
;;   wdb run samples/trap.wat --invoke oob -- 100000                  =>  trap: out of bounds memory access
;;   wdb run samples/trap.wat --invoke recurse -- 0                   =>  trap: call stack exhausted
;;   wdb run samples/trap.wat --invoke boom                           =>  trap: unreachable
;;   wdb run samples/trap.wat --invoke safe_divide -- 10 0            =>  -1
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\2a\00\00\00\07\00\00\00")

  (func $divide (export "divide") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.div_s)

  (func $safe_divide (export "safe_divide") (param $a i32) (param $b i32) (result i32)
    local.get $b
    i32.eqz
    if (result i32)
      i32.const -1
    else
      local.get $a
      local.get $b
      call $divide
    end)

  (func $oob (export "oob") (param $addr i32) (result i32)
    local.get $addr
    i32.load)

  (func $recurse (export "recurse") (param $n i32) (result i32)
    local.get $n
    i32.const 1
    i32.add
    call $recurse
    ;; never reached; keeps the call from being a tail position
    i32.const 1
    i32.add)

  (func $innermost
    unreachable)

  (func $inner (result i32)
    call $innermost
    i32.const 0)

  (func $boom (export "boom") (result i32)
    call $inner))
