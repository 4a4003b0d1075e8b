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
/// own bytes (nothing in it changed), its fixed text, or its fixed text kept as the input's
/// unchanged lines plus what is new ([`Edited`]): a large stream's fixed text then takes a
/// fraction of the input's size while it waits for every run to be verified.
#[derive(Debug)]
pub struct Fixed {
    pub(super) parts: Vec<Part>,
}

#[derive(Debug)]
pub(super) enum Part {
    Input(std::ops::Range<usize>),
    Fixed(String),
    Edited(Edited),
}

/// A run's fixed text as pieces: byte ranges of the input (whole unchanged lines) and of
/// `new`, the text the fixes brought, in order.
#[derive(Debug, Default)]
pub(super) struct Edited {
    new: String,
    pieces: Vec<(bool, std::ops::Range<usize>)>,
}

/// How far (in lines of the input and of the output together) an unchanged line is looked
/// for after a changed one: an inserted block is found again well within it; beyond it, a
/// line is taken as replaced, which is only less compact.
const RESYNC: usize = 48;

impl Edited {
    /// `output`, the fixed text of `input[range]`, as the input's unchanged lines and the
    /// new text. Exact whatever the two texts are: a piece of the input is only ever taken
    /// for an equal line of the output.
    ///
    /// Equal stretches are compared in blocks and taken whole to the last line break they
    /// hold; lines are only told apart near a difference (fixes touch a few places of a
    /// document, and splitting whole runs into lines cost more than the fixes themselves).
    pub(super) fn of(input: &str, range: std::ops::Range<usize>, output: &str) -> Edited {
        let old = &input[range.clone()];
        let (ob, nb) = (old.as_bytes(), output.as_bytes());
        let mut e = Edited::default();
        // Byte offsets of the next line of each text: always at a line start.
        let (mut i, mut j) = (0, 0);
        while i < ob.len() && j < nb.len() {
            let eq = common_prefix(&ob[i..], &nb[j..]);
            let whole = if i + eq == ob.len() && j + eq == nb.len() {
                eq
            } else {
                memchr::memrchr(b'\n', &ob[i..i + eq]).map_or(0, |k| k + 1)
            };
            if whole > 0 {
                e.push(true, range.start + i..range.start + i + whole);
                i += whole;
                j += whole;
                continue;
            }
            // The lines at `i` and `j` differ: find the nearest pair of equal lines within
            // `RESYNC` lines of both, taking what lies before it in the output as new.
            let a = line_ends(old, i, RESYNC + 1);
            let b = line_ends(output, j, RESYNC + 1);
            let line = |ends: &[usize], from: usize, k: usize| -> std::ops::Range<usize> {
                (if k == 0 { from } else { ends[k - 1] })..ends[k]
            };
            let same = |di: usize, dj: usize| old[line(&a, i, di)] == output[line(&b, j, dj)];
            let (di, dj) = (1..=RESYNC)
                .flat_map(|d| (0..=d).map(move |dj| (d - dj, dj)))
                .find(|&(di, dj)| di < a.len() && dj < b.len() && same(di, dj))
                .unwrap_or((1, 1));
            let next_j = if dj < b.len() {
                line(&b, j, dj).start
            } else {
                nb.len()
            };
            e.push_new(&output[j..next_j]);
            i = if di < a.len() {
                line(&a, i, di).start
            } else {
                ob.len()
            };
            j = next_j;
        }
        if j < nb.len() {
            e.push_new(&output[j..]);
        }
        e.new.shrink_to_fit();
        e.pieces.shrink_to_fit();
        debug_assert_eq!(e.texts(input).collect::<String>(), output);
        e
    }

    fn push(&mut self, from_input: bool, r: std::ops::Range<usize>) {
        if r.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some((f, last)) if *f == from_input && last.end == r.start => last.end = r.end,
            _ => self.pieces.push((from_input, r)),
        }
    }

    fn push_new(&mut self, s: &str) {
        let at = self.new.len();
        self.new.push_str(s);
        self.push(false, at..self.new.len());
    }

    fn texts<'s>(&'s self, input: &'s str) -> impl Iterator<Item = &'s str> {
        self.pieces.iter().map(move |(from_input, r)| {
            if *from_input {
                &input[r.clone()]
            } else {
                &self.new[r.clone()]
            }
        })
    }

    fn len(&self) -> usize {
        self.pieces.iter().map(|(_, r)| r.len()).sum()
    }
}

/// The ends (after their line breaks) of the first `max` lines of `s` from byte `from`, a
/// line start; the last may have none.
fn line_ends(s: &str, from: usize, max: usize) -> Vec<usize> {
    let mut ends = Vec::with_capacity(max);
    let mut at = from;
    while ends.len() < max && at < s.len() {
        at = memchr::memchr(b'\n', &s.as_bytes()[at..]).map_or(s.len(), |k| at + k + 1);
        ends.push(at);
    }
    ends
}

/// How many leading bytes `a` and `b` share: blocks compared whole first (a `memcmp`), then
/// bytes.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut k = 0;
    while k + BLOCK <= n && a[k..k + BLOCK] == b[k..k + BLOCK] {
        k += BLOCK;
    }
    k + a[k..n]
        .iter()
        .zip(&b[k..n])
        .take_while(|(x, y)| x == y)
        .count()
}

impl Part {
    fn len(&self) -> usize {
        match self {
            Part::Input(r) => r.len(),
            Part::Fixed(s) => s.len(),
            Part::Edited(e) => e.len(),
        }
    }
}

impl Fixed {
    /// The pieces of the fixed text in order; `input` is the text it was made from.
    pub fn pieces<'s>(&'s self, input: &'s str) -> impl Iterator<Item = &'s str> {
        self.parts.iter().flat_map(move |p| {
            let (one, edited) = match p {
                Part::Input(r) => (Some(&input[r.clone()]), None),
                Part::Fixed(s) => (Some(s.as_str()), None),
                Part::Edited(e) => (None, Some(e.texts(input))),
            };
            one.into_iter().chain(edited.into_iter().flatten())
        })
    }

    /// The fixed text in one buffer of exactly its size (the first run's own, when it has
    /// one), each run's text dropped as soon as it is copied.
    pub fn join(self, input: &str) -> String {
        let total: usize = self.parts.iter().map(Part::len).sum();
        let mut parts = self.parts.into_iter();
        let mut out = match parts.next() {
            Some(Part::Fixed(s)) => s,
            Some(first) => {
                let mut s = String::with_capacity(total);
                push_part(&mut s, first, input);
                s
            }
            None => String::new(),
        };
        out.reserve_exact(total - out.len());
        for part in parts {
            push_part(&mut out, part, input);
        }
        out
    }
}

fn push_part(out: &mut String, part: Part, input: &str) {
    match part {
        Part::Input(r) => out.push_str(&input[r]),
        Part::Fixed(s) => out.push_str(&s),
        Part::Edited(e) => e.texts(input).for_each(|t| out.push_str(t)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the two texts, the pieces spell the output exactly; an inserted block costs
    /// only its own bytes.
    #[test]
    fn edited_text_is_exact_and_small() {
        let input = "head\n---\na: 1\nb: 2\nc: 3\nd: 4\ntail";
        let start = input.find("---").unwrap();
        let range = start..input.len();
        let cases = [
            "---\na: 1\n  new: x\n  more: y\nb: 2\nc: 3\nd: 4\ntail",
            "---\na: 1\nc: 3\nd: 4\ntail",
            "---\na: 1\nB: 2\nc: 3\nd: 4\ntail\n",
            "completely\ndifferent",
            "",
            "---\na: 1\nb: 2\nc: 3\nd: 4\ntail",
        ];
        for output in cases {
            let e = Edited::of(input, range.clone(), output);
            assert_eq!(e.texts(input).collect::<String>(), output);
            assert_eq!(e.len(), output.len());
        }
        let e = Edited::of(input, range.clone(), cases[0]);
        assert_eq!(e.new, "  new: x\n  more: y\n");
        let fixed = Fixed {
            parts: vec![Part::Input(0..start), Part::Edited(e)],
        };
        let joined = format!("head\n{}", cases[0]);
        assert_eq!(fixed.pieces(input).collect::<String>(), joined);
        assert_eq!(fixed.join(input), joined);
    }

    proptest::proptest! {
        /// Any input and any output, however far apart, come back exactly; lines the output
        /// keeps in place are taken from the input, not copied.
        #[test]
        fn edited_text_spells_any_output(
            lines in proptest::collection::vec("[ab]{0,3}(\n|\r\n)?", 0..60),
            edits in proptest::collection::vec((0usize..70, 0usize..3, "[abc\n]{0,6}"), 0..6),
            head in "[ab\n]{0,4}",
        ) {
            let old: String = lines.concat();
            let mut output = old.clone();
            for (at, cut, with) in edits {
                let at = at.min(output.len());
                let end = (at + cut).min(output.len());
                output.replace_range(at..end, &with);
            }
            let input = format!("{head}{old}");
            let e = Edited::of(&input, head.len()..input.len(), &output);
            proptest::prop_assert_eq!(e.texts(&input).collect::<String>(), output.clone());
            proptest::prop_assert_eq!(e.len(), output.len());
            if output == old {
                proptest::prop_assert!(e.new.is_empty());
            }
        }
    }
}
