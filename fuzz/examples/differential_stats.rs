//! Replays `differential` inputs and reports how much was actually compared:
//! `cargo run --release --example differential_stats -- DIR_OR_FILE...`.

fn main() {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        let path = std::path::PathBuf::from(arg);
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).expect("read dir").map(|e| e.expect("entry").path()));
        } else {
            files.push(path);
        }
    }
    let (mut modules, mut instantiated, mut calls, mut traps, mut limited) = (0, 0, 0, 0, 0);
    for file in &files {
        let data = std::fs::read(file).expect("read input");
        let Ok(c) = wasmguard_fuzz::differential::check(&mut arbitrary::Unstructured::new(&data)) else { continue };
        modules += 1;
        instantiated += usize::from(c.instantiated);
        calls += c.calls;
        traps += c.traps;
        limited += usize::from(c.stopped_at_limit);
    }
    println!(
        "{} inputs: {modules} modules, {instantiated} instantiated in both, {calls} calls compared \
         ({traps} trapping in both), {limited} runs stopped at a fuel or stack limit",
        files.len()
    );
}
