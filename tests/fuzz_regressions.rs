//! Every input the fuzzer (`fuzz/`) or the property test (`tests/properties.rs`) caught,
//! kept in `fixtures/fuzz/`, runs through `decode` + `process` with safe fixes, with
//! `--unsafe`, and with `--unsafe --run-as-user 1000`. Each must hold the fuzz targets'
//! invariants (`tests/support/invariants.rs`, the one definition both use):
//! - no panic; an `Err` is a clean refusal;
//! - output, when there is any, differs from the input, and a second `process` on it succeeds
//!   and changes nothing;
//! - when serde_yaml_ng reads the input, it reads the output with as many documents;
//! - with safe fixes, no byte of the input is lost: the output is the input with text
//!   inserted, less only the empty values (`{}`, `[]`, `null`, `~`) it filled;
//! - with safe fixes, the output reads (serde_yaml_ng, aliases resolved) as the input plus
//!   only safe-fix keys: a null may become a mapping only as a `securityContext`,
//!   `seccompProfile` or `capabilities`, a list only as `drop: [ALL]`.
//!
//! Files named `open-*` hold bugs found and reported but not fixed yet: for them `process`
//! must still not panic, and whatever else fails (a refusal included) is printed, not
//! asserted.

use std::fs;
use std::path::Path;

use pss_fix::decode;
use pss_fix::Allow;
use pss_fix::{process, Options};

mod support;

use support::invariants::{self, only_insertions, Outcome};

fn configurations() -> [(&'static str, Options); 3] {
    let with = |unsafe_fixes, run_as_user| Options {
        allow: Allow {
            unsafe_fixes,
            run_as_user,
        },
        ..Options::default()
    };
    [
        ("safe", with(false, None)),
        ("--unsafe", with(true, None)),
        ("--unsafe --run-as-user 1000", with(true, Some(1000))),
    ]
}

#[test]
fn fuzz_findings_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("fixtures/fuzz")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut failures = Vec::new();
    let mut outputs = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let open = name.starts_with("open-");
        let Ok(text) = decode(fs::read(path).expect("readable")) else {
            continue;
        };
        let mut problems = Vec::new();
        for (config, opts) in configurations() {
            let mut fail = |what: String| problems.push(format!("{name} [{config}]: {what}"));
            match invariants::check(&name, &text, &opts) {
                Outcome::Refused(e) if open => fail(format!("refused: {e}")),
                Outcome::Refused(_) | Outcome::Unchanged => {}
                Outcome::Changed { broken, .. } => {
                    outputs += 1;
                    broken.into_iter().for_each(fail);
                }
            }
        }
        match (open, problems.is_empty()) {
            (false, _) => failures.extend(problems),
            (true, true) => eprintln!(
                "{name}: passes every check now: rename it without `open-` so they are asserted"
            ),
            (true, false) => {
                for p in problems {
                    eprintln!("known open issue: {p}");
                }
            }
        }
    }
    eprintln!(
        "fuzz regressions: {} files, {outputs} outputs checked",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_lossless_check_catches_a_lost_comment() {
    let text = "a:\n  securityContext: {}  # kept\n";
    assert!(only_insertions(
        text,
        "a:\n  securityContext:  # kept\n    runAsNonRoot: true\n"
    )
    .is_ok());
    assert!(only_insertions(text, "a:\n  securityContext:\n    runAsNonRoot: true\n").is_err());
    assert!(only_insertions("[{a: {}   }]", "[{a: {b: 1}}]").is_err());
}

#[test]
fn an_anchored_null_is_refused_not_filled() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/anchored-null-is-refused.yaml");
    let text = decode(fs::read(path).unwrap()).unwrap();
    for (config, opts) in configurations() {
        match process("anchored-null-is-refused.yaml", &text, &opts) {
            Err(e) => assert!(e.message.contains("anchor"), "[{config}] {e}"),
            // The pod's fixes are held back, with the reason.
            Ok(r) => {
                assert!(
                    r.output.is_none(),
                    "[{config}] filled an anchored null:\n{}",
                    r.output.unwrap_or_default()
                );
                assert!(
                    r.workloads
                        .iter()
                        .any(|w| w.held.iter().any(|h| h.message.contains("anchor"))),
                    "[{config}] held back without saying why"
                );
            }
        }
    }
}
