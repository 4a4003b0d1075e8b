//! What the user (or a bot) reads: findings per workload in the admission controller's
//! words, the notes on what could not be fixed and why, and the closing summary, as text
//! (streamed per file), JSON, SARIF or a Markdown pull-request body (rendered once at the
//! end of a run). Printers return strings; the CLI decides where they go (stderr whenever
//! stdout carries YAML).

pub mod diff;
mod json;
mod markdown;
mod sarif;

use crate::edit::Applicability;
use crate::engine::{FileReport, PassedThrough, WorkloadReport};
use crate::error::Error;
use crate::policy::check::summary_line;
use crate::policy::Policy;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
}

/// Which command produced a run: it decides what "changed" means (pending or written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Check,
    Diff,
    Fix,
}

/// One input file and what became of it.
#[derive(Debug)]
pub struct Outcome {
    /// The path as given (or `<stdin>`).
    pub path: String,
    pub result: Result<FileReport, Error>,
    /// The fixed text was written to disk (fix) — false for check/diff and declined files.
    pub written: bool,
}

/// A whole run, for the formats rendered once at its end.
pub struct Run<'a> {
    pub command: Command,
    pub policy: Policy,
    pub files: &'a [Outcome],
}

/// Render a run in a structured format (`Format::Text` is streamed per file instead and
/// renders nothing here).
pub fn render(format: Format, run: &Run<'_>) -> String {
    match format {
        Format::Text => String::new(),
        Format::Json => json::render(run),
        Format::Sarif => sarif::render(run),
        Format::Markdown => markdown::render(run),
    }
}

/// `Deployment/web (path:12)`
/// Text from the input made safe for a terminal: control characters (ESC, BEL, …) are
/// shown escaped (`\u{1b}`), so a manifest cannot clear the screen or retitle the window.
/// Line breaks, tabs and the CR of a CRLF line ending stay.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t' && c != '\r';
    if !s.contains(bad) && !s.contains('\r') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if bad(c) || (c == '\r' && chars.peek() != Some(&'\n')) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `Deployment/web (k8s/web.yaml:12)`; for a Helm render, the template it came from first:
/// `Deployment/web (web/templates/deployment.yaml, <stdin>:49)`.
fn place(file: &str, w: &WorkloadReport) -> String {
    match &w.source {
        Some(source) => format!("{} ({source}, {}:{})", w.label(), file, w.line),
        None => format!("{} ({}:{})", w.label(), file, w.line),
    }
}

/// `file:line:col: Kind/name: unknown field …` for each field the API does not know.
fn issue_lines(file: &str, w: &WorkloadReport, out: &mut String) {
    for t in &w.issues {
        out.push_str(&format!(
            "{file}:{}:{}: {}: {}\n",
            t.line,
            t.col,
            w.label(),
            t.message
        ));
    }
}

/// Lines for `check`: each failing workload with its violations as found.
pub fn check_text(file: &str, report: &FileReport) -> String {
    sanitize(&check_text_raw(file, report)).into_owned()
}

fn check_text_raw(file: &str, report: &FileReport) -> String {
    let mut out = String::new();
    for w in &report.workloads {
        issue_lines(file, w, &mut out);
        if let Some(why) = &w.skipped {
            out.push_str(&format!("{}: not checked: {why}\n", place(file, w)));
        } else if !w.before.is_empty() {
            out.push_str(&format!(
                "{}: {}\n  highest level passed: {}\n",
                place(file, w),
                summary_line(w.policy, &w.before),
                w.highest
            ));
        }
    }
    out
}

/// Lines for `fix`/`diff`: what is left after fixing, and why each part was left.
pub fn remaining_text(file: &str, report: &FileReport) -> String {
    sanitize(&remaining_text_raw(file, report)).into_owned()
}

fn remaining_text_raw(file: &str, report: &FileReport) -> String {
    let mut out = String::new();
    // In document order with the workloads: a passed-through document among its neighbours.
    let mut passed = report.passed_through.iter().peekable();
    for w in &report.workloads {
        while let Some(p) = passed.next_if(|p| p.document.is_none_or(|d| d < w.document)) {
            out.push_str(&passed_line(file, p));
            out.push('\n');
        }
        issue_lines(file, w, &mut out);
        for warning in &w.warnings {
            out.push_str(&format!("{}: warning: {warning}\n", place(file, w)));
        }
        if w.after().is_empty() {
            continue;
        }
        out.push_str(&format!(
            "{}: {}\n",
            place(file, w),
            summary_line(w.policy, w.after())
        ));
        for h in &w.held {
            out.push_str(&format!(
                "  {file}:{}:{}: not fixed: {}\n",
                h.line, h.col, h.message
            ));
        }
        for n in w
            .notes
            .iter()
            .filter(|n| n.applicability != Applicability::Safe)
        {
            out.push_str(&format!(
                "  {} ({}): {}\n",
                n.check,
                n.applicability.as_str(),
                n.message
            ));
        }
        let explained = |id: &str| w.notes.iter().any(|n| n.check == id);
        for v in w.after().iter().filter(|v| !explained(v.check)) {
            let how = crate::policy::check::check_info(v.check)
                .map_or(Applicability::Manual, |c| c.fix_safety);
            out.push_str(&format!(
                "  {} ({}): {}\n",
                v.check,
                how.as_str(),
                unexplained(v)
            ));
        }
    }
    for p in passed {
        out.push_str(&passed_line(file, p));
        out.push('\n');
    }
    out
}

/// What passed through unchanged: `Deployment/web (web/templates/deployment.yaml)`, `a
/// document`, `the stream`.
pub fn passed_what(p: &PassedThrough) -> String {
    match (&p.object, &p.source, p.document) {
        (Some(object), Some(source), _) => format!("{object} ({source})"),
        (Some(object), None, _) => object.clone(),
        (None, Some(source), _) => format!("a document ({source})"),
        (None, None, Some(_)) => "a document".into(),
        (None, None, None) => "the stream".into(),
    }
}

/// `<stdin>:21:9: Deployment/web (web/templates/deployment.yaml) passed through unchanged:
/// duplicate key "image"`: what was left as it came, where, and why.
pub fn passed_line(file: &str, p: &PassedThrough) -> String {
    format!(
        "{file}:{}:{}: {} passed through unchanged: {}",
        p.line,
        p.col,
        passed_what(p),
        p.message
    )
}

/// The words for a violation no fix decision explained: what it takes, from the check's
/// own fix notes (`… (needs a person: replace the volume …)`).
pub fn unexplained(v: &crate::policy::check::Violation) -> String {
    let info = crate::policy::check::check_info(v.check);
    let what = info.and_then(|c| c.fixes.first()).map_or("", |f| f.what);
    match info.map(|c| c.fix_safety) {
        Some(Applicability::Unsafe) => format!("{} (fix: {what}; --unsafe)", v.reason),
        _ => format!("{} (needs a person: {what})", v.reason),
    }
}

/// Totals of a run, for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub files_changed: usize,
    pub workloads_fixed: usize,
    pub violations_left: usize,
    pub errors: usize,
    /// Workloads that got `runAsNonRoot: true` with no UID to run as.
    pub run_as_non_root_caveats: usize,
}

impl Totals {
    /// Count a file's outcome; `applied` is false when its fix was declined or not
    /// written, so its workloads count as they were.
    pub fn add(&mut self, report: &FileReport, applied: bool) {
        if report.changed && applied {
            self.files_changed += 1;
        }
        for w in &report.workloads {
            if !applied {
                self.violations_left += w.before.len();
                continue;
            }
            if !w.added.is_empty() {
                self.workloads_fixed += 1;
            }
            self.violations_left += w.after().len();
            if w.notes
                .iter()
                .any(|n| n.applicability == Applicability::Safe)
            {
                self.run_as_non_root_caveats += 1;
            }
        }
    }

    pub fn line(&self, verb: &str) -> String {
        let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
        let mut line = format!(
            "pss-fix: {} {verb}, {} fixed, {} left",
            plural(self.files_changed, "file"),
            plural(self.workloads_fixed, "workload"),
            plural(self.violations_left, "violation"),
        );
        if self.errors > 0 {
            line.push_str(&format!(", {}", plural(self.errors, "error")));
        }
        if self.run_as_non_root_caveats > 0 {
            line.push_str(&format!(
                "\npss-fix: note: {} {}",
                plural(self.run_as_non_root_caveats, "workload"),
                crate::policy::remedy::RUN_AS_NON_ROOT_CAVEAT.replacen(
                    "runAsNonRoot: true added",
                    "got runAsNonRoot: true",
                    1
                )
            ));
        }
        line
    }
}
