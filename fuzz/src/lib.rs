//! The invariants both fuzz targets assert, on any byte string: `decode`, then the checks of
//! `tests/support/invariants.rs` (one definition, shared with `tests/fuzz_regressions.rs`
//! and the property tests, included here by path):
//!
//! 1. `decode` then `process` never panic; an `Err` is a clean refusal and ends the run.
//! 2. When `process` produces output, it differs from the input, and `process` on the output
//!    succeeds with no output (idempotent).
//! 3. An independent reader agrees: when serde_yaml_ng reads every document of the input, it
//!    reads the output too, with the same number of documents. With safe fixes only, each
//!    output document also contains its input document (every key with its value; a null may
//!    become a mapping; a `drop` list may gain `ALL`), and every key it adds is one a safe fix
//!    writes.
//! 4. With safe fixes only, the output is the input with text inserted, less at most the
//!    empty values it filled (`{}`, `[]`, `null`, `~`): no other byte of the input is lost
//!    (a comment, a blank, a bracket).
//!
//! A violated invariant panics, which libFuzzer records as a crash.

use pss_fix::decode;
use pss_fix::Allow;
use pss_fix::Options;

#[path = "../../tests/support/invariants.rs"]
mod invariants;

pub use invariants::{contains, documents, only_insertions, Outcome};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The defaults: safe fixes only (`pss-fix fix`).
    Safe,
    /// `--unsafe`: value-changing fixes too.
    Unsafe,
}

pub fn options(mode: Mode) -> Options {
    Options {
        allow: Allow {
            unsafe_fixes: mode == Mode::Unsafe,
            run_as_user: None,
        },
        ..Options::default()
    }
}

pub fn check(data: &[u8], mode: Mode) {
    let Ok(text) = decode(data.to_vec()) else {
        return;
    };
    if let Outcome::Changed { output, broken } =
        invariants::check("fuzz.yaml", &text, &options(mode))
    {
        if !broken.is_empty() {
            panic!("{}\n--- output ---\n{output}", broken.join("\n"));
        }
    }
}
