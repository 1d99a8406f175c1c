;; v128 values crossing every control-flow join, next to scalars, so that two-slot values
;; and one-slot values share the operand stack.
(module
  (type $vv (func (param v128) (result v128)))
  (table 2 funcref)
  (elem (i32.const 0) $inc $dbl)
  (global $g (mut v128) (v128.const i32x4 0 0 0 0))
  (func $inc (type $vv) (i32x4.add (local.get 0) (v128.const i32x4 1 1 1 1)))
  (func $dbl (type $vv) (i32x4.add (local.get 0) (local.get 0)))

  ;; block with v128 params and mixed results
  (func (export "block") (param i32 v128) (result i32 v128 i64)
    (local.get 0) (local.get 1)
    (block (param i32 v128) (result i32 v128 i64)
      (i64.const 7)))

  ;; if with v128 params: the else arm sees the originals
  (func (export "if") (param i32 v128) (result v128)
    (i32.const 5) (local.get 1)
    (if (param i32 v128) (result v128) (local.get 0)
      (then (local.set 1 (call $dbl)) (i32x4.splat) (local.get 1) (i32x4.add))
      (else (drop) (drop) (v128.const i32x4 -1 -1 -1 -1))))

  ;; br_table carrying an i32 and a v128 to blocks at different heights
  (func (export "br_table") (param i32) (result i32 v128)
    (block $a (result i32 v128)
      (block $b (result i32 v128)
        (block $c (result i32 v128)
          (i32.const 100)
          (v128.const i32x4 1 2 3 4)
          (local.get 0)
          (br_table $a $b $c))
        ;; from $c
        (i32x4.add (v128.const i32x4 10 10 10 10))
        (br $a))
      ;; from $b
      (i32x4.add (v128.const i32x4 20 20 20 20))
      (br $a)))

  ;; loop carrying a v128 and a counter, with br_if back-edges and local.tee
  (func (export "loop") (param i32) (result v128)
    (local $v v128)
    (local $i i32)
    (local.set $i (local.get 0))
    (v128.const i32x4 0 0 0 0)
    (loop $l (param v128) (result v128)
      (local.tee $v (i32x4.add (v128.const i32x4 1 2 3 4)))
      (local.get $v)
      (drop)
      (local.tee $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l)))

  ;; select on v128 and the same value read twice through local.get
  (func (export "select") (param v128 v128 i32) (result v128)
    (local.get 0)
    (select (local.get 0) (local.get 1) (local.get 2))
    (local.set 0)
    (i32x4.sub (local.get 0)))

  ;; call_indirect and globals with v128
  (func (export "indirect") (param i32 v128) (result v128)
    (global.set $g (call_indirect (type $vv) (local.get 1) (local.get 0)))
    (i32x4.add (global.get $g) (global.get $g)))

  ;; a deep operand stack mixing widths at a branch out of nested blocks
  (func (export "deep") (result i64)
    (i64.const 1)
    (v128.const i64x2 2 3)
    (i32.const 4)
    (block (param i64 v128 i32) (result i64 v128 i32)
      (br 0))
    (drop)
    (i64x2.extract_lane 1)
    (i64.add))

  ;; memory: lanes, splats and extends next to scalar loads
  (memory 1)
  (func (export "mem") (result i64)
    (v128.store (i32.const 16) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
    (v128.store8_lane 3 (i32.const 0) (v128.load32_splat (i32.const 17)))
    (i64.load (i32.const 0))
    (i64x2.extract_lane 1 (v128.load16_lane 7 (i32.const 18) (v128.load8x8_u (i32.const 16))))
    (i64.add))
)
(assert_return (invoke "block" (i32.const 3) (v128.const i32x4 1 2 3 4))
  (i32.const 3) (v128.const i32x4 1 2 3 4) (i64.const 7))
(assert_return (invoke "if" (i32.const 1) (v128.const i32x4 1 2 3 4)) (v128.const i32x4 7 9 11 13))
(assert_return (invoke "if" (i32.const 0) (v128.const i32x4 1 2 3 4)) (v128.const i32x4 -1 -1 -1 -1))
(assert_return (invoke "br_table" (i32.const 0)) (i32.const 100) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "br_table" (i32.const 1)) (i32.const 100) (v128.const i32x4 21 22 23 24))
(assert_return (invoke "br_table" (i32.const 2)) (i32.const 100) (v128.const i32x4 11 12 13 14))
(assert_return (invoke "br_table" (i32.const 9)) (i32.const 100) (v128.const i32x4 11 12 13 14))
(assert_return (invoke "loop" (i32.const 3)) (v128.const i32x4 3 6 9 12))
(assert_return (invoke "select" (v128.const i32x4 5 5 5 5) (v128.const i32x4 1 2 3 4) (i32.const 1))
  (v128.const i32x4 0 0 0 0))
(assert_return (invoke "select" (v128.const i32x4 5 5 5 5) (v128.const i32x4 1 2 3 4) (i32.const 0))
  (v128.const i32x4 4 3 2 1))
(assert_return (invoke "indirect" (i32.const 0) (v128.const i32x4 1 2 3 4)) (v128.const i32x4 4 6 8 10))
(assert_return (invoke "indirect" (i32.const 1) (v128.const i32x4 1 2 3 4)) (v128.const i32x4 4 8 12 16))
(assert_trap (invoke "indirect" (i32.const 2) (v128.const i32x4 1 2 3 4)) "undefined element")
(assert_return (invoke "deep") (i64.const 4))
(assert_return (invoke "mem") (i64.const 0x0403_0007_0006_000a))

;; Malformed and invalid SIMD modules are errors, never panics.
(assert_invalid (module (func (result i32) (i8x16.extract_lane_s 16 (v128.const i64x2 0 0))))
  "invalid lane index")
(assert_invalid (module (func (result v128)
  (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 32 (v128.const i64x2 0 0) (v128.const i64x2 0 0))))
  "invalid lane index")
(assert_invalid (module (func (result v128) (v128.load (i32.const 0)))) "unknown memory")
(assert_invalid (module (func (param v128) (result i32) (local.get 0))) "type mismatch")
(assert_malformed (module binary
  "\00asm" "\01\00\00\00"
  "\01\05\01\60\00\01\7b"             ;; type: [] -> [v128]
  "\03\02\01\00"                      ;; func 0: type 0
  "\0a\0c\01\0a\00\fd\0c\00\00\00\00\00\00\0b") ;; v128.const cut short
  "unexpected end")
