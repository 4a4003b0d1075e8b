//! Per-project policy end to end: `fixtures/project/.pss-fix.yaml` (found upward from the
//! path), path-glob levels, exemptions by workload, image and annotation, custom kinds, and
//! levels taken from Namespace labels in the input. The binary runs in `diff --format json`
//! mode, so nothing in `fixtures/` is written.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod support;

use support::{code, pss, show, stderr, Project};

/// pss-fix run from the crate's root (where `fixtures/` is).
fn bin() -> Command {
    pss(Path::new(env!("CARGO_MANIFEST_DIR")), &[])
}

fn diff_json(args: &[&str]) -> (i32, Value) {
    let out = bin()
        .args(["diff", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&out)));
    (code(&out), json)
}

/// (policy, findings as (check, fixed), exempted) of the workload `kind/name`.
fn workload<'v>(json: &'v Value, kind: &str, name: &str) -> &'v Value {
    json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["workloads"].as_array().unwrap())
        .find(|w| w["kind"] == kind && w["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in {json}"))
}

fn checks(w: &Value, fixed: bool) -> Vec<String> {
    w["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fixed"] == fixed)
        .map(|f| f["check"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn project_configuration_is_found_and_applied() {
    let (status, json) = diff_json(&["fixtures/project/k8s"]);
    assert_eq!(status, 1, "changes are pending");

    // The path glob puts legacy/ at baseline: nothing to add there.
    let legacy = workload(&json, "Deployment", "web");
    assert_eq!(legacy["policy"], "baseline:latest");
    assert!(legacy["findings"].as_array().unwrap().is_empty());

    // A custom kind from `kinds:` is a workload like any other, at the configured default.
    let rollout = workload(&json, "Rollout", "canary");
    assert_eq!(rollout["policy"], "restricted:v1.29");
    assert_eq!(
        checks(rollout, true),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ]
    );

    // A workload exemption sets its checks aside; the rest is still fixed.
    let shipper = workload(&json, "DaemonSet", "log-shipper");
    assert_eq!(
        shipper["exempted"],
        serde_json::json!(["restrictedVolumes"])
    );
    assert!(checks(shipper, false).is_empty());

    // The annotation exempts two checks; the busybox image is exempt from runAsNonRoot, so
    // runAsNonRoot is set per container (a pod-level true would stop the root init container).
    let job = workload(&json, "Job", "migrate");
    assert_eq!(
        job["exempted"],
        serde_json::json!(["capabilities_restricted", "seccompProfile_restricted"])
    );
    assert_eq!(checks(job, false), ["runAsUser"]);
    let added: Vec<&str> = job["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["added"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        added.contains(&"spec.template.spec.containers[0].securityContext.runAsNonRoot"),
        "{added:?}"
    );
    assert!(
        !added
            .iter()
            .any(|a| a.starts_with("spec.template.spec.securityContext")),
        "{added:?}"
    );

    // The Namespace in the input enforces baseline:v1.29 for its pods.
    let toolbox = workload(&json, "Pod", "toolbox");
    assert_eq!(toolbox["policy"], "baseline:v1.29");
    assert!(toolbox["findings"].as_array().unwrap().is_empty());
}

#[test]
fn explicit_level_wins_over_namespace_labels_and_paths() {
    let (_, json) = diff_json(&["--level", "restricted", "fixtures/project/k8s"]);
    assert_eq!(
        workload(&json, "Pod", "toolbox")["policy"],
        "restricted:latest"
    );
    assert_eq!(
        workload(&json, "Deployment", "web")["policy"],
        "restricted:latest"
    );
}

#[test]
fn unknown_configuration_keys_are_errors_with_position() {
    let dir = Project::new()
        .file(
            ".pss-fix.yaml",
            "level: baseline\nexempt:\n  workload:\n  - {name: x}\n",
        )
        .copy("fixtures/demo/web.yaml", "pod.yaml");
    let manifest = dir.path().join("pod.yaml");
    let out = bin().arg("diff").arg(&manifest).output().unwrap();
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains(".pss-fix.yaml:3:3: unknown field `workload`"),
        "{err}"
    );

    // `--config` names a file explicitly; a broken one is an error too.
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "exempt:\n  checks: [runAsNonroot]\n").unwrap();
    let out = bin()
        .arg("diff")
        .arg("--config")
        .arg(&other)
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown check ID \"runAsNonroot\""));
}
