//! The invariants both fuzz targets assert, on any byte string:
//!
//! 1. `decode` then `process` never panic; an `Err` is a clean refusal and ends the run.
//! 2. When `process` produces output, it differs from the input, and `process` on the output
//!    succeeds with no output (idempotent).
//! 3. An independent reader agrees: when serde_yaml_ng reads every document of the input, it
//!    reads the output too, with the same number of documents. With safe fixes only, each
//!    output document also contains its input document (every key with its value; a null may
//!    become a mapping; a `drop` list may gain `ALL`), and every key it adds is one a safe fix
//!    writes.
//!
//! 4. With safe fixes only, the output is the input with text inserted, less at most the
//!    empty values it filled (`{}`, `[]`, `null`, `~`): no other byte of the input is lost
//!    (a comment, a blank, a bracket).
//!
//! A violated invariant panics, which libFuzzer records as a crash.

use pss_fix::{process, Options};
use pss_fix::Allow;
use pss_fix::decode;
use serde::Deserialize;
use serde_yaml_ng::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The defaults: safe fixes only (`pss-fix fix`).
    Safe,
    /// `--unsafe`: value-changing fixes too.
    Unsafe,
}

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
    let opts = options(mode);
    let Ok(report) = process("fuzz.yaml", &text, &opts) else {
        return;
    };
    let Some(out) = report.output else {
        return;
    };
    assert_ne!(out, text, "output is Some but identical to the input");
    if mode == Mode::Safe {
        if let Err(e) = only_insertions(&text, &out) {
            panic!("{e}\n--- output ---\n{out}");
        }
    }
    match process("fuzz.yaml", &out, &opts) {
        Ok(again) => assert!(
            again.output.is_none(),
            "not idempotent: a second run changes the output again\n--- output ---\n{out}\n--- again ---\n{}",
            again.output.unwrap_or_default()
        ),
        Err(e) => panic!("a second run on the output fails: {e}\n--- output ---\n{out}"),
    }
    let Ok(input_docs) = documents(&text) else {
        // The second reader refuses the input: nothing to compare against.
        return;
    };
    let output_docs = match documents(&out) {
        Ok(d) => d,
        Err(e) => {
            panic!("serde_yaml_ng reads the input but not the output: {e}\n--- output ---\n{out}")
        }
    };
    assert_eq!(
        input_docs.len(),
        output_docs.len(),
        "serde_yaml_ng reads a different number of documents\n--- output ---\n{out}"
    );
    if mode == Mode::Safe {
        for (i, (a, b)) in input_docs.iter().zip(&output_docs).enumerate() {
            let mut path = Vec::new();
            if let Err(e) = contains(a, b, &mut path) {
                panic!("document {}: {e}\n--- output ---\n{out}", i + 1);
            }
        }
    }
}

/// `out` holds every character of `text`, in order, once the empty values a fix may fill are
/// taken out of `text`.
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
                "input character {c:?} (line {line} of the input without its empty values) is lost"
            ));
        }
        line += usize::from(c == '\n');
    }
    Ok(())
}

/// Every document of `text` as serde_yaml_ng reads it (a leading BOM taken off: libyaml
/// refuses a BOM followed by `---`).
pub fn documents(text: &str) -> Result<Vec<Value>, serde_yaml_ng::Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_yaml_ng::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect()
}

fn key_name(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn at(path: &[String]) -> String {
    if path.is_empty() {
        "<root>".into()
    } else {
        path.join(".")
    }
}

/// `output` holds `input` plus only keys a safe fix writes.
fn contains(input: &Value, output: &Value, path: &mut Vec<String>) -> Result<(), String> {
    match (input, output) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in a {
                path.push(key_name(k));
                match b.get(k) {
                    Some(w) => contains(v, w, path)?,
                    None => return Err(format!("{}: key removed", at(path))),
                }
                path.pop();
            }
            for (k, v) in b {
                if !a.contains_key(k) {
                    added(k, v, path)?;
                }
            }
            Ok(())
        }
        // Only a security context, its seccomp profile or its capabilities may be filled.
        (Value::Null, Value::Mapping(b))
            if path.last().is_some_and(|k| {
                ["securityContext", "seccompProfile", "capabilities"].contains(&k.as_str())
            }) =>
        {
            for (k, v) in b {
                added(k, v, path)?;
            }
            Ok(())
        }
        (Value::Sequence(a), Value::Sequence(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                path.push(format!("[{i}]"));
                contains(v, w, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Sequence(a), Value::Sequence(b))
            if b.len() == a.len() + 1
                && path.last().is_some_and(|k| k == "drop")
                && b.iter().any(|v| v.as_str() == Some("ALL")) =>
        {
            Ok(())
        }
        (Value::Null, Value::Sequence(b))
            if path.last().is_some_and(|k| k == "drop")
                && b.len() == 1
                && b[0].as_str() == Some("ALL") =>
        {
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{}: {a:?} became {b:?}", at(path))),
    }
}

/// A key present in the output only: it must be one a safe fix writes, and so must its keys.
fn added(key: &Value, value: &Value, path: &[String]) -> Result<(), String> {
    let name = key.as_str().unwrap_or_default();
    if !SAFE_KEYS.contains(&name) {
        return Err(format!("{}: unexpected key {key:?} added", at(path)));
    }
    if let Value::Mapping(m) = value {
        let mut inner = path.to_vec();
        inner.push(key_name(key));
        for (k, v) in m {
            added(k, v, &inner)?;
        }
    }
    Ok(())
}
