//! What the integration tests share that needs pss-fix itself (what does not lives in the
//! test kit, `pss_fix_testkit`). Each test crate that needs it says `mod support;`.
//! - the binary under test, run through the test kit's runner: [`pss`], [`run`], [`run_stdin`];
//! - [`invariants`]: what every fix must hold, shared with the fuzz targets;
//! - [`lossless`]: what a lossless edit is, line by line.

// Shared by several test crates, each of which uses only a part.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::{Command, Output};

pub use pss_fix_testkit::cmd::{code, show, stderr, stdout, text, Bin, Project};

pub mod invariants;
pub mod lossless;

/// The pss-fix binary this test crate was built with.
pub const PSS: Bin = Bin(env!("CARGO_BIN_EXE_pss-fix"));

/// `pss-fix ARGS` in `dir`, not yet started: no `NO_COLOR`, stdin empty (not a terminal).
pub fn pss(dir: &Path, args: &[&str]) -> Command {
    PSS.command(dir, args)
}

/// `pss-fix ARGS` in `dir`, run to the end.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    PSS.run(dir, args)
}

/// `pss-fix ARGS` in `dir` with `input` piped on stdin.
pub fn run_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    PSS.run_stdin(dir, args, input)
}
