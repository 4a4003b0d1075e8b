//! One file, end to end: parse each document, find its workloads, check them, plan the fixes,
//! render them as edits, splice, then verify the result before anyone sees it.
//!
//! Verification re-parses the output and requires the same number of documents, each equal as
//! data to its input document plus exactly the planned changes, and a re-check that plans
//! nothing more. Any disagreement is an error for the file: no output, nothing written.

use std::collections::HashMap;
use std::sync::Arc;

use crate::check::{self, Violation};
use crate::config::Config;
use crate::error::Error;
use crate::exempt::Scope;
use crate::fix::{apply, Applicability};
use crate::fixes::{self, Action, Added, Allow, Note};
use crate::guard::{self, IssueKind};
use crate::plan::{Planner, Refusal};
use crate::policy::{Level, Policy};
use crate::render;
use crate::source::{Eol, LineIndex};
use crate::view::pod_view;
use crate::workload::{self, Workload};
use crate::yaml::canon::{fingerprint, fingerprint_with};
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
    pub issues: Vec<Typo>,
    /// What a person should know about the fixes made (kept across rounds).
    pub warnings: Vec<String>,
    /// Violations as the input stands.
    pub before: Vec<Violation>,
    /// Violations left after the planned fixes (equal to `before` when nothing changes).
    pub after: Vec<Violation>,
    pub added: Vec<Added>,
    pub notes: Vec<Note>,
    /// Why the workload was not checked (e.g. it has no pod spec).
    pub skipped: Option<String>,
}

/// An unknown field in a pod template, with where it is.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Typo {
    pub message: String,
    pub line: usize,
    pub col: usize,
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

/// Rounds of fixing before giving up: unsafe fixes unlock further fixes (removing
/// `privileged: true` makes `allowPrivilegeEscalation: false` insertable), and each round
/// either changes values or adds fields. Safe fixes alone must settle in one round.
const MAX_UNSAFE_ROUNDS: usize = 8;

/// Inputs at least this large are split at document boundaries and processed on every core.
const PARALLEL_FROM: usize = 2 * 1024 * 1024;

/// Check and fix one file's text. `name` is used in messages only.
///
/// A large stream is cut into runs of whole documents, each processed (and verified) on its
/// own thread: YAML documents do not depend on each other, and a line starting with `---` is
/// a document boundary wherever it appears. Positions and document numbers are then shifted
/// back into the whole file's terms.
pub fn process(name: &str, text: &str, opts: &Options) -> Result<FileReport, Error> {
    if opts.resource_list {
        require_resource_list(name, text)?;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = split_documents(text, threads);
    if chunks.len() <= 1 {
        return process_whole(name, text, opts);
    }
    let results: Vec<Result<FileReport, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|r| scope.spawn(|| process_whole(name, &text[r.clone()], opts)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::new(name, None, "internal: a worker panicked")))
            })
            .collect()
    });
    let total: usize = chunks
        .iter()
        .zip(&results)
        .map(|(r, res)| match res {
            Ok(FileReport {
                output: Some(out), ..
            }) => out.len(),
            _ => r.len(),
        })
        .sum();
    let mut whole = FileReport::default();
    let mut output = String::new();
    let mut changed = false;
    let mut line_offset = 0;
    for (range, result) in chunks.iter().zip(results) {
        let chunk = &text[range.clone()];
        let report = result.map_err(|mut e| {
            if let Some(p) = e.pos.as_mut() {
                p.line += line_offset;
            }
            e
        })?;
        for mut w in report.workloads {
            w.document += whole.documents;
            w.line += line_offset;
            for t in &mut w.issues {
                t.line += line_offset;
            }
            whole.workloads.push(w);
        }
        whole.documents += report.documents;
        // Each run's text is appended and dropped at once, into a buffer of exactly the
        // joined size (the first run's own, when it has one): one large copy alive, not two.
        if output.capacity() == 0 {
            match report.output {
                Some(out) => {
                    changed = true;
                    output = out;
                    output.reserve_exact(total - output.len());
                }
                None => {
                    output = String::with_capacity(total);
                    output.push_str(chunk);
                }
            }
        } else {
            match report.output {
                Some(out) => {
                    changed = true;
                    output.push_str(&out);
                }
                None => output.push_str(chunk),
            }
        }
        line_offset += chunk.bytes().filter(|&b| b == b'\n').count();
    }
    whole.output = changed.then_some(output);
    Ok(whole)
}

/// Cut `text` into up to `parts` byte ranges of whole documents, each starting at a `---`
/// line (after the first). One range when the text is small, or holds `%` directives (which
/// bind a document to what precedes it).
fn split_documents(text: &str, parts: usize) -> Vec<std::ops::Range<usize>> {
    if parts <= 1 || text.len() < PARALLEL_FROM {
        return std::iter::once(0..text.len()).collect();
    }
    let bytes = text.as_bytes();
    let is_marker = |at: usize| {
        bytes[at..].starts_with(b"---")
            && matches!(bytes.get(at + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    };
    let directive = |d: &str| text.starts_with(d) || text.contains(&format!("\n{d}"));
    if directive("%YAML") || directive("%TAG") {
        return std::iter::once(0..text.len()).collect();
    }
    let target = text.len() / parts;
    let mut cuts = vec![0];
    let mut want = target;
    let mut at = 0;
    while cuts.len() < parts {
        let Some(nl) = memchr_from(bytes, want.max(at), b'\n') else {
            break;
        };
        at = nl + 1;
        if at < bytes.len() && is_marker(at) {
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

fn process_whole(name: &str, text: &str, opts: &Options) -> Result<FileReport, Error> {
    let first = round(name, text, opts, None)?;
    let documents = first.expected.len();
    let mut reports = first.reports;
    let Some(mut current) = first.output else {
        return Ok(FileReport {
            output: None,
            documents,
            workloads: reports,
        });
    };
    let mut expected = first.expected;
    let mut changed = first.changed;
    let budget = if opts.allow.unsafe_fixes {
        MAX_UNSAFE_ROUNDS
    } else {
        1
    };
    for _ in 0..budget {
        // Parsing the output verifies the previous round and plans the next one.
        let prev = Previous {
            expected: &expected,
            changed: &changed,
        };
        let next = round(name, &current, opts, Some(prev)).map_err(|e| verification(name, e))?;
        merge(&mut reports, next.reports)
            .map_err(|e| verification(name, Error::new(name, None, e)))?;
        match next.output {
            None => {
                return Ok(FileReport {
                    output: Some(current),
                    documents,
                    workloads: reports,
                })
            }
            Some(out) => {
                current = out;
                expected = next.expected;
                changed = next.changed;
            }
        }
    }
    Err(verification(
        name,
        Error::new(
            name,
            None,
            "the fixes do not settle: a re-check still plans changes",
        ),
    ))
}

/// Where a Helm-rendered object came from: Helm 4's annotation on the object, else the
/// `# Source:` comment Helm 3 writes at the top of the document.
fn helm_source(text: &str, doc_start: usize, root: &Node<'_>, w: &Workload) -> Option<String> {
    const ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";
    let annotated = root
        .at(w.object.segs())
        .and_then(|o| o.get("metadata"))
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Node::as_str);
    if let Some(file) = annotated {
        return Some(file.to_owned());
    }
    let head = text.get(doc_start..root.start)?;
    head.lines()
        .find_map(|l| l.trim_start().strip_prefix("# Source: "))
        .map(|s| s.trim_end().to_owned())
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
        report.after = l.after;
        // Notes on applied fixes stay; notes on what is left come from the last round.
        report
            .notes
            .retain(|n| n.applicability == Applicability::Safe);
        report.notes.extend(l.notes);
        j += 1;
    }
    Ok(())
}

fn verification(name: &str, e: Error) -> Error {
    Error::new(
        name,
        None,
        format!("verification failed, nothing written: {}", e.message),
    )
}

struct Round {
    output: Option<String>,
    /// Fingerprint per document of what the output must read back as.
    expected: Vec<u64>,
    /// Per document: this round edits it.
    changed: Vec<bool>,
    reports: Vec<WorkloadReport>,
}

/// One pass: parse, check, plan, render, splice. With `verify`, each document must also
/// read back as the previous round planned.
/// What one round tells the next: the fingerprint each output document must have, and which
/// documents it changed (the others need verifying, not checking again).
struct Previous<'p> {
    expected: &'p [u64],
    changed: &'p [bool],
}

fn round(
    name: &str,
    text: &str,
    opts: &Options,
    verify: Option<Previous<'_>>,
) -> Result<Round, Error> {
    let eol = Eol::of(text);
    let lines = LineIndex::new(text);
    let refuse = |r: Refusal| r.locate(text, &lines).in_file(name);
    let mut edits = Vec::new();
    let mut expected = Vec::new();
    let mut changed = Vec::new();
    let mut reports = Vec::new();
    for doc in Documents::new(text) {
        let doc = doc.map_err(|e| e.in_file(name))?;
        // A document is hashed once per round: as it is when checking the previous round
        // or when nothing changes, as planned when it changes.
        let fp = verify.as_ref().map(|_| fingerprint(&doc.root));
        if let (Some(prev), Some(fp)) = (&verify, fp) {
            if prev.expected.get(doc.index) != Some(&fp) {
                return Err(Error::new(
                    name,
                    None,
                    format!(
                        "document {} does not read back as the input plus the planned changes",
                        doc.index + 1
                    ),
                ));
            }
            if !prev.changed.get(doc.index).copied().unwrap_or(true) {
                // Untouched last round: verified, and its findings still stand.
                expected.push(fp);
                changed.push(false);
                continue;
            }
        }
        let mut planner = Planner::new(&doc.root);
        let first_report = reports.len();
        for w in workload::find(&doc.root, &opts.context.config.kinds) {
            let mut report = new_report(doc.index, &w, text, &lines);
            report.source = helm_source(text, doc.start, &doc.root, &w);
            let policy = opts.policy_for(&w.namespace);
            report.policy = policy;
            let issues = guard::inspect(&doc.root, &w.meta, &w.spec);
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
            report.issues = issues
                .iter()
                .map(|i| Typo {
                    message: i.message(),
                    line: lines.pos(text, i.at).line,
                    col: lines.pos(text, i.at).col,
                })
                .collect();
            match pod_view(&doc.root, &w).map_err(refuse)? {
                None => report.skipped = Some("no pod spec".into()),
                Some(view) => {
                    let scope = Scope::new(&opts.context.config, &doc.root, &w, &view);
                    let found = check::evaluate(policy, &view.meta, &view.spec);
                    (report.before, report.exempted) = scope.apply(policy, &view, found);
                    report.after = report.before.clone();
                    report.highest = check::highest_level(policy.version, &view.meta, &view.spec);
                    if !report.before.is_empty() {
                        let d = fixes::plan(
                            &w,
                            &view,
                            &report.before,
                            opts.allow,
                            &scope,
                            &mut planner,
                        )
                        .map_err(refuse)?;
                        report.added = d.added;
                        report.notes = d.notes;
                        for a in &report.added {
                            if let Some(twin) = guard::twin_of(&issues, &a.at) {
                                report.warnings.push(format!(
                                    "{} added next to its misspelled twin on line {}, which the API server ignores: {}",
                                    a.path,
                                    lines.pos(text, twin.at).line,
                                    twin.message()
                                ));
                            }
                        }
                    }
                }
            }
            reports.push(report);
        }
        let changes = planner.into_changes();
        changed.push(!changes.is_empty());
        if changes.iter().any(|c| c.op.is_unsafe()) {
            // This round only changes values; the additions planned beside them come next round.
            for report in &mut reports[first_report..] {
                report.added.retain(|a| a.action != Action::Added);
            }
        }
        if changes.is_empty() {
            expected.push(fp.unwrap_or_else(|| fingerprint(&doc.root)));
        } else {
            let style = DocStyle::of(text, &doc.root, eol);
            for change in &changes {
                edits.extend(render::edits(text, &doc.root, &style, change).map_err(refuse)?);
            }
            expected.push(fingerprint_with(&doc.root, &changes));
        }
    }
    if let Some(prev) = &verify {
        if prev.expected.len() != expected.len() {
            return Err(Error::new(
                name,
                None,
                format!(
                    "the fixed text has {} documents, the input {}",
                    expected.len(),
                    prev.expected.len()
                ),
            ));
        }
    }
    let output = if edits.is_empty() {
        None
    } else {
        Some(apply(text, edits).map_err(|o| {
            Error::new(
                name,
                Some(lines.pos(text, o.at)),
                "internal: two planned edits overlap; nothing written",
            )
        })?)
    };
    Ok(Round {
        output,
        expected,
        changed,
        reports,
    })
}

fn new_report(document: usize, w: &Workload, text: &str, lines: &LineIndex) -> WorkloadReport {
    let pos = lines.pos(text, w.at);
    WorkloadReport {
        document,
        item: w.item,
        kind: w.kind.clone(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        source: None,
        line: pos.line,
        col: pos.col,
        highest: Level::Privileged,
        policy: Policy::default(),
        exempted: Vec::new(),
        issues: Vec::new(),
        warnings: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
        added: Vec::new(),
        notes: Vec::new(),
        skipped: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splitting a large stream across threads must not change a byte or a position.
    #[test]
    fn parallel_chunks_agree_with_one_pass() {
        let text = crate::synth::stream(PARALLEL_FROM + 512 * 1024, 7);
        let chunks = split_documents(&text, 3);
        assert!(chunks.len() > 1, "the stream is large enough to split");
        assert!(chunks
            .iter()
            .skip(1)
            .all(|r| text[r.clone()].starts_with("---")));
        let opts = Options::default();
        let split = process("s", &text, &opts).unwrap();
        let whole = process_whole("s", &text, &opts).unwrap();
        assert_eq!(split.output, whole.output);
        assert_eq!(split.documents, whole.documents);
        let key = |r: &FileReport| -> Vec<(usize, usize, String, usize)> {
            r.workloads
                .iter()
                .map(|w| (w.document, w.line, w.name.clone(), w.after.len()))
                .collect()
        };
        assert_eq!(key(&split), key(&whole));
    }
}
