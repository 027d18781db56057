;; stack.wat - functions whose operand stack is worth looking at in the debugger.
;;
;; Exports:
;;   (func $sum_of_products (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32))
;;       (a*b) + (c*d), computed by two nested calls of $mul; while $mul runs
;;       for c*d, the caller's operand stack still holds a*b.
;;   (func $deep (param $x i32) (result i32))
;;       pushes x+1 .. x+8 (eight values live on the operand stack at once),
;;       then folds them from the top of the stack down with mul/add/mul/...:
;;       (x+1) * ((x+2) + ((x+3) * ((x+4) + ((x+5) * ((x+6) + ((x+7) * (x+8)))))))
;;   (func $mixed (param $i i32) (param $f f64) (result f64))
;;       (f64)(i*3) + f*0.5 - mixes i32 and f64 values on the stack.
;;   (func $max3 (param $a i32) (param $b i32) (param $c i32) (result i32))
;;       largest of three signed values using `select`.
;;
;; Examples:
;;   wdb run samples/stack.wat --invoke sum_of_products -- 2 3 4 5   =>  26
;;   wdb run samples/stack.wat --invoke sum_of_products -- -2 3 4 -5 =>  -26
;;   wdb run samples/stack.wat --invoke deep -- 0                    =>  944
;;   wdb run samples/stack.wat --invoke deep -- 1                    =>  3838
;;   wdb run samples/stack.wat --invoke mixed -- 2 5                 =>  8.5
;;   wdb run samples/stack.wat --invoke max3 -- 7 -3 12              =>  12
(module
  (func $mul (param $x i32) (param $y i32) (result i32)
    local.get $x
    local.get $y
    i32.mul)

  (func $sum_of_products (export "sum_of_products")
        (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32)
    local.get $a
    local.get $b
    call $mul          ;; stack: [a*b]
    local.get $c
    local.get $d
    call $mul          ;; stack: [a*b, c*d]
    i32.add)

  (func $deep (export "deep") (param $x i32) (result i32)
    local.get $x  i32.const 1  i32.add
    local.get $x  i32.const 2  i32.add
    local.get $x  i32.const 3  i32.add
    local.get $x  i32.const 4  i32.add
    local.get $x  i32.const 5  i32.add
    local.get $x  i32.const 6  i32.add
    local.get $x  i32.const 7  i32.add
    local.get $x  i32.const 8  i32.add
    ;; stack: [x+1, x+2, x+3, x+4, x+5, x+6, x+7, x+8]
    i32.mul            ;; (x+7)*(x+8)
    i32.add            ;; (x+6) + ...
    i32.mul            ;; (x+5) * ...
    i32.add            ;; (x+4) + ...
    i32.mul            ;; (x+3) * ...
    i32.add            ;; (x+2) + ...
    i32.mul)           ;; (x+1) * ...

  (func $mixed (export "mixed") (param $i i32) (param $f f64) (result f64)
    local.get $i
    i32.const 3
    i32.mul
    f64.convert_i32_s
    local.get $f
    f64.const 0.5
    f64.mul
    f64.add)

  (func $max3 (export "max3") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $m i32)
    ;; m = a > b ? a : b
    local.get $a
    local.get $b
    local.get $a
    local.get $b
    i32.gt_s
    select
    local.tee $m
    ;; m > c ? m : c
    local.get $c
    local.get $m
    local.get $c
    i32.gt_s
    select))
