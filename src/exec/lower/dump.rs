//! A profile of executed ops (a test, run by hand).

use std::collections::HashMap;

use crate::exec::threaded::profile::{EDGES, HITS};

/// Runs CoreMark (or `DUMP_WASM`'s `DUMP_INVOKE(DUMP_ARG)`) in loop dispatch (a debug
/// build: `cargo test --lib dump_profile -- --ignored --nocapture`) and prints the most executed instructions and
/// pairs of adjacent instructions (an aid for choosing fused ops).
#[test]
#[ignore]
fn dump_profile() {
    let path = std::env::var("DUMP_WASM").unwrap_or_else(|_| "benches/wasm/coremark.wasm".into());
    let bytes = std::fs::read(path).unwrap();
    let engine = crate::Engine::default();
    let module = crate::Module::new(&engine, &bytes).unwrap();
    let mut store = crate::Store::new(&engine, ());
    let linker = crate::Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let name = std::env::var("DUMP_INVOKE").unwrap_or_else(|_| "run".into());
    let arg: u32 = std::env::var("DUMP_ARG").map_or(1, |a| a.parse().unwrap());
    HITS.with(|h| *h.borrow_mut() = Some(HashMap::new()));
    if let Ok(run) = instance.get_typed_func::<u32, u32>(&mut store, &name) {
        run.call(&mut store, arg).unwrap();
    } else {
        let run = instance.get_typed_func::<u32, u64>(&mut store, &name).unwrap();
        run.call(&mut store, arg).unwrap();
    }
    let hits = HITS.with(|h| h.borrow_mut().take().unwrap());
    // Ops that take an operand from the accumulators.
    let mut from_acc = std::collections::HashSet::new();
    for f in module.translated_funcs().into_iter() {
        for (i, (_, acc)) in crate::exec::lower::lower_with_acc(f, &module.inner, None).unwrap().iter().enumerate() {
            if acc.is_some() {
                from_acc.insert((f as *const crate::exec::ir::CompiledFunc as usize, i));
            }
        }
    }
    let acc_hits: u64 = hits.iter().filter(|(k, _)| from_acc.contains(k)).map(|(_, n)| n).sum();
    let by_ptr: HashMap<usize, &crate::exec::ir::CompiledFunc> = module
        .translated_funcs()
        .into_iter()
        .map(|f| (f as *const crate::exec::ir::CompiledFunc as usize, f))
        .collect();
    let name = |i: &crate::exec::ir::Instr| format!("{i:?}").split([' ', '{', '(']).next().unwrap().to_string();
    let (mut singles, mut pairs, mut funcs) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut total = 0;
    for (&(code, index), &n) in &hits {
        // (Stubs of functions translated on first call are not in the map.)
        let Some(&f) = by_ptr.get(&code) else { continue };
        total += n;
        *funcs.entry(f.func_index).or_insert(0) += n;
        let Some(ins) = f.code.get(index) else { continue };
        let label = match crate::exec::lower::fuse::fuse(f, index) {
            Some((_, covers, _)) => {
                let names: Vec<String> = f.code[index..(index + covers).min(f.code.len())].iter().map(name).collect();
                format!("F:{}", names.join("+"))
            }
            None => name(ins),
        };
        let label = if from_acc.contains(&(code, index)) { format!("{label}@acc") } else { label };
        *singles.entry(label).or_insert(0) += n;
        if let Some(next) = f.code.get(index + 1) {
            *pairs.entry(format!("{} {}", name(ins), name(next))).or_insert(0) += n;
        }
    }
    let label_of = |(code, index): (usize, usize)| -> String {
        let Some(f) = by_ptr.get(&code) else { return "?".into() };
        let Some(ins) = f.code.get(index) else { return "end".into() };
        match crate::exec::lower::fuse::fuse(f, index) {
            Some((_, covers, _)) => {
                let names: Vec<String> = f.code[index..(index + covers).min(f.code.len())].iter().map(name).collect();
                format!("F:{}", names.join("+"))
            }
            None => name(ins),
        }
    };
    let mut seq: HashMap<String, u64> = HashMap::new();
    EDGES.with(|e| {
        for (&(a, b), &n) in e.borrow().iter() {
            *seq.entry(format!("{} -> {}", label_of(a), label_of(b))).or_default() += n;
        }
    });
    let top = |m: HashMap<String, u64>, k: usize| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v.truncate(k);
        v
    };
    println!("total ops executed: {total}, {acc_hits} of them with an operand from the accumulators");
    for (k, n) in top(singles, 60) {
        println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
    }
    println!("-- executed pairs");
    for (k, n) in top(seq, 45) {
        println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
    }
    println!("-- pairs");
    for (k, n) in top(pairs, 50) {
        println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
    }
    println!("-- functions");
    let mut fv: Vec<_> = funcs.into_iter().collect();
    fv.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (f, n) in fv.iter().take(8) {
        println!("{:5.2}% func {f}", 100.0 * *n as f64 / total as f64);
    }
    if let Ok(func) = std::env::var("DUMP_FUNC") {
        for f in module.translated_funcs().into_iter() {
            if f.func_index.to_string() == func {
                for (i, ins) in f.code.iter().enumerate() {
                    let n = hits.get(&(f as *const crate::exec::ir::CompiledFunc as usize, i)).copied().unwrap_or(0);
                    println!("{i:4} {n:8} {ins:?}");
                }
            }
        }
    }
}
