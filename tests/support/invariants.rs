//! The invariants of a fix, on any input: what the fuzz targets (`fuzz/`, which include this
//! file by path) assert on every byte string, what `tests/fuzz_regressions.rs` asserts on the
//! inputs they caught, and what the property tests (`tests/properties.rs`) check of a safe fix.
//!
//! 1. `process` never panics; an `Err` is a clean refusal.
//! 2. When `process` produces output, it differs from the input, and `process` on the output
//!    succeeds with no output (idempotent).
//! 3. An independent reader agrees: when serde_yaml_ng reads every document of the input, it
//!    reads the output too, with the same number of documents. With safe fixes only, each
//!    output document also contains its input document ([`contains`]).
//! 4. With safe fixes only, the output is the input with text inserted, less at most the
//!    empty values it filled ([`only_insertions`]).
//!
//! It needs only pss-fix, serde and serde_yaml_ng, so that the fuzz crate can include it.

use pss_fix::{process, Options};
use serde::Deserialize;
use serde_yaml_ng::Value;

/// Every key a safe fix may add.
const SAFE_KEYS: [&str; 7] = [
    "securityContext",
    "runAsNonRoot",
    "seccompProfile",
    "type",
    "allowPrivilegeEscalation",
    "capabilities",
    "drop",
];

/// What one `process` run made of an input.
pub enum Outcome {
    /// A clean refusal.
    Refused(pss_fix::Error),
    /// Nothing to change.
    Unchanged,
    /// The output, and every invariant it breaks (none when all hold).
    Changed { output: String, broken: Vec<String> },
}

/// `process` on `text` with `opts`, and the invariants checked on its output; the safe-fix
/// ones (3, 4) only when `opts` allows no unsafe fix.
pub fn check(name: &str, text: &str, opts: &Options) -> Outcome {
    let output = match process(name, text, opts) {
        Ok(report) => match report.output {
            Some(output) => output,
            None => return Outcome::Unchanged,
        },
        Err(e) => return Outcome::Refused(e),
    };
    let safe = !opts.allow.unsafe_fixes && opts.allow.run_as_user.is_none();
    let mut broken = Vec::new();
    if output == text {
        broken.push("output is Some but identical to the input".to_owned());
    }
    match process(name, &output, opts) {
        Ok(again) => {
            if let Some(again) = again.output {
                broken.push(format!(
                    "not idempotent: a second run changes the output again\n--- again ---\n{again}"
                ));
            }
        }
        Err(e) => broken.push(format!("a second run refuses the output: {e}")),
    }
    if let Ok(a) = documents(text) {
        match documents(&output) {
            Ok(b) if a.len() != b.len() => {
                broken.push(format!("{} documents in, {} out", a.len(), b.len()))
            }
            Ok(b) if safe => {
                for (i, (a, b)) in a.iter().zip(&b).enumerate() {
                    if let Err(e) = contains(a, b, "") {
                        broken.push(format!("document {}: {e}", i + 1));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => broken.push(format!(
                "serde_yaml_ng reads the input, not the output: {e}"
            )),
        }
    }
    if safe {
        if let Err(e) = only_insertions(text, &output) {
            broken.push(e);
        }
    }
    Outcome::Changed { output, broken }
}

/// Every document as serde_yaml_ng reads it. A BOM is no data, and libyaml stumbles over
/// one before `---` ("mapping values are not allowed"), so it is taken off first.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).map_err(|e| e.to_string()))
        .collect()
}

/// A mapping key as a path segment; a key that is not a string shows as what it is.
pub fn key_name(k: &Value) -> String {
    k.as_str().map_or_else(|| format!("{k:?}"), str::to_owned)
}

/// `out` holds every character of `text`, in order, once the empty values a fix may fill
/// (`{}`, `[]`, `null`, `~`, with the blank before them) are taken out of `text`: no other
/// byte of the input is lost (a comment, a blank, a bracket).
pub fn only_insertions(text: &str, out: &str) -> Result<(), String> {
    let mut kept = text.to_owned();
    // A filled value goes with the blank before it (`key: {}  # c` → `key:  # c`).
    for empty in ["{}", "[]", "null", "Null", "NULL", "~"] {
        kept = kept.replace(&format!(" {empty}"), "").replace(empty, "");
    }
    let mut rest = out.chars();
    let mut line = 1;
    for c in kept.chars() {
        if !rest.any(|o| o == c) {
            return Err(format!(
                "input character {c:?} is lost (line {line} once empty values are taken out)"
            ));
        }
        line += usize::from(c == '\n');
    }
    Ok(())
}

/// `output` holds `input` (every key with its value) plus only keys a safe fix writes: a
/// null may become a mapping only as a `securityContext`, `seccompProfile` or
/// `capabilities`, a list only as `drop: [ALL]`, and a `drop` list may gain `ALL`. `path` is
/// where `input` stands (`""` at the root).
pub fn contains(input: &Value, output: &Value, path: &str) -> Result<(), String> {
    let is_all = |v: &Value| v.as_str() == Some("ALL");
    match (input, output) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{}", key_name(k));
                let w = b.get(k).ok_or_else(|| format!("{p}: key removed"))?;
                contains(v, w, &p)?;
            }
            for (k, v) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                added(k, v, path)?;
            }
            Ok(())
        }
        // Only a security context, its seccomp profile or its capabilities may be filled.
        (Value::Null, Value::Mapping(b))
            if [".securityContext", ".seccompProfile", ".capabilities"]
                .iter()
                .any(|k| path.ends_with(k)) =>
        {
            b.iter().try_for_each(|(k, v)| added(k, v, path))
        }
        (Value::Sequence(a), Value::Sequence(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                contains(v, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Sequence(a), Value::Sequence(b))
            if path.ends_with(".drop")
                && b.len() == a.len() + 1
                && b.iter().any(is_all)
                && a.iter().all(|v| b.contains(v)) =>
        {
            Ok(())
        }
        (Value::Null, Value::Sequence(b))
            if path.ends_with(".drop") && b.len() == 1 && is_all(&b[0]) =>
        {
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: {a:?} became {b:?}")),
    }
}

/// A key present in the output only: it must be one a safe fix writes, and so must its keys.
fn added(k: &Value, v: &Value, path: &str) -> Result<(), String> {
    if !SAFE_KEYS.contains(&key_name(k).as_str()) {
        return Err(format!("{path}: unexpected key {k:?} added"));
    }
    if let Value::Mapping(m) = v {
        for (k2, v2) in m {
            added(k2, v2, &format!("{path}.{}", key_name(k)))?;
        }
    }
    Ok(())
}
