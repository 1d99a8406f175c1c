//! Chooses how the interpreter dispatches between instruction handlers.
//!
//! Optimised builds thread the handlers: each one ends by calling the next instruction's
//! handler in tail position, which LLVM turns into a jump at `opt-level` 2 and above, so
//! the native stack does not grow. Without those optimisations such calls would nest, so
//! other builds (and Miri) run the handlers from a loop instead. Setting the environment
//! variable `WASMGUARD_LOOP_DISPATCH` forces the loop in every build.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasmguard_threaded)");
    println!("cargo::rerun-if-env-changed=WASMGUARD_LOOP_DISPATCH");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    let forced_loop = std::env::var_os("WASMGUARD_LOOP_DISPATCH").is_some();
    if matches!(opt.as_str(), "2" | "3" | "s" | "z") && !forced_loop {
        println!("cargo::rustc-cfg=wasmguard_threaded");
    }
}
