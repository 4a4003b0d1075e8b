//! Link flags for the `pss-fix` binary; nothing is generated.
//!
//! On Linux with glibc the binary is linked as a position-dependent executable (`-no-pie`).
//! A position-independent one is relocated by the dynamic loader at every start: about
//! 10,000 pointers (clap's, serde's and std's tables), which means reading a 240 KiB table
//! and copying some fifty pages before `main`. Helm runs a post-renderer once per install,
//! and that start-up was a tenth of a small chart's whole run (docs/benchmarks.md, "Process
//! start"). The code is still compiled position-independent; only the link changes, as Go
//! links `kubectl` and `helm`. The cost is address-space randomisation of the binary's own
//! image (libraries, heap and stacks stay randomised); `PSS_FIX_PIE=1` at build time keeps
//! the default link for whoever prefers that. Static builds (musl, `crt-static`) are left
//! as they are.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PSS_FIX_PIE");
    let cfg = |key: &str| env::var(key).unwrap_or_default();
    let glibc = cfg("CARGO_CFG_TARGET_OS") == "linux" && cfg("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = cfg("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    let keep_pie = env::var_os("PSS_FIX_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    if glibc && !crt_static && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
