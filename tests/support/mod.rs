//! What several integration tests share. Each test crate that needs it says `mod support;`.
//! (Issue 11 gathers the rest of the test scaffolding here.)

use std::path::{Path, PathBuf};

pub mod lossless;

/// Every `*.yaml`, `*.yml` and `*.json` file below `dir`, in no particular order; folders
/// that cannot be read are passed over.
// The property tests include `support` for `lossless` alone.
#[allow(dead_code)]
pub fn manifests_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            manifests_under(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
}
