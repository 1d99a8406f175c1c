//! The `.wast` scripts in `tests/simd/`: `v128` values across control flow, calls, globals,
//! tables and memory, and SIMD modules that must be refused.

#[test]
fn simd_scripts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/simd");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/simd exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "wast") {
            let text = std::fs::read_to_string(&path).expect("readable script");
            let name = path.display().to_string();
            let report = wasmguard::wast::run_wast_str(&name, &text).expect("the script parses");
            assert!(report.failed == 0 && report.passed > 0, "{name}: {:#?}", report.failures);
            ran += 1;
        }
    }
    assert!(ran > 0, "no scripts in {}", dir.display());
}
