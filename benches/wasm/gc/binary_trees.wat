;; Binary trees (the Benchmarks Game program) with GC structs: a guest for `benches/gc.rs`.
;;
;; `run(n)`: max depth = max(n, 6) (min depth 4, max at least min + 2, as in the original
;; program). It checks a stretch tree of depth max + 1, builds a long-lived tree of depth max
;; and keeps it alive, then for d = 4, 6, ..., max builds 2^(max - d + 4) trees of depth d,
;; one at a time, summing their item checks (node counts); last it checks the long-lived
;; tree. The result is the sum of every check made, in wrapping i32 arithmetic (it fits in
;; an i32 well beyond depth 18).
;; `nodes(d)`: the item check of one tree of depth d, 2^(d + 1) - 1 (1 for d <= 0).
;;
;; Expected results (computed by an independent Rust implementation of the same algorithm):
;;   run(10) = 135_854      (stretch 4_095 + 31_744 + 32_512 + 32_704 + 32_752 + long-lived 2_047)
;;   run(14) = 3_222_190
;;   run(18) = 68_332_206   (stretch 1_048_575, depths 4..18: 8_126_464, 8_323_072, 8_372_224,
;;                           8_384_512, 8_387_584, 8_388_352, 8_388_544, 8_388_592; long-lived 524_287)
;;   run(n) for n <= 6 = run(6) = 4_398
;;   nodes(0) = 1, nodes(10) = 2_047, nodes(18) = 524_287
(module
  (type $tree (struct (field $left (ref null $tree)) (field $right (ref null $tree))))

  ;; A complete tree of depth $d: two null children at depth 0.
  (func $bottom_up (param $d i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.le_s (local.get $d) (i32.const 0))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree)))
      (else
        (local.set $d (i32.sub (local.get $d) (i32.const 1)))
        (struct.new $tree (call $bottom_up (local.get $d)) (call $bottom_up (local.get $d))))))

  ;; The number of nodes of a tree: a node is a leaf when its left child is null (both
  ;; children are null or neither is).
  (func $check (param $t (ref $tree)) (result i32)
    (block $leaf
      (return
        (i32.add
          (i32.add (i32.const 1)
            (call $check (br_on_null $leaf (struct.get $tree $left (local.get $t)))))
          (call $check (ref.as_non_null (struct.get $tree $right (local.get $t)))))))
    (i32.const 1))

  (func (export "nodes") (param $depth i32) (result i32)
    (call $check (call $bottom_up (local.get $depth))))

  (func (export "run") (param $depth i32) (result i32)
    (local $max i32) (local $d i32) (local $iters i32) (local $i i32)
    (local $sum i32) (local $checks i32) (local $long (ref $tree))
    (local.set $max
      (select (local.get $depth) (i32.const 6) (i32.gt_s (local.get $depth) (i32.const 6))))
    ;; The stretch tree, checked and dropped.
    (local.set $sum (call $check (call $bottom_up (i32.add (local.get $max) (i32.const 1)))))
    ;; The long-lived tree, alive until the end.
    (local.set $long (call $bottom_up (local.get $max)))
    (local.set $d (i32.const 4))
    (block $done
      (loop $depths
        (br_if $done (i32.gt_s (local.get $d) (local.get $max)))
        (local.set $iters
          (i32.shl (i32.const 1) (i32.add (i32.sub (local.get $max) (local.get $d)) (i32.const 4))))
        (local.set $checks (i32.const 0))
        (local.set $i (i32.const 0))
        (loop $trees
          (local.set $checks
            (i32.add (local.get $checks) (call $check (call $bottom_up (local.get $d)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $trees (i32.lt_u (local.get $i) (local.get $iters))))
        (local.set $sum (i32.add (local.get $sum) (local.get $checks)))
        (local.set $d (i32.add (local.get $d) (i32.const 2)))
        (br $depths)))
    (i32.add (local.get $sum) (call $check (local.get $long)))))
