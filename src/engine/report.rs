//! What the engine tells its caller: per workload ([`WorkloadReport`]), per file
//! ([`FileReport`], with the documents that [`PassedThrough`]), and the fixed text as the runs
//! it was made in ([`Fixed`]). Also how a later round's findings fold into the first round's
//! ([`merge`]): the only place a report's `after` is written besides its creation.

use crate::edit::Applicability;
use crate::policy::check::Violation;
use crate::policy::remedy::{Added, Note};
use crate::policy::workload::Workload;
use crate::policy::{Level, Policy};

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
    /// The file the object came from in a Helm render (Helm 3's `# Source:` comment, Helm 4's
    /// `postrenderer.helm.sh/postrender-filename` annotation), for messages.
    pub source: Option<String>,
    /// 1-based line and column of the object in the input.
    pub line: usize,
    pub col: usize,
    /// The highest level the workload passes as it stands, at the run's policy version.
    pub highest: Level,
    /// The level and version it is judged at.
    pub policy: Policy,
    /// Violations an exemption (configuration or `pss-fix.dev/ignore`) set aside.
    pub exempted: Vec<Violation>,
    /// Fields inside the pod template the API does not know (`runAsNonroot`).
    pub issues: Vec<Remark>,
    /// What a person should know about the fixes made (kept across rounds).
    pub warnings: Vec<String>,
    /// Violations as the input stands.
    pub before: Vec<Violation>,
    /// Violations left after the planned fixes; `None` when nothing changed them (most
    /// workloads: one copy of the findings, not two). Read through [`WorkloadReport::after`].
    #[serde(skip)]
    after: Option<Vec<Violation>>,
    pub added: Vec<Added>,
    pub notes: Vec<Note>,
    /// Why the workload was not checked (e.g. it has no pod spec).
    pub skipped: Option<String>,
    /// Edits held back, each at the node it would have had to go inside (an alias, an
    /// anchored node, a merged mapping) and why. Only those edits: the workload's other
    /// fixes, and the file's other workloads, are made all the same.
    pub held: Vec<Remark>,
}

/// A message about one place in the input (an unknown field, an edit held back), with its
/// 1-based line and column.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Remark {
    pub message: String,
    pub line: usize,
    pub col: usize,
}

impl WorkloadReport {
    /// Violations left after the planned fixes (equal to `before` when nothing changes).
    pub fn after(&self) -> &[Violation] {
        self.after.as_deref().unwrap_or(&self.before)
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

#[derive(Debug, Default)]
pub struct FileReport {
    /// The fixed text, when it differs from the input (see [`super::process_in_parts`]).
    pub output: Option<String>,
    /// The fixes change the text.
    pub changed: bool,
    pub documents: usize,
    pub workloads: Vec<WorkloadReport>,
    /// Documents left exactly as they came, because they could not be safely edited (only
    /// with [`super::Options::pass_through`]; otherwise such a document is an error for the file).
    pub passed_through: Vec<PassedThrough>,
}

/// A document pss-fix could not safely edit, passed through byte for byte.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassedThrough {
    /// 0-based index of the document in the stream; `None` when the whole stream passed
    /// through (its documents depend on each other: a `%` directive, a `...` line).
    pub document: Option<usize>,
    /// Where the problem is (1-based), else where the document starts.
    pub line: usize,
    pub col: usize,
    /// Why: the error that would otherwise have stopped the stream.
    pub message: String,
    /// `Kind/name` of the object, when the document could be read.
    pub object: Option<String>,
    /// The template it came from in a Helm render (as [`WorkloadReport::source`]).
    pub source: Option<String>,
}

/// The fixed text of a stream, as the runs it was processed in: each one either the input's
/// own bytes (nothing in it changed) or its fixed text.
#[derive(Debug)]
pub struct Fixed {
    pub(super) parts: Vec<Part>,
}

#[derive(Debug)]
pub(super) enum Part {
    Input(std::ops::Range<usize>),
    Fixed(String),
}

impl Fixed {
    /// The pieces of the fixed text in order; `input` is the text it was made from.
    pub fn pieces<'s>(&'s self, input: &'s str) -> impl Iterator<Item = &'s str> {
        self.parts.iter().map(move |p| match p {
            Part::Input(r) => &input[r.clone()],
            Part::Fixed(s) => s.as_str(),
        })
    }

    /// The fixed text in one buffer of exactly its size (the first run's own, when it has
    /// one), each run's text dropped as soon as it is copied.
    pub fn join(self, input: &str) -> String {
        let len = |p: &Part| match p {
            Part::Input(r) => r.len(),
            Part::Fixed(s) => s.len(),
        };
        let total: usize = self.parts.iter().map(len).sum();
        let mut parts = self.parts.into_iter();
        let mut out = match parts.next() {
            Some(Part::Fixed(s)) => s,
            Some(Part::Input(r)) => {
                let mut s = String::with_capacity(total);
                s.push_str(&input[r]);
                s
            }
            None => String::new(),
        };
        out.reserve_exact(total - out.len());
        for part in parts {
            match part {
                Part::Input(r) => out.push_str(&input[r]),
                Part::Fixed(s) => out.push_str(&s),
            }
        }
        out
    }
}

pub(super) fn new_report(document: usize, w: &Workload, line: usize, col: usize) -> WorkloadReport {
    WorkloadReport {
        document,
        item: w.item,
        kind: w.kind.clone(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        source: None,
        line,
        col,
        highest: Level::Privileged,
        policy: Policy::default(),
        exempted: Vec::new(),
        issues: Vec::new(),
        warnings: Vec::new(),
        before: Vec::new(),
        after: None,
        added: Vec::new(),
        notes: Vec::new(),
        skipped: None,
        held: Vec::new(),
    }
}

/// Fold a later round's reports (only for the documents it looked at again) into the first
/// round's, workload by workload.
pub(super) fn merge(
    reports: &mut [WorkloadReport],
    later: Vec<WorkloadReport>,
) -> Result<(), String> {
    let mut j = 0;
    for l in later {
        while j < reports.len() && reports[j].document < l.document {
            j += 1;
        }
        let Some(report) = reports.get_mut(j).filter(|r| r.document == l.document) else {
            return Err(format!(
                "document {} has more workloads than before",
                l.document + 1
            ));
        };
        report.added.extend(l.added);
        report.warnings.extend(l.warnings);
        // What is held back was found by the first round, at the input's lines; a later
        // round reads the fixed text, so its lines would point elsewhere.
        report.after = Some(l.after.unwrap_or(l.before));
        // Notes on applied fixes stay; notes on what is left come from the last round.
        report
            .notes
            .retain(|n| n.applicability == Applicability::Safe);
        report.notes.extend(l.notes);
        j += 1;
    }
    Ok(())
}
