;; Exception throw-and-catch across 10 frames (BENCHMARKS.md §11), the
;; standard `exnref` form: `throw_catch(n, depth)` runs n iterations; each
;; calls $down(depth), which recurses depth frames deep ($down(depth) ..
;; $down(1)) and throws $e from the innermost, carrying the iteration
;; number; the `try_table` in `throw_catch` catches it and adds the payload
;; up. Returns n(n-1)/2 mod 2^32. No frame catches on the way.
(module
  (tag $e (param i32))
  (func $down (param $k i32) (param $v i32) (result i32)
    (if (i32.le_u (local.get $k) (i32.const 1))
      (then (throw $e (local.get $v))))
    ;; not a tail call: the frame stays until the exception unwinds it
    (i32.add
      (call $down (i32.sub (local.get $k) (i32.const 1)) (local.get $v))
      (i32.const 1)))
  (func (export "throw_catch") (param $n i32) (param $depth i32) (result i32)
    (local $i i32) (local $acc i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (loop $l
      (local.set $acc
        (i32.add (local.get $acc)
          (block $h (result i32)
            (try_table (result i32) (catch $e $h)
              (call $down (local.get $depth) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
)
