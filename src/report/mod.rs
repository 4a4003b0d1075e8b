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
/// Whether [`remaining_text`] says anything of `w`: the rest of a large stream's reports
/// need not be kept for it.
pub fn has_remaining_text(w: &WorkloadReport) -> bool {
    !w.issues.is_empty() || !w.warnings.is_empty() || !w.after().is_empty()
}

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

/// What the fixes do for one workload that fails its level as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The fixes made (or, for `check` and `diff`, would make) it pass.
    Fixed,
    /// `fix` would make it pass, but its file was not written (declined, a write error), or
    /// no fixes were planned (`check` in text form: judged by each check's kind of fix).
    Fixable,
    /// What is left needs `--unsafe` (value-changing fixes), which was not given.
    Unsafe,
    /// Something left needs a person.
    Manual,
}

/// How sure pss-fix is about fixing one check of one workload: the least trusted of its
/// fix notes for that check (one per container), else the check's own kind of fix.
pub fn fix_applicability(w: &WorkloadReport, check: &str) -> Applicability {
    w.notes
        .iter()
        .filter(|n| n.check == check)
        .map(|n| n.applicability)
        .min()
        .or(crate::policy::check::check_info(check).map(|c| c.fix_safety))
        .unwrap_or(Applicability::Manual)
}

/// What the fixes do for `w`, or `None` when it passes as found. `applied`: the file's fixes
/// count as made (see [`applied`]); `planned`: the engine planned fixes (every mode but
/// `check` in text form); `unsafe_given`: `--unsafe` was on, so nothing is left for it.
pub fn fate(w: &WorkloadReport, applied: bool, planned: bool, unsafe_given: bool) -> Option<Fate> {
    if w.before.is_empty() {
        return None;
    }
    if planned && w.after().is_empty() {
        return Some(if applied { Fate::Fixed } else { Fate::Fixable });
    }
    // By each remaining check's kind of fix, not by the notes: a safe fix held back next to
    // `privileged: true` is noted as manual, yet `--unsafe` (privileged: false) lets it in.
    // Anything with no fix at all needs a person; what is left for `--unsafe` waits for it;
    // safe fixes alone fix it when none were planned, and when they were planned and still
    // left something (a held-back edit, a Windows pod) a person must look.
    let kinds: Vec<Applicability> = w
        .after()
        .iter()
        .map(|v| {
            crate::policy::check::check_info(v.check)
                .map_or(Applicability::Manual, |c| c.fix_safety)
        })
        .collect();
    let any = |k: Applicability| kinds.contains(&k);
    Some(if any(Applicability::Manual) {
        Fate::Manual
    } else if any(Applicability::Unsafe) && !unsafe_given {
        Fate::Unsafe
    } else if !planned {
        Fate::Fixable
    } else {
        Fate::Manual
    })
}

/// A file's fixes count as made: always for `check` and `diff` (they say what `fix` would
/// do), for `fix` when the file was written, had nothing to write, or was a stream (its
/// fixed text went to stdout).
pub fn applied(command: Command, o: &Outcome) -> bool {
    let changed = o.result.as_ref().is_ok_and(|r| r.changed);
    command != Command::Fix || o.written || !changed || o.path == "<stdin>"
}

/// The counts of a run, in one place: the closing summary of the text output, the JSON
/// report's `summary` and the Markdown title are all read from here.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Inputs read, errors included.
    pub files: usize,
    /// Files the fixes change (pending for `check` and `diff`, made or declined for `fix`).
    pub files_changed: usize,
    /// Files the fixes change, counted only when the change counts as made ([`applied`]).
    pub files_applied: usize,
    /// Files written to disk (`fix` only).
    pub files_written: usize,
    /// Files with a workload failing its level as found.
    pub files_failing: usize,
    pub workloads: usize,
    /// Workloads failing their level as found.
    pub workloads_failing: usize,
    /// Failing workloads by [`Fate`].
    pub workloads_fixed: usize,
    pub workloads_fixable: usize,
    pub workloads_unsafe: usize,
    pub workloads_manual: usize,
    pub violations_found: usize,
    /// Violations the fixes resolve, and those left (all of a file's when its fixes do not
    /// count as made).
    pub violations_fixed: usize,
    pub violations_left: usize,
    /// Inputs that could not be read, parsed or safely edited (or written).
    pub errors: usize,
    pub documents_passed_through: usize,
    /// Workloads that got `runAsNonRoot: true` with no UID to run as.
    pub run_as_non_root_caveats: usize,
    /// Inputs that could not be read or processed at all (not in `files - errors`: a file
    /// that was processed but not written is an error too).
    unprocessed: usize,
    /// The distinct policies the workloads were judged at, up to two (more are not named).
    policies: [Option<Policy>; 2],
}

impl Totals {
    /// The counts of a finished run, as the structured formats see it: every file's fixes
    /// planned, applied as [`applied`] says, `--unsafe` read from the reports.
    pub fn of_run(run: &Run<'_>) -> Totals {
        let mut t = Totals::default();
        for o in run.files {
            match &o.result {
                Err(_) => t.add_error(),
                Ok(r) => t.add(r, applied(run.command, o), o.written, true, false),
            }
        }
        t
    }

    /// An input that could not be read or processed.
    pub fn add_error(&mut self) {
        self.files += 1;
        self.errors += 1;
        self.unprocessed += 1;
    }

    /// Count one file's report. `applied`: its fixes count as made; `written`: they reached
    /// the disk; `planned`: fixes were planned at all; `unsafe_given`: `--unsafe` was on.
    pub fn add(
        &mut self,
        report: &FileReport,
        applied: bool,
        written: bool,
        planned: bool,
        unsafe_given: bool,
    ) {
        let failing = self.add_workloads(&report.workloads, applied, planned, unsafe_given);
        self.add_file(report, failing, applied, written);
    }

    /// Count one file, its workloads counted apart with [`Totals::add_workloads`] (`failing`:
    /// one of them failed the level as found).
    pub fn add_file(&mut self, report: &FileReport, failing: bool, applied: bool, written: bool) {
        self.files += 1;
        self.files_changed += usize::from(report.changed);
        self.files_applied += usize::from(report.changed && applied);
        self.files_written += usize::from(written);
        self.documents_passed_through += report.passed_through.len();
        self.files_failing += usize::from(failing);
    }

    /// Count workloads of one file, as [`Totals::add`] does; whether one of them failed the
    /// level as found.
    pub fn add_workloads(
        &mut self,
        workloads: &[WorkloadReport],
        applied: bool,
        planned: bool,
        unsafe_given: bool,
    ) -> bool {
        for w in workloads {
            self.workloads += 1;
            self.note_policy(w.policy);
            self.violations_found += w.before.len();
            let left = if applied { w.after() } else { &w.before };
            self.violations_left += left.len();
            self.violations_fixed += w.before.len().saturating_sub(left.len());
            match fate(w, applied, planned, unsafe_given) {
                None => {}
                Some(f) => {
                    self.workloads_failing += 1;
                    *match f {
                        Fate::Fixed => &mut self.workloads_fixed,
                        Fate::Fixable => &mut self.workloads_fixable,
                        Fate::Unsafe => &mut self.workloads_unsafe,
                        Fate::Manual => &mut self.workloads_manual,
                    } += 1;
                }
            }
            if applied
                && w.notes
                    .iter()
                    .any(|n| n.applicability == Applicability::Safe)
            {
                self.run_as_non_root_caveats += 1;
            }
        }
        workloads.iter().any(|w| !w.before.is_empty())
    }

    fn note_policy(&mut self, p: Policy) {
        match self.policies {
            [None, _] => self.policies[0] = Some(p),
            [Some(a), None] if a != p => self.policies[1] = Some(p),
            _ => {}
        }
    }

    /// The tally line of `fix` (`verb` "changed") and `diff` ("would change"):
    /// `pss-fix: 3 files changed, 2 workloads fixed, 4 violations left`, and the
    /// runAsNonRoot caveat when it applies.
    pub fn line(&self, verb: &str) -> String {
        let mut line = format!(
            "pss-fix: {} {verb}, {} fixed, {} left",
            plural(self.files_applied, "file"),
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

    /// The closing summary: how many workloads fail, what each kind of fix does for them,
    /// and the command that applies the fixes. `fix` is that command as the user would type
    /// it (`pss-fix fix k8s/`), `None` where there is none to give (`post-render`, `krm`:
    /// the fix is the flag in the pipeline); `unsafe_fix` the same with `--unsafe`.
    ///
    /// `pss-fix: 12 of 40 workloads fail restricted:latest (in 4 of 9 files): 9 fixable with
    /// `pss-fix fix k8s/`, 2 more with `pss-fix fix --unsafe k8s/`, 1 needs a person; 1 file
    /// could not be read.`
    pub fn summary(&self, command: Command, fix: Option<&str>, unsafe_fix: Option<&str>) -> String {
        let policy = match self.policies {
            [Some(p), None] => p.to_string(),
            [Some(_), Some(_)] => "their levels".to_owned(),
            [None, _] => Policy::default().to_string(),
        };
        let read = self.files - self.unprocessed;
        let files = match read {
            1 => String::new(),
            n => format!(" in {n} files"),
        };
        let mut out = if self.workloads_failing == 0 {
            match self.workloads {
                0 => format!("pss-fix: no workloads{}", files.replace(" in", " among")),
                1 => format!("pss-fix: the one workload passes {policy}"),
                n => format!("pss-fix: all {n} workloads pass {policy}{files}"),
            }
        } else {
            self.failing_line(command, &policy, read, fix, unsafe_fix)
        };
        if self.documents_passed_through > 0 {
            out.push_str(&format!(
                "; {} passed through unchanged",
                plural(self.documents_passed_through, "document")
            ));
        }
        if self.errors > 0 {
            out.push_str(&format!(
                "; {} could not be read, processed or written",
                plural(self.errors, "file")
            ));
        }
        out.push('.');
        out
    }

    /// The summary when some workload fails: how many, where, and what each command does
    /// about them (fixed or fixable, fixable with `--unsafe`, needing a person).
    fn failing_line(
        &self,
        command: Command,
        policy: &str,
        read: usize,
        fix: Option<&str>,
        unsafe_fix: Option<&str>,
    ) -> String {
        let (verb, found) = match (command, self.workloads_failing) {
            (Command::Check, 1) => ("fails", ""),
            (Command::Check, _) => ("fail", ""),
            _ => ("failed", " as found"),
        };
        let mut parts = Vec::new();
        let with = |cmd: Option<&str>| cmd.map_or(String::new(), |c| format!(" with `{c}`"));
        if self.workloads_fixed > 0 {
            parts.push(match command {
                Command::Fix => format!("{} fixed", self.workloads_fixed),
                _ => format!("{} fixable{}", self.workloads_fixed, with(fix)),
            });
        }
        if self.workloads_fixable > 0 {
            parts.push(match command {
                Command::Fix => format!("{} fixable but not written", self.workloads_fixable),
                _ => format!("{} fixable{}", self.workloads_fixable, with(fix)),
            });
        }
        if self.workloads_unsafe > 0 {
            let more = if parts.is_empty() {
                " fixable"
            } else {
                " more"
            };
            parts.push(match unsafe_fix {
                Some(c) => format!("{}{more} with `{c}`", self.workloads_unsafe),
                None => format!("{}{more} with --unsafe", self.workloads_unsafe),
            });
        }
        if self.workloads_manual > 0 {
            parts.push(format!(
                "{} {} a person",
                self.workloads_manual,
                if self.workloads_manual == 1 {
                    "needs"
                } else {
                    "need"
                }
            ));
        }
        let files_failing = match (read, self.files_failing) {
            (1, _) => String::new(),
            (2, 2) => " in both files".to_owned(),
            (n, f) if n == f => format!(" in all {n} files"),
            (n, f) => format!(" in {f} of {n} files"),
        };
        format!(
            "pss-fix: {} of {} {verb} {policy}{found}{files_failing}: {}",
            self.workloads_failing,
            plural(self.workloads, "workload"),
            parts.join(", ")
        )
    }
}

fn plural(n: usize, s: &str) -> String {
    format!("{n} {s}{}", if n == 1 { "" } else { "s" })
}
