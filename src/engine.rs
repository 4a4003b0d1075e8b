//! One file, end to end: parse each document, find its workloads, check them, plan the fixes,
//! render them as edits, splice, then verify the result before anyone sees it.
//!
//! Verification re-parses the output and requires the same number of documents, each equal as
//! data to its input document plus exactly the planned changes, and a re-check that plans
//! nothing more. Any disagreement is an error for the file: no output, nothing written.

use crate::check::{self, Violation};
use crate::error::Error;
use crate::fix::apply;
use crate::fixes::{self, Added, Note};
use crate::plan::{Planner, Refusal};
use crate::policy::{Level, Policy};
use crate::render;
use crate::source::{Eol, LineIndex};
use crate::view::pod_view;
use crate::workload::{self, Workload};
use crate::yaml::canon::{fingerprint, fingerprint_with};
use crate::yaml::style::DocStyle;
use crate::yaml::Documents;

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub policy: Policy,
}

/// What happened to one workload.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WorkloadReport {
    /// 0-based document index in the stream.
    pub document: usize,
    /// 1-based item index inside a `kind: List`.
    pub item: Option<usize>,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// 1-based line of the object in the input.
    pub line: usize,
    /// Violations as the input stands.
    pub before: Vec<Violation>,
    /// Violations left after the planned fixes (equal to `before` when nothing changes).
    pub after: Vec<Violation>,
    pub added: Vec<Added>,
    pub notes: Vec<Note>,
    /// Why the workload was not checked (e.g. it has no pod spec).
    pub skipped: Option<String>,
}

impl WorkloadReport {
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

#[derive(Debug, Default)]
pub struct FileReport {
    /// The fixed text, when it differs from the input.
    pub output: Option<String>,
    pub documents: usize,
    pub workloads: Vec<WorkloadReport>,
}

/// Check and fix one file's text. `name` is used in messages only.
pub fn process(name: &str, text: &str, opts: &Options) -> Result<FileReport, Error> {
    let eol = Eol::of(text);
    let lines = LineIndex::new(text);
    let refuse = |r: Refusal| r.locate(text, &lines).in_file(name);
    let mut edits = Vec::new();
    let mut expected = Vec::new();
    let mut reports = Vec::new();
    for doc in Documents::new(text) {
        let doc = doc.map_err(|e| e.in_file(name))?;
        let mut planner = Planner::new(&doc.root);
        for w in workload::find(&doc.root) {
            let mut report = new_report(doc.index, &w, text, &lines);
            match pod_view(&doc.root, &w).map_err(refuse)? {
                None => report.skipped = Some("no pod spec".into()),
                Some(view) => {
                    report.before = check::evaluate(opts.policy, &view.meta, &view.spec);
                    report.after = report.before.clone();
                    if opts.policy.level == Level::Restricted && !report.before.is_empty() {
                        let d = fixes::plan_safe(&w, &view, &report.before, &mut planner)
                            .map_err(refuse)?;
                        report.added = d.added;
                        report.notes = d.notes;
                    }
                }
            }
            reports.push(report);
        }
        let changes = planner.into_changes();
        if changes.is_empty() {
            expected.push(fingerprint(&doc.root));
        } else {
            let style = DocStyle::of(text, &doc.root, eol);
            for change in &changes {
                edits.extend(render::edits(text, &doc.root, &style, change).map_err(refuse)?);
            }
            expected.push(fingerprint_with(&doc.root, &changes));
        }
    }
    let documents = expected.len();
    if edits.is_empty() {
        return Ok(FileReport {
            output: None,
            documents,
            workloads: reports,
        });
    }
    let out = apply(text, edits).map_err(|o| {
        Error::new(
            name,
            Some(lines.pos(text, o.at)),
            "internal: two planned edits overlap; nothing written",
        )
    })?;
    verify(name, &out, &expected, opts, &mut reports)?;
    Ok(FileReport {
        output: Some(out),
        documents,
        workloads: reports,
    })
}

fn new_report(document: usize, w: &Workload, text: &str, lines: &LineIndex) -> WorkloadReport {
    WorkloadReport {
        document,
        item: w.item,
        kind: w.kind.clone(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        line: lines.pos(text, w.at).line,
        before: Vec::new(),
        after: Vec::new(),
        added: Vec::new(),
        notes: Vec::new(),
        skipped: None,
    }
}

/// Re-parse `out` and hold it to the plan; record the violations that remain.
fn verify(
    name: &str,
    out: &str,
    expected: &[u64],
    opts: &Options,
    reports: &mut [WorkloadReport],
) -> Result<(), Error> {
    let fail = |msg: String| {
        Error::new(
            name,
            None,
            format!("verification failed, nothing written: {msg}"),
        )
    };
    let mut seen = 0;
    let mut next_report = 0;
    for doc in Documents::new(out) {
        let doc = doc.map_err(|e| fail(format!("the fixed text does not parse: {}", e.message)))?;
        let Some(&want) = expected.get(doc.index) else {
            return Err(fail(format!(
                "the fixed text has more than {} documents",
                expected.len()
            )));
        };
        if fingerprint(&doc.root) != want {
            return Err(fail(format!(
                "document {} does not read back as the input plus the planned changes",
                doc.index + 1
            )));
        }
        for w in workload::find(&doc.root) {
            let report = reports
                .get_mut(next_report)
                .ok_or_else(|| fail("the fixed text has more workloads than the input".into()))?;
            next_report += 1;
            let Some(view) = pod_view(&doc.root, &w).map_err(|r| fail(r.message))? else {
                continue;
            };
            report.after = check::evaluate(opts.policy, &view.meta, &view.spec);
            if opts.policy.level == Level::Restricted && !report.after.is_empty() {
                let mut planner = Planner::new(&doc.root);
                fixes::plan_safe(&w, &view, &report.after, &mut planner)
                    .map_err(|r| fail(r.message))?;
                if !planner.is_empty() {
                    return Err(fail(format!(
                        "{} still needs a safe fix after fixing (the fixes do not converge)",
                        w.label()
                    )));
                }
            }
        }
        seen += 1;
    }
    if seen != expected.len() {
        return Err(fail(format!(
            "the fixed text has {seen} documents, the input {}",
            expected.len()
        )));
    }
    Ok(())
}
