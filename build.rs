//! Link flags for the binaries this package links (`pss-fix`, its tests, benches and
//! examples); nothing is generated.
//!
//! On Linux with glibc, two changes to what the dynamic loader does at every start, which a
//! Helm post-renderer pays once per install: together about 0.35 ms of the 1.7 ms an empty
//! stream's `post-render` took, a sixth of a small chart's (docs/benchmarks.md).
//!
//! - The binary is position-dependent (`-no-pie`). A position-independent one is relocated
//!   at start: about 10,000 pointers (clap's, serde's and std's tables), a 240 KiB table read
//!   and some fifty pages copied before `main`. The code is still compiled
//!   position-independent; only the link changes, as Go links `kubectl` and `helm`. What is
//!   lost is the randomised address of the binary's own image (libraries, heap and stacks
//!   stay randomised).
//! - libgcc's unwinder (`libgcc_eh.a`, what Rust's panics unwind with) is linked in, so
//!   `libgcc_s.so.1` is not loaded: one library fewer to open, map, relocate and search for
//!   every symbol, and no CPU probe in its constructor. Only when the C compiler knows where
//!   the archive is and the build is for the machine it runs on.
//!
//! `PSS_FIX_DEFAULT_LINK=1` at build time keeps the toolchain's default link. Static builds
//! (musl, `crt-static`) are left as they are.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PSS_FIX_DEFAULT_LINK");
    println!("cargo:rerun-if-env-changed=CC");
    let cfg = |key: &str| env::var(key).unwrap_or_default();
    let glibc = cfg("CARGO_CFG_TARGET_OS") == "linux" && cfg("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = cfg("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    let default_link =
        env::var_os("PSS_FIX_DEFAULT_LINK").is_some_and(|v| !v.is_empty() && v != "0");
    if !glibc || crt_static || default_link {
        return;
    }
    println!("cargo:rustc-link-arg=-no-pie");
    // The archive the host's compiler would link: only right for a build for the host.
    if cfg("TARGET") != cfg("HOST") {
        return;
    }
    if let Some(unwinder) = libgcc_eh() {
        // Whole, so that every unwinding symbol is defined before the linker decides which
        // shared libraries are needed (`--as-needed` then drops `libgcc_s`).
        println!("cargo:rustc-link-arg=-Wl,--whole-archive");
        println!("cargo:rustc-link-arg={}", unwinder.display());
        println!("cargo:rustc-link-arg=-Wl,--no-whole-archive");
        println!("cargo:rustc-env=PSS_FIX_UNWINDER=static");
    }
}

/// Where the C compiler keeps `libgcc_eh.a`; `None` when it does not say (it then prints the
/// bare name back).
fn libgcc_eh() -> Option<PathBuf> {
    let cc = env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (path.is_absolute() && path.is_file()).then_some(path)
}
