//! Golden snapshots: for every fixture under `fixtures/{demo,format,refuse}`, the findings
//! that remain and the unified diff `fix` applies (or the error it refuses with), stored in
//! `snapshots/`. The diff shows at a glance that every inserted key sits at its siblings'
//! column. Each fixture is also held to the invariants no snapshot review should have to
//! catch: the fix verifies, a second run changes nothing, line endings, BOM and a missing
//! final newline survive. Review changes with `cargo insta review`.

use std::fs;
use std::path::{Path, PathBuf};

use pss_fix::policy::Policy;
use pss_fix::report::{self, diff};
use pss_fix::Allow;
use pss_fix::{process, Options};

const AREAS: &[&str] = &["demo", "dialect", "format", "refuse"];

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    for area in AREAS {
        for entry in fs::read_dir(root.join(area)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    files
}

fn rel(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The snapshot body for one fixture, checking the invariants on the way.
fn run(path: &Path, policy: Policy) -> String {
    run_with(path, policy, Allow::default())
}

fn run_with(path: &Path, policy: Policy, allow: Allow) -> String {
    let name = rel(path);
    let bytes = fs::read(path).unwrap();
    let text = match pss_fix::decode(bytes) {
        Ok(t) => t,
        Err(e) => return format!("error: {}\n", e.in_file(&name)),
    };
    let opts = Options {
        policy,
        allow,
        ..Options::default()
    };
    let report = match process(&name, &text, &opts) {
        Ok(r) => r,
        Err(e) => return format!("error: {e}\n"),
    };
    let mut out = format!("policy: {policy}\n");
    if allow.unsafe_fixes {
        out.push_str("unsafe fixes: on\n");
    }
    if let Some(uid) = allow.run_as_user {
        out.push_str(&format!("run as user: {uid}\n"));
    }
    let findings = report::remaining_text(&name, &report);
    out.push_str("findings:\n");
    out.push_str(if findings.is_empty() {
        "(none)\n"
    } else {
        &findings
    });
    out.push_str("diff:\n");
    match &report.output {
        None => out.push_str("(no change)\n"),
        Some(fixed) => {
            assert_invariants(&name, &text, fixed, &opts);
            out.push_str(&diff::unified(&text, fixed, &name));
        }
    }
    out
}

fn assert_invariants(name: &str, before: &str, after: &str, opts: &Options) {
    let again = process(name, after, opts).expect("the fixed text processes again");
    assert!(
        again.output.is_none(),
        "{name}: a second run changed the file"
    );
    if before.contains("\r\n") {
        let bare_lf = after
            .match_indices('\n')
            .any(|(i, _)| i == 0 || &after[i - 1..i] != "\r");
        assert!(!bare_lf, "{name}: a CRLF file gained a bare LF");
    }
    assert_eq!(
        before.starts_with('\u{feff}'),
        after.starts_with('\u{feff}'),
        "{name}: BOM changed"
    );
    assert_eq!(
        before.ends_with('\n'),
        after.ends_with('\n'),
        "{name}: final newline changed"
    );
}

#[test]
fn fixtures_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for path in fixtures() {
            let name = rel(&path);
            let snap = name.trim_start_matches("fixtures/").replace('/', "__");
            insta::assert_snapshot!(snap, run(&path, Policy::default()));
        }
    });
}

/// The same demo manifest at each policy version where restricted grew: only what that
/// version requires is inserted.
#[test]
fn versions_insert_only_what_they_require() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/web.yaml");
    settings.bind(|| {
        for policy in [
            "restricted:v1.0",
            "restricted:v1.8",
            "restricted:v1.19",
            "restricted:v1.22",
            "baseline:latest",
        ] {
            let body = run(&path, policy.parse().unwrap());
            insta::assert_snapshot!(format!("versions__web@{}", policy.replace(':', "-")), body);
        }
    });
}

/// `--unsafe` (and `--run-as-user`) on inputs whose violations need a value changed.
#[test]
fn unsafe_fixes_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/unsafe");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    settings.bind(|| {
        for path in &files {
            let stem = path.file_name().unwrap().to_string_lossy().into_owned();
            for (label, allow) in [
                ("safe", Allow::default()),
                (
                    "unsafe",
                    Allow {
                        unsafe_fixes: true,
                        run_as_user: None,
                    },
                ),
                (
                    "unsafe-uid-1000",
                    Allow {
                        unsafe_fixes: true,
                        run_as_user: Some(1000),
                    },
                ),
            ] {
                let body = run_with(path, Policy::default(), allow);
                insta::assert_snapshot!(format!("unsafe__{stem}@{label}"), body);
            }
        }
    });
}
