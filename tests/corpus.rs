//! Property tests over the real-world manifests in `../shared/corpus/` (see its README) and
//! the stream Helm 4 hands a post-renderer in `../shared/helm4/` (written in go-yaml's dialect:
//! quoted scalars closing at column 0): files nobody here wrote, so the assertions are
//! invariants, never exact bytes.
//!
//! For `restricted:latest` and `restricted:v1.35` (test `corpus_fix_properties`):
//! - P1 `process` succeeds on every file.
//! - P2 a file where no workload gains a field comes back byte-identical (`output == None`),
//!   and a file with output really changed and reported what it added.
//! - P3 every original line is still in the output, in order; the only lines that may change
//!   are a `{}` / `null` / `~` value being filled, a flow collection gaining an entry, or a
//!   JSON line gaining its trailing comma; every line the output adds reads as an inserted
//!   safe-fix field and nothing else.
//! - P4 the output parses (serde_yaml_ng) to the input's documents plus only the safe-fix
//!   fields: same document count, every input key with an equal value, extra keys only inside
//!   `securityContext` (with the values the safe fixes add), `ALL` the only entry a
//!   `capabilities.drop` list may gain, and a null only turning into a mapping for
//!   `securityContext` / `capabilities` / `seccompProfile`.
//! - P5 every workload ends with no violation of the four safe-fix checks, or with a note for
//!   that check saying why not; other violations stay reported under their own check ID, and
//!   fixing introduces no new one.
//! - P6 a second run changes nothing, and reports exactly the violations the first run said
//!   were left.
//!
//! For `restricted:v1.35` and `baseline:v1.35` (test `corpus_verdicts_match_official`):
//! - P7 the violations before fixing equal the official Pod Security Admission verdicts in
//!   `EXPECTED-<level>-v1.35.jsonl` (check ID, reason, detail, in order), one entry per
//!   workload and one workload per entry.
//!
//! Every failure is collected and listed at the end, so one run shows them all. When the shared
//! corpus is absent the tests print a note and pass, except under CI (`CI` set).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use pss_fix::Policy;
use pss_fix::{process, FileReport, Options, WorkloadReport};
use pss_fix_testkit::manifests_under;
use serde::Deserialize;
use serde_yaml_ng::Value;

mod support;

use support::lossless::{documents, key_name, lines_kept, show, SAFE_CHECKS};

const FIX_POLICIES: [&str; 2] = ["restricted:latest", "restricted:v1.35"];

const VERDICT_POLICIES: [(&str, &str); 2] = [
    ("restricted:v1.35", "EXPECTED-restricted-v1.35.jsonl"),
    ("baseline:v1.35", "EXPECTED-baseline-v1.35.jsonl"),
];

// ---------------------------------------------------------------------------------------------
// The corpus

/// The folders of real manifests, each with its `EXPECTED-*.jsonl` verdicts.
const ROOTS: [&str; 2] = ["corpus", "helm4"];

fn corpus_roots() -> Option<Vec<PathBuf>> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let dirs: Vec<PathBuf> = ROOTS.iter().map(|r| shared.join(r)).collect();
    if dirs.iter().all(|d| d.is_dir()) {
        return Some(dirs);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "shared corpus not found at {} (required under CI)",
            shared.display()
        );
    }
    eprintln!("shared corpus not found; corpus tests not run");
    None
}

/// Every manifest under every root.
fn all_files(roots: &[PathBuf]) -> Vec<CorpusFile> {
    roots.iter().flat_map(|r| corpus_files(r)).collect()
}

struct CorpusFile {
    /// Path relative to the corpus directory, `/`-separated, as the jsonl files name it.
    rel: String,
    /// The decoded text, or why it could not be decoded.
    text: Result<String, String>,
}

fn corpus_files(root: &Path) -> Vec<CorpusFile> {
    manifests_under(root)
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(root)
                .expect("under the corpus root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = fs::read(&path)
                .map_err(|e| format!("read: {e}"))
                .and_then(|bytes| {
                    pss_fix::decode(bytes).map_err(|e| format!("decode: {}", e.message))
                });
            CorpusFile { rel, text }
        })
        .collect()
}

/// Safe fixes only: `allow` stays at its default (no `--unsafe`, no `--run-as-user`).
fn options(policy: &str) -> Options {
    Options {
        policy: policy.parse::<Policy>().expect("a valid policy"),
        ..Options::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping

/// Failures per property, and counts for the summary lines.
#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    /// property → number of failures
    failed: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn fail(&mut self, property: &'static str, policy: &str, what: String) {
        *self.failed.entry(property).or_default() += 1;
        self.failures.push(format!("[{property} {policy}] {what}"));
    }

    fn count(&self, property: &'static str) -> usize {
        self.failed.get(property).copied().unwrap_or(0)
    }

    fn finish(self, test: &str) {
        assert!(
            self.failures.is_empty(),
            "{test}: {} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn label(file: &str, w: &WorkloadReport) -> String {
    let ns = if w.namespace.is_empty() {
        String::new()
    } else {
        format!("{}/", w.namespace)
    };
    let item = w.item.map(|i| format!(" item {i}")).unwrap_or_default();
    format!(
        "{file} {}/{ns}{} (document {}{item}, line {})",
        w.kind,
        w.name,
        w.document + 1,
        w.line
    )
}

fn is_safe(check: &str) -> bool {
    SAFE_CHECKS.contains(&check)
}

// ---------------------------------------------------------------------------------------------
// P1-P6: fixing

#[test]
fn corpus_fix_properties() {
    let Some(roots) = corpus_roots() else {
        return;
    };
    let files = all_files(&roots);
    assert!(!files.is_empty(), "no manifests in {roots:?}");
    let mut tally = Tally::default();
    for policy in FIX_POLICIES {
        let opts = options(policy);
        let before = tally.failed.clone();
        let mut processed = 0;
        let mut changed = 0;
        let mut workloads = 0;
        let mut failing = 0;
        let mut fixed = 0;
        let mut passing_after = 0;
        let mut noted = 0;
        let mut inserted = 0;
        let mut changed_in_place = 0;
        for file in &files {
            let text = match &file.text {
                Ok(t) => t,
                Err(e) => {
                    tally.fail("P1", policy, format!("{}: {e}", file.rel));
                    continue;
                }
            };
            let report = match process(&file.rel, text, &opts) {
                Ok(r) => r,
                Err(e) => {
                    tally.fail("P1", policy, format!("{}: process failed: {e}", file.rel));
                    continue;
                }
            };
            processed += 1;
            workloads += report.workloads.len();
            for w in &report.workloads {
                failing += usize::from(!w.before.is_empty());
                fixed += usize::from(!w.added.is_empty());
                passing_after += usize::from(w.skipped.is_none() && w.after().is_empty());
                noted += usize::from(!w.notes.is_empty());
            }
            if std::env::var_os("PSS_FIX_CORPUS_VERBOSE").is_some() {
                for w in &report.workloads {
                    eprintln!(
                        "  {}: before {:?}, added {:?}, after {:?}, notes {:?}",
                        label(&file.rel, w),
                        w.before.iter().map(|v| v.check).collect::<Vec<_>>(),
                        w.added.iter().map(|a| a.path()).collect::<Vec<_>>(),
                        w.after().iter().map(|v| v.check).collect::<Vec<_>>(),
                        w.notes
                            .iter()
                            .map(|n| (n.check, &n.message))
                            .collect::<Vec<_>>(),
                    );
                }
            }
            p2_unchanged_is_identical(&mut tally, policy, &file.rel, text, &report);
            p5_fixed_or_explained(&mut tally, policy, &file.rel, &report);
            if let Some(out) = &report.output {
                changed += 1;
                match lines_kept(text, out) {
                    Ok(s) => {
                        inserted += s.inserted;
                        changed_in_place += s.changed;
                    }
                    Err(e) => tally.fail("P3", policy, format!("{}: {e}", file.rel)),
                }
                for e in p4_same_data_plus_fixes(text, out) {
                    tally.fail("P4", policy, format!("{}: {e}", file.rel));
                }
                p6_idempotent(&mut tally, policy, &file.rel, out, &report, &opts);
            }
        }
        let new = |p: &'static str| tally.count(p) - before.get(p).copied().unwrap_or(0);
        eprintln!(
            "corpus {policy} P1 process succeeds: {} files, {processed} processed, {} failures",
            files.len(),
            new("P1")
        );
        eprintln!(
            "corpus {policy} P2 unchanged files byte-identical: {} unchanged, {changed} changed, {} failures",
            processed - changed,
            new("P2")
        );
        eprintln!(
            "corpus {policy} P3 original lines kept in order: {changed} changed files, {inserted} lines \
             inserted, {changed_in_place} changed in place, {} failures",
            new("P3")
        );
        eprintln!(
            "corpus {policy} P4 output = input + safe-fix fields: {changed} changed files, {} failures",
            new("P4")
        );
        eprintln!(
            "corpus {policy} P5 fixed or explained: {workloads} workloads, {failing} failing before, \
             {fixed} fixed, {passing_after} passing after, {noted} with notes, {} failures",
            new("P5")
        );
        eprintln!(
            "corpus {policy} P6 second run changes nothing: {changed} changed files, {} failures",
            new("P6")
        );
    }
    tally.finish("corpus fix properties");
}

/// P2: no workload gained a field ⇔ the output is `None`; a `Some` output differs from the input.
fn p2_unchanged_is_identical(
    tally: &mut Tally,
    policy: &str,
    file: &str,
    text: &str,
    report: &FileReport,
) {
    let added: usize = report.workloads.iter().map(|w| w.added.len()).sum();
    match (&report.output, added) {
        (None, 0) => {}
        (Some(out), 0) => tally.fail(
            "P2",
            policy,
            format!(
                "{file}: no workload reports an added field, yet the output differs from the input{}",
                first_difference(text, out)
            ),
        ),
        (None, n) => tally.fail(
            "P2",
            policy,
            format!("{file}: {n} fields reported added, yet the output is None (unchanged)"),
        ),
        (Some(out), _) if out == text => tally.fail(
            "P2",
            policy,
            format!("{file}: output is Some but byte-identical to the input (should be None)"),
        ),
        (Some(_), _) => {}
    }
}

fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    for i in 0..al.len().max(bl.len()) {
        let (x, y) = (al.get(i), bl.get(i));
        if x != y {
            return format!(
                "; first difference at line {}: {} became {}",
                i + 1,
                x.map_or("end of file".into(), |l| show(l)),
                y.map_or("end of file".into(), |l| show(l)),
            );
        }
    }
    String::new()
}

// ---------------------------------------------------------------------------------------------
// P4: data

fn p4_same_data_plus_fixes(text: &str, out: &str) -> Vec<String> {
    let input = match documents(text) {
        Ok(d) => d,
        Err(e) => return vec![format!("the input does not parse with serde_yaml_ng: {e}")],
    };
    let output = match documents(out) {
        Ok(d) => d,
        Err(e) => return vec![format!("the output does not parse: {e}")],
    };
    if input.len() != output.len() {
        return vec![format!(
            "{} documents in, {} out",
            input.len(),
            output.len()
        )];
    }
    let mut diffs = Vec::new();
    for (i, (a, b)) in input.iter().zip(&output).enumerate() {
        let mut path = Vec::new();
        let mut d = Vec::new();
        let specs = pod_spec_paths(a);
        compare(a, b, &mut path, &specs, &mut d);
        diffs.extend(d.into_iter().map(|e| format!("document {}: {e}", i + 1)));
    }
    diffs
}

fn dotted(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if !seg.starts_with('[') && !s.is_empty() {
            s.push('.');
        }
        s.push_str(seg);
    }
    if s.is_empty() {
        "<root>".into()
    } else {
        s
    }
}

fn brief(v: &Value) -> String {
    let s = serde_yaml_ng::to_string(v).unwrap_or_else(|_| format!("{v:?}"));
    show(s.trim_end())
}

fn last(path: &[String]) -> &str {
    path.last().map_or("", String::as_str)
}

/// `input` must be contained in `output`, which may hold only the safe-fix additions beyond it.
fn compare(
    input: &Value,
    output: &Value,
    path: &mut Vec<String>,
    specs: &[Vec<String>],
    diffs: &mut Vec<String>,
) {
    match (input, output) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in a {
                path.push(key_name(k));
                match b.get(k) {
                    Some(w) => compare(v, w, path, specs, diffs),
                    None => diffs.push(format!("{}: key removed", dotted(path))),
                }
                path.pop();
            }
            for (k, v) in b {
                if !a.contains_key(k) {
                    check_added(path, &key_name(k), v, specs, diffs);
                }
            }
        }
        (Value::Null, Value::Mapping(b))
            if matches!(
                last(path),
                "securityContext" | "capabilities" | "seccompProfile"
            ) =>
        {
            for (k, v) in b {
                check_added(path, &key_name(k), v, specs, diffs);
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            if a.len() == b.len() {
                for (i, (v, w)) in a.iter().zip(b).enumerate() {
                    path.push(format!("[{i}]"));
                    compare(v, w, path, specs, diffs);
                    path.pop();
                }
            } else if is_drop(path) && b.len() == a.len() + 1 && !a.iter().any(is_all) {
                let fits = (0..b.len()).any(|skip| {
                    is_all(&b[skip])
                        && a.iter()
                            .zip(b.iter().enumerate().filter(|(j, _)| *j != skip))
                            .all(|(v, (_, w))| v == w)
                });
                if !fits {
                    diffs.push(format!(
                        "{}: {} became {} (only ALL may be added)",
                        dotted(path),
                        brief(input),
                        brief(output)
                    ));
                }
            } else {
                diffs.push(format!(
                    "{}: sequence {} became {}",
                    dotted(path),
                    brief(input),
                    brief(output)
                ));
            }
        }
        (Value::Null, Value::Sequence(b)) if is_drop(path) && b.len() == 1 && is_all(&b[0]) => {}
        (a, b) if a == b => {}
        (a, b) => diffs.push(format!(
            "{}: value {} became {}",
            dotted(path),
            brief(a),
            brief(b)
        )),
    }
}

fn is_all(v: &Value) -> bool {
    v.as_str() == Some("ALL")
}

fn is_drop(path: &[String]) -> bool {
    path.len() >= 3
        && path[path.len() - 1] == "drop"
        && path[path.len() - 2] == "capabilities"
        && path[path.len() - 3] == "securityContext"
}

/// Where a document keeps its pod specs, by kind (a `kind: List` holds objects in `items`).
fn pod_spec_paths(doc: &Value) -> Vec<Vec<String>> {
    let of = |object: &Value| -> Option<&'static [&'static str]> {
        Some(match object.get("kind")?.as_str()? {
            "Pod" => &["spec"],
            "PodTemplate" => &["template", "spec"],
            "ReplicationController"
            | "ReplicaSet"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "Job" => &["spec", "template", "spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => return None,
        })
    };
    let owned = |prefix: &[String], p: &[&str]| {
        let mut v = prefix.to_vec();
        v.extend(p.iter().map(|s| s.to_string()));
        v
    };
    let mut out = Vec::new();
    if doc.get("kind").and_then(Value::as_str) == Some("List") {
        if let Some(items) = doc.get("items").and_then(Value::as_sequence) {
            for (i, item) in items.iter().enumerate() {
                if let Some(p) = of(item) {
                    out.push(owned(&["items".into(), format!("[{i}]")], p));
                }
            }
        }
    } else if let Some(p) = of(doc) {
        out.push(owned(&[], p));
    }
    out
}

/// Who owns the `securityContext` at `parent.securityContext`.
#[derive(PartialEq)]
enum Owner {
    Pod,
    Container,
    Other,
}

fn owner(parent: &[String], specs: &[Vec<String>]) -> Owner {
    let n = parent.len();
    if n >= 2
        && parent[n - 1].starts_with('[')
        && specs.iter().any(|s| s[..] == parent[..n - 2])
        && matches!(
            parent[n - 2].as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        )
    {
        Owner::Container
    } else if specs.iter().any(|s| s[..] == *parent) {
        Owner::Pod
    } else {
        Owner::Other
    }
}

/// A key the output has and the input has not, at `parent.key`: only what a safe fix adds.
fn check_added(
    parent: &[String],
    key: &str,
    value: &Value,
    specs: &[Vec<String>],
    diffs: &mut Vec<String>,
) {
    let mut path = parent.to_vec();
    path.push(key.to_owned());
    let sc = parent.iter().rposition(|s| s == "securityContext");
    let ok = match sc {
        None => key == "securityContext" && owner(parent, specs) != Owner::Other,
        Some(at) => {
            let inside = &parent[at + 1..];
            let whose = owner(&parent[..at], specs);
            match (inside, key, whose) {
                ([], "runAsNonRoot", Owner::Pod) => value == &Value::Bool(true),
                ([], "seccompProfile", Owner::Pod) => true,
                ([], "allowPrivilegeEscalation", Owner::Container) => value == &Value::Bool(false),
                ([], "capabilities", Owner::Container) => true,
                ([s], "type", Owner::Pod) if s == "seccompProfile" => {
                    value.as_str() == Some("RuntimeDefault")
                }
                ([c], "drop", Owner::Container) if c == "capabilities" => {
                    matches!(value, Value::Sequence(s) if s.len() == 1 && is_all(&s[0]))
                }
                _ => false,
            }
        }
    };
    if !ok {
        diffs.push(format!(
            "{}: unexpected field added: {}",
            dotted(&path),
            brief(value)
        ));
        return;
    }
    // A new mapping must itself hold only safe-fix fields, and not be empty.
    if let Value::Mapping(m) = value {
        if m.is_empty() {
            diffs.push(format!("{}: empty mapping added", dotted(&path)));
        }
        for (k, v) in m {
            check_added(&path, &key_name(k), v, specs, diffs);
        }
    } else if matches!(key, "securityContext" | "seccompProfile" | "capabilities") {
        diffs.push(format!(
            "{}: added as {} (expected a mapping)",
            dotted(&path),
            brief(value)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// P5: workloads

fn p5_fixed_or_explained(tally: &mut Tally, policy: &str, file: &str, report: &FileReport) {
    for w in &report.workloads {
        if let Some(why) = &w.skipped {
            tally.fail(
                "P5",
                policy,
                format!(
                    "{}: skipped ({why}) — every corpus workload has a pod spec",
                    label(file, w)
                ),
            );
            continue;
        }
        for v in w.after() {
            if is_safe(v.check) && !w.notes.iter().any(|n| n.check == v.check) {
                tally.fail(
                    "P5",
                    policy,
                    format!(
                        "{}: {} still fails after fixing and no note says why: {}",
                        label(file, w),
                        v.check,
                        v.message()
                    ),
                );
            }
            if !w.before.iter().any(|b| b.check == v.check) {
                tally.fail(
                    "P5",
                    policy,
                    format!(
                        "{}: fixing introduced a violation: {} {}",
                        label(file, w),
                        v.check,
                        v.message()
                    ),
                );
            }
        }
        for v in w.before.iter().filter(|v| !is_safe(v.check)) {
            if !w.after().iter().any(|a| a.check == v.check) {
                tally.fail(
                    "P5",
                    policy,
                    format!(
                        "{}: {} cannot be fixed safely but is missing from `after`: {}",
                        label(file, w),
                        v.check,
                        v.message()
                    ),
                );
            }
        }
        for a in &w.added {
            if !is_safe(a.check) || !w.before.iter().any(|v| v.check == a.check) {
                tally.fail(
                    "P5",
                    policy,
                    format!(
                        "{}: added {} for {}, which did not fail",
                        label(file, w),
                        a.at,
                        a.check
                    ),
                );
            }
        }
        if report.output.is_none() && w.after() != w.before {
            tally.fail(
                "P5",
                policy,
                format!(
                    "{}: file unchanged but `after` differs from `before`",
                    label(file, w)
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// P6: a second run

fn p6_idempotent(
    tally: &mut Tally,
    policy: &str,
    file: &str,
    out: &str,
    first: &FileReport,
    opts: &Options,
) {
    let second = match process(file, out, opts) {
        Ok(r) => r,
        Err(e) => {
            tally.fail(
                "P6",
                policy,
                format!("{file}: second run on the output failed: {e}"),
            );
            return;
        }
    };
    if let Some(again) = &second.output {
        tally.fail(
            "P6",
            policy,
            format!(
                "{file}: second run changed the output again{}",
                first_difference(out, again)
            ),
        );
    }
    if second.workloads.len() != first.workloads.len() {
        tally.fail(
            "P6",
            policy,
            format!(
                "{file}: {} workloads in the output, {} in the input",
                second.workloads.len(),
                first.workloads.len()
            ),
        );
        return;
    }
    for (a, b) in first.workloads.iter().zip(&second.workloads) {
        if (&a.kind, &a.namespace, &a.name) != (&b.kind, &b.namespace, &b.name) {
            tally.fail(
                "P6",
                policy,
                format!(
                    "{}: the output has {} in its place",
                    label(file, a),
                    label(file, b)
                ),
            );
        } else if a.after() != b.before {
            let show_all = |vs: &[pss_fix::policy::check::Violation]| {
                vs.iter()
                    .map(|v| v.message())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            tally.fail(
                "P6",
                policy,
                format!(
                    "{}: first run says left [{}], checking the output finds [{}]",
                    label(file, a),
                    show_all(a.after()),
                    show_all(&b.before)
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// P7: official verdicts

#[derive(Deserialize)]
struct Expected {
    file: String,
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    name: String,
    allowed: bool,
    violations: Vec<ExpectedViolation>,
}

#[derive(Deserialize, PartialEq)]
struct ExpectedViolation {
    check: String,
    reason: String,
    #[serde(default)]
    detail: String,
}

type Key = (String, String, String, String);

#[test]
fn corpus_verdicts_match_official() {
    let Some(roots) = corpus_roots() else {
        return;
    };
    let files = all_files(&roots);
    let mut tally = Tally::default();
    for (policy, jsonl) in VERDICT_POLICIES {
        let opts = options(policy);
        let before = tally.count("P7");
        let text: String = roots
            .iter()
            .map(|root| {
                fs::read_to_string(root.join(jsonl)).unwrap_or_else(|e| panic!("read {jsonl}: {e}"))
            })
            .collect();
        let mut expected: BTreeMap<Key, Vec<(Expected, bool)>> = BTreeMap::new();
        let mut entries = 0;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let e: Expected =
                serde_json::from_str(line).unwrap_or_else(|err| panic!("{jsonl}:{}: {err}", n + 1));
            let key = (
                e.file.clone(),
                e.kind.clone(),
                e.namespace.clone().unwrap_or_default(),
                e.name.clone(),
            );
            expected.entry(key).or_default().push((e, false));
            entries += 1;
        }
        let mut workloads = 0;
        let mut agree = 0;
        for file in &files {
            let Ok(text) = &file.text else {
                tally.fail("P7", policy, format!("{}: could not be read", file.rel));
                continue;
            };
            let report = match process(&file.rel, text, &opts) {
                Ok(r) => r,
                Err(e) => {
                    tally.fail("P7", policy, format!("{}: process failed: {e}", file.rel));
                    continue;
                }
            };
            for w in &report.workloads {
                workloads += 1;
                let key = (
                    file.rel.clone(),
                    w.kind.clone(),
                    w.namespace.clone(),
                    w.name.clone(),
                );
                let slot = expected
                    .get_mut(&key)
                    .and_then(|v| v.iter_mut().find(|(_, used)| !*used));
                let Some((e, used)) = slot else {
                    tally.fail(
                        "P7",
                        policy,
                        format!(
                            "{}: no (unmatched) official verdict for this workload",
                            label(&file.rel, w)
                        ),
                    );
                    continue;
                };
                *used = true;
                if let Some(diff) = verdict_difference(w, e) {
                    tally.fail("P7", policy, format!("{}: {diff}", label(&file.rel, w)));
                } else {
                    agree += 1;
                }
            }
        }
        for ((file, kind, ns, name), list) in &expected {
            for _ in list.iter().filter(|(_, used)| !*used) {
                tally.fail(
                    "P7",
                    policy,
                    format!("{file} {kind}/{ns}/{name}: official verdict matched by no workload"),
                );
            }
        }
        eprintln!(
            "corpus {policy} P7 verdicts match {jsonl}: {entries} entries, {workloads} workloads, \
             {agree} agree, {} failures",
            tally.count("P7") - before
        );
    }
    tally.finish("corpus verdicts");
}

fn verdict_difference(w: &WorkloadReport, e: &Expected) -> Option<String> {
    let got: Vec<ExpectedViolation> = w
        .before
        .iter()
        .map(|v| ExpectedViolation {
            check: v.check.to_owned(),
            reason: v.reason.clone(),
            detail: v.detail.clone(),
        })
        .collect();
    let fmt = |v: &ExpectedViolation| format!("{} {:?} ({:?})", v.check, v.reason, v.detail);
    if got == e.violations && w.before.is_empty() == e.allowed {
        return None;
    }
    if w.before.is_empty() != e.allowed && got == e.violations {
        return Some(format!("allowed is {} officially", e.allowed));
    }
    for i in 0..got.len().max(e.violations.len()) {
        let (g, x) = (got.get(i), e.violations.get(i));
        if g != x {
            return Some(format!(
                "violation {}: got {}, official {} (got {} violations, official {})",
                i + 1,
                g.map_or("none".into(), fmt),
                x.map_or("none".into(), fmt),
                got.len(),
                e.violations.len()
            ));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The data referee itself: it must accept the safe fixes and catch real damage. (The line
// referee's own test sits with it, in tests/support/lossless.rs.)

#[test]
fn data_check_accepts_fixes_and_catches_damage() {
    let pod =
        "kind: Pod\nspec:\n  securityContext:\n  containers:\n  - name: a\n    image: x\n    \
               securityContext:\n      capabilities:\n        drop: [NET_RAW]\n";
    let ok = |b: &str| {
        let d = p4_same_data_plus_fixes(pod, b);
        assert!(d.is_empty(), "should pass:\n{b}\n{d:?}");
    };
    let bad = |b: &str| {
        assert!(
            !p4_same_data_plus_fixes(pod, b).is_empty(),
            "should fail:\n{b}"
        )
    };
    ok("kind: Pod\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile:\n      \
        type: RuntimeDefault\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      \
        allowPrivilegeEscalation: false\n      capabilities:\n        drop: [NET_RAW, ALL]\n");
    // Changed value.
    bad(
        "kind: Pod\nspec:\n  securityContext:\n  containers:\n  - name: b\n    image: x\n    \
         securityContext:\n      capabilities:\n        drop: [NET_RAW]\n",
    );
    // Removed key.
    bad("kind: Pod\nspec:\n  securityContext:\n  containers:\n  - name: a\n    securityContext:\n      \
         capabilities:\n        drop: [NET_RAW]\n");
    // A field no safe fix adds.
    bad("kind: Pod\nspec:\n  securityContext:\n    runAsUser: 1000\n  containers:\n  - name: a\n    \
         image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW]\n");
    // A container-level field at pod level.
    bad("kind: Pod\nspec:\n  securityContext:\n    allowPrivilegeEscalation: false\n  containers:\n  \
         - name: a\n    image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW]\n");
    // Something other than ALL in drop.
    bad(
        "kind: Pod\nspec:\n  securityContext:\n  containers:\n  - name: a\n    image: x\n    \
         securityContext:\n      capabilities:\n        drop: [NET_RAW, SYS_ADMIN]\n",
    );
    // A value a safe fix never writes.
    bad("kind: Pod\nspec:\n  securityContext:\n    runAsNonRoot: false\n  containers:\n  - name: a\n    \
         image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW]\n");
    // A key outside securityContext.
    bad("kind: Pod\nspec:\n  securityContext:\n  hostNetwork: false\n  containers:\n  - name: a\n    \
         image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW]\n");
    // A securityContext on the Deployment's own spec, not its pod template's.
    let deploy = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: []\n";
    assert!(!p4_same_data_plus_fixes(
        deploy,
        "kind: Deployment\nspec:\n  securityContext:\n    runAsNonRoot: true\n  template:\n    \
         spec:\n      containers: []\n"
    )
    .is_empty());
    assert!(p4_same_data_plus_fixes(
        deploy,
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: []\n      \
         securityContext:\n        runAsNonRoot: true\n"
    )
    .is_empty());
    // One more document.
    bad(&format!("{pod}---\nkind: Pod\n"));
}
