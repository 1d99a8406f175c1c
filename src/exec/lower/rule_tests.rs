//! Every fusion rule fires on a small function written to trigger it, and the rules
//! tested are exactly those of [`RULES`]: deleting a rule (or leaving one untested) fails.

use super::fuse::RULES;
use std::collections::BTreeSet;

/// For each rule, the body of a function with params `$p $q $c` (i32), `$x $y` (f64) and
/// `$z` (i64), locals `$a $b $r` (i32), memory 0 and a mutable i32 global `$g`.
const CASES: &[(&str, &str)] = &[
    ("store_const", "(i32.store (local.get $p) (i32.const 7))"),
    ("add_store_const", "(i32.store (i32.add (local.get $p) (local.get $q)) (i32.const 7))"),
    (
        "step_cmp_branch",
        "(loop $l (local.set $a (i32.add (local.get $a) (local.get $q)))
           (br_if $l (i32.lt_u (local.get $a) (local.get $p))))",
    ),
    ("global_add", "(global.set $g (i32.sub (global.get $g) (i32.const 16)))"),
    ("add_imm_global_set", "(global.set $g (i32.add (local.get $p) (i32.const 16)))"),
    ("indexed_access", "(local.set $r (i32.load (i32.add (local.get $p) (i32.shl (local.get $q) (i32.const 2)))))"),
    ("add_shl", "(local.set $r (i32.add (local.get $p) (i32.shl (local.get $q) (i32.const 3))))"),
    ("shr_u_and", "(local.set $r (i32.and (i32.shr_u (local.get $p) (i32.const 4)) (i32.const 255)))"),
    ("load_const_addr", "(local.set $r (i32.load (i32.const 64)))"),
    (
        "const_pair",
        "(local.set $a (i32.const 1)) (local.set $b (i32.const 2)) (drop (call $f (local.get $a) (local.get $b)))",
    ),
    (
        "const_br",
        "(local.set $a (if (result i32) (local.get $p) (then (i32.const 1)) (else (i32.const 2))))
         (drop (call $f (local.get $a) (local.get $a)))",
    ),
    (
        "const_cmp_branch",
        "(block (br_if 0 (i32.lt_s (local.get $p) (i32.const 10))) (drop (call $f (local.get $p) (local.get $q))))",
    ),
    ("const_cmp", "(local.set $r (i32.lt_s (local.get $p) (i32.const 10)))"),
    ("const_binary", "(local.set $r (i32.mul (local.get $p) (i32.const 10)))"),
    ("const_float_binary", "(local.set $x (f64.mul (local.get $x) (f64.const 2.5)))"),
    (
        "add_load_branch",
        "(block (br_if 0 (i32.load8_u (i32.add (local.get $p) (local.get $q)))) (drop (call $f (local.get $p) (local.get $q))))",
    ),
    (
        "load_branch",
        "(block (br_if 0 (i32.load8_u offset=3 (local.get $p))) (drop (call $f (local.get $p) (local.get $q))))",
    ),
    ("mem_update", "(i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (local.get $q)))"),
    (
        "load_pair",
        "(local.set $a (i32.load offset=4 (local.get $p))) (local.set $b (i32.load offset=8 (local.get $p)))",
    ),
    ("mem_move", "(i32.store (local.get $q) (i32.load (local.get $p)))"),
    ("add_address", "(local.set $r (i32.load (i32.add (local.get $p) (local.get $q))))"),
    ("add_imm_address", "(local.set $r (i32.load (i32.add (local.get $p) (i32.const 12))))"),
    ("select_copy", "(local.set $r (select (local.get $p) (local.get $q) (local.get $c)))"),
    ("copy_store", "(i32.store (local.get $p) (local.tee $r (local.get $q)))"),
    ("copy_ret", "(return (call $f (local.get $p) (local.get $q)))"),
    ("copy_pair", "(local.set $a (local.get $q)) (local.set $b (local.get $c))"),
    (
        "float_cmp_branch",
        "(block (br_if 0 (f64.lt (local.get $x) (local.get $y))) (drop (call $f (local.get $p) (local.get $q))))",
    ),
    (
        "cmp_branch",
        "(block (br_if 0 (i32.lt_s (local.get $p) (local.get $q))) (drop (call $f (local.get $p) (local.get $q))))",
    ),
    (
        "eqz_branch",
        "(block (br_if 0 (i32.eqz (local.get $p))) (br_if 0 (i64.eqz (local.get $z)))
           (drop (call $f (local.get $p) (local.get $q))))",
    ),
];

/// How often each rule fired when lowering the function of `body` (the last of its module;
/// the first, `$f`, is only there to be called).
fn counts(body: &str) -> Vec<usize> {
    let wat = format!(
        r#"(module (memory 1) (global $g (mut i32) (i32.const 1024))
             (func $f (param i32 i32) (result i32) (local.get 1))
             (func (param $p i32) (param $q i32) (param $c i32) (param $x f64) (param $y f64) (param $z i64)
                   (result i32) (local $a i32) (local $b i32) (local $r i32)
               {body}
               (i32.const 0)))"#
    );
    let engine = crate::Engine::default();
    let module = crate::Module::new(&engine, &wat).unwrap_or_else(|e| panic!("{e}: {wat}"));
    let mut counts = vec![0; RULES.len()];
    let f = *module.translated_funcs().last().unwrap();
    super::lower_with_acc(f, &module.inner, Some(&mut counts)).unwrap();
    counts
}

#[test]
fn every_rule_fires_on_its_case() {
    let mut missing = Vec::new();
    for &(name, body) in CASES {
        let k = RULES.iter().position(|(n, _)| *n == name);
        match k {
            Some(k) if counts(body)[k] > 0 => {}
            _ => missing.push(name),
        }
    }
    assert!(missing.is_empty(), "rules that did not fire on their case: {missing:?}");
}

#[test]
fn the_cases_cover_exactly_the_rules() {
    let rules: BTreeSet<&str> = RULES.iter().map(|(n, _)| *n).collect();
    let cases: BTreeSet<&str> = CASES.iter().map(|(n, _)| *n).collect();
    assert_eq!(rules.len(), RULES.len(), "rule names are not unique");
    assert_eq!(rules, cases);
}
