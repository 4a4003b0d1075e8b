//! `--format sarif`: a SARIF 2.1.0 log for code-scanning services (GitHub code scanning and
//! others). One run; one rule per official check (all nineteen, in the official order, so
//! `ruleIndex` is stable); one result per violation — as found for `check`, what is left
//! after the fixes for `diff` and `fix` — located at its workload's first line in the file.
//! Files that could not be processed become error notifications of the invocation, which is
//! then not successful; documents `post-render` passed through unchanged become warning
//! notifications (they were not checked, but the run did what it promises).
//!
//! The log is built from `serde-sarif`'s types, generated from the official SARIF 2.1.0
//! JSON schema, so a field can neither be misspelt nor have the wrong shape.

use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run as SarifRun, Sarif, Tool, ToolComponent,
};

use super::json::findings;
use super::{Command, Run};
use crate::engine::WorkloadReport;
use crate::error::Pos;
use crate::policy::check::{all_checks, Applicability, CheckInfo};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where every rule is explained: the official Pod Security Standards page.
pub const HELP_URI: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";
/// The base every relative artifact URI is resolved against: the checkout's root.
const SRCROOT: &str = "%SRCROOT%";

/// Render the run as a pretty-printed SARIF 2.1.0 log, with a final newline.
pub fn render(run: &Run<'_>) -> String {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for o in run.files {
        match &o.result {
            Err(e) => errors.push(notification(
                "error",
                &e.to_string(),
                location(&o.path, e.pos),
            )),
            Ok(r) => {
                for p in &r.passed_through {
                    let pos = Pos {
                        line: p.line,
                        col: p.col,
                    };
                    let message = super::passed_line(&o.path, p);
                    warnings.push(notification(
                        "warning",
                        &message,
                        location(&o.path, Some(pos)),
                    ));
                }
                for w in &r.workloads {
                    results.extend(workload_results(run.command, &o.path, w));
                }
            }
        }
    }
    let mut props = PropertyBag::builder().build();
    props
        .additional_properties
        .insert("policy".into(), json!(run.policy.to_string()));
    props
        .additional_properties
        .insert("command".into(), json!(run.command));
    let sarif_run = SarifRun::builder()
        .tool(Tool::from(driver()))
        .invocations(vec![invocation(errors, warnings)])
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .properties(props)
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![sarif_run])
        .build();
    let mut out = serde_json::to_string_pretty(&log).expect("the SARIF log serializes");
    out.push('\n');
    out
}

fn notification(level: &str, message: &str, at: Location) -> Notification {
    Notification::builder()
        .level(json!(level))
        .message(Message::from(message))
        .locations(vec![at])
        .build()
}

/// One result per finding of the workload `w` in the file at `path`: for `check` what it
/// found, for `diff` and `fix` what is left.
fn workload_results(command: Command, path: &str, w: &WorkloadReport) -> Vec<SarifResult> {
    let pos = Some(Pos {
        line: w.line,
        col: w.col,
    });
    let mut results = Vec::new();
    for f in findings(command, w) {
        if command != Command::Check && f.fixed {
            continue;
        }
        let mut props = PropertyBag::builder().build();
        let extra = &mut props.additional_properties;
        extra.insert("fixApplicability".into(), json!(f.fix_applicability));
        extra.insert("fixed".into(), json!(f.fixed));
        if let Some(note) = &f.note {
            extra.insert("note".into(), json!(note));
        }
        extra.insert("namespace".into(), json!(w.namespace));
        let mut result = SarifResult::builder()
            .rule_id(f.check)
            .level(ResultLevel::Error)
            .message(Message::from(
                format!("{}: {}", w.label(), f.message).as_str(),
            ))
            .locations(vec![location(path, pos)])
            .properties(props)
            .build();
        result.rule_index = all_checks()
            .iter()
            .position(|c| c.id == f.check)
            .map(|i| i as i64);
        results.push(result);
    }
    results
}

/// Files that could not be processed make the invocation unsuccessful; passed-through
/// documents do not (they were not checked, but the run did what it promises).
fn invocation(mut errors: Vec<Notification>, mut warnings: Vec<Notification>) -> Invocation {
    let mut invocation = Invocation::builder()
        .execution_successful(errors.is_empty())
        .build();
    errors.append(&mut warnings);
    invocation.tool_execution_notifications = (!errors.is_empty()).then_some(errors);
    invocation
}

fn driver() -> ToolComponent {
    ToolComponent::builder()
        .name("pss-fix")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(information_uri())
        .rules(all_checks().iter().map(rule).collect::<Vec<_>>())
        .build()
}

/// The tool's home: the package's repository or homepage when Cargo.toml names one, else the
/// Pod Security Standards page the tool implements.
fn information_uri() -> &'static str {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
        .unwrap_or(HELP_URI)
}

fn rule(c: &CheckInfo) -> ReportingDescriptor {
    let how = |s: Applicability| match s {
        Applicability::Safe => "Safe fix (applied by default)",
        Applicability::Unsafe => "Unsafe fix (changes a value the author wrote)",
        Applicability::Manual => "Needs a person",
    };
    let help: Vec<String> = c
        .fixes
        .iter()
        .map(|f| format!("{}: {}.", how(f.safety), f.what.trim_end_matches('.')))
        .collect();
    let level = c.level.as_str();
    let mut props = PropertyBag::builder()
        .tags(vec![
            "security".to_owned(),
            "kubernetes".to_owned(),
            level.to_owned(),
        ])
        .build();
    props
        .additional_properties
        .insert("level".into(), Value::from(level));
    ReportingDescriptor::builder()
        .id(c.id)
        .name(c.id)
        .short_description(MultiformatMessageString::builder().text(c.doc).build())
        .full_description(
            MultiformatMessageString::builder()
                .text(format!(
                    "Pod Security Standards, {level} level: {}.",
                    c.doc.trim_end_matches('.')
                ))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(help.join(" "))
                .markdown(
                    help.iter()
                        .map(|h| format!("- {h}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
                .build(),
        )
        .help_uri(HELP_URI)
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!("error"))
                .build(),
        )
        .properties(props)
        .build()
}

/// A file (and, when known, a line and column in it) as a SARIF location.
fn location(path: &str, pos: Option<Pos>) -> Location {
    let (uri, base) = artifact_uri(path);
    let mut artifact = ArtifactLocation::builder().uri(uri).build();
    artifact.uri_base_id = base.map(str::to_owned);
    let mut physical = PhysicalLocation::builder()
        .artifact_location(artifact)
        .build();
    physical.region = pos.map(|p| {
        Region::builder()
            .start_line(p.line as i64)
            .start_column(p.col as i64)
            .build()
    });
    Location::builder().physical_location(physical).build()
}

/// The path as given, as a URI reference: relative paths (without a leading `./`) against
/// `%SRCROOT%`, absolute ones as `file://` URIs; characters a URI cannot hold are
/// percent-encoded.
fn artifact_uri(path: &str) -> (String, Option<&'static str>) {
    let unix = path.replace('\\', "/");
    if unix.starts_with('/') {
        return (format!("file://{}", encode(&unix)), None);
    }
    if unix.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && unix[1..].starts_with(":/") {
        // A Windows drive path: C:/k8s/web.yaml.
        return (
            format!("file:///{}:{}", &unix[..1], encode(&unix[2..])),
            None,
        );
    }
    let mut rel = unix.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    (encode(rel), Some(SRCROOT))
}

/// Percent-encode everything but RFC 3986 unreserved characters, sub-delimiters, `@` and
/// `/` (a `:` is encoded so a relative path never reads as a scheme).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            artifact_uri("fixtures/demo/web.yaml"),
            ("fixtures/demo/web.yaml".into(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri("./k8s/a b#1.yaml"),
            ("k8s/a%20b%231.yaml".into(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri("/tmp/x/é.yaml"),
            ("file:///tmp/x/%C3%A9.yaml".into(), None)
        );
        assert_eq!(artifact_uri("a:b.yaml").0, "a%3Ab.yaml");
        assert_eq!(
            artifact_uri(r"C:\k8s\web.yaml"),
            ("file:///C:/k8s/web.yaml".into(), None)
        );
        assert_eq!(
            artifact_uri("<stdin>"),
            ("%3Cstdin%3E".into(), Some(SRCROOT))
        );
    }
}
