//! One round of fixing a run of documents: parse, find the workloads, check them, plan the
//! fixes, render them as edits in each document's style, splice. A round that reads back an
//! earlier round's output also checks each document against what that round planned.

use crate::edit::guard::{self, Issue, IssueKind};
use crate::edit::plan::{Change, Planner, Refusal};
use crate::edit::{apply, render, Edit};
use crate::error::{Error, Pos};
use crate::policy::check;
use crate::policy::exempt::Scope;
use crate::policy::remedy::{self, Action};
use crate::policy::view::{pod_view, PodView};
use crate::policy::workload::{self, Workload};
use crate::policy::{Level, Policy};
use crate::yaml::canon::{fingerprint, fingerprint_with};
use crate::yaml::source::{Eol, LineIndex};
use crate::yaml::style::DocStyle;
use crate::yaml::{Document, Documents, Node};

use super::helm::helm_source;
use super::report::new_report;
use super::{Base, Options, Remark, WorkloadReport};

#[derive(Default)]
pub(super) struct Round {
    pub(super) output: Option<String>,
    /// Fingerprint per document of what the output must read back as (0 for an unchanged
    /// document when only changed ones are read back).
    pub(super) expected: Vec<u64>,
    /// Per document: this round edits it.
    pub(super) changed: Vec<bool>,
    /// Per document: 1-based line of its start in the input, in the file's terms.
    pub(super) lines: Vec<usize>,
    /// Per document: byte offset of its start (`---`, or the first content).
    starts: Vec<usize>,
    /// Per document: how much its edits lengthen it, and the bytes they touch.
    grown: Vec<isize>,
    touched: Vec<Option<(usize, usize)>>,
    pub(super) reports: Vec<WorkloadReport>,
}

impl Round {
    /// Record a document this round leaves alone, which must read back as `fp`.
    fn unchanged(&mut self, fp: u64) {
        self.expected.push(fp);
        self.changed.push(false);
        self.grown.push(0);
        self.touched.push(None);
    }

    /// Where each document lies in the output, when each one after the first starts with a
    /// `---` line and every edit stays inside its own document: document `i` runs from its
    /// start to the next one's (the first from byte 0, taking in directives and comments).
    pub(super) fn output_spans(&self, text: &str) -> Option<Vec<std::ops::Range<usize>>> {
        let mut spans = Vec::with_capacity(self.starts.len());
        let mut shift = 0isize;
        for (i, &start) in self.starts.iter().enumerate() {
            let start = if i == 0 { 0 } else { start };
            let end = self.starts.get(i + 1).copied().unwrap_or(text.len());
            if i > 0 && !text[start..].starts_with("---") {
                return None;
            }
            if let Some((lo, hi)) = self.touched[i] {
                if (i > 0 && lo <= start) || hi > end {
                    return None;
                }
            }
            let from = start.checked_add_signed(shift)?;
            shift += self.grown[i];
            spans.push(from..end.checked_add_signed(shift)?);
        }
        Some(spans)
    }
}

/// What one round tells the next: the fingerprint each output document must have, which
/// documents it changed (the others need verifying, not checking again), and where each
/// document started in the input (for messages).
pub(super) struct Previous<'p> {
    pub(super) expected: &'p [u64],
    pub(super) changed: &'p [bool],
    pub(super) lines: &'p [usize],
}

/// Which reading of a run a round is.
pub(super) enum Look<'p> {
    /// The input's: `independent` says whether its documents are independent
    /// ([`crate::yaml::source::independent_documents`]), worked out once for the run.
    First { independent: bool },
    /// A fixed text's, each document read back against what the previous round planned.
    Again(Previous<'p>),
}

/// One pass: parse, check, plan, render, splice. Read [`Look::Again`], each document must
/// also read back as the previous round planned. `all_fingerprints`: hash unchanged
/// documents too (the next round reads the whole text back).
pub(super) fn round(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
    look: Look<'_>,
    all_fingerprints: bool,
) -> Result<Round, Error> {
    let (verify, independent) = match look {
        Look::First { independent } => (None, Some(independent)),
        Look::Again(prev) => (Some(prev), None),
    };
    let pass = Pass {
        name,
        text,
        opts,
        base,
        eol: Eol::of(text),
        lines: LineIndex::new(text),
    };
    let mut at_document = 0;
    let lines_of = verify.as_ref().map(|p| p.lines);
    pass.run(verify, independent, all_fingerprints, &mut at_document)
        .map_err(|mut e| {
            match lines_of {
                // A position in fixed text would mean nothing to the reader: name the document.
                Some(lines) => e.pos = lines.get(at_document).map(|&line| Pos { line, col: 1 }),
                None => {
                    if let Some(p) = e.pos.as_mut() {
                        p.line += base.line;
                    }
                }
            }
            e
        })
}

/// What every step of a round reads: the run's text, where it sits in its file, the options.
struct Pass<'t> {
    name: &'t str,
    text: &'t str,
    opts: &'t Options,
    base: Base,
    eol: Eol,
    lines: LineIndex,
}

impl Pass<'_> {
    /// The round itself; `at_document` follows the document being read, for `round` to name
    /// it in an error.
    fn run(
        &self,
        verify: Option<Previous<'_>>,
        independent: Option<bool>,
        all_fingerprints: bool,
        at_document: &mut usize,
    ) -> Result<Round, Error> {
        let (name, opts) = (self.name, self.opts);
        let mut edits = Vec::new();
        let mut out = Round::default();
        let mut documents = Documents::new(self.text);
        if let Some(independent) = independent {
            documents = documents.independent(independent);
        }
        // A first look that needs no fingerprint of unchanged documents builds trees only for
        // those whose kind may hold a workload.
        if !all_fingerprints && independent == Some(true) {
            let kinds = &opts.context.config.kinds;
            documents =
                documents.skimming_kinds(Box::new(move |kind| workload::may_be_kind(kind, kinds)));
        }
        for doc in documents {
            *at_document = out.expected.len();
            let doc = doc.map_err(|e| e.in_file(name))?;
            self.document(
                &doc,
                verify.as_ref(),
                all_fingerprints,
                &mut out,
                &mut edits,
            )?;
        }
        *at_document = 0;
        self.splice(out, edits, verify.as_ref())
    }

    /// The position of byte `at`, in the file's terms (for reports).
    fn pos(&self, at: usize) -> Pos {
        let mut p = self.lines.pos(self.text, at);
        p.line += self.base.line;
        p
    }

    /// A refusal as an error; `round` puts its position in the file's terms.
    fn refuse(&self, r: Refusal) -> Error {
        r.locate(self.text, &self.lines).in_file(self.name)
    }

    /// A message about byte `at`, placed in the file's terms.
    fn remark(&self, message: String, at: usize) -> Remark {
        let at = self.pos(at);
        Remark {
            message,
            line: at.line,
            col: at.col,
        }
    }

    /// Check one document against the previous round, then check and plan each of its
    /// workloads and render what they need as `edits`.
    fn document(
        &self,
        doc: &Document<'_>,
        verify: Option<&Previous<'_>>,
        all_fingerprints: bool,
        out: &mut Round,
        edits: &mut Vec<Edit>,
    ) -> Result<(), Error> {
        let index = self.base.document + doc.index;
        out.lines.push(self.pos(doc.start).line);
        out.starts.push(doc.start);
        if doc.skimmed {
            out.unchanged(0);
            return Ok(());
        }
        // A document is hashed once per round: as it is when checking the previous round
        // or when nothing changes, as planned when it changes.
        let fp = verify.map(|_| fingerprint(&doc.root));
        if let (Some(prev), Some(fp)) = (verify, fp) {
            if prev.expected.get(doc.index) != Some(&fp) {
                return Err(Error::new(
                    self.name,
                    None,
                    "the document does not read back as the input plus the planned changes",
                ));
            }
            if !prev.changed.get(doc.index).copied().unwrap_or(true) {
                // Untouched last round: verified, and its findings still stand.
                out.unchanged(fp);
                return Ok(());
            }
        }
        let kinds = &self.opts.context.config.kinds;
        let data = self.data(doc)?;
        let mut planner = Planner::new(&doc.root, data);
        let first_report = out.reports.len();
        // A later round's report only adds what it changed and what is left (see `merge`):
        // what describes the workload as found is worked out once.
        let first_look = verify.is_none();
        for w in workload::find(data, kinds) {
            let report = self.workload(doc, data, &w, index, first_look, &mut planner)?;
            out.reports.push(report);
        }
        let changes = planner.into_changes();
        if changes.iter().any(|c| c.op.is_unsafe()) {
            // This round only changes values; the additions planned beside them come next round.
            for report in &mut out.reports[first_report..] {
                report.added.retain(|a| a.action != Action::Added);
            }
        }
        if changes.is_empty() {
            out.unchanged(match fp {
                Some(fp) => fp,
                None if all_fingerprints => fingerprint(&doc.root),
                None => 0,
            });
            return Ok(());
        }
        self.render(doc, &changes, out, edits)
    }

    /// `doc` as data, for reading. Aliases and merge keys are resolved only for documents
    /// that hold a workload.
    fn data<'d, 'a>(&self, doc: &'d Document<'a>) -> Result<&'d Node<'a>, Error> {
        if doc.refers() && workload::find(&doc.root, &self.opts.context.config.kinds).is_empty() {
            return Ok(&doc.root);
        }
        doc.data().map_err(|u| {
            self.refuse(Refusal {
                at: u.at,
                message: u.message.clone(),
            })
        })
    }

    /// Check one workload of `doc` (`data` is the document with aliases resolved) and plan
    /// its fixes with `planner`.
    fn workload(
        &self,
        doc: &Document<'_>,
        data: &Node<'_>,
        w: &Workload,
        index: usize,
        first_look: bool,
        planner: &mut Planner<'_, '_>,
    ) -> Result<WorkloadReport, Error> {
        let at = self.pos(w.at);
        let mut report = new_report(index, w, at.line, at.col);
        if first_look {
            report.source = helm_source(
                self.text,
                doc.start,
                &doc.root,
                doc.root.at(w.object.segs()),
            );
        }
        let policy = self.opts.policy_for(&w.namespace);
        report.policy = policy;
        // Reading back safe fixes, nothing may be planned: typo twins cannot matter, and
        // the data is the input (checked already) plus typed values.
        let issues = if first_look || self.opts.allow.unsafe_fixes {
            guard::inspect(data, &w.meta, &w.spec)
        } else {
            Vec::new()
        };
        // A value of the wrong type stops the typed view; say it the guard's way.
        if let Some(bad) = issues
            .iter()
            .find(|i| matches!(i.kind, IssueKind::WrongType { .. }))
        {
            return Err(Error::new(
                self.name,
                Some(self.lines.pos(self.text, bad.at)),
                bad.message(),
            ));
        }
        if first_look {
            report.issues = issues
                .iter()
                .map(|i| self.remark(i.message(), i.at))
                .collect();
        }
        let Some(view) = pod_view(data, w).map_err(|r| self.refuse(r))? else {
            report.skipped = Some("no pod spec".into());
            return Ok(report);
        };
        let scope = Scope::new(&self.opts.context.config, data, w, &view);
        let found = check::evaluate(policy, &view.meta, &view.spec);
        if first_look {
            report.highest = highest(policy, &view, found.is_empty());
        }
        (report.before, report.exempted) = scope.apply(policy, &view, found);
        if !report.before.is_empty() && !self.opts.findings_only {
            self.plan(w, &view, &scope, &issues, planner, &mut report);
        }
        Ok(report)
    }

    /// Plan the fixes for a workload's violations into `report`: what is added, the notes,
    /// the edits held back, and a warning for a field added beside its misspelled twin.
    fn plan(
        &self,
        w: &Workload,
        view: &PodView,
        scope: &Scope<'_>,
        issues: &[Issue],
        planner: &mut Planner<'_, '_>,
        report: &mut WorkloadReport,
    ) {
        // An edit that cannot be placed is held back on its own, with its reason
        // (`Decisions::held`); one that stops the whole plan takes back what this workload
        // planned, never the file's other workloads.
        let mark = planner.mark();
        let d = match remedy::plan(w, view, &report.before, self.opts.allow, scope, planner) {
            Ok(d) => d,
            Err(r) => {
                planner.rollback(mark);
                remedy::Decisions {
                    held: vec![r],
                    ..Default::default()
                }
            }
        };
        report.held = d
            .held
            .into_iter()
            .map(|r| self.remark(r.message, r.at))
            .collect();
        report.added = d.added;
        report.notes = d.notes;
        for a in &report.added {
            if let Some(twin) = guard::twin_of(issues, &a.at) {
                report.warnings.push(format!(
                    "{} added next to its misspelled twin on line {}, which the API server ignores: {}",
                    a.at,
                    self.pos(twin.at).line,
                    twin.message()
                ));
            }
        }
    }

    /// Render a document's planned `changes` as `edits`, and record what the output must
    /// read back as.
    fn render(
        &self,
        doc: &Document<'_>,
        changes: &[Change],
        out: &mut Round,
        edits: &mut Vec<Edit>,
    ) -> Result<(), Error> {
        let style = DocStyle::of(self.text, &doc.root, self.eol);
        let mut grown = 0isize;
        let mut touched: Option<(usize, usize)> = None;
        for change in changes {
            for e in
                render::edits(self.text, &doc.root, &style, change).map_err(|r| self.refuse(r))?
            {
                grown += e.content().len() as isize - (e.end() - e.start()) as isize;
                touched = Some(touched.map_or((e.start(), e.end()), |(lo, hi)| {
                    (lo.min(e.start()), hi.max(e.end()))
                }));
                edits.push(e);
            }
        }
        out.changed.push(true);
        out.grown.push(grown);
        out.touched.push(touched);
        out.expected.push(fingerprint_with(&doc.root, changes));
        Ok(())
    }

    /// Check that the round read as many documents as the previous one planned, then splice
    /// the `edits` into the text.
    fn splice(
        &self,
        mut out: Round,
        edits: Vec<Edit>,
        verify: Option<&Previous<'_>>,
    ) -> Result<Round, Error> {
        if let Some(prev) = verify {
            if prev.expected.len() != out.expected.len() {
                return Err(Error::new(
                    self.name,
                    None,
                    format!(
                        "the fixed text reads back as {} documents where the input has {}",
                        out.expected.len(),
                        prev.expected.len()
                    ),
                ));
            }
        }
        if !edits.is_empty() {
            out.output = Some(apply(self.text, edits).map_err(|o| {
                Error::new(
                    self.name,
                    Some(self.lines.pos(self.text, o.at)),
                    "internal: two planned edits overlap; nothing written",
                )
            })?);
        }
        Ok(out)
    }
}

/// The highest level a workload passes as it stands. At restricted, whether it passes
/// (`passes_policy`) was just found, which answers the first half.
fn highest(policy: Policy, view: &PodView, passes_policy: bool) -> Level {
    match (policy.level, passes_policy) {
        (Level::Restricted, true) => Level::Restricted,
        (Level::Restricted, false) => {
            let baseline = Policy::new(Level::Baseline, policy.version);
            if check::passes(baseline, &view.meta, &view.spec) {
                Level::Baseline
            } else {
                Level::Privileged
            }
        }
        _ => check::highest_level(policy.version, &view.meta, &view.spec),
    }
}
