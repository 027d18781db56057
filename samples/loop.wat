;; loop.wat - counting loops with locals, for single-stepping through a loop.
;;
;; Exports:
;;   (func $sum_to (param $n i32) (result i32))
;;       1 + 2 + ... + n with a `loop`/`br_if`, using locals $i and $sum
;;       (wrapping i32 arithmetic; 0 for n <= 0).
;;   (func $factorial (param $n i32) (result i64))
;;       n! as i64 with a block/loop/br pair (1 for n <= 1, wraps past 20!).
;;
;; Examples:
;;   wdb run samples/loop.wat --invoke sum_to -- 0        =>  0
;;   wdb run samples/loop.wat --invoke sum_to -- 10       =>  55
;;   wdb run samples/loop.wat --invoke sum_to -- 100      =>  5050
;;   wdb run samples/loop.wat --invoke sum_to -- 100000   =>  705082704   (5000050000 mod 2^32)
;;   wdb run samples/loop.wat --invoke factorial -- 5     =>  120
;;   wdb run samples/loop.wat --invoke factorial -- 20    =>  2432902008176640000
(module
  (func $sum_to (export "sum_to") (param $n i32) (result i32)
    (local $i i32)
    (local $sum i32)
    ;; if (n <= 0) return 0
    local.get $n
    i32.const 0
    i32.le_s
    if
      i32.const 0
      return
    end
    i32.const 1
    local.set $i
    loop $continue
      ;; sum += i
      local.get $sum
      local.get $i
      i32.add
      local.set $sum
      ;; i += 1
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      ;; continue while i <= n
      local.get $n
      i32.le_s
      br_if $continue
    end
    local.get $sum)

  (func $factorial (export "factorial") (param $n i32) (result i64)
    (local $acc i64)
    i64.const 1
    local.set $acc
    block $done
      loop $next
        local.get $n
        i32.const 1
        i32.le_s
        br_if $done
        local.get $acc
        local.get $n
        i64.extend_i32_u
        i64.mul
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br $next
      end
    end
    local.get $acc))
