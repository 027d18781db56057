;; fib.wat - recursive Fibonacci, the smallest call-heavy program.
;;
;; Exports:
;;   (func $fib (param $n i32) (result i32))
;;       fib(n) = n for n < 2, else fib(n-1) + fib(n-2) (wrapping i32 arithmetic).
;;       About 2.7 million calls for n = 30, so a baseline JIT finishes `fib 30`
;;       well under a second.
;;
;; Examples (results one per line):
;;   wdb run samples/fib.wat --invoke fib -- 0     =>  0
;;   wdb run samples/fib.wat --invoke fib -- 1     =>  1
;;   wdb run samples/fib.wat --invoke fib -- 10    =>  55
;;   wdb run samples/fib.wat --invoke fib -- 20    =>  6765
;;   wdb run samples/fib.wat --invoke fib -- 30    =>  832040
;;
;; Good first breakpoint: the `i32.lt_u` at the top of $fib.
(module
  (func $fib (export "fib") (param $n i32) (result i32)
    local.get $n
    i32.const 2
    i32.lt_u
    if (result i32)
      local.get $n
    else
      local.get $n
      i32.const 1
      i32.sub
      call $fib
      local.get $n
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end))
