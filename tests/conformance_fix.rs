//! The official Pod Security Admission fixtures (`../shared/conformance/psa/`) run through the
//! whole engine ([`process`]): its YAML parser, its workload finder, its checks and its fixes,
//! with each pod as is and wrapped in a Deployment and a CronJob.
//!
//! 1. `check_agrees_through_the_engine_in_every_wrapping`: a pass file yields one workload with
//!    no violation, a fail file one workload with violations, in every wrapping, and the
//!    wrapped pods report exactly the violations of the bare pod.
//! 2. `safe_fix_makes_safe_fixable_fails_pass`: with safe fixes only, every fail file either
//!    passes afterwards or each violation left is explained (a note for that check that is not
//!    `safe`, or a check whose best fix is unsafe or manual). A file whose violations all have
//!    manual fixes comes back byte-identical; a file with nothing added comes back
//!    byte-identical; a safe run only inserts lines (or fills a `{}`). Fail files named after a safe-fixable check pass
//!    unless the engine says (with a note) why not, and then the fixture really has an explicit
//!    value for that check. A second run changes nothing and reports what the first left.
//! 3. `unsafe_fix_makes_unsafe_fixable_fails_pass`: with `--unsafe`, every fail file whose
//!    leftovers after the safe run were unsafe-fixable passes; only manual ones may remain.
//!    With `--unsafe --run-as-user 1000`, the runAsUser / runAsNonRoot fixtures pass.
//! 4. `safe_fix_in_a_deployment_matches_the_pod` / `unsafe_fix_in_a_deployment_matches_the_pod`:
//!    the same properties for every fail file wrapped in a Deployment, and the same outcome and
//!    the same fixed pod (as data) as the bare pod.
//!
//! Runtime: about a minute in a debug build on two cores (each test maps over the files on two
//! threads).
//!
//! Every disagreement is collected; each test asserts at the end and lists the first 30. When
//! the fixtures are absent the tests print a note and pass, except under CI (`CI` set).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use pss_fix::policy::check::{check_info, Applicability, Violation};
use pss_fix::policy::{Level, Policy, Version};
use pss_fix::{process, FileReport, Options, WorkloadReport};
use pss_fix::{Action, Allow};
use pss_fix_testkit::files::{file_name, sorted_entries};
use serde_yaml_ng::Value;

/// The checks whose violations a safe fix may make pass, with the fixture-file prefix that
/// names them.
const SAFE_FIXABLE: [(&str, &str); 4] = [
    ("allowprivilegeescalation", "allowPrivilegeEscalation"),
    ("runasnonroot", "runAsNonRoot"),
    ("seccompprofile_restricted", "seccompProfile_restricted"),
    ("capabilities_restricted", "capabilities_restricted"),
];

/// How many disagreements a failing test lists.
const SHOWN: usize = 30;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail,
}

struct Fixture {
    /// `restricted/v1.29/fail/runasnonroot0.yaml`
    label: String,
    level: &'static str,
    verdict: Verdict,
    stem: String,
    policy: Policy,
    text: String,
}

fn fixtures() -> Option<Vec<Fixture>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/psa");
    if !root.is_dir() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "conformance fixtures not found at {} (required under CI)",
                root.display()
            );
        }
        eprintln!("conformance fixtures not found; not run");
        return None;
    }
    let mut out = Vec::new();
    for level in ["baseline", "restricted"] {
        let parsed: Level = level.parse().expect("level name");
        for version_dir in sorted_entries(&root.join(level)) {
            let version = file_name(&version_dir);
            let v: Version = version
                .parse()
                .unwrap_or_else(|e| panic!("{}: {e}", version_dir.display()));
            for (dir, verdict) in [("pass", Verdict::Pass), ("fail", Verdict::Fail)] {
                let dir = version_dir.join(dir);
                if !dir.is_dir() {
                    continue;
                }
                for file in sorted_entries(&dir) {
                    if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    let text = fs::read_to_string(&file)
                        .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
                    let stem = file
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .expect("file stem")
                        .to_string();
                    out.push(Fixture {
                        label: format!(
                            "{level}/{version}/{}/{}",
                            if verdict == Verdict::Pass {
                                "pass"
                            } else {
                                "fail"
                            },
                            file_name(&file)
                        ),
                        level,
                        verdict,
                        stem,
                        policy: Policy::new(parsed, v),
                        text,
                    });
                }
            }
        }
    }
    assert!(!out.is_empty(), "no fixtures under {}", root.display());
    Some(out)
}

/// The safe-fixable check a fixture file is named after, if any.
fn safe_fixable_named(stem: &str) -> Option<&'static str> {
    let prefix = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    SAFE_FIXABLE
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|&(_, id)| id)
}

/// Text in a fixture that makes a violation of `check` more than an absent field: an explicit
/// bad value, or a neighbour that makes adding the field invalid (privileged, SYS_ADMIN, a
/// Windows pod, a container running as UID 0).
fn explicit_markers(check: &str) -> &'static [&'static str] {
    match check {
        "allowPrivilegeEscalation" => &[
            "allowPrivilegeEscalation: true",
            "privileged: true",
            "SYS_ADMIN",
            "name: windows",
        ],
        "runAsNonRoot" => &["runAsNonRoot: false", "runAsUser: 0"],
        "seccompProfile_restricted" => &[
            "type: Unconfined",
            "type: \"\"",
            "type: ''",
            "unconfined",
            "name: windows",
        ],
        "capabilities_restricted" => &["add:", "name: windows"],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------
// Wrapping a pod in workload kinds, textually
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrap {
    Pod,
    Deployment,
    CronJob,
}

const WRAPS: [Wrap; 3] = [Wrap::Pod, Wrap::Deployment, Wrap::CronJob];

impl Wrap {
    fn kind(self) -> &'static str {
        match self {
            Wrap::Pod => "Pod",
            Wrap::Deployment => "Deployment",
            Wrap::CronJob => "CronJob",
        }
    }

    /// The keys from the document root to the pod template (empty for a Pod).
    fn template(self) -> &'static [&'static str] {
        match self {
            Wrap::Pod => &[],
            Wrap::Deployment => &["spec", "template"],
            Wrap::CronJob => &["spec", "jobTemplate", "spec", "template"],
        }
    }

    /// The fixture's text, or its pod's own `metadata:` and `spec:` blocks re-indented under
    /// the workload's pod template.
    fn wrap(self, fx: &Fixture) -> String {
        if self == Wrap::Pod {
            return fx.text.clone();
        }
        let (meta, spec) = top_level_blocks(&fx.text)
            .unwrap_or_else(|e| panic!("{}: cannot split into blocks: {e}", fx.label));
        let (head, shift) = match self {
            Wrap::Pod => unreachable!(),
            Wrap::Deployment => (
                format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\nspec:\n  replicas: 1\n  template:\n",
                    fx.stem
                ),
                4,
            ),
            Wrap::CronJob => (
                format!(
                    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n",
                    fx.stem
                ),
                8,
            ),
        };
        let pad = " ".repeat(shift);
        let mut out = head;
        for (key, body) in [("metadata", meta), ("spec", spec)] {
            let _ = writeln!(out, "{pad}{key}:");
            for line in body {
                if line.trim().is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{pad}{line}");
                }
            }
        }
        out
    }

    /// The pod's `metadata` and `spec` inside a parsed document of this wrapping.
    fn pod_of(self, doc: &Value) -> Option<(Value, Value)> {
        let mut node = doc;
        for key in self.template() {
            node = node.get(*key)?;
        }
        let meta = node.get("metadata").cloned().unwrap_or(Value::Null);
        let spec = node.get("spec")?.clone();
        Some((meta, spec))
    }
}

/// The body lines of the top-level `metadata:` and `spec:` keys of a simple block-YAML Pod.
fn top_level_blocks(text: &str) -> Result<(Vec<&str>, Vec<&str>), String> {
    // (top-level line, the lines under it)
    let mut blocks: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with(' ') || line.trim().is_empty() {
            match blocks.last_mut() {
                Some((_, body)) => body.push(line),
                None if line.trim().is_empty() => {}
                None => return Err(format!("indented line before any key: {line:?}")),
            }
        } else if line.starts_with(['-', '#', '{', '[', '\t']) {
            return Err(format!("unexpected top-level line {line:?}"));
        } else {
            blocks.push((line.trim_end(), Vec::new()));
        }
    }
    let mut block = |key: &str| -> Result<Vec<&str>, String> {
        let mut found = blocks
            .iter_mut()
            .filter(|(l, _)| l.split(':').next() == Some(key));
        match (found.next(), found.next()) {
            (Some((line, body)), None) if *line == format!("{key}:") => Ok(std::mem::take(body)),
            (Some((line, _)), None) => Err(format!("not a block mapping: {line:?}")),
            (None, _) => Err(format!("no {key}:")),
            (Some(_), Some(_)) => Err(format!("{key}: twice")),
        }
    };
    Ok((block("metadata")?, block("spec")?))
}

/// Parse one YAML document (serde_yaml_ng, independent of the engine's parser).
fn parse(text: &str) -> Result<Value, String> {
    serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// Running the engine
// ---------------------------------------------------------------------------------------

fn options(policy: Policy, unsafe_fixes: bool, run_as_user: Option<i64>) -> Options {
    Options {
        policy,
        allow: Allow {
            unsafe_fixes,
            run_as_user,
        },
        ..Options::default()
    }
}

/// `process`, requiring exactly one checked workload of the expected kind.
fn run_one(
    name: &str,
    text: &str,
    opts: &Options,
    wrap: Wrap,
) -> Result<(FileReport, WorkloadReport), String> {
    let report = process(name, text, opts).map_err(|e| format!("process failed: {e:?}"))?;
    let [w] = report.workloads.as_slice() else {
        return Err(format!(
            "expected one workload, found {}: {:?}",
            report.workloads.len(),
            report
                .workloads
                .iter()
                .map(|w| w.label())
                .collect::<Vec<_>>()
        ));
    };
    if let Some(why) = &w.skipped {
        return Err(format!("workload {} skipped: {why}", w.label()));
    }
    if w.kind != wrap.kind() {
        return Err(format!(
            "workload kind {:?}, expected {:?}",
            w.kind,
            wrap.kind()
        ));
    }
    let w = w.clone();
    Ok((report, w))
}

fn ids(vs: &[Violation]) -> Vec<&'static str> {
    vs.iter().map(|v| v.check).collect()
}

/// Map `f` over `items` on two threads, keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const THREADS: usize = 2;
    let f = &f;
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    items
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(THREADS)
                        .map(|(i, item)| (i, f(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread panicked"))
            .collect()
    });
    let mut all: Vec<(usize, R)> = parts.iter_mut().flat_map(std::mem::take).collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

fn finish(test: &str, disagreements: &[String]) {
    if disagreements.is_empty() {
        return;
    }
    let shown: Vec<&str> = disagreements
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect();
    panic!(
        "{test}: {} disagreement(s); the first {}:\n  {}",
        disagreements.len(),
        shown.len(),
        shown.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------
// 1. Checks through the engine
// ---------------------------------------------------------------------------------------

#[test]
fn check_agrees_through_the_engine_in_every_wrapping() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let results = par_map(&fixtures, |fx| {
        let mut problems = Vec::new();
        let mut agree = [false; 3];
        let pod_doc = match parse(&fx.text) {
            Ok(doc) => doc,
            Err(e) => return (agree, vec![format!("{}: does not parse: {e}", fx.label)]),
        };
        let pod = Wrap::Pod.pod_of(&pod_doc);
        let mut pod_before: Option<Vec<Violation>> = None;
        for (i, wrap) in WRAPS.into_iter().enumerate() {
            let label = format!("{} [{}]", fx.label, wrap.kind());
            let text = wrap.wrap(fx);
            // The wrapper must hold exactly the fixture's pod, as data.
            match parse(&text) {
                Ok(doc) if wrap.pod_of(&doc) == pod && pod.is_some() => {}
                Ok(_) => {
                    problems.push(format!(
                        "{label}: the wrapped pod differs from the fixture's"
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("{label}: the wrapper does not parse: {e}"));
                    continue;
                }
            }
            let opts = options(fx.policy, false, None);
            let w = match run_one(&label, &text, &opts, wrap) {
                Ok((_, w)) => w,
                Err(e) => {
                    problems.push(format!("{label} at {}: {e}", fx.policy));
                    continue;
                }
            };
            let ok = match fx.verdict {
                Verdict::Pass => w.before.is_empty(),
                Verdict::Fail => !w.before.is_empty(),
            };
            if ok {
                agree[i] = true;
            } else {
                problems.push(format!(
                    "{label} at {}: {:?} but violations {:?}",
                    fx.policy,
                    fx.verdict,
                    ids(&w.before)
                ));
            }
            match &pod_before {
                None => pod_before = Some(w.before),
                Some(b) if *b != w.before => problems.push(format!(
                    "{label} at {}: violations {:?} differ from the bare pod's {:?}",
                    fx.policy,
                    w.before.iter().map(Violation::message).collect::<Vec<_>>(),
                    b.iter().map(Violation::message).collect::<Vec<_>>()
                )),
                Some(_) => {}
            }
        }
        (agree, problems)
    });

    let mut tally: BTreeMap<&str, [(usize, usize); 3]> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (fx, (agree, problems)) in fixtures.iter().zip(results) {
        let t = tally.entry(fx.level).or_default();
        for (i, ok) in agree.into_iter().enumerate() {
            t[i].1 += 1;
            t[i].0 += usize::from(ok);
        }
        disagreements.extend(problems);
    }
    for (level, t) in &tally {
        let parts: Vec<String> = WRAPS
            .iter()
            .zip(t)
            .map(|(w, (ok, n))| format!("{} {ok}/{n}", w.kind()))
            .collect();
        eprintln!("check through the engine, {level}: {}", parts.join(", "));
    }
    finish(
        "check_agrees_through_the_engine_in_every_wrapping",
        &disagreements,
    );
}

// ---------------------------------------------------------------------------------------
// 2.-4. Fixes
// ---------------------------------------------------------------------------------------

/// What a fix run left of a fail file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Passes after the run.
    Fixed,
    /// Violations left, each with an unsafe fix (none manual).
    Unsafe,
    /// Some violation left needs a person.
    Manual,
}

/// How a violation left after a run is explained: the least safe note the run wrote for its
/// check (ignoring `safe` notes, which accompany applied fixes), else the check's best fix if
/// that is not safe. `None`: unexplained.
fn explanation(check: &str, w: &WorkloadReport) -> Option<Applicability> {
    let noted = w
        .notes
        .iter()
        .filter(|n| n.check == check && n.applicability < Applicability::Safe)
        .map(|n| n.applicability)
        .min();
    noted.or_else(|| {
        check_info(check)
            .map(|c| c.fix_safety)
            .filter(|&s| s < Applicability::Safe)
    })
}

/// True when `output` is `input` with lines inserted and nothing removed or changed, except an
/// empty flow mapping `{}` being filled (`securityContext: {}` becoming `securityContext:`
/// followed by new lines, or `{runAsNonRoot: true}`).
fn only_insertions(input: &str, output: &str) -> bool {
    let mut out = output.lines();
    input.lines().all(|line| {
        let filled = line.strip_suffix(" {}");
        out.any(|o| {
            o == line
                || filled.is_some_and(|head| {
                    o == head
                        || o.strip_prefix(head)
                            .is_some_and(|rest| rest.starts_with(" {"))
                })
        })
    })
}

struct FixRun {
    outcome: Outcome,
    /// The pod (metadata, spec) as data after the run.
    fixed_pod: Option<(Value, Value)>,
    problems: Vec<String>,
    /// Which of the safe run's conditional checks applied, for the counts.
    seen: Seen,
}

#[derive(Clone, Copy, Default)]
struct Seen {
    /// A safe fix applied: checked that the output only inserts.
    insertions_checked: bool,
    /// ... next to a violation whose fix is manual.
    manual_beside_safe: bool,
    /// Named after a safe-fixable check that was only absent: must pass.
    absent_fixed: bool,
    /// Named after a safe-fixable check, refused with a note over an explicit value.
    explicit_refused: bool,
}

/// One fail file in one wrapping through `process` with the given options, checking the
/// properties every fix run must have. Returns what is left, for the callers' own checks.
fn fix_run(fx: &Fixture, wrap: Wrap, opts: &Options) -> Result<(FixRun, Detail), String> {
    let mode = match (opts.allow.unsafe_fixes, opts.allow.run_as_user) {
        (false, _) => "safe".to_string(),
        (true, None) => "unsafe".to_string(),
        (true, Some(uid)) => format!("unsafe, run-as-user {uid}"),
    };
    let label = format!("{} [{}, {mode}] at {}", fx.label, wrap.kind(), fx.policy);
    let input = wrap.wrap(fx);
    let (report, w) = run_one(&label, &input, opts, wrap).map_err(|e| format!("{label}: {e}"))?;
    let mut problems = Vec::new();
    if w.before.is_empty() {
        return Err(format!("{label}: a fail file with no violation"));
    }
    // Nothing added: byte-identical; something added: output.
    match (&report.output, w.added.is_empty()) {
        (None, false) => problems.push(format!(
            "{label}: fields planned {:?} but no output",
            w.added
        )),
        (Some(_), true) => problems.push(format!("{label}: output but nothing reported added")),
        _ => {}
    }
    if report.output.is_none() && w.after() != w.before {
        problems.push(format!(
            "{label}: no output, yet after {:?} differs from before {:?}",
            ids(w.after()),
            ids(&w.before)
        ));
    }
    if !opts.allow.unsafe_fixes {
        if let Some(a) = w.added.iter().find(|a| a.action != Action::Added) {
            problems.push(format!("{label}: a safe run {:?} {}", a.action, a.at));
        }
    }
    // Every check whose violations all have manual fixes: byte-identical.
    let manual_only = w
        .before
        .iter()
        .all(|v| check_info(v.check).is_some_and(|c| c.fix_safety == Applicability::Manual));
    if manual_only && report.output.is_some() {
        problems.push(format!(
            "{label}: only manual violations {:?}, yet the file changed",
            ids(&w.before)
        ));
    }
    let text = report.output.clone().unwrap_or_else(|| input.clone());
    // A second run changes nothing and finds what the first said was left.
    if report.output.is_some() {
        match run_one(&label, &text, opts, wrap) {
            Err(e) => problems.push(format!("{label}: re-processing the output: {e}")),
            Ok((again, w2)) => {
                if let Some(out) = again.output {
                    problems.push(format!(
                        "{label}: not idempotent: the fixed text changes again:\n--- fixed\n{text}--- again\n{out}"
                    ));
                }
                if w2.before != w.after() {
                    problems.push(format!(
                        "{label}: a re-check finds {:?}, the run said {:?} were left",
                        ids(&w2.before),
                        ids(w.after())
                    ));
                }
            }
        }
    }
    // Whatever is left is explained.
    let mut outcome = Outcome::Fixed;
    for v in w.after() {
        match explanation(v.check, &w) {
            None => problems.push(format!(
                "{label}: {} left unexplained (no non-safe note, fix_safety safe): {}; notes {:?}",
                v.check,
                v.message(),
                w.notes
            )),
            Some(Applicability::Manual) => outcome = Outcome::Manual,
            Some(_) => outcome = outcome.max(Outcome::Unsafe),
        }
    }
    let fixed_pod = match parse(&text) {
        Ok(doc) => wrap.pod_of(&doc),
        Err(e) => {
            problems.push(format!("{label}: the output does not parse: {e}"));
            None
        }
    };
    Ok((
        FixRun {
            outcome,
            fixed_pod,
            problems,
            seen: Seen::default(),
        },
        Detail {
            w,
            label,
            input,
            output: report.output,
        },
    ))
}

/// What a fix run saw, for the callers' own checks.
struct Detail {
    w: WorkloadReport,
    label: String,
    input: String,
    output: Option<String>,
}

fn failed_run(e: String) -> FixRun {
    FixRun {
        outcome: Outcome::Manual,
        fixed_pod: None,
        problems: vec![e],
        seen: Seen::default(),
    }
}

/// The safe run's properties for one fail file in one wrapping.
fn safe_case(fx: &Fixture, wrap: Wrap) -> FixRun {
    let opts = options(fx.policy, false, None);
    let (
        mut run,
        Detail {
            w,
            label,
            input,
            output,
        },
    ) = match fix_run(fx, wrap, &opts) {
        Ok(r) => r,
        Err(e) => return failed_run(e),
    };
    // A safe fix only inserts; in particular next to a manual violation, it leaves it be.
    if let Some(output) = output {
        run.seen.insertions_checked = true;
        run.seen.manual_beside_safe = w
            .before
            .iter()
            .any(|v| check_info(v.check).is_some_and(|c| c.fix_safety == Applicability::Manual));
        if !only_insertions(&input, &output) {
            run.problems.push(format!(
                "{label}: the safe fix does more than insert lines (or fill a {{}}):\n{output}"
            ));
        }
    }
    // A fail file named after a safe-fixable check: passes unless a note says why not, and
    // then the fixture has an explicit value the note is about.
    if let Some(id) = safe_fixable_named(&fx.stem) {
        if w.before.iter().any(|v| v.check == id) {
            let refused: Vec<_> = w
                .notes
                .iter()
                .filter(|n| n.check == id && n.applicability < Applicability::Safe)
                .collect();
            if refused.is_empty() {
                run.seen.absent_fixed = true;
                if w.after().iter().any(|v| v.check == id) {
                    run.problems.push(format!(
                        "{label}: {id} is only an absent field (no note), yet it still fails after the safe fix"
                    ));
                }
                if w.before.iter().all(|v| v.check == id) && run.outcome != Outcome::Fixed {
                    run.problems.push(format!(
                        "{label}: only {id} failed, without a note, yet the file still fails: {:?}",
                        ids(w.after())
                    ));
                }
            } else {
                run.seen.explicit_refused = true;
                if !explicit_markers(id).iter().any(|m| fx.text.contains(m)) {
                    run.problems.push(format!(
                        "{label}: {id} refused ({:?}) but the fixture has no explicit value for it",
                        refused.iter().map(|n| &n.message).collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    run
}

/// The unsafe run's properties for one fail file in one wrapping, given the safe run's outcome.
fn unsafe_case(fx: &Fixture, wrap: Wrap, safe: Outcome) -> FixRun {
    let opts = options(fx.policy, true, None);
    let (mut run, Detail { w, label, .. }) = match fix_run(fx, wrap, &opts) {
        Ok(r) => r,
        Err(e) => return failed_run(e),
    };
    match safe {
        Outcome::Fixed | Outcome::Unsafe if run.outcome != Outcome::Fixed => {
            run.problems.push(format!(
                "{label}: the safe run left only unsafe-fixable violations, yet {:?} remain; notes {:?}",
                w.after().iter().map(Violation::message).collect::<Vec<_>>(),
                w.notes
            ));
        }
        _ => {}
    }
    for v in w.after() {
        if explanation(v.check, &w) != Some(Applicability::Manual) {
            run.problems.push(format!(
                "{label}: {} left after --unsafe without a manual reason; notes {:?}",
                v.check, w.notes
            ));
        }
    }
    run
}

/// `--unsafe --run-as-user 1000` on a runAsUser / runAsNonRoot fixture: passes, and no
/// container runs as UID 0.
fn run_as_user_case(fx: &Fixture, wrap: Wrap) -> Option<FixRun> {
    let prefix = fx.stem.trim_end_matches(|c: char| c.is_ascii_digit());
    if prefix != "runasuser" && prefix != "runasnonroot" {
        return None;
    }
    let opts = options(fx.policy, true, Some(1000));
    let (mut run, Detail { w, label, .. }) = match fix_run(fx, wrap, &opts) {
        Ok(r) => r,
        Err(e) => return Some(failed_run(e)),
    };
    if run.outcome != Outcome::Fixed {
        run.problems.push(format!(
            "{label}: still fails: {:?}; notes {:?}",
            w.after().iter().map(Violation::message).collect::<Vec<_>>(),
            w.notes
        ));
    }
    let root_uid = run.fixed_pod.as_ref().is_some_and(|(_, spec)| {
        serde_yaml_ng::to_string(spec)
            .unwrap_or_default()
            .contains("runAsUser: 0")
    });
    if root_uid {
        run.problems
            .push(format!("{label}: runAsUser: 0 is still there"));
    }
    Some(run)
}

#[derive(Default)]
struct Counts {
    fixed: usize,
    unsafe_left: usize,
    manual_left: usize,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Fixed => self.fixed += 1,
            Outcome::Unsafe => self.unsafe_left += 1,
            Outcome::Manual => self.manual_left += 1,
        }
    }
}

fn fail_files(fixtures: &[Fixture], filter: impl Fn(&Fixture) -> bool) -> Vec<&Fixture> {
    fixtures
        .iter()
        .filter(|fx| fx.verdict == Verdict::Fail && filter(fx))
        .collect()
}

/// Safe runs over `files` in `wrap`; when `wrap` is not a Pod, also compares each file's
/// outcome and fixed pod with the bare pod's.
fn safe_suite(test: &str, files: &[&Fixture], wrap: Wrap) {
    let results = par_map(files, |fx| {
        let mut run = safe_case(fx, wrap);
        if wrap != Wrap::Pod {
            compare_with_pod(fx, wrap, &mut run, safe_case(fx, Wrap::Pod));
        }
        run
    });
    let mut counts: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut by_check: BTreeMap<(&str, &str), Counts> = BTreeMap::new();
    let mut seen = [0usize; 4];
    let mut disagreements = Vec::new();
    for (fx, run) in files.iter().zip(results) {
        counts.entry(fx.level).or_default().add(run.outcome);
        let prefix = fx.stem.trim_end_matches(|c: char| c.is_ascii_digit());
        by_check
            .entry((fx.level, prefix))
            .or_default()
            .add(run.outcome);
        seen[0] += usize::from(run.seen.absent_fixed);
        seen[1] += usize::from(run.seen.explicit_refused);
        seen[2] += usize::from(run.seen.insertions_checked);
        seen[3] += usize::from(run.seen.manual_beside_safe);
        disagreements.extend(run.problems);
    }
    eprintln!(
        "safe fix [{}]: named after a safe-fixable check: {} only absent (must pass), {} refused over an explicit value; {} outputs checked insertion-only ({} beside a manual violation)",
        wrap.kind(),
        seen[0],
        seen[1],
        seen[2],
        seen[3]
    );
    for (level, c) in &counts {
        eprintln!(
            "safe fix [{}], {level}: {} fail files: fixed safely {}, reported (unsafe) {}, reported (manual) {}",
            wrap.kind(),
            c.fixed + c.unsafe_left + c.manual_left,
            c.fixed,
            c.unsafe_left,
            c.manual_left
        );
    }
    for level in ["baseline", "restricted"] {
        let parts: Vec<String> = by_check
            .iter()
            .filter(|((l, _), _)| *l == level)
            .map(|((_, p), c)| format!("{p} {}/{}/{}", c.fixed, c.unsafe_left, c.manual_left))
            .collect();
        if !parts.is_empty() {
            eprintln!(
                "safe fix [{}], {level}, per file name (fixed/unsafe/manual): {}",
                wrap.kind(),
                parts.join(", ")
            );
        }
    }
    finish(test, &disagreements);
}

/// Unsafe runs (and run-as-user runs) over `files` in `wrap`.
fn unsafe_suite(test: &str, files: &[&Fixture], wrap: Wrap) {
    let results = par_map(files, |fx| {
        let safe = safe_case(fx, wrap);
        let mut problems = safe.problems;
        let mut run = unsafe_case(fx, wrap, safe.outcome);
        if wrap != Wrap::Pod {
            let pod_safe = safe_case(fx, Wrap::Pod).outcome;
            compare_with_pod(fx, wrap, &mut run, unsafe_case(fx, Wrap::Pod, pod_safe));
        }
        problems.append(&mut run.problems);
        let uid = run_as_user_case(fx, wrap).map(|mut r| {
            problems.append(&mut r.problems);
            r.outcome
        });
        (safe.outcome, run.outcome, uid, problems)
    });
    // level → [fixed safely, fixed with --unsafe, manual left, unsafe left (must be 0)]
    let mut counts: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let mut uid_counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (fx, (safe, unsafe_run, uid, problems)) in files.iter().zip(results) {
        let c = counts.entry(fx.level).or_default();
        match (safe, unsafe_run) {
            (Outcome::Fixed, _) => c[0] += 1,
            (_, Outcome::Fixed) => c[1] += 1,
            (_, Outcome::Manual) => c[2] += 1,
            (_, Outcome::Unsafe) => c[3] += 1,
        }
        if let Some(o) = uid {
            let u = uid_counts.entry(fx.level).or_default();
            u.1 += 1;
            u.0 += usize::from(o == Outcome::Fixed);
        }
        disagreements.extend(problems);
    }
    for (level, c) in &counts {
        eprintln!(
            "unsafe fix [{}], {level}: {} fail files: fixed safely {}, fixed with --unsafe {}, reported (manual) {}, left unsafe-fixable {}",
            wrap.kind(),
            c.iter().sum::<usize>(),
            c[0],
            c[1],
            c[2],
            c[3]
        );
    }
    for (level, (ok, n)) in &uid_counts {
        eprintln!(
            "unsafe fix --run-as-user 1000 [{}], {level}: runAsUser/runAsNonRoot fixtures passing {ok}/{n}",
            wrap.kind()
        );
    }
    finish(test, &disagreements);
}

/// A wrapped pod is fixed like the bare pod: same outcome, same pod as data.
fn compare_with_pod(fx: &Fixture, wrap: Wrap, run: &mut FixRun, pod: FixRun) {
    let label = format!("{} [{}] at {}", fx.label, wrap.kind(), fx.policy);
    if run.outcome != pod.outcome {
        run.problems.push(format!(
            "{label}: outcome {:?}, the bare pod's {:?}",
            run.outcome, pod.outcome
        ));
    }
    if run.fixed_pod.is_some() && pod.fixed_pod.is_some() && run.fixed_pod != pod.fixed_pod {
        run.problems.push(format!(
            "{label}: the fixed pod differs from the fixed bare pod:\n{}\nvs the bare pod's\n{}",
            pod_yaml(&run.fixed_pod),
            pod_yaml(&pod.fixed_pod)
        ));
    }
}

fn pod_yaml(pod: &Option<(Value, Value)>) -> String {
    match pod {
        Some((meta, spec)) => format!(
            "metadata:\n{}spec:\n{}",
            serde_yaml_ng::to_string(meta).unwrap_or_default(),
            serde_yaml_ng::to_string(spec).unwrap_or_default()
        ),
        None => "(none)".into(),
    }
}

#[test]
fn safe_fix_makes_safe_fixable_fails_pass() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let files = fail_files(&fixtures, |_| true);
    safe_suite("safe_fix_makes_safe_fixable_fails_pass", &files, Wrap::Pod);
}

#[test]
fn unsafe_fix_makes_unsafe_fixable_fails_pass() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let files = fail_files(&fixtures, |_| true);
    unsafe_suite(
        "unsafe_fix_makes_unsafe_fixable_fails_pass",
        &files,
        Wrap::Pod,
    );
}

#[test]
fn safe_fix_in_a_deployment_matches_the_pod() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let files = fail_files(&fixtures, |_| true);
    safe_suite(
        "safe_fix_in_a_deployment_matches_the_pod",
        &files,
        Wrap::Deployment,
    );
}

#[test]
fn unsafe_fix_in_a_deployment_matches_the_pod() {
    let Some(fixtures) = fixtures() else {
        return;
    };
    let files = fail_files(&fixtures, |_| true);
    unsafe_suite(
        "unsafe_fix_in_a_deployment_matches_the_pod",
        &files,
        Wrap::Deployment,
    );
}
