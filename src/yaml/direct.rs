//! Span trees built straight from the text for documents in the plain subset
//! ([`super::plain`]), without saphyr.
//!
//! saphyr builds every scalar a character at a time, and every workload is read at least
//! twice (checked, then read back after fixing). A document written in the subset's narrow
//! style (block collections one entry per line, one-line scalars, short flow lists, literal
//! block scalars) needs no parser to be read: the line scan that proves it valid meets every
//! node in document order, and each node's span and value follow from its text.
//!
//! The tree must be exactly the one [`super::Documents`] builds from saphyr's events: same
//! spans, values, styles. Where the value would take rules this module does not carry
//! (folded block scalars, single-quoted scalars over several lines, a block scalar without
//! a line of content, a line of spaces longer than a literal scalar's indentation, a merge
//! key) it refuses, and the document is parsed as before. The tests compare both trees over
//! every document of the fixtures and the shared corpus, and over mutations of them.

use std::borrow::Cow;

use saphyr_parser::ScalarStyle;

use super::build::{root_kind, Frame, RootKind};
use super::plain::{self, Sink};
use super::source::{line_end, lines};
use super::{scalar, Kind, Node, Scalar};

/// What [`build`] read.
pub(crate) enum Read<'a> {
    /// The document's root.
    Tree(Node<'a>),
    /// The root mapping's first `kind` entry holds a scalar that the caller's predicate
    /// refuses: the rest of the document was only proved valid, not built.
    Unwanted,
}

/// The root of `doc`, a slice of `text` holding one whole document from its line's start
/// (as [`plain::valid`] takes it), with spans in `text`; `None` when it is outside what this
/// module builds. With `kind_wanted`, building stops at a `kind` it refuses (as the reader
/// stops building from saphyr's events), and the scan only goes on to prove the document
/// valid: a dashboard's ConfigMap is not built for its literal blocks.
pub(crate) fn build<'a>(
    text: &'a str,
    doc: &'a str,
    kind_wanted: Option<&dyn Fn(&str) -> bool>,
) -> Option<Read<'a>> {
    let builder = plain::scan(
        doc,
        Builder {
            text,
            stack: Vec::new(),
            scratch: Vec::new(),
            root: None,
            kind_wanted,
            unwanted: false,
        },
    )?;
    if builder.unwanted {
        return Some(Read::Unwanted);
    }
    builder.root.map(Read::Tree)
}

struct Builder<'a, 'w> {
    text: &'a str,
    stack: Vec<Frame>,
    /// Children of the open collections, innermost last (one buffer for the document).
    scratch: Vec<Node<'a>>,
    root: Option<Node<'a>>,
    /// Asked once, at the root mapping's first `kind` entry.
    kind_wanted: Option<&'w dyn Fn(&str) -> bool>,
    /// Refused: nothing more is built.
    unwanted: bool,
}

impl<'a> Builder<'a, '_> {
    /// Where `s`, a slice of the text, starts in it.
    fn at(&self, s: &str) -> usize {
        plain::offset(self.text, s)
    }

    /// The end of the line `s` starts on (its line break, or the end of the text: the subset
    /// holds no carriage return).
    fn line_end(&self, s: &str) -> usize {
        line_end(self.text, self.at(s))
    }

    fn push(&mut self, start: usize, seq: bool, flow: bool) {
        self.stack.push(Frame {
            start,
            flow,
            anchor: 0,
            anchored: false,
            is_map: !seq,
            first: self.scratch.len(),
        });
    }

    fn add(&mut self, node: Node<'a>) {
        if self.stack.is_empty() {
            self.root = Some(node);
        } else {
            self.scratch.push(node);
            if self.kind_wanted.is_some() {
                self.decide_kind();
            }
        }
    }

    /// At the root mapping's first `kind` entry, ask `kind_wanted`, once, as the reader
    /// does from saphyr's events.
    fn decide_kind(&mut self) {
        let Some(wanted) = self.kind_wanted else {
            return;
        };
        let refused = match root_kind(&self.stack, &self.scratch) {
            RootKind::Unknown => return,
            RootKind::Undecidable => false,
            RootKind::Kind(kind) => !wanted(kind),
        };
        self.kind_wanted = None;
        if refused {
            self.unwanted = true;
            self.stack.clear();
            self.scratch.clear();
        }
    }

    fn scalar_node(start: usize, end: usize, value: Cow<'a, str>, style: ScalarStyle) -> Node<'a> {
        Node {
            start,
            end,
            anchored: false,
            kind: Kind::Scalar(Scalar {
                value,
                style,
                tag: None,
            }),
        }
    }
}

impl<'a> Sink<'a> for Builder<'a, '_> {
    fn open(&mut self, at: &'a str, seq: bool, indentless: bool) {
        if self.unwanted {
            return;
        }
        // saphyr starts a sequence at its key's column past its first dash: at the item's
        // text on the dash's line, or else at that line's end.
        let start = if indentless {
            let item = at[1..].trim_start_matches(' ');
            if item.starts_with('#') || item.starts_with('\n') || item.is_empty() {
                self.line_end(at)
            } else {
                self.at(item)
            }
        } else {
            self.at(at)
        };
        self.push(start, seq, false);
    }

    fn open_flow(&mut self, at: &'a str, map: bool) {
        if self.unwanted {
            return;
        }
        self.push(self.at(at), !map, true);
    }

    fn close(&mut self, after: &'a str) -> Option<()> {
        if self.unwanted {
            return Some(());
        }
        let frame = self.stack.pop()?;
        let node = frame.finish(self.at(after), &mut self.scratch).ok()?;
        self.add(node);
        Some(())
    }

    fn scalar(&mut self, text: &'a str) -> Option<()> {
        if self.unwanted {
            return Some(());
        }
        let start = self.at(text);
        let end = start + text.len();
        let (value, style) = match text.as_bytes()[0] {
            b'\'' => (single(&text[1..text.len() - 1]), ScalarStyle::SingleQuoted),
            b'"' => (double(&text[1..text.len() - 1])?, ScalarStyle::DoubleQuoted),
            _ => (Cow::Borrowed(text), ScalarStyle::Plain),
        };
        // A merge key makes the reader resolve the document's data: left to it.
        if value == "<<" {
            return None;
        }
        self.add(Self::scalar_node(start, end, value, style));
        Some(())
    }

    fn empty(&mut self, after: &'a str) {
        if self.unwanted {
            return;
        }
        // A mapping's empty value sits after its key's colon; a sequence's at the end of
        // its dash's line.
        let at = if self.stack.last().is_some_and(|f| !f.is_map) {
            self.line_end(after)
        } else {
            self.at(after)
        };
        self.add(Self::scalar_node(
            at,
            at,
            Cow::Borrowed(""),
            ScalarStyle::Plain,
        ));
    }

    fn block(&mut self, header: &'a str, body: &'a str) -> Option<()> {
        if self.unwanted {
            return Some(());
        }
        let b = header.as_bytes();
        if b[0] != b'|' {
            return None;
        }
        let chomp = match b.get(1) {
            Some(b'-') => Chomp::Strip,
            Some(b'+') => Chomp::Keep,
            _ => Chomp::Clip,
        };
        let (value, content) = literal(body, chomp)?;
        // The scalar's text starts at its first content character.
        let start = self.at(content);
        let end = scalar::block_end(self.text, self.at(header));
        self.add(Self::scalar_node(
            start,
            end,
            Cow::Owned(value),
            ScalarStyle::Literal,
        ));
        Some(())
    }

    fn multi_line(&mut self, _: &'a str) -> Option<()> {
        // Valid (the scan says so); its value takes folding rules left to the parser.
        self.unwanted.then_some(())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// A literal block scalar's value from its body (see [`Sink::block`]): each line less the
/// first content line's indentation, joined by line breaks, then chomped; and the body from
/// its first content character. `None` for what is left to the parser: no content line, a
/// line of spaces past the indentation, a last line without its line break.
fn literal(body: &str, chomp: Chomp) -> Option<(String, &str)> {
    let mut lines: Vec<&str> = lines(body).collect();
    // The body's last line ends at a line break, or at the end of the document.
    let ends_in_break = body.ends_with('\n');
    if ends_in_break {
        lines.pop();
    }
    let first = lines.iter().position(|l| l.bytes().any(|c| c != b' '))?;
    let indent = lines[first].bytes().take_while(|&c| c == b' ').count();
    let last = lines.iter().rposition(|l| l.bytes().any(|c| c != b' '))?;
    // The last content line's break: at the end of the body, the document must have it.
    let broken = last + 1 < lines.len() || ends_in_break;
    if !broken {
        return None;
    }
    let mut value = String::with_capacity(body.len());
    for (i, line) in lines.iter().enumerate() {
        let content = line.bytes().any(|c| c != b' ');
        if !content && line.len() > indent {
            return None;
        }
        if i > last {
            break;
        }
        if content {
            value.push_str(&line[indent..]);
        }
        value.push('\n');
    }
    match chomp {
        Chomp::Strip => {
            value.pop();
        }
        Chomp::Clip => {}
        Chomp::Keep => {
            let trailing = lines.len() - 1 - last;
            // The blank lines after the last content line, each with its break; the last
            // one may be the document's end, without one.
            let breaks = if ends_in_break {
                trailing
            } else {
                trailing.checked_sub(1)?
            };
            value.extend(std::iter::repeat_n('\n', breaks));
        }
    }
    Some((value, &lines[first][indent..]))
}

/// A single-quoted scalar's value from its text between the quotes.
fn single(inner: &str) -> Cow<'_, str> {
    if inner.contains("''") {
        Cow::Owned(inner.replace("''", "'"))
    } else {
        Cow::Borrowed(inner)
    }
}

/// A double-quoted scalar's value from its text between the quotes (one line, escapes
/// checked valid by the scan).
fn double(inner: &str) -> Option<Cow<'_, str>> {
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let (c, len) = plain::escape(&rest[i + 1..])?;
        out.push(c);
        rest = &rest[i + 1 + len..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;
