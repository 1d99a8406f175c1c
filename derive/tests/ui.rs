//! Compile-fail (UI) tests: every input `#[derive(GuestType)]` refuses, with the error
//! message the user sees (`tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
