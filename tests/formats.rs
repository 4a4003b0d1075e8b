//! `--format json|sarif|markdown`, tested through the real binary on `fixtures/demo`.
//!
//! Every test copies what it needs into a temporary directory and runs `pss-fix` there with
//! relative paths, so paths in the reports are predictable and the fixtures are never
//! touched. JSON and SARIF are parsed with serde_json and checked key by key; SARIF is held
//! to the required fields and types of SARIF 2.1.0 (no network, so by hand) and also read
//! back through serde-sarif's schema-generated types.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::{Map, Value};

mod support;

use support::{code, run, run_stdin, stdout, Project};

const INVALID_YAML: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: x\nspec: [\n";

// ---------------------------------------------------------------------------------------
// helpers

/// A temporary directory holding `demo/` (a copy of `fixtures/demo`).
fn demo() -> Project {
    Project::demo()
}

/// `demo/` plus `broken/bad.yaml` (invalid YAML) and `broken/web.yaml`.
fn with_error() -> Project {
    Project::demo()
        .file("broken/bad.yaml", INVALID_YAML)
        .copy("fixtures/demo/web.yaml", "broken/web.yaml")
}

/// The whole of stdout as one JSON document (nothing else may be printed there).
fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document: {e}\n{}\nstderr: {}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn file<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no file {path} in {report:#}"))
}

fn workload<'a>(file: &'a Value, kind: &str, name: &str) -> &'a Value {
    file["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == kind && w["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in {file:#}"))
}

fn finding<'a>(workload: &'a Value, check: &str) -> &'a Value {
    workload["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {workload:#}"))
}

fn checks(workload: &Value) -> Vec<&str> {
    workload["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn sorted(mut k: Vec<&str>) -> Vec<&str> {
    k.sort_unstable();
    k
}

// ---------------------------------------------------------------------------------------
// JSON

const REPORT_KEYS: [&str; 7] = [
    "version",
    "tool",
    "toolVersion",
    "command",
    "policy",
    "files",
    "summary",
];
const FILE_KEYS: [&str; 6] = [
    "path",
    "error",
    "changed",
    "written",
    "workloads",
    "passedThrough",
];
const PASSED_KEYS: [&str; 6] = ["document", "line", "col", "message", "object", "source"];
const WORKLOAD_KEYS: [&str; 15] = [
    "kind",
    "namespace",
    "name",
    "document",
    "item",
    "line",
    "col",
    "highestLevel",
    "policy",
    "skipped",
    "held",
    "exempted",
    "issues",
    "warnings",
    "findings",
];
const FINDING_KEYS: [&str; 13] = [
    "check",
    "level",
    "reason",
    "detail",
    "message",
    "line",
    "col",
    "fixApplicability",
    "fixed",
    "note",
    "added",
    "changed",
    "removed",
];

/// Every object has exactly the documented keys, with the documented types.
fn assert_schema(report: &Value) {
    assert_eq!(keys(report), sorted(REPORT_KEYS.to_vec()));
    assert_eq!(report["version"], 1);
    assert_eq!(report["tool"], "pss-fix");
    assert_eq!(report["toolVersion"], env!("CARGO_PKG_VERSION"));
    let finding_keys = sorted(FINDING_KEYS.to_vec());
    for f in report["files"].as_array().unwrap() {
        assert_eq!(keys(f), sorted(FILE_KEYS.to_vec()));
        assert!(f["path"].is_string());
        assert!(f["changed"].is_boolean() && f["written"].is_boolean());
        if !f["error"].is_null() {
            assert_eq!(keys(&f["error"]), ["col", "line", "message"]);
            assert!(f["error"]["message"].is_string());
            assert_eq!(f["workloads"], Value::Array(vec![]));
        }
        for p in f["passedThrough"].as_array().unwrap() {
            assert_eq!(keys(p), sorted(PASSED_KEYS.to_vec()));
            assert!(p["line"].as_u64().unwrap() >= 1 && p["col"].as_u64().unwrap() >= 1);
            assert!(p["message"].is_string());
        }
        for w in f["workloads"].as_array().unwrap() {
            assert_eq!(keys(w), sorted(WORKLOAD_KEYS.to_vec()));
            assert!(w["line"].as_u64().unwrap() >= 1 && w["col"].as_u64().unwrap() >= 1);
            assert!(["privileged", "baseline", "restricted"]
                .contains(&w["highestLevel"].as_str().unwrap()));
            for x in w["findings"].as_array().unwrap() {
                assert_eq!(keys(x), finding_keys);
                assert!(["baseline", "restricted"].contains(&x["level"].as_str().unwrap()));
                assert!(
                    ["safe", "unsafe", "manual"].contains(&x["fixApplicability"].as_str().unwrap())
                );
                assert!(x["fixed"].is_boolean());
                assert!(x["note"].is_null() || x["note"].is_string());
                assert_eq!(x["line"], w["line"]);
                assert_eq!(x["col"], w["col"]);
                let reason = x["reason"].as_str().unwrap();
                let detail = x["detail"].as_str().unwrap();
                let message = if detail.is_empty() {
                    reason.to_owned()
                } else {
                    format!("{reason} ({detail})")
                };
                assert_eq!(x["message"], message.as_str());
                for k in ["added", "changed", "removed"] {
                    assert!(x[k].as_array().unwrap().iter().all(Value::is_string));
                }
            }
        }
    }
    let summary = &report["summary"];
    assert_eq!(
        keys(summary),
        sorted(vec![
            "files",
            "filesChanged",
            "filesWritten",
            "workloads",
            "workloadsFailing",
            "workloadsFixed",
            "workloadsFixable",
            "workloadsUnsafe",
            "workloadsManual",
            "violationsFound",
            "violationsFixed",
            "violationsLeft",
            "errors",
            "documentsPassedThrough",
        ])
    );
    assert!(summary
        .as_object()
        .unwrap()
        .values()
        .all(|v| v.as_u64().is_some()));
    assert_eq!(
        summary["files"].as_u64().unwrap() as usize,
        report["files"].as_array().unwrap().len()
    );
    // Each failing workload is counted once, by what the fixes do for it.
    let n = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(
        n("workloadsFailing"),
        n("workloadsFixed") + n("workloadsFixable") + n("workloadsUnsafe") + n("workloadsManual"),
        "{summary}"
    );
}

#[test]
fn check_json_reports_findings_as_found() {
    let dir = demo();
    let out = run(dir.path(), &["check", "--format", "json", "demo"]);
    assert_eq!(code(&out), 1, "check exits 1 on findings");
    let r = json(&out);
    assert_schema(&r);
    assert_eq!(r["command"], "check");
    assert_eq!(r["policy"], "restricted:latest");
    let paths: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "demo/backup-cronjob.yaml",
            "demo/node-agent.yaml",
            "demo/web.yaml"
        ]
    );

    let agent_file = file(&r, "demo/node-agent.yaml");
    assert_eq!(agent_file["error"], Value::Null);
    assert_eq!(
        agent_file["changed"], true,
        "the safe fixes would change it"
    );
    assert_eq!(agent_file["written"], false);
    let agent = workload(agent_file, "DaemonSet", "node-agent");
    assert_eq!(agent["namespace"], "monitoring");
    assert_eq!(agent["document"], 0);
    assert_eq!(agent["item"], Value::Null);
    assert_eq!(agent["line"], 2, "after the leading comment");
    assert_eq!(agent["col"], 1);
    assert_eq!(agent["highestLevel"], "privileged");
    // As found, in the admission controller's order: baseline checks, then restricted.
    assert_eq!(
        checks(agent),
        [
            "hostNamespaces",
            "privileged",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "restrictedVolumes",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ]
    );
    let host = finding(agent, "hostNamespaces");
    assert_eq!(host["level"], "baseline");
    assert_eq!(host["reason"], "host namespaces");
    assert_eq!(host["detail"], "hostNetwork=true");
    assert_eq!(host["message"], "host namespaces (hostNetwork=true)");
    assert_eq!(host["fixApplicability"], "manual");
    assert_eq!(host["fixed"], false);
    assert_eq!(host["line"], 2);
    assert_eq!(host["added"], Value::Array(vec![]));
    // Held back with a reason: the note decides the applicability.
    let ape = finding(agent, "allowPrivilegeEscalation");
    assert_eq!(ape["fixApplicability"], "manual");
    assert_eq!(ape["fixed"], false);
    assert!(
        ape["note"].as_str().unwrap().contains("privileged"),
        "{ape}"
    );
    assert_eq!(finding(agent, "privileged")["fixApplicability"], "unsafe");
    let caps = finding(agent, "capabilities_restricted");
    assert_eq!(caps["fixApplicability"], "safe");
    assert_eq!(caps["fixed"], true, "check says what fix would resolve");
    assert_eq!(
        caps["added"],
        serde_json::json!(["spec.template.spec.containers[0].securityContext.capabilities.drop"])
    );

    let web = workload(file(&r, "demo/web.yaml"), "Deployment", "web");
    assert_eq!(web["namespace"], "shop");
    assert_eq!(web["highestLevel"], "baseline");
    let ape = finding(web, "allowPrivilegeEscalation");
    assert_eq!(ape["level"], "restricted");
    assert_eq!(
        ape["message"],
        "allowPrivilegeEscalation != false (container \"app\" must set \
         securityContext.allowPrivilegeEscalation=false)"
    );
    assert_eq!(ape["fixApplicability"], "safe");
    assert_eq!(ape["note"], Value::Null);

    let s = &r["summary"];
    assert_eq!(s["files"], 3);
    assert_eq!(s["filesChanged"], 3);
    assert_eq!(s["filesWritten"], 0);
    assert_eq!(s["workloads"], 3, "the Service is no workload");
    assert_eq!(s["workloadsFailing"], 3);
    assert_eq!(s["workloadsFixed"], 2);
    assert_eq!(s["violationsFound"], 4 + 7 + 4);
    assert_eq!(s["violationsLeft"], 4);
    assert_eq!(s["violationsFixed"], 11);
    assert_eq!(s["errors"], 0);
    // Nothing was written by check.
    let original =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/web.yaml"))
            .unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join("demo/web.yaml")).unwrap(),
        original
    );
}

#[test]
fn diff_and_fix_json_report_fixed_and_left() {
    let dir = demo();
    let diff = run(dir.path(), &["diff", "--format", "json", "demo"]);
    assert_eq!(code(&diff), 1, "diff exits 1 on pending changes");
    let d = json(&diff);
    assert_schema(&d);
    assert_eq!(d["command"], "diff");
    let web = workload(file(&d, "demo/web.yaml"), "Deployment", "web");
    let ape = finding(web, "allowPrivilegeEscalation");
    assert_eq!(ape["fixed"], true);
    assert_eq!(ape["fixApplicability"], "safe");
    assert_eq!(
        ape["added"],
        serde_json::json!([
            "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"
        ])
    );
    assert!(web["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["fixed"] == true));
    assert_eq!(file(&d, "demo/web.yaml")["written"], false);

    let fix = run(dir.path(), &["fix", "--format", "json", "demo"]);
    assert_eq!(code(&fix), 0, "fix without --strict exits 0");
    let f = json(&fix);
    assert_schema(&f);
    assert_eq!(f["command"], "fix");
    let web_file = file(&f, "demo/web.yaml");
    assert_eq!(web_file["changed"], true);
    assert_eq!(web_file["written"], true);
    let ape = finding(
        workload(web_file, "Deployment", "web"),
        "allowPrivilegeEscalation",
    );
    assert_eq!(ape["fixed"], true);
    assert!(fs::read_to_string(dir.path().join("demo/web.yaml"))
        .unwrap()
        .contains("allowPrivilegeEscalation: false"));
    // What is left, with why.
    let agent = workload(file(&f, "demo/node-agent.yaml"), "DaemonSet", "node-agent");
    let left: Vec<&str> = agent["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["fixed"] == false)
        .map(|x| x["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            "hostNamespaces",
            "privileged",
            "allowPrivilegeEscalation",
            "restrictedVolumes"
        ]
    );
    assert_eq!(
        finding(agent, "hostNamespaces")["fixApplicability"],
        "manual"
    );
    assert_eq!(finding(agent, "hostNamespaces")["line"], 2);
    assert_eq!(f["summary"]["filesWritten"], 3);
    assert_eq!(f["summary"]["violationsLeft"], 4);

    // A second run finds nothing more to do.
    let again = json(&run(dir.path(), &["fix", "--format", "json", "demo"]));
    assert_eq!(again["summary"]["filesChanged"], 0);
    assert_eq!(again["summary"]["workloadsFixed"], 0);
    assert_eq!(again["summary"]["violationsFound"], 4);
}

#[test]
fn json_reports_file_errors() {
    let dir = with_error();
    let out = run(dir.path(), &["check", "--format", "json", "broken"]);
    assert_eq!(code(&out), 2, "an error wins over findings");
    let r = json(&out);
    assert_schema(&r);
    let bad = file(&r, "broken/bad.yaml");
    assert_eq!(bad["changed"], false);
    assert_eq!(bad["written"], false);
    let e = &bad["error"];
    assert!(e["line"].as_u64().unwrap() >= 1, "{e}");
    assert!(e["col"].as_u64().unwrap() >= 1, "{e}");
    assert!(e["message"].as_str().unwrap().contains("YAML"), "{e}");
    // The other file is still reported.
    assert_eq!(file(&r, "broken/web.yaml")["error"], Value::Null);
    assert_eq!(r["summary"]["errors"], 1);
    assert_eq!(r["summary"]["files"], 2);
}

/// The JSON report a stdin run wrote on stderr (after any other message).
fn stderr_json(out: &Output) -> Value {
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    let start = err.find('{').expect("a JSON report on stderr");
    serde_json::Deserializer::from_str(&err[start..])
        .into_iter()
        .next()
        .unwrap()
        .unwrap()
}

#[test]
fn stdin_json_goes_to_stderr() {
    let dir = demo();
    let input = fs::read(dir.path().join("demo/web.yaml")).unwrap();
    let out = run_stdin(dir.path(), &["fix", "--format", "json", "-"], &input);
    assert_eq!(code(&out), 0);
    let yaml = stdout(&out);
    assert!(yaml.contains("allowPrivilegeEscalation: false"), "{yaml}");
    assert!(!yaml.contains("\"version\""), "stdout carries only YAML");
    let report = stderr_json(&out);
    assert_schema(&report);
    assert_eq!(file(&report, "<stdin>")["changed"], true);
}

/// `post-render --format FORMAT` on `fixtures/post-render/refused-documents.yaml`, whose
/// documents 1 (a duplicate key) and 3 (not YAML) pass through unchanged; it exits 0.
fn post_render_refused(format: &str) -> Output {
    let input = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/post-render/refused-documents.yaml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run_stdin(dir.path(), &["post-render", "--format", format], &input);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn post_render_json_lists_passed_through_documents() {
    let out = post_render_refused("json");
    let report = stderr_json(&out);
    assert_schema(&report);
    let passed = &file(&report, "<stdin>")["passedThrough"];
    assert_eq!(passed.as_array().map(Vec::len), Some(2), "{passed}");
    assert_eq!(passed[0]["document"], 1);
    assert_eq!(passed[0]["object"], "Deployment/shop-api");
    assert_eq!(passed[0]["source"], "shop/templates/api.yaml");
    assert_eq!(passed[0]["message"], "duplicate key \"image\"");
    assert_eq!(passed[1]["document"], 3);
    assert_eq!(passed[1]["object"], Value::Null);
    assert_eq!(passed[1]["source"], "shop/templates/broken.yaml");
    assert_eq!(report["summary"]["documentsPassedThrough"], 2);
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["workloadsFixed"], 2);
}

// ---------------------------------------------------------------------------------------
// SARIF

const LEVELS: [&str; 4] = ["none", "note", "warning", "error"];

fn obj<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} must be an object: {v}"))
}

fn arr<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} must be an array: {v}"))
}

fn only_keys(v: &Value, what: &str, allowed: &[&str]) {
    for k in obj(v, what).keys() {
        assert!(allowed.contains(&k.as_str()), "{what}: unexpected key {k}");
    }
}

fn message(v: &Value, what: &str) {
    only_keys(
        v,
        what,
        &["text", "markdown", "id", "arguments", "properties"],
    );
    assert!(v["text"].is_string(), "{what}.text is required here");
}

fn multiformat(v: &Value, what: &str) {
    only_keys(v, what, &["text", "markdown", "properties"]);
    assert!(v["text"].is_string(), "{what}.text is required");
}

fn properties(v: &Value, what: &str) {
    obj(v, what);
    if let Some(tags) = v.get("tags") {
        assert!(arr(tags, "tags").iter().all(Value::is_string));
    }
}

fn location(v: &Value, what: &str) {
    only_keys(
        v,
        what,
        &["physicalLocation", "message", "id", "properties"],
    );
    let p = &v["physicalLocation"];
    only_keys(
        p,
        "physicalLocation",
        &["artifactLocation", "region", "properties"],
    );
    let a = &p["artifactLocation"];
    only_keys(
        a,
        "artifactLocation",
        &["uri", "uriBaseId", "index", "description"],
    );
    let uri = a["uri"].as_str().expect("artifactLocation.uri");
    assert!(!uri.contains(' ') && !uri.contains('\\'), "{uri} is a URI");
    match a.get("uriBaseId") {
        Some(base) => {
            assert_eq!(base, "%SRCROOT%");
            assert!(!uri.starts_with('/') && !uri.contains("://"));
        }
        None => assert!(uri.starts_with("file://"), "{uri}"),
    }
    if let Some(r) = p.get("region") {
        only_keys(
            r,
            "region",
            &["startLine", "startColumn", "endLine", "endColumn"],
        );
        assert!(r["startLine"].as_u64().unwrap() >= 1);
        assert!(r["startColumn"].as_u64().unwrap() >= 1);
    }
}

/// The required fields and types of SARIF 2.1.0 for what pss-fix writes, and nothing
/// outside the spec's vocabulary.
fn assert_sarif(log: &Value) {
    only_keys(log, "log", &["$schema", "version", "runs", "properties"]);
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let runs = arr(&log["runs"], "runs");
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    only_keys(
        run,
        "run",
        &["tool", "invocations", "results", "columnKind", "properties"],
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    properties(&run["properties"], "run.properties");

    only_keys(&run["tool"], "tool", &["driver"]);
    let driver = &run["tool"]["driver"];
    only_keys(
        driver,
        "driver",
        &[
            "name",
            "version",
            "semanticVersion",
            "informationUri",
            "rules",
        ],
    );
    assert_eq!(driver["name"], "pss-fix");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = arr(&driver["rules"], "rules");
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let official: Vec<&str> = pss_fix::policy::check::all_checks()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, official, "one rule per check, in the official order");
    for (rule, info) in rules.iter().zip(pss_fix::policy::check::all_checks()) {
        only_keys(
            rule,
            "rule",
            &[
                "id",
                "name",
                "shortDescription",
                "fullDescription",
                "help",
                "helpUri",
                "defaultConfiguration",
                "properties",
            ],
        );
        multiformat(&rule["shortDescription"], "shortDescription");
        assert_eq!(rule["shortDescription"]["text"], info.doc);
        multiformat(&rule["fullDescription"], "fullDescription");
        multiformat(&rule["help"], "help");
        assert_eq!(
            rule["helpUri"],
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
        );
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        properties(&rule["properties"], "rule.properties");
        let tags = arr(&rule["properties"]["tags"], "tags");
        assert!(tags.contains(&Value::from(info.level.as_str())), "{rule}");
    }

    let invocations = arr(&run["invocations"], "invocations");
    assert_eq!(invocations.len(), 1);
    let inv = &invocations[0];
    only_keys(
        inv,
        "invocation",
        &["executionSuccessful", "toolExecutionNotifications"],
    );
    assert!(inv["executionSuccessful"].is_boolean(), "required");
    for n in inv
        .get("toolExecutionNotifications")
        .map(|n| arr(n, "notifications").as_slice())
        .unwrap_or_default()
    {
        only_keys(n, "notification", &["level", "message", "locations"]);
        assert!(LEVELS.contains(&n["level"].as_str().unwrap()));
        message(&n["message"], "notification.message");
        for l in arr(&n["locations"], "locations") {
            location(l, "notification location");
        }
    }

    for r in arr(&run["results"], "results") {
        only_keys(
            r,
            "result",
            &[
                "ruleId",
                "ruleIndex",
                "level",
                "message",
                "locations",
                "properties",
            ],
        );
        message(&r["message"], "result.message");
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], id, "ruleIndex points at its rule");
        assert!(LEVELS.contains(&r["level"].as_str().unwrap()));
        let locations = arr(&r["locations"], "locations");
        assert_eq!(locations.len(), 1);
        location(&locations[0], "result location");
        properties(&r["properties"], "result.properties");
    }

    // And the schema-generated types read it back.
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_value(log.clone()).expect("serde-sarif reads the log");
    assert_eq!(typed.runs.len(), 1);
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn result_for<'a>(log: &'a Value, uri: &str, rule: &str) -> Option<&'a Value> {
    results(log).iter().find(|r| {
        r["ruleId"] == rule
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
    })
}

#[test]
fn diff_sarif_reports_what_is_left() {
    let dir = demo();
    let out = run(dir.path(), &["diff", "--format", "sarif", "demo"]);
    assert_eq!(code(&out), 1);
    let log = json(&out);
    assert_sarif(&log);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    assert!(inv.get("toolExecutionNotifications").is_none());

    // Only node-agent has anything left, and the web Deployment's findings are all fixed.
    let rules: Vec<&str> = results(&log)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "hostNamespaces",
            "privileged",
            "allowPrivilegeEscalation",
            "restrictedVolumes"
        ]
    );
    assert!(result_for(&log, "demo/web.yaml", "allowPrivilegeEscalation").is_none());
    let host = result_for(&log, "demo/node-agent.yaml", "hostNamespaces").unwrap();
    assert_eq!(host["level"], "error");
    assert_eq!(
        host["message"]["text"],
        "DaemonSet/node-agent: host namespaces (hostNetwork=true)"
    );
    let loc = &host["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 1);
    assert_eq!(host["ruleIndex"], 2);
    assert_eq!(host["properties"]["fixApplicability"], "manual");
    assert_eq!(log["runs"][0]["properties"]["policy"], "restricted:latest");
}

#[test]
fn check_sarif_reports_everything_found() {
    let dir = demo();
    let out = run(dir.path(), &["check", "--format", "sarif", "demo"]);
    assert_eq!(code(&out), 1);
    let log = json(&out);
    assert_sarif(&log);
    assert_eq!(results(&log).len(), 15);
    let ape = result_for(&log, "demo/web.yaml", "allowPrivilegeEscalation").unwrap();
    assert_eq!(
        ape["message"]["text"],
        "Deployment/web: allowPrivilegeEscalation != false (container \"app\" must set \
         securityContext.allowPrivilegeEscalation=false)"
    );
    assert_eq!(
        ape["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
}

#[test]
fn sarif_reports_file_errors_as_notifications() {
    let dir = with_error();
    let out = run(dir.path(), &["diff", "--format", "sarif", "./broken"]);
    assert_eq!(code(&out), 2);
    let log = json(&out);
    assert_sarif(&log);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "error");
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("invalid YAML"));
    let loc = &notes[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "broken/bad.yaml", "no ./");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    // The good file beside it is fully fixed by diff's plan: no results.
    assert!(results(&log).is_empty());

    // An absolute path is a file:// URI without a base.
    let abs = dir.path().join("broken").to_string_lossy().into_owned();
    let log = json(&run(dir.path(), &["check", "--format", "sarif", &abs]));
    assert_sarif(&log);
    let uri = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]
        ["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/broken/bad.yaml"),
        "{uri}"
    );
}

/// A passed-through document is a warning notification: the run did what it promises.
#[test]
fn post_render_sarif_warns_of_passed_through_documents() {
    let out = post_render_refused("sarif");
    let log = stderr_json(&out);
    assert_sarif(&log);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n["level"] == "warning"));
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("Deployment/shop-api (shop/templates/api.yaml) passed through unchanged"));
    let region = &notes[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(29), Some(9))
    );
}

// ---------------------------------------------------------------------------------------
// Markdown

#[test]
fn post_render_markdown_has_a_passed_through_section() {
    let out = post_render_refused("markdown");
    let md = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        sections(&md),
        [
            "### pss-fix: 2 workloads made compliant with restricted:latest",
            "#### Fixed",
            "#### Passed through unchanged"
        ],
        "{md}"
    );
    assert!(md.contains(
        "- `<stdin>:29:9`: Deployment/shop-api (shop/templates/api.yaml): duplicate key \"image\"\n"
    ), "{md}");
}

fn sections(md: &str) -> Vec<&str> {
    md.lines().filter(|l| l.starts_with('#')).collect()
}

#[test]
fn fix_markdown_is_a_pull_request_body() {
    let dir = demo();
    let out = run(dir.path(), &["fix", "--format", "markdown", "demo"]);
    assert_eq!(code(&out), 0);
    let md = stdout(&out);
    assert_eq!(
        sections(&md),
        [
            "### pss-fix: 2 workloads made compliant with restricted:latest",
            "#### Fixed",
            "#### Needs a person"
        ],
        "{md}"
    );
    assert!(md.starts_with("### pss-fix: "));
    assert!(md.ends_with('\n'));
    assert!(!md.contains("--- a/"), "no diff in the body");

    let fixed = md.split("#### Fixed").nth(1).unwrap();
    let fixed = fixed.split("#### Needs a person").next().unwrap();
    let rows: Vec<&str> = fixed.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows[0], "| Workload | File | Fields added |");
    assert_eq!(rows[1], "| --- | --- | --- |");
    assert_eq!(rows.len(), 2 + 3, "{md}");
    let web = rows
        .iter()
        .find(|r| r.contains("`Deployment/web`"))
        .expect("web row");
    assert!(web.contains("| `demo/web.yaml:2` |"), "{web}");
    assert!(
        web.contains("`spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation`"),
        "{web}"
    );
    assert!(web.contains("`spec.template.spec.securityContext.runAsNonRoot`"));
    // Three cells, whatever they hold.
    for r in &rows {
        assert_eq!(r.matches(" | ").count(), 2, "{r}");
    }

    let people = md.split("#### Needs a person").nth(1).unwrap();
    assert!(people.contains("- `DaemonSet/node-agent` in `monitoring`, `demo/node-agent.yaml:2`"));
    assert!(people.contains("  - `hostNamespaces`: host namespaces (hostNetwork=true)\n"));
    assert!(people.contains("    - How to fix: manual: "), "{people}");
    assert!(people.contains("  - `privileged`: privileged (container \"agent\""));
    assert!(people.contains("    - How to fix: unsafe fix"), "{people}");
    assert!(people.contains("    - Why it was left: container \"agent\" is privileged"));
    assert!(!people.contains("Deployment/web"), "web is fully fixed");
    assert!(fs::read_to_string(dir.path().join("demo/web.yaml"))
        .unwrap()
        .contains("allowPrivilegeEscalation: false"));
}

#[test]
fn markdown_reports_errors_and_escapes_cells() {
    let dir = with_error();
    // A file name with a `|` must not split the table.
    fs::copy(
        dir.path().join("demo/web.yaml"),
        dir.path().join("broken/a|b.yaml"),
    )
    .unwrap();
    let out = run(dir.path(), &["diff", "--format", "markdown", "broken"]);
    assert_eq!(code(&out), 2);
    let md = stdout(&out);
    assert_eq!(
        sections(&md),
        [
            "### pss-fix: 2 workloads would be made compliant with restricted:latest",
            "#### Fixed",
            "#### Errors"
        ],
        "{md}"
    );
    let row = md
        .lines()
        .find(|l| l.contains("a\\|b.yaml"))
        .unwrap_or_else(|| panic!("escaped row in {md}"));
    assert!(row.contains("| `broken/a\\|b.yaml:2` |"), "{row}");
    assert_eq!(row.matches(" | ").count(), 2, "{row}");
    let errors = md.split("#### Errors").nth(1).unwrap();
    let line = errors
        .lines()
        .find(|l| l.starts_with("- `broken/bad.yaml:"))
        .unwrap_or_else(|| panic!("error line in {md}"));
    assert!(line.contains("invalid YAML"), "{line}");
}

#[test]
fn markdown_for_a_clean_tree_is_just_the_title() {
    let dir = demo();
    assert_eq!(code(&run(dir.path(), &["fix", "demo"])), 0);
    fs::remove_file(dir.path().join("demo/node-agent.yaml")).unwrap();
    let out = run(dir.path(), &["fix", "--format", "markdown", "demo"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "### pss-fix: nothing to change for restricted:latest\n"
    );
}

#[test]
fn unsafe_fixes_are_reported_as_changed() {
    let dir = demo();
    let out = run(
        dir.path(),
        &[
            "diff",
            "--unsafe",
            "--format",
            "json",
            "demo/node-agent.yaml",
        ],
    );
    assert_eq!(code(&out), 1);
    let r = json(&out);
    assert_schema(&r);
    let agent = workload(file(&r, "demo/node-agent.yaml"), "DaemonSet", "node-agent");
    let privileged = finding(agent, "privileged");
    assert_eq!(privileged["fixed"], true);
    assert_eq!(privileged["fixApplicability"], "unsafe");
    assert_eq!(
        privileged["changed"],
        serde_json::json!(["spec.template.spec.containers[0].securityContext.privileged"])
    );
    for f in agent["findings"].as_array().unwrap() {
        let added = f["added"].as_array().unwrap();
        let mut unique = added.clone();
        unique.dedup();
        assert_eq!(added, &unique, "each path once: {f}");
    }
    let md = stdout(&run(
        dir.path(),
        &[
            "diff",
            "--unsafe",
            "--format",
            "markdown",
            "demo/node-agent.yaml",
        ],
    ));
    assert!(
        md.contains("`spec.template.spec.containers[0].securityContext.privileged` (changed)"),
        "{md}"
    );
}
