//! A stream cut into runs of whole documents, processed on every core and joined back in
//! input order; and, with [`Options::pass_through`], a failed run taken apart document by
//! document so that only the documents that cause the failure pass through unchanged.
//!
//! Cutting is safe because YAML documents do not depend on each other (unless a `%`
//! directive or a `...` line binds them, see [`crate::yaml::source::independent_documents`])
//! and a line starting with `---` is a document boundary wherever it appears.

use crate::error::Error;
use crate::yaml::{Documents, Node};

use super::helm::{helm_source, source_comment, unread_head};
use super::report::{Edited, Fixed, Part};
use super::verify::process_whole;
use super::{Base, FileReport, Options, PassedThrough, WorkloadReport};

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

/// A stream cut into runs of whole documents: where each run lies in the file, and the
/// threads to process them on.
pub(super) struct Runs {
    pub(super) threads: usize,
    pub(super) ranges: Vec<std::ops::Range<usize>>,
    /// The line breaks in each run, counted by the first thread that needs them: a run's
    /// first line is the sum over the runs before it. Counted ahead of the workers, on one
    /// thread, they held up the start of every run; counted here they are spread over the
    /// threads, each run's count a few microseconds before the run after it starts.
    lines: Vec<std::sync::OnceLock<usize>>,
}

impl Runs {
    /// `text` cut for every core (one run on one thread with [`Options::one_thread`]).
    pub(super) fn of(text: &str, opts: &Options) -> Runs {
        // A text too short for two runs stays one whatever the core count: no need to ask.
        let threads = if opts.one_thread || text.len() < 2 * MIN_RUN {
            1
        } else {
            super::cores()
        };
        let mut ranges = split_documents(text, threads);
        if ranges.len() <= 1 || threads == 1 {
            ranges = std::iter::once(0..text.len()).collect();
        }
        let lines = ranges.iter().map(|_| std::sync::OnceLock::new()).collect();
        Runs {
            threads,
            ranges,
            lines,
        }
    }

    /// Where run `i` of `text` starts in the file.
    pub(super) fn base(&self, text: &str, i: usize) -> Base {
        let line = self.ranges[..i]
            .iter()
            .zip(&self.lines)
            .map(|(r, n)| *n.get_or_init(|| count_lines(&text[r.clone()])))
            .sum();
        Base { document: 0, line }
    }
}

/// A run's result: its report (without its output) and its text, fixed or not.
pub(super) type Ran = Result<(FileReport, Part), Error>;

/// Each of `runs` processed on its own, on its threads (the calling one among them), each
/// result given to `take` in run order as soon as it and every run before it are done; a
/// changed run's text is kept as [`Edited`]. `take` returns false to stop: the runs not
/// started yet are not processed.
///
/// The calling thread takes runs like the others rather than waiting for them: one thread
/// fewer to start (on a small machine about as long as a run of a chart's render takes), and
/// the first run starts without waiting for a thread to come up.
pub(super) fn process_runs(
    name: &str,
    text: &str,
    runs: &Runs,
    opts: &Options,
    take: &mut dyn FnMut(usize, Ran) -> bool,
) -> Result<(), Error> {
    let count = runs.ranges.len();
    // Every thread takes the next run as it finishes one.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run_next = || -> Option<(usize, Ran)> {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = runs.ranges.get(i)?.clone();
        let base = runs.base(text, i);
        let ran = process_whole(name, &text[r.clone()], opts, base).map(|mut report| {
            let part = match report.output.take() {
                Some(out) => Part::Edited(Edited::of(text, r.clone(), &out)),
                None => Part::Input(r),
            };
            (report, part)
        });
        Some((i, ran))
    };
    let (send, done) = std::sync::mpsc::channel::<(usize, Ran)>();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..runs.threads.min(count))
            .map(|_| {
                let send = send.clone();
                scope.spawn(|| {
                    let send = send;
                    while let Some(ran) = run_next() {
                        if send.send(ran).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        drop(send);
        let mut waiting: Vec<Option<Ran>> = (0..count).map(|_| None).collect();
        let mut given = 0;
        // Hand what is done, in order, to `take`; false once it says stop.
        let mut give = |waiting: &mut Vec<Option<Ran>>| -> bool {
            while let Some(ran) = waiting.get_mut(given).and_then(Option::take) {
                given += 1;
                if !take(given - 1, ran) {
                    // Stop the others after the runs they are on.
                    next.store(count, std::sync::atomic::Ordering::Relaxed);
                    return false;
                }
            }
            true
        };
        let mut going = true;
        // This thread's share: a panic in it is the stream's error, as a helper's is.
        let own = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while let Some((i, ran)) = run_next() {
                waiting[i] = Some(ran);
                for (i, ran) in done.try_iter() {
                    waiting[i] = Some(ran);
                }
                going = give(&mut waiting);
                if !going {
                    return;
                }
            }
        }));
        if own.is_ok() && going {
            for (i, ran) in done.iter() {
                waiting[i] = Some(ran);
                if !give(&mut waiting) {
                    going = false;
                    break;
                }
            }
        }
        if own.is_err() {
            // Nothing more will be taken: stop the others after the runs they are on.
            next.store(count, std::sync::atomic::Ordering::Relaxed);
        }
        let helpers_ok = helpers.into_iter().all(|h| h.join().is_ok());
        if own.is_err() || !helpers_ok {
            return Err(Error::new(name, None, "internal: a worker panicked"));
        }
        if going && given != count {
            return Err(Error::new(
                name,
                None,
                "internal: a run of documents was lost",
            ));
        }
        Ok(())
    })
}

/// A stream's report and fixed text, put together run by run (or document by document)
/// in input order. Each piece's workload reports go through `sink` first, which keeps
/// what the caller needs of them at the end.
pub(super) struct Joined<'s> {
    report: FileReport,
    parts: Vec<Part>,
    /// Some document of the stream could be read: passing the others through makes sense.
    read: bool,
    sink: &'s mut dyn FnMut(&mut Vec<WorkloadReport>),
}

impl<'s> Joined<'s> {
    pub(super) fn new(sink: &'s mut dyn FnMut(&mut Vec<WorkloadReport>)) -> Joined<'s> {
        Joined {
            report: FileReport::default(),
            parts: Vec::new(),
            read: false,
            sink,
        }
    }

    /// The report and fixed text of the stream; `failure`, the first error of a run taken
    /// apart, when no document of the stream could be read at all: that input is not YAML.
    pub(super) fn finish(
        self,
        failure: Option<Error>,
    ) -> Result<(FileReport, Option<Fixed>), Error> {
        if let Some(e) = failure {
            if !self.read {
                return Err(without_hint(e));
            }
        }
        let Joined { report, parts, .. } = self;
        let fixed = report.changed.then_some(Fixed { parts });
        Ok((report, fixed))
    }

    /// The run at `range`, whose first line is `line` lines into the file, failed with `e`:
    /// process each of its documents on its own, and pass through those that still fail.
    pub(super) fn take_apart(
        &mut self,
        name: &str,
        text: &str,
        opts: &Options,
        range: std::ops::Range<usize>,
        line: usize,
        e: &Error,
    ) {
        let pieces = document_pieces(text, range.clone());
        if let [piece] = pieces.as_slice() {
            self.pass(text, piece.clone(), line, e);
            return;
        }
        let mut line = line;
        let mut counted = range.start;
        for piece in pieces {
            line += count_lines(&text[counted..piece.start]);
            counted = piece.start;
            let base = Base { document: 0, line };
            match process_whole(name, &text[piece.clone()], opts, base) {
                Ok(report) => self.add(report, piece),
                Err(e) => self.pass(text, piece, line, &e),
            }
        }
    }

    /// Add the report of the piece of the input at `range`.
    pub(super) fn add(&mut self, mut report: FileReport, range: std::ops::Range<usize>) {
        let part = report.output.take().map_or(Part::Input(range), Part::Fixed);
        self.add_part(report, part);
    }

    /// Add the report (its output taken out) and the text of a piece of the input.
    pub(super) fn add_part(&mut self, report: FileReport, part: Part) {
        let mut workloads = report.workloads;
        for w in &mut workloads {
            w.document += self.report.documents;
        }
        (self.sink)(&mut workloads);
        self.report.workloads.append(&mut workloads);
        self.read |= report.documents > 0;
        self.report.documents += report.documents;
        self.report.changed |= !matches!(part, Part::Input(_));
        self.parts.push(part);
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
pub(super) fn pass_stream(text: &str, e: Error) -> Result<(FileReport, Option<Fixed>), Error> {
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

pub(super) fn count_lines(text: &str) -> usize {
    crate::yaml::source::count_newlines(text.as_bytes())
}

/// Cut `text` into runs of whole documents, each after the first starting at a `---` line
/// (see [`MIN_RUN`], [`MAX_RUN`], [`RUNS_PER_THREAD`]). One run when the text is small. Never
/// at a `---` line that `%` directives precede (past blank and comment lines): they belong to
/// the document it starts, which a run holding them reads as one with them.
pub(super) fn split_documents(text: &str, threads: usize) -> Vec<std::ops::Range<usize>> {
    let threads = threads.max(1);
    let run = (text.len() / (threads * RUNS_PER_THREAD)).clamp(MIN_RUN, MAX_RUN);
    let parts = (text.len().div_ceil(run).div_ceil(threads) * threads).min(text.len() / MIN_RUN);
    if parts <= 1 {
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
        if at < bytes.len()
            && crate::yaml::source::is_document_marker(text, at)
            && !directive_before(text, at)
        {
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

/// Whether a `%` directive line precedes the line at `at`, past blank and comment lines.
fn directive_before(text: &str, at: usize) -> bool {
    let mut line = at;
    while line > 0 {
        line = crate::yaml::source::line_start(text, line - 1);
        let content = &text[line..crate::yaml::source::line_end(text, line)];
        if !crate::yaml::source::blank_or_comment(content) {
            return content.starts_with('%');
        }
    }
    false
}

fn memchr_from(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    memchr::memchr(needle, bytes.get(from..)?).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::process;

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

    /// A `%` directive keeps its `---` line from being a cut, so it stays with its document;
    /// the rest of the stream is cut as usual, and the result is one pass's.
    #[test]
    fn directives_stay_with_their_documents() {
        let plain = pss_fix_testkit::synth::stream(MAX_RUN * 2 + 512 * 1024, 9);
        let cut_free = split_documents(&plain, 2);
        let at = cut_free[cut_free.len() / 2].start;
        let text = format!(
            "{}...\n%YAML 1.1\n# its document:\n\n{}",
            &plain[..at],
            &plain[at..]
        );
        let runs = split_documents(&text, 2);
        assert!(runs.len() > 2, "the stream is still cut");
        let directive = text.find("%YAML").unwrap();
        assert!(
            runs.iter()
                .any(|r| r.start < directive && r.end > directive + 40),
            "the directive's run holds its document too: {runs:?}"
        );
        assert!(runs
            .iter()
            .skip(1)
            .all(|r| !directive_before(&text, r.start)));
        let opts = Options::default();
        let split = process("s", &text, &opts).unwrap();
        let whole = process_whole("s", &text, &opts, Base::default()).unwrap();
        assert_eq!(split.output, whole.output);
        assert_eq!(split.documents, whole.documents);
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
