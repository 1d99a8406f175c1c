//! Compile-fail tests of the runtime's host-function API: the messages a wrong host
//! closure gets (`tests/host_ui/*.stderr`; regenerate with `TRYBUILD=overwrite`). They live
//! here because this crate already runs trybuild against the runtime.

#[test]
fn host_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/host_ui/*.rs");
}
