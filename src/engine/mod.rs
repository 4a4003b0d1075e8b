//! One file, end to end: parse each document, find its workloads, check them, plan the fixes,
//! render them as edits, splice, then verify the result before anyone sees it.
//!
//! Verification re-parses the output and requires the same number of documents, each equal as
//! data to its input document plus exactly the planned changes, and a re-check that plans
//! nothing more. Any disagreement is an error for the file: no output, nothing written.
//!
//! A renderer's output on its way to a cluster (`post-render`, `krm`) is never failed for one
//! document: with [`Options::pass_through`], what would be an error for the file is narrowed
//! down to the documents that cause it, which pass through byte for byte and are reported
//! ([`FileReport::passed_through`]); the rest of the stream is fixed as usual.

use std::collections::HashMap;
use std::sync::Arc;

use crate::edit::guard::{self, IssueKind};
use crate::edit::plan::{Planner, Refusal};
use crate::edit::render;
use crate::edit::{apply, Applicability};
use crate::error::Error;
use crate::policy::check::{self, Violation};
use crate::policy::config::Config;
use crate::policy::exempt::Scope;
use crate::policy::remedy::{self, Action, Added, Allow, Note};
use crate::policy::view::pod_view;
use crate::policy::workload::{self, Workload};
use crate::policy::{Level, Policy};
use crate::yaml::canon::{fingerprint, fingerprint_with};
use crate::yaml::source::{Eol, LineIndex};
use crate::yaml::style::DocStyle;
use crate::yaml::{Documents, Node};

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The level for workloads the context does not place elsewhere.
    pub policy: Policy,
    /// Fixes beyond the safe ones (`--unsafe`, `--run-as-user`).
    pub allow: Allow,
    /// The input must be one KRM `ResourceList` (`pss-fix krm`).
    pub resource_list: bool,
    /// Report findings without planning fixes: `check` in text form, which says nothing of
    /// what `fix` would do, so pays for one parse and the checks only.
    pub findings_only: bool,
    /// The caller already keeps every core busy (many files at once): process on the
    /// calling thread, without cutting the text into runs for more threads.
    pub one_thread: bool,
    /// The input is a renderer's output on its way to a cluster (`post-render`, `krm`): a
    /// document that cannot be safely edited passes through unchanged, reported in
    /// [`FileReport::passed_through`], instead of stopping the stream (see
    /// [`process_in_parts`]); and no message suggests rendering it first.
    pub pass_through: bool,
    /// Project configuration and what the run learned about namespaces.
    pub context: Arc<Context>,
}

/// What applies beyond the file's own policy: exemptions and custom kinds from the project
/// configuration, and the levels the input's Namespace objects enforce.
#[derive(Debug, Default)]
pub struct Context {
    pub config: Config,
    /// `pod-security.kubernetes.io/enforce` (and `-version`) of Namespace objects, by name.
    pub namespaces: HashMap<String, Policy>,
    /// `--level` was given: it wins over namespace labels.
    pub level_locked: bool,
}

impl Options {
    /// The policy a workload in `namespace` is judged at.
    pub fn policy_for(&self, namespace: &str) -> Policy {
        if self.context.level_locked {
            return self.policy;
        }
        self.context
            .namespaces
            .get(namespace)
            .copied()
            .unwrap_or(self.policy)
    }
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
    /// The fixed text, when it differs from the input (see [`process_in_parts`]).
    pub output: Option<String>,
    /// The fixes change the text.
    pub changed: bool,
    pub documents: usize,
    pub workloads: Vec<WorkloadReport>,
    /// Documents left exactly as they came, because they could not be safely edited (only
    /// with [`Options::pass_through`]; otherwise such a document is an error for the file).
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

/// Rounds of fixing before giving up: unsafe fixes unlock further fixes (removing
/// `privileged: true` makes `allowPrivilegeEscalation: false` insertable), and each round
/// either changes values or adds fields. Safe fixes alone must settle in one round.
const MAX_UNSAFE_ROUNDS: usize = 8;

/// A stream is cut into runs of whole documents of at least this size, processed on every
/// core: below it a run's own costs (a parser, a report) would show.
const MIN_RUN: usize = 4 * 1024;

/// ...and of at most this size: workers take runs as they finish, so the last one to finish
/// runs alone for at most one short run, and a large stream's runs can be written out one by
/// one.
const MAX_RUN: usize = 1024 * 1024;

/// Runs per thread aimed at for a stream that is not large: documents differ in cost (a
/// Deployment against a ConfigMap), and several runs each even out what one run each would
/// leave to chance.
const RUNS_PER_THREAD: usize = 8;

/// Check and fix one file's text. `name` is used in messages only.
///
/// A stream is cut into runs of whole documents, each processed (and verified) on its own,
/// on every core: YAML documents do not depend on each other, and a line starting with `---`
/// is a document boundary wherever it appears. Each run numbers lines from the file's start;
/// document numbers are shifted back into the whole file's terms after.
pub fn process(name: &str, text: &str, opts: &Options) -> Result<FileReport, Error> {
    let (mut report, fixed) = process_in_parts(name, text, opts)?;
    report.output = fixed.map(|f| f.join(text));
    Ok(report)
}

/// [`process`], with the fixed text left in the runs it was made in (`report.output` is
/// `None`): a large stream is then written out run by run, never held twice.
///
/// With [`Options::pass_through`], a run that fails is taken apart: each of its documents
/// (from one `---` line to the next) is processed on its own, and one that still fails
/// passes through byte for byte, reported in [`FileReport::passed_through`]. The fast path
/// is untouched, and only the failed run is processed again. A stream whose documents depend
/// on each other (see [`crate::yaml::source::independent_documents`]) cannot be taken apart: it
/// passes through whole. Either way the result is an error only when no document of the
/// stream could be read at all: that input is not YAML.
pub fn process_in_parts(
    name: &str,
    text: &str,
    opts: &Options,
) -> Result<(FileReport, Option<Fixed>), Error> {
    if opts.resource_list {
        require_resource_list(name, text)?;
    }
    let threads = if opts.one_thread {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let mut runs = split_documents(text, threads);
    if runs.len() <= 1 || threads == 1 {
        runs = std::iter::once(0..text.len()).collect();
    }
    let mut bases = Vec::with_capacity(runs.len());
    let mut line = 0;
    for r in &runs {
        bases.push(Base { document: 0, line });
        line += count_lines(&text[r.clone()]);
    }
    let results = if runs.len() == 1 {
        vec![process_whole(name, text, opts, Base::default())]
    } else {
        process_runs(name, text, &runs, &bases, threads, opts)?
    };
    let mut whole = Joined::default();
    // Exactly sized: a stream of many workloads has many reports.
    whole.report.workloads.reserve_exact(
        results
            .iter()
            .map(|r| r.as_ref().map_or(0, |r| r.workloads.len()))
            .sum(),
    );
    whole.parts.reserve_exact(runs.len());
    let mut failure = None;
    for (i, result) in results.into_iter().enumerate() {
        let e = match result {
            Ok(report) => {
                whole.add(report, runs[i].clone());
                continue;
            }
            Err(e) if !opts.pass_through => return Err(e),
            Err(e) => e,
        };
        if !crate::yaml::source::independent_documents(text) {
            return pass_stream(text, e);
        }
        let pieces = document_pieces(text, runs[i].clone());
        if let [piece] = pieces.as_slice() {
            whole.pass(text, piece.clone(), bases[i].line, &e);
        } else {
            let mut line = bases[i].line;
            let mut counted = runs[i].start;
            for piece in pieces {
                line += count_lines(&text[counted..piece.start]);
                counted = piece.start;
                let base = Base { document: 0, line };
                match process_whole(name, &text[piece.clone()], opts, base) {
                    Ok(report) => whole.add(report, piece),
                    Err(e) => whole.pass(text, piece, line, &e),
                }
            }
        }
        failure.get_or_insert(e);
    }
    if let Some(e) = failure {
        if !whole.read {
            return Err(without_hint(e));
        }
    }
    let Joined {
        report,
        parts,
        read: _,
    } = whole;
    let fixed = report.changed.then_some(Fixed { parts });
    Ok((report, fixed))
}

/// Each run of `runs` processed on its own, on `threads` threads; the results in run order.
fn process_runs(
    name: &str,
    text: &str,
    runs: &[std::ops::Range<usize>],
    bases: &[Base],
    threads: usize,
    opts: &Options,
) -> Result<Vec<Result<FileReport, Error>>, Error> {
    // Workers take the next run as they finish one; results are put back in order after.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (Some(r), Some(&base)) = (runs.get(i), bases.get(i)) else {
                return done;
            };
            done.push((i, process_whole(name, &text[r.clone()], opts, base)));
        }
    };
    let mut results: Vec<(usize, Result<FileReport, Error>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(runs.len()))
            .map(|_| scope.spawn(work))
            .collect();
        let mut all = Vec::with_capacity(runs.len());
        for h in handles {
            match h.join() {
                Ok(done) => all.extend(done),
                Err(_) => all.push((
                    0,
                    Err(Error::new(name, None, "internal: a worker panicked")),
                )),
            }
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    if results.len() != runs.len() {
        return Err(Error::new(
            name,
            None,
            "internal: a run of documents was lost",
        ));
    }
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// A stream's report and fixed text, put together run by run (or document by document)
/// in input order.
#[derive(Default)]
struct Joined {
    report: FileReport,
    parts: Vec<Part>,
    /// Some document of the stream could be read: passing the others through makes sense.
    read: bool,
}

impl Joined {
    /// Add the report of the piece of the input at `range`.
    fn add(&mut self, report: FileReport, range: std::ops::Range<usize>) {
        for mut w in report.workloads {
            w.document += self.report.documents;
            self.report.workloads.push(w);
        }
        self.read |= report.documents > 0;
        self.report.documents += report.documents;
        self.report.changed |= report.output.is_some();
        self.parts
            .push(report.output.map_or(Part::Input(range), Part::Fixed));
    }

    /// Pass the one document at `range` of `text` through unchanged, because of `e`; its
    /// first line is `line` lines into the file.
    fn pass(&mut self, text: &str, range: std::ops::Range<usize>, line: usize, e: &Error) {
        let piece = &text[range.clone()];
        // Read again, only to name the object and say whether it is YAML at all.
        let doc = Documents::new(piece).next().and_then(Result::ok);
        let object = doc.as_ref().and_then(|d| {
            let kind = d.root.get("kind").and_then(Node::as_str)?;
            let name = d.root.get("metadata").and_then(|m| m.get("name"));
            Some(format!(
                "{kind}/{}",
                name.and_then(Node::as_str).unwrap_or("")
            ))
        });
        let source = match &doc {
            Some(d) => helm_source(piece, d.start, &d.root, Some(&d.root)),
            None => source_comment(unread_head(piece)),
        };
        self.read |= doc.is_some();
        let at = e.pos.unwrap_or(crate::error::Pos {
            line: line + 1,
            col: 1,
        });
        self.report.passed_through.push(PassedThrough {
            document: Some(self.report.documents),
            line: at.line,
            col: at.col,
            message: crate::yaml::unrendered::without_hint(&e.message).into_owned(),
            object,
            source,
        });
        self.report.documents += 1;
        self.parts.push(Part::Input(range));
    }
}

/// The whole of a stream whose documents depend on each other, passed through because of
/// `e`; an error when none of its documents can be read.
fn pass_stream(text: &str, e: Error) -> Result<(FileReport, Option<Fixed>), Error> {
    if !Documents::new(text).any(|d| d.is_ok()) {
        return Err(without_hint(e));
    }
    let at = e.pos.unwrap_or(crate::error::Pos { line: 1, col: 1 });
    let report = FileReport {
        passed_through: vec![PassedThrough {
            document: None,
            line: at.line,
            col: at.col,
            message: crate::yaml::unrendered::without_hint(&e.message).into_owned(),
            object: None,
            source: None,
        }],
        ..FileReport::default()
    };
    Ok((report, None))
}

/// `e` for input known to be rendered: without the hint to render it first.
fn without_hint(mut e: Error) -> Error {
    e.message = crate::yaml::unrendered::without_hint(&e.message).into_owned();
    e
}

/// The documents of `range` (which starts at a document boundary), each from its `---` line
/// (the first from the range's start, taking in what precedes its marker) to the next.
fn document_pieces(text: &str, range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = crate::yaml::source::next_document_marker(text, start).min(range.end);
        pieces.push(start..end);
        start = end;
    }
    pieces
}

/// The fixed text of a stream, as the runs it was processed in: each one either the input's
/// own bytes (nothing in it changed) or its fixed text.
#[derive(Debug)]
pub struct Fixed {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
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

fn count_lines(text: &str) -> usize {
    text.as_bytes().iter().filter(|&&b| b == b'\n').count()
}

/// Cut `text` into runs of whole documents, each after the first starting at a `---` line
/// (see [`MIN_RUN`], [`MAX_RUN`], [`RUNS_PER_THREAD`]). One run when the text is small, or
/// holds `%` directives (which bind a document to what precedes it).
fn split_documents(text: &str, threads: usize) -> Vec<std::ops::Range<usize>> {
    let threads = threads.max(1);
    let run = (text.len() / (threads * RUNS_PER_THREAD)).clamp(MIN_RUN, MAX_RUN);
    let parts = (text.len().div_ceil(run).div_ceil(threads) * threads).min(text.len() / MIN_RUN);
    if parts <= 1 || crate::yaml::source::has_line_starting(text, &["%"]) {
        return std::iter::once(0..text.len()).collect();
    }
    let bytes = text.as_bytes();
    let target = text.len() / parts;
    let mut cuts = vec![0];
    let mut want = target;
    let mut at = 0;
    while cuts.len() < parts {
        let Some(nl) = memchr_from(bytes, want.max(at), b'\n') else {
            break;
        };
        at = nl + 1;
        if at < bytes.len() && crate::yaml::source::is_document_marker(text, at) {
            cuts.push(at);
            want = at + target;
        } else {
            want = at;
        }
    }
    cuts.push(text.len());
    cuts.windows(2)
        .map(|w| w[0]..w[1])
        .filter(|r| !r.is_empty())
        .collect()
}

fn memchr_from(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|i| from + i)
}

/// Where a piece of text sits in its file: reports and messages give the file's numbers.
#[derive(Clone, Copy, Debug, Default)]
struct Base {
    /// Documents before the piece.
    document: usize,
    /// Lines before the piece.
    line: usize,
}

/// Check, fix and verify one run of documents.
///
/// The fixed text is read back document by document where documents are independent of
/// each other (no `%` directive binds one to what precedes it, no `...` line lets one start
/// without `---`): a document the fixes left alone is byte for byte the input, which was
/// read already, so only the changed ones are parsed again. Otherwise the whole output is.
fn process_whole(name: &str, text: &str, opts: &Options, base: Base) -> Result<FileReport, Error> {
    let by_document = !opts.findings_only && crate::yaml::source::independent_documents(text);
    match process_run(name, text, opts, base, by_document)? {
        Some(report) => Ok(report),
        // The edits strayed outside their documents (never seen): read back everything.
        None => process_run(name, text, opts, base, false)?
            .ok_or_else(|| Error::new(name, None, "internal: the output could not be read back")),
    }
}

fn process_run(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
    by_document: bool,
) -> Result<Option<FileReport>, Error> {
    let mut first = round(
        name,
        text,
        opts,
        base,
        None,
        !by_document && !opts.findings_only,
    )?;
    let documents = first.expected.len();
    let mut reports = std::mem::take(&mut first.reports);
    let Some(output) = first.output.take() else {
        return Ok(Some(FileReport {
            output: None,
            changed: false,
            documents,
            workloads: reports,
            passed_through: Vec::new(),
        }));
    };
    let output = if by_document {
        let Some(spans) = first.output_spans(text) else {
            return Ok(None);
        };
        verify_documents(name, output, &first, &spans, &mut reports, opts, base)?
    } else {
        let prev = Previous {
            expected: &first.expected,
            changed: &first.changed,
            lines: &first.lines,
        };
        settle(name, &output, prev, &mut reports, opts, base)?.unwrap_or(output)
    };
    Ok(Some(FileReport {
        output: Some(output),
        changed: true,
        documents,
        workloads: reports,
        passed_through: Vec::new(),
    }))
}

/// Read back each changed document of `output` on its own, and settle it (further rounds of
/// unsafe fixes happen inside the document too).
fn verify_documents(
    name: &str,
    output: String,
    first: &Round,
    spans: &[std::ops::Range<usize>],
    reports: &mut [WorkloadReport],
    opts: &Options,
    base: Base,
) -> Result<String, Error> {
    let mut settled = Vec::new();
    let mut line = base.line;
    let mut counted = 0;
    for (i, span) in spans.iter().enumerate() {
        if !first.changed[i] {
            continue;
        }
        line += count_lines(&output[counted..span.start]);
        counted = span.start;
        let document = base.document + i;
        let from = reports.partition_point(|r| r.document < document);
        let to = reports.partition_point(|r| r.document <= document);
        let prev = Previous {
            expected: &first.expected[i..=i],
            changed: &[true],
            lines: &first.lines[i..=i],
        };
        let piece = Base { document, line };
        if let Some(text) = settle(
            name,
            &output[span.clone()],
            prev,
            &mut reports[from..to],
            opts,
            piece,
        )? {
            settled.push((span.clone(), text));
        }
    }
    if settled.is_empty() {
        return Ok(output);
    }
    let grown: isize = settled
        .iter()
        .map(|(span, t)| t.len() as isize - span.len() as isize)
        .sum();
    let mut out = String::with_capacity(output.len().saturating_add_signed(grown));
    let mut last = 0;
    for (span, t) in settled {
        out.push_str(&output[last..span.start]);
        out.push_str(&t);
        last = span.end;
    }
    out.push_str(&output[last..]);
    Ok(out)
}

/// Read `text` (a round's output) back against what the round planned, and run further rounds
/// until nothing more is planned (one for safe fixes). The settled text, when a later round
/// changed it again.
fn settle(
    name: &str,
    text: &str,
    first: Previous<'_>,
    reports: &mut [WorkloadReport],
    opts: &Options,
    base: Base,
) -> Result<Option<String>, Error> {
    let budget = if opts.allow.unsafe_fixes {
        MAX_UNSAFE_ROUNDS
    } else {
        1
    };
    let mut current: Option<String> = None;
    let mut expected = first.expected.to_vec();
    let mut changed = first.changed.to_vec();
    for _ in 0..budget {
        let prev = Previous {
            expected: &expected,
            changed: &changed,
            lines: first.lines,
        };
        let now = current.as_deref().unwrap_or(text);
        let next =
            round(name, now, opts, base, Some(prev), true).map_err(|e| verification(name, e))?;
        merge(reports, next.reports).map_err(|e| verification(name, Error::new(name, None, e)))?;
        match next.output {
            None => return Ok(current),
            Some(out) => {
                current = Some(out);
                expected = next.expected;
                changed = next.changed;
            }
        }
    }
    // Read back one document at a time, the document is known.
    let at = match first.lines {
        [line] => Some(crate::error::Pos {
            line: *line,
            col: 1,
        }),
        _ => None,
    };
    Err(verification(
        name,
        Error::new(
            name,
            at,
            "the fixes do not settle: a re-check still plans changes",
        ),
    ))
}

/// Where a Helm-rendered object came from: Helm 4's annotation on the object, else the
/// `# Source:` comment Helm 3 writes at the top of the document.
fn helm_source(
    text: &str,
    doc_start: usize,
    root: &Node<'_>,
    object: Option<&Node<'_>>,
) -> Option<String> {
    const ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";
    let annotated = object
        .and_then(|o| o.get("metadata"))
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Node::as_str);
    if let Some(file) = annotated {
        return Some(file.to_owned());
    }
    source_comment(text.get(doc_start..root.start)?)
}

/// The template named by Helm 3's `# Source:` comment in the head of a document.
fn source_comment(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| l.trim_start().strip_prefix("# Source: "))
        .map(|s| s.trim_end().to_owned())
}

/// The head of a document that could not be read: its marker, blank and comment lines.
fn unread_head(piece: &str) -> &str {
    let mut end = 0;
    for line in piece.split_inclusive('\n') {
        let t = line.trim();
        if !(t.is_empty() || t.starts_with('#') || crate::yaml::source::is_document_marker(line, 0))
        {
            break;
        }
        end += line.len();
    }
    &piece[..end]
}

/// A KRM function's input is exactly one `config.kubernetes.io/v1` ResourceList.
fn require_resource_list(name: &str, text: &str) -> Result<(), Error> {
    let mut docs = Documents::new(text);
    let first = docs.next().transpose().map_err(|e| e.in_file(name))?;
    let is_list = first.as_ref().is_some_and(|d| {
        d.root.get("kind").and_then(|k| k.as_str()) == Some("ResourceList")
            && d.root.get("apiVersion").and_then(|k| k.as_str()) == Some("config.kubernetes.io/v1")
    });
    if !is_list || docs.next().is_some() {
        return Err(Error::new(
            name,
            None,
            "a KRM function reads one ResourceList (apiVersion: config.kubernetes.io/v1) on stdin",
        ));
    }
    Ok(())
}

/// Fold a later round's reports (only for the documents it looked at again) into the first
/// round's, workload by workload.
fn merge(reports: &mut [WorkloadReport], later: Vec<WorkloadReport>) -> Result<(), String> {
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

/// An error met while reading back fixed text: nothing is written. Its position, when it
/// has one, is the input line of the document it concerns (the fixed text is never shown).
fn verification(name: &str, e: Error) -> Error {
    Error::new(
        name,
        e.pos,
        format!("verification failed, nothing written: {}", e.message),
    )
}

struct Round {
    output: Option<String>,
    /// Fingerprint per document of what the output must read back as (0 for an unchanged
    /// document when only changed ones are read back).
    expected: Vec<u64>,
    /// Per document: this round edits it.
    changed: Vec<bool>,
    /// Per document: 1-based line of its start in the input, in the file's terms.
    lines: Vec<usize>,
    /// Per document: byte offset of its start (`---`, or the first content).
    starts: Vec<usize>,
    /// Per document: how much its edits lengthen it, and the bytes they touch.
    grown: Vec<isize>,
    touched: Vec<Option<(usize, usize)>>,
    reports: Vec<WorkloadReport>,
}

impl Round {
    /// Where each document lies in the output, when each one after the first starts with a
    /// `---` line and every edit stays inside its own document: document `i` runs from its
    /// start to the next one's (the first from byte 0, taking in directives and comments).
    fn output_spans(&self, text: &str) -> Option<Vec<std::ops::Range<usize>>> {
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
struct Previous<'p> {
    expected: &'p [u64],
    changed: &'p [bool],
    lines: &'p [usize],
}

/// One pass: parse, check, plan, render, splice. With `verify`, each document must also
/// read back as the previous round planned. `all_fingerprints`: hash unchanged documents
/// too (the next round reads the whole text back).
fn round(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
    verify: Option<Previous<'_>>,
    all_fingerprints: bool,
) -> Result<Round, Error> {
    let mut at_document = 0;
    let lines_of = verify.as_ref().map(|p| p.lines);
    round_inner(
        name,
        text,
        opts,
        base,
        verify,
        all_fingerprints,
        &mut at_document,
    )
    .map_err(|mut e| {
        match lines_of {
            // A position in fixed text would mean nothing to the reader: name the document.
            Some(lines) => {
                e.pos = lines
                    .get(at_document)
                    .map(|&line| crate::error::Pos { line, col: 1 })
            }
            None => {
                if let Some(p) = e.pos.as_mut() {
                    p.line += base.line;
                }
            }
        }
        e
    })
}

fn round_inner(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
    verify: Option<Previous<'_>>,
    all_fingerprints: bool,
    at_document: &mut usize,
) -> Result<Round, Error> {
    let eol = Eol::of(text);
    let lines = LineIndex::new(text);
    let pos = |at: usize| {
        let mut p = lines.pos(text, at);
        p.line += base.line;
        p
    };
    let refuse = |r: Refusal| r.locate(text, &lines).in_file(name);
    let mut edits = Vec::new();
    let mut out = Round {
        output: None,
        expected: Vec::new(),
        changed: Vec::new(),
        lines: Vec::new(),
        starts: Vec::new(),
        grown: Vec::new(),
        touched: Vec::new(),
        reports: Vec::new(),
    };
    let mut documents = Documents::new(text);
    // A first look that needs no fingerprint of unchanged documents builds trees only for
    // those that may hold a workload.
    if verify.is_none() && !all_fingerprints && crate::yaml::source::independent_documents(text) {
        let kinds = &opts.context.config.kinds;
        documents = documents.skimming(Box::new(move |doc| workload::may_hold(doc, kinds)));
    }
    for doc in documents {
        *at_document = out.expected.len();
        let doc = doc.map_err(|e| e.in_file(name))?;
        let index = base.document + doc.index;
        out.lines.push(pos(doc.start).line);
        out.starts.push(doc.start);
        if doc.skimmed {
            out.expected.push(0);
            out.changed.push(false);
            out.grown.push(0);
            out.touched.push(None);
            continue;
        }
        // A document is hashed once per round: as it is when checking the previous round
        // or when nothing changes, as planned when it changes.
        let fp = verify.as_ref().map(|_| fingerprint(&doc.root));
        if let (Some(prev), Some(fp)) = (&verify, fp) {
            if prev.expected.get(doc.index) != Some(&fp) {
                return Err(Error::new(
                    name,
                    None,
                    "the document does not read back as the input plus the planned changes",
                ));
            }
            if !prev.changed.get(doc.index).copied().unwrap_or(true) {
                // Untouched last round: verified, and its findings still stand.
                out.expected.push(fp);
                out.changed.push(false);
                out.grown.push(0);
                out.touched.push(None);
                continue;
            }
        }
        // Aliases and merge keys are resolved only for documents that hold a workload.
        let data =
            if doc.refers() && workload::find(&doc.root, &opts.context.config.kinds).is_empty() {
                &doc.root
            } else {
                doc.data().map_err(|u| {
                    refuse(Refusal {
                        at: u.at,
                        message: u.message.clone(),
                    })
                })?
            };
        let mut planner = Planner::new(&doc.root, data);
        let first_report = out.reports.len();
        // A later round's report only adds what it changed and what is left (see `merge`):
        // what describes the workload as found is worked out once.
        let first_look = verify.is_none();
        for w in workload::find(data, &opts.context.config.kinds) {
            let at = pos(w.at);
            let mut report = new_report(index, &w, at.line, at.col);
            if first_look {
                report.source =
                    helm_source(text, doc.start, &doc.root, doc.root.at(w.object.segs()));
            }
            let policy = opts.policy_for(&w.namespace);
            report.policy = policy;
            // Reading back safe fixes, nothing may be planned: typo twins cannot matter, and
            // the data is the input (checked already) plus typed values.
            let issues = if first_look || opts.allow.unsafe_fixes {
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
                    name,
                    Some(lines.pos(text, bad.at)),
                    bad.message(),
                ));
            }
            if first_look {
                report.issues = issues
                    .iter()
                    .map(|i| {
                        let at = pos(i.at);
                        Remark {
                            message: i.message(),
                            line: at.line,
                            col: at.col,
                        }
                    })
                    .collect();
            }
            match pod_view(data, &w).map_err(refuse)? {
                None => report.skipped = Some("no pod spec".into()),
                Some(view) => {
                    let scope = Scope::new(&opts.context.config, data, &w, &view);
                    let found = check::evaluate(policy, &view.meta, &view.spec);
                    if first_look {
                        // At restricted, what was just found already answers the first half.
                        report.highest = match (policy.level, found.is_empty()) {
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
                        };
                    }
                    (report.before, report.exempted) = scope.apply(policy, &view, found);
                    if !report.before.is_empty() && !opts.findings_only {
                        // An edit that cannot be placed is held back on its own, with its
                        // reason (`Decisions::held`); one that stops the whole plan takes back
                        // what this workload planned, never the file's other workloads.
                        let mark = planner.mark();
                        let d = match remedy::plan(
                            &w,
                            &view,
                            &report.before,
                            opts.allow,
                            &scope,
                            &mut planner,
                        ) {
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
                            .map(|r| {
                                let at = pos(r.at);
                                Remark {
                                    message: r.message,
                                    line: at.line,
                                    col: at.col,
                                }
                            })
                            .collect();
                        report.added = d.added;
                        report.notes = d.notes;
                        for a in &report.added {
                            if let Some(twin) = guard::twin_of(&issues, &a.at) {
                                report.warnings.push(format!(
                                    "{} added next to its misspelled twin on line {}, which the API server ignores: {}",
                                    a.at,
                                    pos(twin.at).line,
                                    twin.message()
                                ));
                            }
                        }
                    }
                }
            }
            out.reports.push(report);
        }
        let changes = planner.into_changes();
        out.changed.push(!changes.is_empty());
        if changes.iter().any(|c| c.op.is_unsafe()) {
            // This round only changes values; the additions planned beside them come next round.
            for report in &mut out.reports[first_report..] {
                report.added.retain(|a| a.action != Action::Added);
            }
        }
        if changes.is_empty() {
            let fp = match fp {
                Some(fp) => fp,
                None if all_fingerprints => fingerprint(&doc.root),
                None => 0,
            };
            out.expected.push(fp);
            out.grown.push(0);
            out.touched.push(None);
        } else {
            let style = DocStyle::of(text, &doc.root, eol);
            let mut grown = 0isize;
            let mut touched: Option<(usize, usize)> = None;
            for change in &changes {
                for e in render::edits(text, &doc.root, &style, change).map_err(refuse)? {
                    grown += e.content().len() as isize - (e.end() - e.start()) as isize;
                    touched = Some(touched.map_or((e.start(), e.end()), |(lo, hi)| {
                        (lo.min(e.start()), hi.max(e.end()))
                    }));
                    edits.push(e);
                }
            }
            out.grown.push(grown);
            out.touched.push(touched);
            out.expected.push(fingerprint_with(&doc.root, &changes));
        }
    }
    *at_document = 0;
    if let Some(prev) = &verify {
        if prev.expected.len() != out.expected.len() {
            return Err(Error::new(
                name,
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
        out.output = Some(apply(text, edits).map_err(|o| {
            Error::new(
                name,
                Some(lines.pos(text, o.at)),
                "internal: two planned edits overlap; nothing written",
            )
        })?);
    }
    Ok(out)
}

fn new_report(document: usize, w: &Workload, line: usize, col: usize) -> WorkloadReport {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Splitting a large stream across threads must not change a byte or a position.
    #[test]
    fn parallel_chunks_agree_with_one_pass() {
        let text = pss_fix_testkit::synth::stream(MAX_RUN * 2 + 512 * 1024, 7);
        let chunks = split_documents(&text, 2);
        assert!(
            chunks.len() > 2,
            "a large stream is cut finer than one run per thread"
        );
        assert!(chunks
            .iter()
            .skip(1)
            .all(|r| text[r.clone()].starts_with("---")));
        let opts = Options::default();
        let split = process("s", &text, &opts).unwrap();
        let whole = process_whole("s", &text, &opts, Base::default()).unwrap();
        assert_eq!(split.output, whole.output);
        assert_eq!(split.documents, whole.documents);
        let key = |r: &FileReport| -> Vec<(usize, usize, String, usize)> {
            r.workloads
                .iter()
                .map(|w| (w.document, w.line, w.name.clone(), w.after().len()))
                .collect()
        };
        assert_eq!(key(&split), key(&whole));
    }

    /// Reading back only the changed documents must decide exactly as reading back the whole
    /// output: same text, same reports, with safe and with unsafe fixes (several rounds).
    #[test]
    fn verifying_by_document_agrees_with_the_whole_text() {
        let text = pss_fix_testkit::synth::stream(300 * 1024, 11);
        let base = Base {
            document: 3,
            line: 40,
        };
        for unsafe_fixes in [false, true] {
            let opts = Options {
                allow: Allow {
                    unsafe_fixes,
                    run_as_user: unsafe_fixes.then_some(1000),
                },
                ..Options::default()
            };
            let pieces = process_run("s", &text, &opts, base, true).unwrap().unwrap();
            let whole = process_run("s", &text, &opts, base, false)
                .unwrap()
                .unwrap();
            assert!(pieces.output.is_some(), "the stream has something to fix");
            assert_eq!(pieces.output, whole.output);
            assert_eq!(pieces.documents, whole.documents);
            assert_eq!(
                format!("{:?}", pieces.workloads),
                format!("{:?}", whole.workloads)
            );
            assert!(pieces
                .workloads
                .iter()
                .all(|w| w.document >= 3 && w.line > 40));
        }
    }

    /// A document whose fix does not read back is named by its line in the input.
    #[test]
    fn a_verification_failure_names_the_document_line() {
        let text = "a: 1\n---\nb: 2\n";
        let first = round("f", text, &Options::default(), Base::default(), None, false).unwrap();
        let prev = Previous {
            expected: &[first.expected[1].wrapping_add(1)],
            changed: &[true],
            lines: &[2],
        };
        let e = settle(
            "f",
            "---\nb: 2\n",
            prev,
            &mut [],
            &Options::default(),
            Base::default(),
        )
        .unwrap_err();
        assert_eq!(e.pos.map(|p| p.line), Some(2), "{e}");
        assert!(e.message.starts_with("verification failed"), "{e}");
    }

    /// Directives and `...` lines bind documents together: the whole output is read back.
    #[test]
    fn dependent_documents_are_read_back_whole() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n";
        for text in [format!("%YAML 1.1\n---\n{pod}"), format!("{pod}...\n{pod}")] {
            let report = process("f", &text, &Options::default()).unwrap();
            let out = report.output.expect("the pods get fixed");
            assert!(out.contains("runAsNonRoot: true"), "{out}");
        }
    }

    /// In tolerant mode a refused document in a later run passes through byte for byte, and
    /// every other document comes out as it would without it: on one thread or many, with
    /// the same reports, document numbers and lines.
    #[test]
    fn a_refused_document_passes_through_alone() {
        let head = pss_fix_testkit::synth::stream(150 * 1024, 3);
        let tail = pss_fix_testkit::synth::stream(150 * 1024, 4);
        let bad = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  containers:\n  - name: c\n    image: a\n    image: b\n";
        let text = format!("{head}{bad}{tail}");
        let without = format!("{head}{tail}");
        let tolerant = Options {
            pass_through: true,
            ..Options::default()
        };
        let expected = process("s", &without, &Options::default()).unwrap();
        let fixed = expected.output.clone().unwrap();
        let split = fixed.len()
            - process("s", &tail, &Options::default())
                .unwrap()
                .output
                .unwrap()
                .len();
        let bad_line = head.lines().count() + 1;
        for one_thread in [false, true] {
            let opts = Options {
                one_thread,
                ..tolerant.clone()
            };
            let got = process("s", &text, &opts).unwrap();
            let out = got.output.as_deref().unwrap();
            assert_eq!(out, format!("{}{bad}{}", &fixed[..split], &fixed[split..]));
            let [p] = got.passed_through.as_slice() else {
                panic!("{:?}", got.passed_through)
            };
            assert_eq!((p.line, p.col), (bad_line + 9, 5), "{p:?}");
            assert_eq!(p.object.as_deref(), Some("Pod/dup"));
            assert_eq!(got.documents, expected.documents + 1);
            let dup = p.document.unwrap();
            let shifted: Vec<(usize, usize, String)> = expected
                .workloads
                .iter()
                .map(|w| {
                    let d = w.document + usize::from(w.document >= dup);
                    let l = w.line + if w.line > bad_line { 10 } else { 0 };
                    (d, l, w.name.clone())
                })
                .collect();
            let key: Vec<(usize, usize, String)> = got
                .workloads
                .iter()
                .map(|w| (w.document, w.line, w.name.clone()))
                .collect();
            assert_eq!(key, shifted);
        }
        // Without the mode, the stream is refused as before.
        assert!(process("s", &text, &Options::default()).is_err());
    }

    /// An error in a later run names the line of the whole file, as one pass would.
    #[test]
    fn errors_in_later_runs_keep_the_file_line() {
        let mut text = pss_fix_testkit::synth::stream(200 * 1024, 5);
        let bad_line = text.lines().count() + 2;
        text.push_str("---\nkey: [unclosed\n");
        assert!(
            split_documents(&text, 2).len() > 2,
            "the stream is cut into runs"
        );
        let split = process("s", &text, &Options::default()).unwrap_err();
        let whole = process_whole("s", &text, &Options::default(), Base::default()).unwrap_err();
        assert_eq!(split.pos, whole.pos);
        assert_eq!(split.message, whole.message);
        let line = split.pos.expect("a parse error has a position").line;
        assert!((bad_line..=bad_line + 1).contains(&line), "{split}");
    }
}
