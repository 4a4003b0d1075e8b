//! `pss-fix values` end to end with the real Helm 3 and Helm 4 binaries on the fixture charts
//! under `fixtures/charts/`: the overlay it prints is rendered again with `helm template -f`
//! here, independently of the command's own verification, and must (a) make every workload
//! it names pass the level, (b) change nothing but securityContext fields, (c) have no leaf
//! that changes nothing. Binaries: `scripts/fetch-helm.sh` (`target/tools/helm{3,4}/helm`) or
//! `PSS_HELM3` / `PSS_HELM4`; without them the tests say "not run" and pass, except under CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::{env, fs};

use serde_yaml_ng::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pss-fix");
const CHARTS: &[&str] = &["scaffold", "bitnami-like", "gateway", "picky", "platform"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn helm(major: u8) -> Option<PathBuf> {
    let path = env::var_os(format!("PSS_HELM{major}"))
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(format!("target/tools/helm{major}/helm")));
    if path.is_file() {
        return Some(path);
    }
    if env::var_os("CI").is_some_and(|v| v == "true") {
        panic!(
            "helm {major} not found at {} (run scripts/fetch-helm.sh)",
            path.display()
        );
    }
    eprintln!("helm {major} not found at {}; not run", path.display());
    None
}

fn chart(name: &str) -> PathBuf {
    root().join("fixtures/charts").join(name)
}

fn values_cmd(helm: &Path, chart: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("values")
        .arg(chart)
        .arg("--helm")
        .arg(helm)
        .args(extra)
        .output()
        .expect("pss-fix runs")
}

fn template(helm: &Path, chart: &Path, overlay: Option<&Path>) -> String {
    let mut cmd = Command::new(helm);
    cmd.arg("template").arg("release-name").arg(chart);
    if let Some(o) = overlay {
        cmd.arg("-f").arg(o);
    }
    let out = cmd.output().expect("helm runs");
    assert!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// Paths (as text) where `a` and `b` differ.
fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            for (k, v) in x {
                let p = format!("{path}.{}", k.as_str().unwrap_or("?"));
                match y.get(k) {
                    Some(w) => diff(v, w, &p, out),
                    None => out.push(p),
                }
            }
            for (k, _) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{}", k.as_str().unwrap_or("?")));
                }
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (x, y) if x == y => {}
        _ => out.push(path.to_string()),
    }
}

fn differences(a: &str, b: &str) -> Vec<String> {
    let (a, b) = (docs(a), docs(b));
    assert_eq!(a.len(), b.len(), "the overlay adds or removes objects");
    let mut out = Vec::new();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        diff(x, y, &format!("doc{i}"), &mut out);
    }
    out
}

/// Every leaf path of the overlay (lists are leaves).
fn leaves(v: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            for (k, v) in m {
                let mut p = path.clone();
                p.push(k.as_str().expect("string keys").to_string());
                leaves(v, p, out);
            }
        }
        _ => out.push(path),
    }
}

fn without(v: &Value, path: &[String]) -> Value {
    let mut v = v.clone();
    let mut node = &mut v;
    for k in &path[..path.len() - 1] {
        node = node.get_mut(k.as_str()).expect("path exists");
    }
    node.as_mapping_mut()
        .expect("mapping")
        .remove(path.last().expect("non-empty").as_str());
    v
}

/// Workloads named in the JSON report's fixes.
fn fixed_workloads(json: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = json["fixes"]
        .as_object()
        .expect("fixes")
        .values()
        .flat_map(|l| l.as_array().expect("list").iter())
        .map(|f| f["workload"].as_str().expect("workload").to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn check_chart(helm: &Path, name: &str, extra: &[&str]) {
    let chart = chart(name);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = values_cmd(helm, &chart, extra);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{name}: exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let overlay = dir.path().join("overlay.yaml");
    fs::write(&overlay, &out.stdout).expect("write");
    let json_out = values_cmd(helm, &chart, &[extra, &["--format", "json"]].concat());
    let json: serde_json::Value = serde_json::from_slice(&json_out.stdout).expect("json");

    let base = template(helm, &chart, None);
    let after = template(helm, &chart, Some(&overlay));
    // (a) every workload the overlay claims to fix passes the level, but for the checks
    // the command lists as remaining for it.
    let report = pss_fix::process("after", &after, &pss_fix::Options::default()).expect("reads");
    for w in fixed_workloads(&json) {
        let rep = report
            .workloads
            .iter()
            .find(|r| r.label() == w)
            .unwrap_or_else(|| panic!("{name}: {w} not rendered"));
        let remaining: Vec<&str> = json["remaining"]
            .as_array()
            .expect("remaining")
            .iter()
            .filter(|r| r["workload"] == w.as_str())
            .filter_map(|r| r["check"].as_str())
            .collect();
        let left: Vec<_> = rep
            .before
            .iter()
            .map(|v| v.check)
            .filter(|c| !remaining.contains(c))
            .collect();
        assert!(left.is_empty(), "{name}: {w} still fails {left:?}");
    }
    // (b) nothing but securityContext fields changes.
    for d in differences(&base, &after) {
        assert!(
            d.contains(".securityContext"),
            "{name}: changed outside securityContext: {d}"
        );
    }
    // (c) every leaf changes something.
    let tree: Value = serde_yaml_ng::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut all = Vec::new();
    leaves(&tree, Vec::new(), &mut all);
    for (i, leaf) in all.iter().filter(|l| !l.is_empty()).enumerate() {
        let less = dir.path().join(format!("less-{i}.yaml"));
        fs::write(
            &less,
            serde_yaml_ng::to_string(&without(&tree, leaf)).expect("yaml"),
        )
        .expect("write");
        assert_ne!(
            template(helm, &chart, Some(&less)),
            after,
            "{name}: the key {} changes nothing",
            leaf.join(".")
        );
    }
}

#[test]
fn overlays_fix_only_security_contexts_with_helm3_and_helm4() {
    for major in [3, 4] {
        let Some(helm) = helm(major) else { continue };
        for name in CHARTS {
            check_chart(&helm, name, &[]);
        }
        check_chart(&helm, "gateway", &["--unsafe"]);
    }
}

#[test]
fn exit_codes() {
    let Some(helm) = helm(3) else { return };
    let code = |chart: &Path, extra: &[&str]| values_cmd(&helm, chart, extra).status.code();
    // Everything reached: 0.
    assert_eq!(code(&chart("platform"), &[]), Some(0));
    // A raw container list without --unsafe: 1; with it: 0.
    assert_eq!(code(&chart("gateway"), &[]), Some(1));
    assert_eq!(code(&chart("gateway"), &["--unsafe"]), Some(0));
    // Single-field templates that cannot set capabilities or seccompProfile: 1.
    let picky = values_cmd(&helm, &chart("picky"), &[]);
    assert_eq!(picky.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&picky.stderr).contains("post-render"));
    // No helm, no chart, a chart that does not render, a bad values file: 2.
    let no_helm = Command::new(BIN)
        .args([
            "values",
            "fixtures/charts/scaffold",
            "--helm",
            "/nonexistent/helm",
        ])
        .current_dir(root())
        .output()
        .expect("runs");
    assert_eq!(no_helm.status.code(), Some(2));
    assert_eq!(code(&chart("no-such-chart"), &[]), Some(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken");
    fs::create_dir_all(broken.join("templates")).expect("mkdir");
    fs::write(
        broken.join("Chart.yaml"),
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    )
    .expect("write");
    fs::write(
        broken.join("templates/x.yaml"),
        "{{ .Values.nope.deeper }}\n",
    )
    .expect("write");
    let out = values_cmd(&helm, &broken, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nil pointer"));
    let bad = dir.path().join("bad.yaml");
    fs::write(&bad, "a: [\n").expect("write");
    let out = values_cmd(
        &helm,
        &chart("scaffold"),
        &["-f", bad.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:2:1:"));
}

#[test]
fn overlay_snapshots() {
    let Some(helm) = helm(3) else { return };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.bind(|| {
        for name in ["scaffold", "bitnami-like", "platform"] {
            let out = values_cmd(&helm, &chart(name), &[]);
            insta::assert_snapshot!(name.to_string(), String::from_utf8_lossy(&out.stdout));
        }
    });
}

/// A template that breaks on a probe value (a map ranged over whose items must be maps)
/// costs a few more probe renders, not the overlay.
#[test]
fn a_probe_value_that_breaks_a_template_is_bisected_away() {
    let Some(helm) = helm(3) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let c = dir.path().join("fragile");
    fs::create_dir_all(c.join("templates")).expect("mkdir");
    fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: fragile\nversion: 0.1.0\n",
    )
    .expect("write");
    fs::write(
        c.join("values.yaml"),
        "configs:\n  a: {x: 1}\nsecurityContext: {}\n",
    )
    .expect("write");
    fs::write(
        c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n{{- range $k, $v := .Values.configs }}\n  {{ $k }}: {{ $v.x | quote }}\n{{- end }}\n",
    )
    .expect("write");
    fs::write(
        c.join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: x\n    {{- with .Values.securityContext }}\n    securityContext: {{- toYaml . | nindent 6 }}\n    {{- end }}\n",
    )
    .expect("write");
    let out = values_cmd(&helm, &c, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(json["fixes"]["securityContext.allowPrivilegeEscalation"].is_array());
    assert!(json["renders"].as_u64().expect("count") > 3);
}
