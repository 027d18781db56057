;; The same kernel as throw.wat in the legacy exception form that
;; toolchains still emit (`try`/`catch`), which node 20's V8 runs.
(module
  (tag $e (param i32))
  (func $down (param $k i32) (param $v i32) (result i32)
    (if (i32.le_u (local.get $k) (i32.const 1))
      (then (throw $e (local.get $v))))
    (i32.add
      (call $down (i32.sub (local.get $k) (i32.const 1)) (local.get $v))
      (i32.const 1)))
  (func (export "throw_catch") (param $n i32) (param $depth i32) (result i32)
    (local $i i32) (local $acc i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (loop $l
      try (result i32)
        (call $down (local.get $depth) (local.get $i))
      catch $e
      end
      (local.set $acc (i32.add (local.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
)
