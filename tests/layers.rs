//! The crate's top-level modules form layers, and each imports only from the layers below
//! it, so none of them forms a cycle with another:
//!
//! ```text
//! wast                 spec-script runner (uses the public API only)
//! wasi, fuzzing        WASI preview1, written with the accessor framework; the host-call
//!                      fuzzing harness
//! access               host access to guest memory: views, guards, WasmPtr, GuestType
//! runtime              public handles: Module, Instance, Func, Memory, Table, Global, Linker
//! store                Store<T>, Caller, the context traits
//! exec                 translate + lower + execute, and the store state they work on
//! module               decoding and validation (the only user of wasmparser's module reader)
//! linear               linear-memory storage (private and shared) and AccessError
//! engine               Engine, Config
//! error, types         errors, wasm types
//! ```
//!
//! This test reads `src/`, finds every `crate::` path outside comments and unit-test modules (expanding
//! `crate::{a, b}` groups and resolving the names the crate root re-exports to the module
//! that defines them), and fails on any import that goes up or sideways.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top; modules in one entry are one layer and may not import each other.
const LAYERS: &[&[&str]] = &[
    &["error", "types"],
    &["engine"],
    &["linear"],
    &["module"],
    &["exec"],
    &["store"],
    &["runtime"],
    &["access"],
    &["wasi", "fuzzing"],
    &["wast"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `//` comments (doc comments included); string literals are kept:
/// paths in strings are rare and harmless here.
fn strip_comments(src: &str) -> String {
    src.lines().map(|line| line.find("//").map_or(line, |i| &line[..i])).collect::<Vec<_>>().join("\n")
}

/// The source without its inline `#[cfg(test)] mod name { ... }` modules: unit tests may
/// build whole modules through the public API, which is a test's business, not a layer's.
fn strip_test_modules(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let head = after.trim_start();
        let inline_mod =
            head.starts_with("mod ") && head.find('{').is_some_and(|b| head.find(';').is_none_or(|s| b < s));
        if !inline_mod {
            out.push_str("#[cfg(test)]");
            rest = after;
            continue;
        }
        let open = after.find('{').expect("module body");
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The top-level module each name re-exported at the crate root comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let lib = strip_comments(lib);
    let mut rest = lib.as_str();
    while let Some(at) = rest.find("pub use ") {
        rest = &rest[at + "pub use ".len()..];
        let end = rest.find(';').expect("use ends");
        let stmt = &rest[..end];
        rest = &rest[end..];
        let first = stmt.split("::").next().unwrap_or("").trim();
        if layer_of(first).is_none() {
            continue;
        }
        let names = match stmt.find('{') {
            Some(open) => stmt[open + 1..stmt.rfind('}').expect("group ends")].to_string(),
            None => stmt.rsplit("::").next().unwrap_or("").to_string(),
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            map.insert(name.to_string(), first.to_string());
        }
    }
    map
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every module or root-level name a `crate::` path in `src` starts with.
fn crate_paths(src: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = src;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(is_ident) {
            continue; // e.g. `wasmguard_derive_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::b, c}`: the first segment of each item, at nesting depth 0.
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(item.split("::").next().unwrap_or("").trim().to_string());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            found.insert(item.split("::").next().unwrap_or("").trim().to_string());
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            found.insert(name);
        }
    }
    found.remove("");
    found
}

/// The files of `#[cfg(test)] mod name;` declarations (optionally with a `#[path]`): unit
/// tests kept in files of their own, exempt like inline test modules.
fn test_module_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in files {
        let text = strip_comments(&std::fs::read_to_string(file).expect("read"));
        let dir = if file.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs") {
            file.parent().expect("dir").to_path_buf()
        } else {
            file.with_extension("")
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if *line != "#[cfg(test)]" {
                continue;
            }
            let mut path = None;
            for next in &lines[i + 1..] {
                if let Some(p) = next.strip_prefix("#[path = \"").and_then(|r| r.strip_suffix("\"]")) {
                    path = Some(p.to_string());
                    continue;
                }
                let decl = next.trim_start_matches("pub(crate) ").trim_start_matches("pub ");
                if let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                    match &path {
                        Some(p) => {
                            out.insert(file.parent().expect("dir").join(p));
                        }
                        None => {
                            out.insert(dir.join(format!("{name}.rs")));
                            out.insert(dir.join(name).join("mod.rs"));
                        }
                    }
                }
                break;
            }
        }
    }
    out
}

#[test]
fn modules_import_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let reexports = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_files = test_module_files(&files);
    let mut violations = Vec::new();
    let mut seen_modules = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel.components().next().expect("component").as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        if top == "lib" || top == "bin" || top == "main" || test_files.contains(file) {
            continue;
        }
        let Some(from) = layer_of(&top) else {
            violations.push(format!("{}: module `{top}` is in no layer of this test", rel.display()));
            continue;
        };
        seen_modules.insert(top.clone());
        let text = strip_test_modules(&strip_comments(&std::fs::read_to_string(file).expect("read")));
        for name in crate_paths(&text) {
            let target = if layer_of(&name).is_some() {
                name.clone()
            } else if let Some(module) = reexports.get(&name) {
                module.clone()
            } else {
                continue; // `crate::__private`, a macro, ...
            };
            if target == top {
                continue;
            }
            let to = layer_of(&target).expect("layered");
            if to >= from {
                violations
                    .push(format!("{}: `{top}` uses `crate::{name}` (in `{target}`), not below it", rel.display()));
            }
        }
    }
    assert!(violations.is_empty(), "imports that break the layering:\n{}", violations.join("\n"));
    // Every layer named here exists, so the list cannot silently go stale.
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(seen_modules.contains(*module), "layer `{module}` names no module of src/");
    }
}

#[test]
fn the_scanner_sees_groups_and_reexports() {
    let without = strip_test_modules("use crate::a;\n#[cfg(test)]\nmod t { fn f() { crate::B; } }\nuse crate::c;");
    assert_eq!(crate_paths(&without), BTreeSet::from(["a".to_string(), "c".to_string()]));
    let paths =
        crate_paths("use crate::{exec::state::StoreInner, store::{Caller, Store}};\nlet x = crate::Memory::new;");
    assert_eq!(paths, BTreeSet::from(["exec".to_string(), "store".to_string(), "Memory".to_string()]));
    let map = root_reexports("pub use runtime::memory::Memory;\npub use store::{AsContext, Caller};");
    assert_eq!(map.get("Memory").map(String::as_str), Some("runtime"));
    assert_eq!(map.get("Caller").map(String::as_str), Some("store"));
}
