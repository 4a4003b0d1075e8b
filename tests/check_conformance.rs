//! Conformance of `pss_fix::check` with the official Pod Security Admission implementation.
//!
//! 1. The official fixture set (`../shared/conformance/psa/<level>/<version>/<pass|fail>/`):
//!    every pass file must produce no violation at `<level>:<version>`, every fail file at
//!    least one violation of the check its name carries (or of the restricted check that
//!    replaces that check at this level and version).
//! 2. Real-world manifests (`../shared/corpus/`) against the official verdicts at v1.35
//!    (`EXPECTED-<level>-v1.35.jsonl`): the same check IDs, reasons, details, in the same order.
//!
//! When the shared data is absent the tests print a note and pass, except under CI (the `CI`
//! environment variable set), where missing data is an error.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use pss_fix::policy::check::{all_checks, check_info, evaluate, Violation};
use pss_fix::policy::{Level, Policy, Version};
use pss_fix_testkit::files::{file_name, sorted_entries};
use serde::Deserialize;
use serde_json::Value;

fn shared_dir(rel: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} not found (required under CI)", dir.display());
    }
    eprintln!(
        "conformance fixtures not found; not run ({})",
        dir.display()
    );
    None
}

/// The check ID a fixture file names: `seccompprofile_restricted2.yaml` →
/// `seccompProfile_restricted`; `None` for `base*.yaml`.
fn check_of_file(stem: &str) -> Option<&'static str> {
    let prefix = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    all_checks()
        .iter()
        .map(|c| c.id)
        .find(|id| id.to_ascii_lowercase() == prefix)
}

/// True when `violation` is a failure of `expected`, or of a restricted check that replaces
/// `expected` at this policy.
fn is_failure_of(violation: &Violation, expected: &str, policy: Policy) -> bool {
    if violation.check == expected {
        return true;
    }
    policy.level == Level::Restricted
        && check_info(violation.check)
            .and_then(|c| c.overrides)
            .is_some_and(|o| o.check == expected && policy.version.at_least(o.since))
}

#[derive(Default)]
struct Tally {
    files: usize,
    agree: usize,
}

#[test]
fn official_fixtures_agree() {
    let Some(root) = shared_dir("conformance/psa") else {
        return;
    };
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut disagreements: Vec<String> = Vec::new();
    let mut extra_violations: Vec<String> = Vec::new();

    for level in ["baseline", "restricted"] {
        let level_dir = root.join(level);
        let parsed_level: Level = level.parse().expect("level name");
        let tally = tallies.entry(level.to_string()).or_default();
        for version_dir in sorted_entries(&level_dir) {
            let version_name = version_dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("version directory name")
                .to_string();
            let version: Version = version_name
                .parse()
                .unwrap_or_else(|e| panic!("{}: {e}", version_dir.display()));
            let policy = Policy::new(parsed_level, version);
            for verdict in ["pass", "fail"] {
                let dir = version_dir.join(verdict);
                if !dir.is_dir() {
                    continue;
                }
                for file in sorted_entries(&dir) {
                    if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    tally.files += 1;
                    let label = format!("{level}/{version_name}/{verdict}/{}", file_name(&file));
                    let text = fs::read_to_string(&file)
                        .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
                    let pod: Pod = match serde_yaml_ng::from_str(&text) {
                        Ok(pod) => pod,
                        Err(e) => {
                            disagreements.push(format!("{label}: does not parse as a Pod: {e}"));
                            continue;
                        }
                    };
                    let spec = pod.spec.unwrap_or_default();
                    let violations = evaluate(policy, &pod.metadata, &spec);
                    let ok = if verdict == "pass" {
                        violations.is_empty()
                    } else {
                        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                        match check_of_file(stem) {
                            None => {
                                disagreements.push(format!("{label}: no check named by the file"));
                                continue;
                            }
                            Some(expected) => {
                                let matching = violations
                                    .iter()
                                    .filter(|v| is_failure_of(v, expected, policy))
                                    .count();
                                if matching > 0 && matching < violations.len() {
                                    let others: Vec<&str> =
                                        violations.iter().map(|v| v.check).collect();
                                    extra_violations.push(format!("{label}: {others:?}"));
                                }
                                matching > 0
                            }
                        }
                    };
                    if ok {
                        tally.agree += 1;
                    } else {
                        let got: Vec<String> = violations
                            .iter()
                            .map(|v| format!("{}: {}", v.check, v.message()))
                            .collect();
                        disagreements.push(format!("{label}: got {got:?}"));
                    }
                }
            }
        }
    }

    for (level, t) in &tallies {
        eprintln!("{level}: {}/{} agree", t.agree, t.files);
    }
    eprintln!(
        "fail files that also violate other checks: {}",
        extra_violations.len()
    );
    for line in extra_violations.iter().take(10) {
        eprintln!("  {line}");
    }
    let total: usize = tallies.values().map(|t| t.files).sum();
    assert!(total > 0, "no fixture files found under {}", root.display());
    assert!(
        disagreements.is_empty(),
        "{} of {total} fixtures disagree; first 30:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Real-world corpus against the official verdicts.
// ---------------------------------------------------------------------------------------

/// One expected line of `EXPECTED-<level>-v1.35.jsonl`.
#[derive(Deserialize)]
struct Expected {
    file: String,
    kind: String,
    namespace: String,
    name: String,
    allowed: bool,
    violations: Vec<ExpectedViolation>,
}

#[derive(Deserialize, Debug, PartialEq, Eq)]
struct ExpectedViolation {
    check: String,
    reason: String,
    detail: String,
}

type Key = (String, String, String, String);

/// A workload's pod template: the metadata and spec the admission controller evaluates.
struct Workload {
    key: Key,
    meta: ObjectMeta,
    spec: PodSpec,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The pod template of an object, where the admission controller looks for it.
fn pod_template<'a>(
    obj: &'a Value,
    kind: &str,
    group: &str,
) -> Option<(Option<&'a Value>, Option<&'a Value>)> {
    let template = match (group, kind) {
        ("", "Pod") => return Some((obj.get("metadata"), obj.get("spec"))),
        ("", "PodTemplate") => obj.get("template")?,
        ("", "ReplicationController")
        | ("apps", "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job") => obj.get("spec")?.get("template")?,
        ("batch", "CronJob") => obj
            .get("spec")?
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?,
        _ => return None,
    };
    Some((template.get("metadata"), template.get("spec")))
}

fn collect_workloads(file: &str, obj: &Value, out: &mut Vec<Workload>) {
    let kind = str_at(obj, &["kind"]);
    let api_version = str_at(obj, &["apiVersion"]);
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if kind == "List" {
        for item in obj
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect_workloads(file, item, out);
        }
        return;
    }
    let Some((meta, spec)) = pod_template(obj, kind, group) else {
        return;
    };
    let label = format!("{file}: {kind} {}", str_at(obj, &["metadata", "name"]));
    let meta: ObjectMeta = meta
        .map(|m| serde_json::from_value(m.clone()))
        .transpose()
        .unwrap_or_else(|e| panic!("{label}: pod metadata: {e}"))
        .unwrap_or_default();
    let spec: PodSpec = spec
        .map(|s| serde_json::from_value(s.clone()))
        .transpose()
        .unwrap_or_else(|e| panic!("{label}: pod spec: {e}"))
        .unwrap_or_default();
    out.push(Workload {
        key: (
            file.to_string(),
            kind.to_string(),
            str_at(obj, &["metadata", "namespace"]).to_string(),
            str_at(obj, &["metadata", "name"]).to_string(),
        ),
        meta,
        spec,
    });
}

fn corpus_workloads(root: &Path) -> Vec<Workload> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in sorted_entries(root) {
        if entry.is_dir() {
            files.extend(sorted_entries(&entry));
        } else {
            files.push(entry);
        }
    }
    let mut out = Vec::new();
    for path in files {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "yaml" | "yml" | "json") {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .expect("under corpus root")
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {rel}: {e}"));
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel}: {e}"));
            collect_workloads(&rel, &value, &mut out);
        }
    }
    out
}

fn corpus_agrees(level: Level) {
    let Some(root) = shared_dir("corpus") else {
        return;
    };
    let expected_path = root.join(format!("EXPECTED-{level}-v1.35.jsonl"));
    let text = fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", expected_path.display()));
    let mut expected: BTreeMap<Key, Expected> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let e: Expected = serde_json::from_str(line).unwrap_or_else(|err| panic!("{line}: {err}"));
        assert_eq!(e.allowed, e.violations.is_empty(), "{line}");
        let key = (
            e.file.clone(),
            e.kind.clone(),
            e.namespace.clone(),
            e.name.clone(),
        );
        expected.insert(key, e);
    }

    let policy = Policy::new(level, Version::V1(35));
    let mut problems: Vec<String> = Vec::new();
    let mut agree = 0usize;
    let workloads = corpus_workloads(&root);
    for w in &workloads {
        let Some(e) = expected.remove(&w.key) else {
            problems.push(format!("{:?}: not in the expected verdicts", w.key));
            continue;
        };
        let got: Vec<ExpectedViolation> = evaluate(policy, &w.meta, &w.spec)
            .into_iter()
            .map(|v| ExpectedViolation {
                check: v.check.to_string(),
                reason: v.reason,
                detail: v.detail,
            })
            .collect();
        if got == e.violations {
            agree += 1;
        } else {
            problems.push(format!(
                "{:?}:\n  expected {:?}\n  got      {:?}",
                w.key, e.violations, got
            ));
        }
    }
    for key in expected.keys() {
        problems.push(format!("{key:?}: expected but not found in the corpus"));
    }
    eprintln!("corpus {level}:v1.35: {agree}/{} agree", workloads.len());
    assert!(
        !workloads.is_empty(),
        "no workloads found in {}",
        root.display()
    );
    assert!(
        problems.is_empty(),
        "{} corpus disagreements; first 30:\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn corpus_restricted_v1_35_matches_official_verdicts() {
    corpus_agrees(Level::Restricted);
}

#[test]
fn corpus_baseline_v1_35_matches_official_verdicts() {
    corpus_agrees(Level::Baseline);
}

#[test]
fn fixture_file_names_map_to_check_ids() {
    assert_eq!(
        check_of_file("allowprivilegeescalation1"),
        Some("allowPrivilegeEscalation")
    );
    assert_eq!(
        check_of_file("seccompprofile_restricted2"),
        Some("seccompProfile_restricted")
    );
    assert_eq!(
        check_of_file("restrictedvolumes12"),
        Some("restrictedVolumes")
    );
    assert_eq!(check_of_file("base"), None);
    assert_eq!(check_of_file("base_windows"), None);
}
