//! One run of documents checked, fixed and read back: nothing leaves the engine before the
//! fixed text re-parses to the same number of documents, each equal as data to its input
//! plus exactly the planned changes, and a re-check plans nothing more (further rounds, for
//! unsafe fixes, until it does). Any disagreement is an error for the run.

use crate::error::Error;

use super::report::merge;
use super::round::{round, Look, Previous, Round};
use super::stream::count_lines;
use super::{Base, FileReport, Options, WorkloadReport};

/// Rounds of fixing before giving up: unsafe fixes unlock further fixes (removing
/// `privileged: true` makes `allowPrivilegeEscalation: false` insertable), and each round
/// either changes values or adds fields. Safe fixes alone must settle in one round.
const MAX_UNSAFE_ROUNDS: usize = 8;

/// Check, fix and verify one run of documents.
///
/// The fixed text is read back document by document where documents are independent of
/// each other (no `%` directive binds one to what precedes it, no `...` line lets one start
/// without `---`): a document the fixes left alone is byte for byte the input, which was
/// read already, so only the changed ones are parsed again. Otherwise the whole output is.
pub(super) fn process_whole(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
) -> Result<FileReport, Error> {
    // One scan of the run, for all that depends on it: skimming, the reader's fallback and
    // the read-back.
    let independent = crate::yaml::source::independent_documents(text);
    let by_document = !opts.findings_only && independent;
    match process_run(name, text, opts, base, independent, by_document)? {
        Some(report) => Ok(report),
        // The edits strayed outside their documents (never seen): read back everything.
        None => process_run(name, text, opts, base, independent, false)?
            .ok_or_else(|| Error::new(name, None, "internal: the output could not be read back")),
    }
}

fn process_run(
    name: &str,
    text: &str,
    opts: &Options,
    base: Base,
    independent: bool,
    by_document: bool,
) -> Result<Option<FileReport>, Error> {
    let mut first = round(
        name,
        text,
        opts,
        base,
        Look::First { independent },
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
        let next = round(name, now, opts, base, Look::Again(prev), true)
            .map_err(|e| verification(name, e))?;
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

/// An error met while reading back fixed text: nothing is written. Its position, when it
/// has one, is the input line of the document it concerns (the fixed text is never shown).
fn verification(name: &str, e: Error) -> Error {
    Error::new(
        name,
        e.pos,
        format!("verification failed, nothing written: {}", e.message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::process;
    use crate::policy::remedy::Allow;

    /// Read `text` back document by document and as a whole: the same text and reports.
    fn by_document_agrees_with_the_whole_text(
        text: &str,
        opts: &Options,
        base: Base,
    ) -> FileReport {
        let independent = crate::yaml::source::independent_documents(text);
        assert!(independent, "documents that can be read back one by one");
        let pieces = process_run("s", text, opts, base, independent, true)
            .unwrap()
            .unwrap();
        let whole = process_run("s", text, opts, base, independent, false)
            .unwrap()
            .unwrap();
        assert!(pieces.output.is_some(), "the stream has something to fix");
        assert_eq!(pieces.output, whole.output);
        assert_eq!(pieces.documents, whole.documents);
        assert_eq!(
            format!("{:?}", pieces.workloads),
            format!("{:?}", whole.workloads)
        );
        pieces
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
            let pieces = by_document_agrees_with_the_whole_text(&text, &opts, base);
            assert!(pieces
                .workloads
                .iter()
                .all(|w| w.document >= 3 && w.line > 40));
        }
    }

    /// Streams that close each document with `...` right before the next `---` (istio's
    /// Kiali chart) are read back document by document, and decide exactly as the whole text.
    #[test]
    fn end_markers_before_start_markers_are_verified_by_document() {
        let plain = pss_fix_testkit::synth::stream(200 * 1024, 5);
        let text = plain.replace("\n---\n", "\n...\n# closed\n---\n");
        assert!(text.contains("\n...\n"));
        assert!(crate::yaml::source::independent_documents(&text));
        by_document_agrees_with_the_whole_text(&text, &Options::default(), Base::default());
    }

    /// A document whose fix does not read back is named by its line in the input.
    #[test]
    fn a_verification_failure_names_the_document_line() {
        let text = "a: 1\n---\nb: 2\n";
        let look = Look::First { independent: true };
        let first = round("f", text, &Options::default(), Base::default(), look, false).unwrap();
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
}
