(module
  (import "env" "f" (func $f (param f32 f64) (result i64)))
  (import "env" "g" (global $g i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 1 funcref))
  (func (export "run") (result i64)
    (call $f (f32.const nan) (f64.const -0))
    (i64.extend_i32_u (global.get $g))
    i64.rem_s))
