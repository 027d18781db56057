;; 64-bit tables (table64, part of memory64): i64 indices, sizes and
;; lengths in every table instruction, element segments with i64 offsets,
;; linking by index type. Indices of 2^32 and above must trap (or fail to
;; grow) rather than wrap.

(module
  (type $ii (func (param i32) (result i32)))
  (table $t (export "t64") i64 4 10 funcref)
  (table $u i32 4 funcref)
  (table $e i64 2 externref)
  (func $f0 (type $ii) (i32.add (local.get 0) (i32.const 100)))
  (func $f1 (type $ii) (i32.add (local.get 0) (i32.const 200)))
  (func $f2 (type $ii) (i32.add (local.get 0) (i32.const 300)))
  (elem (table $t) (i64.const 1) func $f0 $f1)
  (elem $passive func $f2 $f0)
  (elem (table $u) (i32.const 0) func $f2)

  (func (export "size") (result i64) (table.size $t))
  (func (export "size-ext") (result i64) (table.size $e))
  (func (export "grow") (param i64) (result i64)
    (table.grow $t (ref.null func) (local.get 0)))
  (func (export "is-null") (param i64) (result i32)
    (ref.is_null (table.get $t (local.get 0))))
  (func (export "set-f2") (param i64)
    (table.set $t (local.get 0) (ref.func $f2)))
  (func (export "call") (param i64 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "tail-call") (param i64 i32) (result i32)
    (return_call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "call-const-big") (result i32)
    (call_indirect $t (type $ii) (i32.const 0) (i64.const 0x1_0000_0001)))
  (func (export "fill-f0") (param i64 i64)
    (table.fill $t (local.get 0) (ref.func $f0) (local.get 1)))
  ;; dst i64 ($t), src i32 ($u): the length is i32.
  (func (export "copy-u-to-t") (param i64 i32 i32)
    (table.copy $t $u (local.get 0) (local.get 1) (local.get 2)))
  ;; dst i32 ($u), src i64 ($t): the length is i32.
  (func (export "copy-t-to-u") (param i32 i64 i32)
    (table.copy $u $t (local.get 0) (local.get 1) (local.get 2)))
  ;; both i64: the length is i64.
  (func (export "copy-t-to-t") (param i64 i64 i64)
    (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call-u") (param i32 i32) (result i32)
    (call_indirect $u (type $ii) (local.get 1) (local.get 0)))
  (func (export "init") (param i64 i32 i32)
    (table.init $t $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "set-ext") (param i64 externref)
    (table.set $e (local.get 0) (local.get 1)))
  (func (export "get-ext") (param i64) (result externref)
    (table.get $e (local.get 0)))
)

(assert_return (invoke "size") (i64.const 4))
(assert_return (invoke "size-ext") (i64.const 2))
(assert_return (invoke "is-null" (i64.const 0)) (i32.const 1))
(assert_return (invoke "is-null" (i64.const 1)) (i32.const 0))
(assert_return (invoke "call" (i64.const 1) (i32.const 5)) (i32.const 105))
(assert_return (invoke "call" (i64.const 2) (i32.const 5)) (i32.const 205))
(assert_return (invoke "tail-call" (i64.const 2) (i32.const 7)) (i32.const 207))
(assert_trap (invoke "call" (i64.const 0) (i32.const 5)) "uninitialized element")
(assert_trap (invoke "call" (i64.const 4) (i32.const 5)) "undefined element")
(assert_trap (invoke "call" (i64.const 0x1_0000_0001) (i32.const 5)) "undefined element")
(assert_trap (invoke "call" (i64.const -1) (i32.const 5)) "undefined element")
(assert_trap (invoke "tail-call" (i64.const 0x1_0000_0002) (i32.const 5)) "undefined element")
(assert_trap (invoke "call-const-big") "undefined element")
(assert_trap (invoke "is-null" (i64.const 4)) "out of bounds table access")
(assert_trap (invoke "is-null" (i64.const 0x1_0000_0000)) "out of bounds table access")
(assert_trap (invoke "set-f2" (i64.const 0x1_0000_0003)) "out of bounds table access")
(assert_return (invoke "set-f2" (i64.const 3)))
(assert_return (invoke "call" (i64.const 3) (i32.const 1)) (i32.const 301))

;; table.grow: the old size as i64, -1 when it cannot grow (a delta of 2^32
;; and more must not wrap to a small one).
(assert_return (invoke "grow" (i64.const 0x1_0000_0001)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 7)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 2)) (i64.const 4))
(assert_return (invoke "size") (i64.const 6))
(assert_return (invoke "grow" (i64.const 0)) (i64.const 6))
(assert_return (invoke "is-null" (i64.const 5)) (i32.const 1))

;; table.fill: a destination or length of 2^32 and more is out of bounds.
(assert_trap (invoke "fill-f0" (i64.const 0x1_0000_0000) (i64.const 0)) "out of bounds table access")
(assert_trap (invoke "fill-f0" (i64.const 0) (i64.const 0x1_0000_0001)) "out of bounds table access")
(assert_trap (invoke "fill-f0" (i64.const 5) (i64.const 2)) "out of bounds table access")
(assert_return (invoke "fill-f0" (i64.const 6) (i64.const 0)))
(assert_return (invoke "fill-f0" (i64.const 4) (i64.const 2)))
(assert_return (invoke "call" (i64.const 5) (i32.const 1)) (i32.const 101))

;; table.copy across index types.
(assert_return (invoke "copy-u-to-t" (i64.const 0) (i32.const 0) (i32.const 1)))
(assert_return (invoke "call" (i64.const 0) (i32.const 2)) (i32.const 302))
(assert_trap (invoke "copy-u-to-t" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 0)) "out of bounds table access")
(assert_return (invoke "copy-t-to-u" (i32.const 1) (i64.const 2) (i32.const 2)))
(assert_return (invoke "call-u" (i32.const 1) (i32.const 3)) (i32.const 203))
(assert_return (invoke "call-u" (i32.const 2) (i32.const 3)) (i32.const 303))
(assert_trap (invoke "copy-t-to-u" (i32.const 0) (i64.const 0x1_0000_0000) (i32.const 1)) "out of bounds table access")
(assert_return (invoke "copy-t-to-t" (i64.const 4) (i64.const 1) (i64.const 2)))
(assert_return (invoke "call" (i64.const 4) (i32.const 0)) (i32.const 100))
(assert_return (invoke "call" (i64.const 5) (i32.const 0)) (i32.const 200))
(assert_trap (invoke "copy-t-to-t" (i64.const 0) (i64.const 0) (i64.const 0x1_0000_0000)) "out of bounds table access")
(assert_trap (invoke "copy-t-to-t" (i64.const 0) (i64.const -1) (i64.const 0)) "out of bounds table access")

;; table.init: an i64 destination, i32 source and length.
(assert_return (invoke "init" (i64.const 4) (i32.const 0) (i32.const 2)))
(assert_return (invoke "call" (i64.const 4) (i32.const 0)) (i32.const 300))
(assert_return (invoke "call" (i64.const 5) (i32.const 0)) (i32.const 100))
(assert_trap (invoke "init" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 0)) "out of bounds table access")

;; externref elements.
(assert_return (invoke "set-ext" (i64.const 1) (ref.extern 7)))
(assert_return (invoke "get-ext" (i64.const 1)) (ref.extern 7))
(assert_return (invoke "get-ext" (i64.const 0)) (ref.null extern))
(assert_trap (invoke "get-ext" (i64.const 0x2_0000_0000)) "out of bounds table access")

;; Linking: an i64 table imports only as an i64 table.
(register "m" )
(module (import "m" "t64" (table i64 4 funcref)))
(assert_unlinkable
  (module (import "m" "t64" (table 4 funcref)))
  "incompatible import type")

;; An active segment's i64 offset past the end fails instantiation.
(assert_trap
  (module (table i64 2 funcref) (func $f) (elem (table 0) (i64.const 2) func $f))
  "out of bounds table access")
(assert_trap
  (module (table i64 2 funcref) (func $f) (elem (table 0) (i64.const 0x1_0000_0000) func $f))
  "out of bounds table access")
(module (table i64 2 funcref) (func $f) (elem (table 0) (i64.const 1) func $f))

;; Validation: the index operand of a 64-bit table is an i64.
(assert_invalid
  (module (table i64 1 funcref) (func (drop (table.get 0 (i32.const 0)))))
  "type mismatch")
(assert_invalid
  (module (table i64 1 funcref) (func (result i32) (table.size 0)))
  "type mismatch")
