;; The tail-call loop of BENCHMARKS.md §7: $even and $odd tail-call each
;; other n times (one with no stack arguments, one with eight), and
;; $count tail-calls itself through the table; both return a checksum.
(module
  (type $t1 (func (param i64 i64) (result i64)))
  (type $t2 (func (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) func $count)
  (func $even (param $n i64) (param $acc i64) (result i64)
    local.get $n
    i64.eqz
    if (result i64)
      local.get $acc
    else
      local.get $n i64.const 1 i64.sub
      local.get $acc local.get $n i64.add
      i64.const 1 i64.const 2 i64.const 3 i64.const 4
      i64.const 5 i64.const 6 i64.const 7 i64.const 8 i64.const 9 i64.const 10
      return_call $odd
    end)
  (func $odd (type $t2)
    local.get 0
    local.get 1 local.get 11 i64.xor
    return_call $even)
  (func $count (param $n i64) (param $acc i64) (result i64)
    local.get $n
    i64.eqz
    if (result i64)
      local.get $acc
    else
      local.get $n i64.const 1 i64.sub
      local.get $acc local.get $n i64.xor
      i32.const 0
      return_call_indirect (type $t1)
    end)
  (func (export "mutual") (param i64) (result i64)
    local.get 0 i64.const 0 call $even)
  (func (export "indirect") (param i64) (result i64)
    local.get 0 i64.const 0 call $count)
)
