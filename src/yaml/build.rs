//! Builds span trees from saphyr-parser events, one document at a time, without recursion
//! (a hostile 100,000-level document must end in an error, not a stack overflow).
//!
//! saphyr counts characters; every position goes through [`CharMap`] exactly once, here.
//! Scalar ends the parser gets wrong (quoted, block, empty) are measured in [`super::scalar`].

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, StrInput};

use super::{scalar, Kind, Map, Node, Scalar, Seq};
use crate::error::{Located, Pos};
use crate::source::CharMap;

/// Deeper nesting than this is refused: no Kubernetes object comes close, and every walk
/// over the tree may then recurse safely.
pub const MAX_DEPTH: usize = 256;

/// One document of a stream.
#[derive(Debug)]
pub struct Document<'a> {
    /// 0-based position in the stream.
    pub index: usize,
    /// Byte offset of the `---` marker, or of the first content for an implicit start.
    pub start: usize,
    pub root: Node<'a>,
    /// Only checked for being valid YAML (see [`Documents::skimming`]): `root` is empty.
    pub skimmed: bool,
}

/// Decides from a document's text whether it needs its tree.
pub type Wanted<'a> = Box<dyn Fn(&str) -> bool + 'a>;

/// The documents of a stream, parsed lazily.
pub struct Documents<'a> {
    text: &'a str,
    parser: Parser<'a, StrInput<'a>>,
    chars: CharMap,
    index: usize,
    done: bool,
    wanted: Option<Wanted<'a>>,
}

impl<'a> Documents<'a> {
    pub fn new(text: &'a str) -> Self {
        Documents {
            text,
            parser: Parser::new_from_str(text),
            chars: CharMap::new(text),
            index: 0,
            done: false,
            wanted: None,
        }
    }

    /// Build trees only for the documents whose text `wanted` accepts; the others are parsed
    /// to the end (a syntax error, a key that is a collection or too deep a nesting is still
    /// an error) and come back [`Document::skimmed`]. A document's text runs to the next
    /// `---` line, so the stream's documents must be independent of each other
    /// ([`crate::source::independent_documents`]).
    pub fn skimming(mut self, wanted: Wanted<'a>) -> Self {
        self.wanted = Some(wanted);
        self
    }

    /// Parse the rest of a document without building anything.
    fn skim(&mut self, index: usize, start: usize) -> Result<Option<Document<'a>>, Located> {
        // Per open collection: a mapping, and how many children it has so far (a mapping's
        // even children are keys).
        let mut open: Vec<(bool, usize)> = Vec::new();
        loop {
            let Some(event) = self.parser.next_event() else {
                return Ok(None);
            };
            let (event, span) = event.map_err(|e| scan_error(self.text, e))?;
            let completes = match event {
                Event::DocumentEnd => {
                    self.index += 1;
                    return Ok(Some(Document {
                        index,
                        start,
                        root: empty_node(start),
                        skimmed: true,
                    }));
                }
                Event::StreamEnd => return Ok(None),
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    if open.len() >= MAX_DEPTH {
                        return Err(Located::at(
                            Pos {
                                line: span.start.line(),
                                col: span.start.col() + 1,
                            },
                            format!("nesting deeper than {MAX_DEPTH} levels; refusing to edit"),
                        ));
                    }
                    if matches!(open.last(), Some(&(true, n)) if n % 2 == 0) {
                        let at = self.byte(span.start.index());
                        return Err(complex_key(self.text, at));
                    }
                    open.push((matches!(event, Event::MappingStart(..)), 0));
                    false
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    open.pop();
                    true
                }
                Event::Scalar(..) | Event::Alias(_) => true,
                _ => false,
            };
            if completes {
                if let Some(parent) = open.last_mut() {
                    parent.1 += 1;
                }
            }
        }
    }

    fn byte(&self, ci: usize) -> usize {
        self.chars.byte(self.text, ci)
    }

    fn next_document(&mut self) -> Result<Option<Document<'a>>, Located> {
        let mut stack: Vec<Frame> = Vec::new();
        // Children of the open collections, innermost last: one buffer for the whole
        // document, so each finished collection costs one exact-size allocation.
        let mut scratch: Vec<Node<'a>> = Vec::new();
        let mut root: Option<Node<'a>> = None;
        let mut doc_start = None;
        // End of the last token that can precede a scalar's own text (a key, an item, a flow
        // opener): the header of a block scalar is searched from here.
        let mut prev_end = 0usize;
        loop {
            let Some(event) = self.parser.next_event() else {
                return Ok(None);
            };
            let (event, span) = event.map_err(|e| scan_error(self.text, e))?;
            let start = self.byte(span.start.index());
            let end = self.byte(span.end.index());
            let done = match event {
                Event::StreamStart | Event::Nothing => None,
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(_) => {
                    if let Some(wanted) = &self.wanted {
                        let end = crate::source::next_document_marker(self.text, start);
                        if !wanted(&self.text[start..end]) {
                            return self.skim(self.index, start);
                        }
                    }
                    doc_start = Some(start);
                    prev_end = end;
                    None
                }
                Event::DocumentEnd => {
                    let root = root.take().unwrap_or_else(|| empty_node(prev_end));
                    let doc = Document {
                        index: self.index,
                        start: doc_start.unwrap_or(root.start),
                        root,
                        skimmed: false,
                    };
                    self.index += 1;
                    return Ok(Some(doc));
                }
                Event::Alias(_) => Some(Node {
                    start,
                    end,
                    anchored: false,
                    kind: Kind::Alias,
                }),
                Event::Scalar(value, style, anchor, tag) => {
                    let end = match style {
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                            scalar::quoted_end(self.text, start)
                        }
                        ScalarStyle::Literal | ScalarStyle::Folded => {
                            scalar::block_end(self.text, prev_end)
                        }
                        ScalarStyle::Plain => end,
                    };
                    let (start, end) = if style == ScalarStyle::Plain && value.is_empty() {
                        let at = if self.text.as_bytes().get(start) == Some(&b':') {
                            start + 1
                        } else {
                            start
                        };
                        (at, at)
                    } else {
                        (start, end)
                    };
                    let tag = tag.map(|t| tag_suffix(&t));
                    Some(Node {
                        start,
                        end,
                        anchored: anchor != 0,
                        kind: Kind::Scalar(Scalar { value, style, tag }),
                    })
                }
                Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                    // A tagged collection is held like an anchored one: not edited.
                    let pinned = anchor != 0 || tag.is_some();
                    if stack.len() >= MAX_DEPTH {
                        return Err(Located::at(
                            Pos {
                                line: span.start.line(),
                                col: span.start.col() + 1,
                            },
                            format!("nesting deeper than {MAX_DEPTH} levels; refusing to edit"),
                        ));
                    }
                    // A tag or anchor gives a block collection a span too: only a bracket
                    // makes it flow.
                    let span = &self.text[start..end];
                    let before_comment = span.split(" #").next().unwrap_or(span);
                    let flow = before_comment.contains(['{', '[']);
                    if flow {
                        prev_end = end;
                    }
                    let is_map = matches!(event, Event::MappingStart(..));
                    stack.push(Frame {
                        start,
                        flow,
                        anchored: pinned,
                        is_map,
                        first: scratch.len(),
                    });
                    None
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    let Some(frame) = stack.pop() else {
                        return Err(Located::nowhere("unbalanced YAML events"));
                    };
                    // A flow collection ends just after its closing bracket: saphyr's span
                    // runs on over trailing blanks and a comment.
                    let close = if matches!(self.text.as_bytes().get(start), Some(b'}' | b']')) {
                        start + 1
                    } else {
                        end
                    };
                    match frame.finish(close, &mut scratch) {
                        Ok(node) => Some(node),
                        Err(at) => return Err(complex_key(self.text, at)),
                    }
                }
            };
            if let Some(node) = done {
                prev_end = node.end;
                if stack.is_empty() {
                    root = Some(node);
                } else {
                    scratch.push(node);
                }
            }
        }
    }
}

impl<'a> Iterator for Documents<'a> {
    type Item = Result<Document<'a>, Located>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_document() {
            Ok(Some(doc)) => Some(Ok(doc)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

struct Frame {
    start: usize,
    flow: bool,
    anchored: bool,
    is_map: bool,
    /// Where this collection's children begin in the shared buffer.
    first: usize,
}

impl Frame {
    /// The finished node, or the offset of a mapping key that is itself a collection.
    fn finish<'a>(self, close_end: usize, scratch: &mut Vec<Node<'a>>) -> Result<Node<'a>, usize> {
        let children = &scratch[self.first..];
        // A flow collection ends after its closing bracket; a block one where its last
        // child's text ends.
        let end = if self.flow {
            close_end
        } else {
            children.last().map_or(self.start, |n| n.end)
        };
        let kind = if self.is_map {
            if let Some(k) = children
                .iter()
                .step_by(2)
                .find(|k| !matches!(k.kind, Kind::Scalar(_) | Kind::Alias))
            {
                return Err(k.start);
            }
            let mut entries = Vec::with_capacity(children.len() / 2);
            let mut it = scratch.drain(self.first..);
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                entries.push((k, v));
            }
            Kind::Map(Map {
                entries,
                flow: self.flow,
            })
        } else {
            Kind::Seq(Seq {
                items: scratch.drain(self.first..).collect(),
                flow: self.flow,
            })
        };
        Ok(Node {
            start: self.start,
            end,
            anchored: self.anchored,
            kind,
        })
    }
}

fn empty_node<'a>(at: usize) -> Node<'a> {
    Node {
        start: at,
        end: at,
        anchored: false,
        kind: Kind::Scalar(Scalar {
            value: Cow::Borrowed(""),
            style: ScalarStyle::Plain,
            tag: None,
        }),
    }
}

fn tag_suffix(tag: &saphyr_parser::Tag) -> Box<str> {
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        tag.suffix.as_str().into()
    } else {
        format!("{}{}", tag.handle, tag.suffix).into()
    }
}

/// Kubernetes objects never have a collection as a mapping key; `{{ … }}` parses as one,
/// which is how an unrendered Helm template usually shows.
fn complex_key(text: &str, at: usize) -> Located {
    let pos = crate::source::LineIndex::new(text).pos(text, at);
    let message = if crate::unrendered::looks_unrendered(text, pos.line, pos.col) {
        crate::unrendered::UNRENDERED_KEY
    } else {
        crate::unrendered::COMPLEX_KEY
    };
    Located::at(pos, message)
}

fn scan_error(text: &str, e: ScanError) -> Located {
    let m = e.marker();
    let hint = if crate::unrendered::looks_unrendered(text, m.line(), m.col() + 1) {
        crate::unrendered::HINT
    } else {
        ""
    };
    Located::at(
        Pos {
            line: m.line(),
            col: m.col() + 1,
        },
        format!("invalid YAML: {}{hint}", e.info()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Document<'_>> {
        Documents::new(text).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn spans_are_bytes_and_ends_are_exact() {
        let text = "é: \"ü\" # c\nb: |+\n  x\n\n# c\nd:\n";
        let d = docs(text);
        let root = &d[0].root;
        let v = root.get("é").unwrap();
        assert_eq!(&text[v.start..v.end], "\"ü\"");
        let b = root.get("b").unwrap();
        assert_eq!(&text[b.start..b.end], "x\n");
        let d_val = root.get("d").unwrap();
        assert!(d_val.is_null());
        assert_eq!(d_val.start, text.len() - 1);
    }

    #[test]
    fn streams_split_into_documents() {
        let d = docs("a: 1\n---\nb: 2\n...\n--- # c\nc: [1, 2]\n");
        assert_eq!(d.len(), 3);
        let c = d[2].root.get("c").unwrap();
        assert!(c.is_flow());
    }

    /// A skimmed document builds nothing but is still read to its end: what would make it
    /// an error when built makes it one when skimmed.
    #[test]
    fn skimmed_documents_are_still_checked() {
        let skim = |text: &str| -> Vec<Result<bool, String>> {
            Documents::new(text)
                .skimming(Box::new(|doc| doc.contains("keep")))
                .map(|d| d.map(|d| d.skimmed).map_err(|e| e.message))
                .collect()
        };
        assert_eq!(
            skim("a: 1\n---\nkeep: 2\n---\nb: [1, {c: d}]\n"),
            vec![Ok(true), Ok(false), Ok(true)]
        );
        for bad in ["a: [1\n", "? [a, b]\n: c\n", &"[".repeat(300)] {
            let text = format!("keep: 1\n---\n{bad}");
            let got = skim(&text);
            assert!(matches!(got.last(), Some(Err(_))), "{bad:?}: {got:?}");
        }
        let complex = skim("x: 1\n---\n? [a, b]\n: c\n");
        assert!(
            matches!(complex.last(), Some(Err(m)) if m.contains("mapping key")),
            "{complex:?}"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        let err = Documents::new(&text).next().unwrap().unwrap_err();
        // saphyr's own recursion limit may answer first; either way it is an error, not a crash.
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
    }
}
