;; The legacy exception-handling form (try/catch/catch_all/rethrow/delegate)
;; that toolchains still emit (clang -fwasm-exceptions, Emscripten), in the
;; flat text syntax.

(module
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i64 f64))

  (func $throw0 (throw $e0))
  (func $throw1 (param i32) (throw $e1 (local.get 0)))
  (func $throw-if (param i32)
    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e0)))
    (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $e1 (i32.const 42))))
    (if (i32.eq (local.get 0) (i32.const 3)) (then (throw $e2 (i64.const 7) (f64.const 2.5)))))

  (func (export "catch-tag") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw-if
      i32.const 0
    catch $e0
      i32.const 10
    catch $e1
      i32.const 100
      i32.add
    catch $e2
      drop
      i32.wrap_i64
    end)

  (func (export "catch-all") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw-if
      i32.const 0
    catch $e1
    catch_all
      i32.const 99
    end)

  (func (export "no-match") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw-if
      i32.const 0
    catch $e1
    end)

  ;; rethrow from a catch block to an outer try
  (func (export "rethrow") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $throw1
        i32.const 0
      catch $e1
        drop
        rethrow 0
      end
    catch $e1
      i32.const 1000
      i32.add
    end)

  ;; rethrow 1: the exception of the outer catch, from an inner catch_all
  (func (export "rethrow-outer") (result i32)
    try (result i32)
      try (result i32)
        i32.const 5
        throw $e1
      catch $e1
        drop
        try (result i32)
          throw $e0
        catch_all
          rethrow 1
        end
      end
    catch $e1
      i32.const 2000
      i32.add
    end)

  ;; delegate 1 skips the catch of the try around it, to the next try out
  (func (export "delegate") (result i32)
    try (result i32)
      block (result i32)
        try (result i32)
          try (result i32)
            call $throw0
            i32.const 0
          delegate 2
        catch $e0
          i32.const 1
        end
      end
    catch $e0
      i32.const 2
    end)

  ;; delegate to the function's caller
  (func $delegate-out (result i32)
    try (result i32)
      i32.const 3
      call $throw1
      i32.const 0
    delegate 0)
  (func (export "delegate-caller") (result i32)
    try (result i32)
      call $delegate-out
    catch $e1
      i32.const 300
      i32.add
    end)

  ;; a try inside a loop catches on every iteration
  (func (export "loop") (param i32) (result i32)
    (local $sum i32)
    loop $l
      try
        local.get 0
        call $throw1
      catch $e1
        local.get $sum
        i32.add
        local.set $sum
      end
      local.get 0
      i32.const 1
      i32.sub
      local.tee 0
      br_if $l
    end
    local.get $sum)

  ;; the standard and the legacy form mixed
  (func (export "mixed-forms") (result i32)
    (block $h (result i32)
      (try_table (catch $e1 $h)
        try
          i32.const 77
          call $throw1
        catch $e0
        end)
      (i32.const 0)))
)

(assert_return (invoke "catch-tag" (i32.const 0)) (i32.const 0))
(assert_return (invoke "catch-tag" (i32.const 1)) (i32.const 10))
(assert_return (invoke "catch-tag" (i32.const 2)) (i32.const 142))
(assert_return (invoke "catch-tag" (i32.const 3)) (i32.const 7))
(assert_return (invoke "catch-all" (i32.const 1)) (i32.const 99))
(assert_return (invoke "catch-all" (i32.const 2)) (i32.const 42))
(assert_return (invoke "catch-all" (i32.const 3)) (i32.const 99))
(assert_return (invoke "no-match" (i32.const 2)) (i32.const 42))
(assert_exception (invoke "no-match" (i32.const 1)))
(assert_exception (invoke "no-match" (i32.const 3)))
(assert_return (invoke "rethrow" (i32.const 8)) (i32.const 1008))
(assert_return (invoke "rethrow-outer") (i32.const 2005))
(assert_return (invoke "delegate") (i32.const 2))
(assert_return (invoke "delegate-caller") (i32.const 303))
(assert_return (invoke "loop" (i32.const 4)) (i32.const 10))
(assert_return (invoke "mixed-forms") (i32.const 77))
