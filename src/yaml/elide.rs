//! The bodies of long block scalars, left out of a document that is only checked for being
//! valid YAML ([`super::Documents::skimming_kinds`]).
//!
//! Real renders carry most of their bytes in block scalars nobody edits: Grafana dashboards
//! and Prometheus rules in ConfigMaps, scripts, certificates. A skimmed document still has to
//! be parsed to its end (a syntax error anywhere is an error), and saphyr reads a block
//! scalar a character at a time, building its value: two thirds of kube-prometheus-stack's
//! render is dashboard JSON. Yet which lines a block scalar takes in, and whether they are
//! valid, depends on each line alone once the scalar's indentation is known: a line indented
//! at least as far as the first content line, holding no line break saphyr reads as one
//! (`\r`) and no byte order mark, is content whatever else it holds; so is a line of spaces.
//! Such lines after the first content line can be left out without changing whether the
//! document parses, and the first one shortened to its indentation and first character (a
//! dashboard is often one line of JSON).
//!
//! This module only proposes: it finds `|` and `>` headers by their text, and cannot see a
//! header that stands inside a quoted scalar, or a scalar whose first line is not content.
//! The reader parses the shortened text and accepts it only when the parser read, at each
//! shortened place, a block scalar whose content starts on the kept first line and runs past
//! the cut ([`Elided::cuts`]); anything else, and the document is parsed whole as before.

use super::source::{line_start, next_line};

/// Leaving out fewer bytes than this, or less than half the document, is not worth a
/// second parser.
const WORTH: usize = 2048;

/// A document's text with the bodies of its long block scalars shortened.
pub(crate) struct Elided {
    pub text: String,
    /// Per shortened scalar, in `text`: where its first content line's text starts (after
    /// the indentation) and where the text left out was.
    pub cuts: Vec<(usize, usize)>,
}

/// `doc` (a whole document's text) with the bodies of its block scalars cut down to their
/// first character; `None` when that would leave out too little.
pub(crate) fn elide(doc: &str) -> Option<Elided> {
    let b = doc.as_bytes();
    // Byte ranges of `doc` to leave out, and per range the start of the first content line's
    // text of its scalar.
    let mut drops: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut from = 0;
    while let Some(at) = memchr::memchr2(b'|', b'>', &b[from..]).map(|k| from + k) {
        from = at + 1;
        let Some(body) = header(doc, at) else {
            continue;
        };
        let Some((first, indent)) = first_content(b, body) else {
            continue;
        };
        let text = first + indent;
        let mut end = next_line(doc, first);
        while let Some(nl) = memchr::memchr(b'\n', &b[end..]) {
            let line = &b[end..end + nl];
            if !(line.iter().all(|&c| c == b' ') || content(line, indent)) {
                break;
            }
            end += nl + 1;
        }
        // The body becomes its first line's indentation and first character, and the last
        // line break it had: one content line, as short as one can be.
        let first_char = doc[text..].chars().next().map_or(1, char::len_utf8);
        let line_break = if b[..end].ends_with(b"\r\n") { 2 } else { 1 };
        let drop = text + first_char..end - line_break;
        if !drop.is_empty() {
            drops.push((text, drop));
        }
        from = from.max(end);
    }
    let left_out: usize = drops.iter().map(|(_, r)| r.len()).sum();
    // The copy is parsed in full: it only pays when most of the document is left out (a
    // dashboard's ConfigMap), not for a CRD's many short descriptions.
    if left_out < WORTH || left_out < doc.len() / 2 {
        return None;
    }
    let mut text = String::with_capacity(doc.len() - left_out);
    let mut cuts = Vec::with_capacity(drops.len());
    let mut last = 0;
    for (first, r) in drops {
        let shift = last - text.len();
        text.push_str(&doc[last..r.start]);
        cuts.push((first - shift, text.len()));
        last = r.end;
    }
    text.push_str(&doc[last..]);
    Some(Elided { text, cuts })
}

/// The start of the line after a block scalar header whose indicator (`|` or `>`) is at
/// `at`: the indicator after `key:` or `-` and a space, an optional chomping indicator, then
/// only blanks or a comment to the line's end. (An indentation indicator is not taken: the
/// first content line would not fix the indentation.)
fn header(doc: &str, at: usize) -> Option<usize> {
    let b = doc.as_bytes();
    let before = &b[line_start(doc, at)..at];
    let lead = before.strip_suffix(b" ")?.trim_ascii_end();
    let item = lead
        .strip_suffix(b"-")
        .is_some_and(|l| l.is_empty() || l.ends_with(b" "));
    if !(lead.ends_with(b":") || item) {
        return None;
    }
    let mut i = at + 1;
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let nl = memchr::memchr(b'\n', &b[i..])? + i;
    let rest = b[i..nl].strip_suffix(b"\r").unwrap_or(&b[i..nl]);
    let blanks = rest
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    let rest = &rest[blanks..];
    (rest.is_empty() || (blanks > 0 && rest.starts_with(b"#"))).then_some(nl + 1)
}

/// The first line from `body` that is not all spaces, and its indentation, when that is at
/// least one space and the line holds content.
fn first_content(b: &[u8], mut line: usize) -> Option<(usize, usize)> {
    loop {
        let nl = memchr::memchr(b'\n', &b[line..])? + line;
        let text = &b[line..nl];
        if !text.iter().all(|&c| c == b' ') {
            let indent = text.iter().take_while(|&&c| c == b' ').count();
            return (indent > 0 && content(text, indent)).then_some((line, indent));
        }
        line = nl + 1;
    }
}

/// A line (without its `\n`) that a block scalar indented by `indent` reads as one content
/// line: the indentation in spaces, then something, with no `\r` but a CRLF's and no byte
/// order mark.
fn content(line: &[u8], indent: usize) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() > indent
        && line[..indent].iter().all(|&c| c == b' ')
        && memchr::memchr(b'\r', &line[indent..]).is_none()
        && memchr::memmem::find(&line[indent..], "\u{FEFF}".as_bytes()).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: usize, indent: &str) -> String {
        (0..lines)
            .map(|i| format!("{indent}\"line {i}\": [1, 2, {{\"x\": \"|\"}}]\n"))
            .collect()
    }

    #[test]
    fn long_bodies_are_cut_to_their_first_character() {
        let doc = format!(
            "kind: ConfigMap\ndata:\n  a.json: |-  # dashboard\n\n{}  b: >\n{}  c: |\r\n    é{}\r\n",
            body(100, "    "),
            body(100, "      "),
            "x".repeat(3000),
        );
        let e = elide(&doc).unwrap();
        assert_eq!(
            e.text,
            "kind: ConfigMap\ndata:\n  a.json: |-  # dashboard\n\n    \"\n  b: >\n      \"\n  c: |\r\n    é\r\n"
        );
        let [(f1, c1), (f2, c2), (f3, c3)] = e.cuts[..] else {
            panic!("{:?}", e.cuts)
        };
        assert!(e.text[f1..].starts_with("\"\n  b") && c1 == f1 + 1);
        assert!(e.text[f2..].starts_with("\"\n  c") && c2 == f2 + 1);
        assert!(e.text[f3..].starts_with("é\r\n") && c3 == f3 + 2);
        // One long line alone is worth cutting too.
        assert!(elide(&format!("a: |\n  {}\n", "x".repeat(3000))).is_some());
    }

    #[test]
    fn a_line_that_could_end_the_scalar_is_kept_with_all_after_it() {
        for odd in [
            "  less indented\n",
            "    tab\tinside is content\n",
            "\t\n",
            "    cr\rinside\n",
            "  # comment\n",
        ] {
            let doc = format!("a: |\n{}{odd}{}", body(200, "    "), body(20, "    "));
            let e = elide(&doc).unwrap();
            if odd.starts_with("    tab") {
                assert_eq!(e.text, "a: |\n    \"\n", "content is left out: {odd:?}");
            } else {
                assert!(
                    e.text.ends_with(&format!("{odd}{}", body(20, "    "))),
                    "{odd:?}"
                );
            }
        }
    }

    #[test]
    fn too_little_or_no_header_leaves_the_document_alone() {
        assert!(elide(&format!("a: |\n{}", body(3, "  "))).is_none());
        let mostly_kept = format!("a: |\n{}b: [{}]\n", body(100, "  "), "1, ".repeat(2000));
        assert!(elide(&mostly_kept).is_none(), "less than half left out");
        for not_header in [
            "a: x |\n", "a: |2\n", "a: | x\n", "a: |#c\n", "a: b|\n", "a:|\n",
        ] {
            assert!(
                elide(&format!("{not_header}{}", body(100, "  "))).is_none(),
                "{not_header}"
            );
        }
        assert!(elide(&format!("- |\n{}", body(100, "  "))).is_some());
        assert!(
            elide(&format!("a: |\n{}", body(100, ""))).is_none(),
            "indentation 0"
        );
    }
}
