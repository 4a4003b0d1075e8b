//! `--format json`: the whole run as one JSON document with a stable, versioned schema
//! (documented in docs/output.md). The structs below *are* the schema: every
//! field is named here, in camelCase, and nothing is added by hand.
//!
//! This module also owns the per-finding model the other structured formats share
//! ([`findings`]): which violations a command reports, whether the fix plan resolves each,
//! how far a fix could go without a person, and the note that says why it was left.

use serde::Serialize;

use super::{fix_applicability, Command, Outcome, Run, Totals};
use crate::engine::{PassedThrough, WorkloadReport};
use crate::policy::check::{check_info, Applicability, Violation};
use crate::policy::remedy::Action;
use crate::policy::{Level, Policy};

/// Bumped only when a field is removed, renamed or changes meaning; new fields may appear
/// in any release.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    version: u32,
    tool: &'static str,
    tool_version: &'static str,
    command: Command,
    /// `restricted:latest`, as Pod Security Admission writes a level and version.
    policy: String,
    files: Vec<File<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    path: &'a str,
    error: Option<FileError<'a>>,
    /// The fixes change the file (pending for check/diff, the new text for fix).
    changed: bool,
    /// The new text reached the disk (fix only).
    written: bool,
    workloads: Vec<Workload<'a>>,
    /// Documents left as they came because they could not be safely edited (`post-render`,
    /// `krm`; elsewhere such a document is the file's `error`).
    passed_through: &'a [PassedThrough],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileError<'a> {
    line: Option<usize>,
    col: Option<usize>,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Workload<'a> {
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    document: usize,
    item: Option<usize>,
    line: usize,
    col: usize,
    highest_level: Level,
    /// The level and version this workload was judged at (a Namespace label or a path
    /// rule may differ from the run's default).
    policy: Policy,
    skipped: Option<&'a str>,
    /// Edits held back (each would land inside an alias, an anchored node or a merged
    /// mapping), where and why.
    held: &'a [crate::engine::Remark],
    /// Violations set aside by an exemption.
    exempted: Vec<&'a str>,
    /// Fields the API does not know, with a "did you mean" when one is close.
    issues: &'a [crate::engine::Remark],
    /// What a person should know about the fixes made.
    warnings: &'a [String],
    findings: Vec<Finding<'a>>,
}

/// One violation of one workload, with what pss-fix does about it.
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct Finding<'a> {
    /// The official check ID.
    pub check: &'static str,
    /// The level the check belongs to.
    pub level: Level,
    pub reason: &'a str,
    pub detail: &'a str,
    /// `reason (detail)`, as the admission controller prints it.
    pub message: String,
    pub line: usize,
    pub col: usize,
    pub fix_applicability: Applicability,
    /// The planned fixes resolve it: the check fails as found and passes after the fixes.
    pub fixed: bool,
    /// Why pss-fix left (part of) it, when it says so.
    pub note: Option<String>,
    /// Paths (from the document root) the fixes add, change or remove for this check.
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Serialize, Default, Debug, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(super) struct Summary {
    pub files: usize,
    pub files_changed: usize,
    pub files_written: usize,
    pub workloads: usize,
    /// Workloads failing the level as found.
    pub workloads_failing: usize,
    /// Workloads failing as found that pass once the planned fixes are applied.
    pub workloads_fixed: usize,
    /// Workloads `fix` would make pass whose file was not written (declined, a write error).
    pub workloads_fixable: usize,
    /// Workloads failing after the fixes that `--unsafe` would fix (it was not given).
    pub workloads_unsafe: usize,
    /// Workloads failing after the fixes with something left that needs a person.
    pub workloads_manual: usize,
    pub violations_found: usize,
    pub violations_fixed: usize,
    pub violations_left: usize,
    pub errors: usize,
    /// Documents passed through unchanged (see [`File::passed_through`]).
    pub documents_passed_through: usize,
}

/// Render the run as pretty-printed JSON, with a final newline.
pub fn render(run: &Run<'_>) -> String {
    let report = Report {
        version: SCHEMA_VERSION,
        tool: "pss-fix",
        tool_version: env!("CARGO_PKG_VERSION"),
        command: run.command,
        policy: run.policy.to_string(),
        files: run.files.iter().map(|o| file(run.command, o)).collect(),
        summary: summary(run),
    };
    let mut out = serde_json::to_string_pretty(&report).expect("the report serializes");
    out.push('\n');
    out
}

fn file<'a>(command: Command, o: &'a Outcome) -> File<'a> {
    match &o.result {
        Ok(r) => File {
            path: &o.path,
            error: None,
            changed: r.changed,
            written: o.written,
            workloads: r
                .workloads
                .iter()
                .map(|w| Workload {
                    kind: &w.kind,
                    namespace: &w.namespace,
                    name: &w.name,
                    document: w.document,
                    item: w.item,
                    line: w.line,
                    col: w.col,
                    highest_level: w.highest,
                    policy: w.policy,
                    exempted: w.exempted.iter().map(|v| v.check).collect(),
                    issues: &w.issues,
                    warnings: &w.warnings,
                    skipped: w.skipped.as_deref(),
                    held: &w.held,
                    findings: findings(command, w),
                })
                .collect(),
            passed_through: &r.passed_through,
        },
        Err(e) => File {
            path: &o.path,
            error: Some(FileError {
                line: e.pos.map(|p| p.line),
                col: e.pos.map(|p| p.col),
                message: &e.message,
            }),
            changed: false,
            written: false,
            workloads: Vec::new(),
            passed_through: &[],
        },
    }
}

/// The findings a command reports for one workload, in the official check order.
///
/// `check` reports the violations as found (`before`). `diff` and `fix` report what the
/// fixes resolve (in `before`, not in `after`: worded as found) and what is left (`after`:
/// worded as it stands after the fixes). Either way `fixed` says whether the planned fixes
/// resolve the check, so a `check` run also tells which findings `fix` would take care of.
pub(super) fn findings<'a>(command: Command, w: &'a WorkloadReport) -> Vec<Finding<'a>> {
    let left = |id: &str| w.after().iter().find(|v| v.check == id);
    let mut out: Vec<Finding<'a>> = w
        .before
        .iter()
        .map(|v| match (command, left(v.check)) {
            (Command::Check, after) => finding(w, v, after.is_none()),
            (_, Some(after)) => finding(w, after, false),
            (_, None) => finding(w, v, true),
        })
        .collect();
    if command != Command::Check {
        // A check failing only after the fixes would be a bug elsewhere; never hide it.
        for v in w.after() {
            if !w.before.iter().any(|b| b.check == v.check) {
                out.push(finding(w, v, false));
            }
        }
    }
    out
}

fn finding<'a>(w: &'a WorkloadReport, v: &'a Violation, fixed: bool) -> Finding<'a> {
    let info = check_info(v.check);
    let notes: Vec<_> = w.notes.iter().filter(|n| n.check == v.check).collect();
    // Several notes for one check (one per container): the least trusted decides.
    let fix_applicability = fix_applicability(w, v.check);
    let note = (!notes.is_empty()).then(|| {
        notes
            .iter()
            .map(|n| n.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    });
    let paths = |action: Action| {
        let mut out: Vec<String> = Vec::new();
        for a in &w.added {
            if a.check == v.check && a.action == action {
                let path = a.path();
                if !out.contains(&path) {
                    out.push(path);
                }
            }
        }
        out
    };
    Finding {
        check: v.check,
        level: info.map_or(Level::Restricted, |c| c.level),
        reason: &v.reason,
        detail: &v.detail,
        message: v.message(),
        line: w.line,
        col: w.col,
        fix_applicability,
        fixed,
        note,
        added: paths(Action::Added),
        changed: paths(Action::Changed),
        removed: paths(Action::Removed),
    }
}

/// The counts at the end of the JSON report, read from [`Totals`] (also used by the
/// Markdown title).
pub(super) fn summary(run: &Run<'_>) -> Summary {
    let t = Totals::of_run(run);
    Summary {
        files: t.files,
        files_changed: t.files_changed,
        files_written: t.files_written,
        workloads: t.workloads,
        workloads_failing: t.workloads_failing,
        workloads_fixed: t.workloads_fixed,
        workloads_fixable: t.workloads_fixable,
        workloads_unsafe: t.workloads_unsafe,
        workloads_manual: t.workloads_manual,
        violations_found: t.violations_found,
        violations_fixed: t.violations_fixed,
        violations_left: t.violations_left,
        errors: t.errors,
        documents_passed_through: t.documents_passed_through,
    }
}
