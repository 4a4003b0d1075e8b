//! Builds span trees from saphyr-parser events, one document at a time, without recursion
//! (a hostile 100,000-level document must end in an error, not a stack overflow).
//!
//! saphyr counts characters; every position goes through [`CharMap`] exactly once, here.
//! Scalar ends the parser gets wrong (quoted, block, empty) are measured in [`super::scalar`].
//!
//! saphyr is stricter than go-yaml, Kubernetes' reader. A document it refuses is read again
//! through [`super::relax`], which rewrites go-yaml's leniencies into text saphyr accepts;
//! positions then go through the rewrite's [`Shift`] too, so spans still name the author's
//! bytes. Only when the rewritten text is refused as well is the document an error.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, StrInput};

use super::direct;
use super::elide::{self, Elided};
use super::expand;
use super::plain;
use super::relax::{self, Shift};
use super::{scalar, Kind, Map, Node, Scalar, Seq};
use crate::error::Located;
use crate::yaml::source::CharMap;

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
    /// Only checked for being valid YAML (see [`Documents::skimming_kinds`]): `root` is empty.
    pub skimmed: bool,
    /// Its anchored nodes by the parser's anchor id, when an alias or merge key refers to
    /// them (see [`Document::data`]).
    anchors: Option<Vec<(usize, Node<'a>)>>,
    /// `root` with aliases and merge keys resolved, worked out when first asked for.
    resolved: std::cell::OnceCell<Result<Node<'a>, expand::Unresolved>>,
}

impl<'a> Document<'a> {
    /// The document as data, for reading: aliases and merge keys resolved (bounded, see
    /// [`expand`]). Edits are planned on [`Document::root`], as written. Resolving waits for
    /// the first call, so a document nobody reads (a ConfigMap full of aliases) costs nothing.
    pub fn data(&self) -> Result<&Node<'a>, &expand::Unresolved> {
        match &self.anchors {
            None => Ok(&self.root),
            Some(anchors) => self
                .resolved
                .get_or_init(|| expand::expand(&self.root, anchors))
                .as_ref(),
        }
    }

    /// Whether an alias or merge key makes [`Document::data`] differ from the text.
    pub fn refers(&self) -> bool {
        self.anchors.is_some()
    }

    fn new(index: usize, start: usize, root: Node<'a>) -> Self {
        Document {
            index,
            start,
            root,
            skimmed: false,
            anchors: None,
            resolved: std::cell::OnceCell::new(),
        }
    }

    /// See [`Node::into_owned`].
    pub fn into_owned<'b>(self) -> Document<'b> {
        Document {
            index: self.index,
            start: self.start,
            root: self.root.into_owned(),
            skimmed: self.skimmed,
            anchors: self
                .anchors
                .map(|a| a.into_iter().map(|(id, n)| (id, n.into_owned())).collect()),
            resolved: std::cell::OnceCell::new(),
        }
    }
}

/// Decides from a document's text whether it needs its tree.
pub type Wanted<'a> = Box<dyn Fn(&str) -> bool + 'a>;

/// A [`Wanted`] as the reader keeps it, to share with the reader of a rewrite.
type Shared<'a> = std::rc::Rc<dyn Fn(&str) -> bool + 'a>;

/// The documents of a stream, parsed lazily.
pub struct Documents<'a> {
    /// The author's text: every span, scan and message refers to it.
    text: &'a str,
    /// What the parser reads: `text`, or its rewrite through [`relax`].
    read: &'a str,
    /// How positions in `read` map back to `text` (none when they are the same).
    shift: Option<&'a Shift>,
    parser: Parser<'a, StrInput<'a>>,
    chars: CharMap,
    index: usize,
    done: bool,
    /// Decides from a document's top-level `kind` whether it needs its tree (see
    /// [`Documents::skimming_kinds`]); shared with the reader of a rewritten run (see
    /// [`Documents::read_relaxed`]).
    kind_wanted: Option<Shared<'a>>,
    /// Where `read` starts in the author's text (the parser restarts after a rewritten
    /// document).
    base: usize,
    /// Byte offset of the last error, for the fallback to find its document.
    failed_at: Option<usize>,
    /// Where the last document served ended: the next one starts after it.
    consumed: usize,
    /// Documents read through the fallback, to serve before parsing on.
    pending: std::vec::IntoIter<Document<'a>>,
    /// Whether `text`'s documents are independent of each other, once the fallback asked
    /// (a scan of the whole text, not to be repeated for each rewritten document).
    independent: Option<bool>,
    /// The last document end looked for: its start and end (see [`document_end`]).
    last_end: Option<(usize, usize)>,
    /// Whether documents in the plain subset are read without the parser ([`direct`]);
    /// only the tests that compare both readings turn it off.
    direct: bool,
}

impl<'a> Documents<'a> {
    pub fn new(text: &'a str) -> Self {
        Documents {
            text,
            read: text,
            shift: None,
            parser: Parser::new_from_str(text),
            chars: CharMap::new(text),
            index: 0,
            done: false,
            kind_wanted: None,
            base: 0,
            failed_at: None,
            consumed: 0,
            pending: Vec::new().into_iter(),
            independent: None,
            last_end: None,
            direct: true,
        }
    }

    /// Reads `relaxed`, a rewrite of the part of `text` from `base`, with spans in `text`.
    fn rewritten(text: &'a str, relaxed: &'a relax::Relaxed, base: usize) -> Self {
        Documents {
            text,
            read: &relaxed.text,
            shift: Some(&relaxed.shift),
            parser: Parser::new_from_str(&relaxed.text),
            chars: CharMap::new(&relaxed.text),
            index: 0,
            done: false,
            kind_wanted: None,
            base,
            failed_at: None,
            consumed: base,
            pending: Vec::new().into_iter(),
            independent: None,
            last_end: None,
            direct: true,
        }
    }

    /// Tell the reader whether `text`'s documents are independent of each other
    /// ([`crate::yaml::source::independent_documents`]), when the caller knows: its fallback
    /// for a refused document needs to know, and would otherwise scan the whole text for it.
    pub fn independent(mut self, independent: bool) -> Self {
        self.independent = Some(independent);
        self
    }

    /// Stop building a document's tree once its top-level `kind` is read and `wanted`
    /// refuses it: the rest is parsed to the end (a syntax error, a key that is a collection
    /// or too deep a nesting is still an error) without building anything, and the document
    /// comes back [`Document::skimmed`]. A document whose `kind` is not a plain scalar value
    /// of the root mapping (an alias, a collection), or whose root has a merge key before
    /// it, is built whole. A document's text runs to the next `---` line, so the stream's
    /// documents must be independent of each other
    /// ([`crate::yaml::source::independent_documents`]).
    ///
    /// A test of the document's text before reading it (does it spell a workload kind?)
    /// was measured as well: it read each document once more to spare only the documents
    /// whose `kind` comes late, and cost more than it saved.
    pub fn skimming_kinds(mut self, wanted: Wanted<'a>) -> Self {
        self.kind_wanted = Some(wanted.into());
        self
    }

    /// Build every tree from saphyr's events, none [`direct`]ly: what the direct reading
    /// must equal.
    #[cfg(test)]
    pub(crate) fn parsed_only(mut self) -> Self {
        self.direct = false;
        self
    }

    /// Parse the rest of a document without building anything; `open` holds, per collection
    /// already open, whether it is a mapping and how many children it has so far (a
    /// mapping's even children are keys).
    fn skim_rest(
        &mut self,
        index: usize,
        start: usize,
        open: Vec<(bool, usize)>,
    ) -> Result<Option<Document<'a>>, Stop> {
        if let Some(doc) = self.skip_unparsed(index, start) {
            return Ok(Some(doc));
        }
        let mut skim = Skim { open };
        loop {
            let Some(event) = self.parser.next_event() else {
                return Ok(None);
            };
            let (event, span) = event.map_err(|e| self.scan_error(&e))?;
            match event {
                Event::DocumentEnd => {
                    self.consumed = self.byte(span.start.index());
                    return Ok(Some(self.skimmed(index, start)));
                }
                Event::StreamEnd => return Ok(None),
                _ => skim.event(&event).map_err(|bad| match bad {
                    Bad::Deep => self.too_deep(span.start.index()),
                    Bad::ComplexKey => complex_key(self.text, self.byte(span.start.index())),
                })?,
            }
        }
    }

    /// The document at `start`, skimmed.
    fn skimmed(&mut self, index: usize, start: usize) -> Document<'a> {
        self.index += 1;
        let mut doc = Document::new(index, start, empty_node(start));
        doc.skimmed = true;
        doc
    }

    /// Skim the document at `start` without parsing it when its text is in the plain subset
    /// [`plain::valid`] recognises, or else from a copy with the bodies of its long block
    /// scalars left out ([`elide`]) when the copy reads alike (see [`reads_alike`]); the
    /// reader then starts over after the document. `None` leaves the reader where it was,
    /// to parse the document whole.
    fn skip_unparsed(&mut self, index: usize, start: usize) -> Option<Document<'a>> {
        // Only where documents were declared independent, so that one ends at the next `---`
        // line.
        self.kind_wanted.as_ref()?;
        let (from, end) = self.document_text(start)?;
        let doc = &self.text[from..end];
        if !plain::valid(doc) && !elide::elide(doc).is_some_and(|e| reads_alike(&e)) {
            return None;
        }
        self.resume_at(end)?;
        Some(self.skimmed(index, start))
    }

    /// Build the document at `start` without the parser when its text is in the subset
    /// [`direct`] reads (skimmed, when its `kind` is not wanted); the reader then starts
    /// over after it. `None` leaves the reader where it was, to parse the document.
    ///
    /// Independence need not be declared: the subset holds no `%` directive and no `...`
    /// line, so a document it takes ends at the next `---` line.
    fn read_directly(&mut self, index: usize, start: usize) -> Option<Document<'a>> {
        if !self.direct {
            return None;
        }
        let (from, end) = self.document_text(start)?;
        let read = direct::build(
            self.text,
            &self.text[from..end],
            self.kind_wanted.as_deref(),
        )?;
        self.resume_at(end)?;
        match read {
            direct::Read::Unwanted => Some(self.skimmed(index, start)),
            direct::Read::Tree(root) => {
                self.index += 1;
                Some(Document::new(index, start, root))
            }
        }
    }

    /// The text of the document at `start`, to the next `---` line, from its first line's
    /// start: an implicit document starts at its first content, which may be indented, and
    /// every line must keep the column the parser sees. `None` in a rewrite, whose positions
    /// go through a `Shift`, or when text precedes the document on its line.
    fn document_text(&mut self, start: usize) -> Option<(usize, usize)> {
        if self.shift.is_some() {
            return None;
        }
        let end = document_end(&mut self.last_end, self.text, start);
        let from = crate::yaml::source::line_start(self.text, start);
        self.text[from..start]
            .bytes()
            .all(|c| c == b' ')
            .then_some((from, end))
    }

    /// Start the parser over at byte `end` of the text, a document's end.
    fn resume_at(&mut self, end: usize) -> Option<()> {
        let chars = self.chars.tail(self.read, end - self.base)?;
        self.read = &self.text[end..];
        self.parser = Parser::new_from_str(self.read);
        self.chars = chars;
        self.base = end;
        self.consumed = end;
        Some(())
    }

    /// The byte offset in the author's text of character `ci` of what the parser reads.
    fn byte(&self, ci: usize) -> usize {
        let b = self.chars.byte(self.read, ci);
        self.base
            + match self.shift {
                Some(shift) => shift.original(b),
                None => b,
            }
    }

    fn scan_error(&mut self, e: &ScanError) -> Stop {
        let at = self.byte(e.marker().index());
        self.failed_at = Some(at);
        Stop::Syntax {
            at,
            info: e.info().to_owned(),
        }
    }

    /// The error to report for `stop`: a syntax error is placed (and its hint decided) here,
    /// once it is known to stand.
    fn located(&self, stop: Stop) -> Located {
        match stop {
            Stop::Other(e) => e,
            Stop::Syntax { at, info } => {
                let pos = crate::yaml::source::LineIndex::new(self.text).pos(self.text, at);
                let hint = template_hint(self.text, pos);
                Located::at(pos, format!("invalid YAML: {info}{hint}"))
            }
        }
    }

    fn too_deep(&mut self, ci: usize) -> Located {
        let at = self.byte(ci);
        Located::at(
            crate::yaml::source::LineIndex::new(self.text).pos(self.text, at),
            format!("nesting deeper than {MAX_DEPTH} levels; refusing to edit"),
        )
    }

    fn next_document(&mut self) -> Result<Option<Document<'a>>, Stop> {
        let mut tree = Tree::new();
        // Still looking for the root's `kind` to decide whether the tree is needed.
        let mut deciding = self.kind_wanted.is_some();
        loop {
            let Some(event) = self.parser.next_event() else {
                return Ok(None);
            };
            let (event, span) = event.map_err(|e| self.scan_error(&e))?;
            let start = self.byte(span.start.index());
            let end = self.byte(span.end.index());
            let start = node_start(self.text, &event, start);
            // The node this event completes, with its anchor id (0 for none).
            let done = match event {
                Event::StreamStart | Event::Nothing => None,
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(_) => {
                    if let Some(doc) = self.read_directly(self.index, start) {
                        return Ok(Some(doc));
                    }
                    tree.doc_start = Some(start);
                    tree.prev_end = end;
                    None
                }
                Event::DocumentEnd => {
                    self.consumed = start;
                    let doc = tree.finish(self.index);
                    self.index += 1;
                    return Ok(Some(doc));
                }
                Event::Alias(id) => {
                    tree.refers = true;
                    let node = Node {
                        start,
                        end,
                        anchored: false,
                        kind: Kind::Alias(id),
                    };
                    Some((0, node))
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = tree.scalar(self.text, start..end, value, style, anchor, tag);
                    Some((anchor, node))
                }
                Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                    // A tagged collection is held like an anchored one: not edited.
                    let pinned = anchor != 0 || tag.is_some();
                    if tree.stack.len() >= MAX_DEPTH {
                        return Err(self.too_deep(span.start.index()).into());
                    }
                    let is_map = matches!(event, Event::MappingStart(..));
                    tree.open(self.text, start..end, anchor, pinned, is_map);
                    None
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    Some(tree.close(self.text, start, end).map_err(Stop::Other)?)
                }
            };
            if let Some((anchor, node)) = done {
                tree.add(anchor, node);
                if deciding {
                    match tree.root_kind() {
                        RootKind::Unknown => {}
                        RootKind::Undecidable => deciding = false,
                        RootKind::Kind(kind) => {
                            deciding = false;
                            let wanted = self.kind_wanted.as_ref().is_none_or(|w| w(kind));
                            if !wanted {
                                let start = tree.doc_start.unwrap_or(tree.stack[0].start);
                                let open = vec![(true, tree.scratch.len() - tree.stack[0].first)];
                                return self.skim_rest(self.index, start, open);
                            }
                        }
                    }
                }
            }
        }
    }
}

impl<'a> Iterator for Documents<'a> {
    type Item = Result<Document<'a>, Located>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(doc) = self.pending.next() {
            return Some(Ok(doc));
        }
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
                // Only a syntax error may be a leniency of go-yaml's; and a rewrite is read once.
                let Some(at) = self.failed_at.take().filter(|_| self.shift.is_none()) else {
                    return Some(Err(self.located(e)));
                };
                match self.read_relaxed(at, e) {
                    Ok(()) => self.next(),
                    Err(e) => Some(Err(e)),
                }
            }
        }
    }
}

impl<'a> Documents<'a> {
    /// saphyr refused the text at byte `at`: read the documents from the end of the last one
    /// served to the end of the one holding `at` through [`relax`], queue them, and go on
    /// parsing after them (with independent documents; otherwise the rest of the stream is
    /// read rewritten). Each document is read once, so a stream of many such documents
    /// costs about two parses. The error stands when the rewrite changes nothing or is
    /// refused too.
    fn read_relaxed(&mut self, at: usize, error: Stop) -> Result<(), Located> {
        let text = self.text;
        let independent = *self
            .independent
            .get_or_insert_with(|| crate::yaml::source::independent_documents(text));
        let end = if independent {
            crate::yaml::source::document_around(text, at).end
        } else {
            text.len()
        };
        let range = self.consumed.min(at)..end;
        let Some(relaxed) = relax::relax(text, range.clone()) else {
            return Err(self.located(error));
        };
        let mut docs = Vec::new();
        // The rewrite is skimmed as the text would have been: it holds whole documents of an
        // independent stream when skimming is asked for.
        let mut rewritten = Documents::rewritten(text, &relaxed, range.start);
        if independent {
            rewritten.kind_wanted = self.kind_wanted.clone();
        }
        for doc in rewritten {
            let mut doc = doc?.into_owned();
            doc.index += self.index;
            docs.push(doc);
        }
        self.index += docs.len();
        self.pending = docs.into_iter();
        if range.end < text.len() {
            let rest = &text[range.end..];
            // The map of what is left, not a new scan of it for each rewritten document.
            self.chars = (self.chars.tail(self.read, range.end - self.base))
                .unwrap_or_else(|| CharMap::new(rest));
            self.read = rest;
            self.parser = Parser::new_from_str(rest);
            self.base = range.end;
            self.consumed = range.end;
            self.done = false;
        }
        Ok(())
    }
}

/// Where the document starting at `start` ends (the next `---` line), with independent
/// documents; `last` keeps the last answer, as a skimmed document asks twice.
fn document_end(last: &mut Option<(usize, usize)>, text: &str, start: usize) -> usize {
    match *last {
        Some((s, end)) if s == start => end,
        _ => {
            let end = crate::yaml::source::next_document_marker(text, start);
            *last = Some((start, end));
            end
        }
    }
}

/// Why reading stopped. A syntax error is kept as its place and saphyr's words until it is
/// known to stand: most in real renders are go-yaml leniencies the relaxed reading takes back
/// (Helm 4's renders hold dozens), and placing one as a line and column, with the template
/// hint decided, is a walk over the whole run.
enum Stop {
    Syntax { at: usize, info: String },
    Other(Located),
}

impl From<Located> for Stop {
    fn from(e: Located) -> Self {
        Stop::Other(e)
    }
}

/// The document being built, carried from one parser event to the next.
struct Tree<'a> {
    /// The open collections, innermost last.
    stack: Vec<Frame>,
    /// Children of the open collections, innermost last: one buffer for the whole
    /// document, so each finished collection costs one exact-size allocation.
    scratch: Vec<Node<'a>>,
    root: Option<Node<'a>>,
    /// Anchored nodes by anchor id, and whether any alias or merge key needs them.
    anchors: Vec<(usize, Node<'a>)>,
    refers: bool,
    doc_start: Option<usize>,
    /// End of the last token that can precede a scalar's own text (a key, an item, a flow
    /// opener): the header of a block scalar is searched from here.
    prev_end: usize,
}

impl<'a> Tree<'a> {
    fn new() -> Self {
        Tree {
            stack: Vec::new(),
            scratch: Vec::new(),
            root: None,
            anchors: Vec::new(),
            refers: false,
            doc_start: None,
            prev_end: 0,
        }
    }

    /// A scalar spanning its own text: saphyr's span is wrong for quoted and block scalars,
    /// and an empty plain one sits where its value would be (after a `:`).
    #[inline]
    fn scalar(
        &mut self,
        text: &str,
        span: std::ops::Range<usize>,
        value: Cow<'a, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<'a, saphyr_parser::Tag>>,
    ) -> Node<'a> {
        let start = span.start;
        let end = match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                scalar::quoted_end(text, start)
            }
            ScalarStyle::Literal | ScalarStyle::Folded => scalar::block_end(text, self.prev_end),
            ScalarStyle::Plain => span.end,
        };
        let (start, end) = if style == ScalarStyle::Plain && value.is_empty() {
            let at = if text.as_bytes().get(start) == Some(&b':') {
                start + 1
            } else {
                start
            };
            (at, at)
        } else {
            (start, end)
        };
        let tag = tag.map(|t| tag_suffix(&t));
        self.refers |= value == "<<";
        Node {
            start,
            end,
            anchored: anchor != 0,
            kind: Kind::Scalar(Scalar { value, style, tag }),
        }
    }

    #[inline]
    fn open(
        &mut self,
        text: &str,
        span: std::ops::Range<usize>,
        anchor: usize,
        pinned: bool,
        is_map: bool,
    ) {
        // A tag or anchor gives a block collection a span too: only a bracket makes it flow.
        // (Past its properties a block collection may start after the span saphyr gave them.)
        let own = text.get(span.clone()).unwrap_or("");
        let before_comment = own.split(" #").next().unwrap_or(own);
        let flow = before_comment.contains(['{', '[']);
        if flow {
            self.prev_end = span.end;
        }
        self.stack.push(Frame {
            start: span.start,
            flow,
            anchor,
            anchored: pinned,
            is_map,
            first: self.scratch.len(),
        });
    }

    /// The collection the end event at `start..end` closes, with its anchor id.
    #[inline]
    fn close(
        &mut self,
        text: &str,
        start: usize,
        end: usize,
    ) -> Result<(usize, Node<'a>), Located> {
        let Some(frame) = self.stack.pop() else {
            return Err(Located::nowhere("unbalanced YAML events"));
        };
        // A flow collection ends just after its closing bracket: saphyr's span runs on over
        // trailing blanks and a comment, and after a trailing comma it sits before the
        // bracket.
        let close = if frame.flow {
            closing_bracket(text, start).map_or(end, |at| at + 1)
        } else {
            end
        };
        let anchor = frame.anchor;
        match frame.finish(close, &mut self.scratch) {
            Ok(node) => Ok((anchor, node)),
            Err(at) => Err(complex_key(text, at)),
        }
    }

    /// See [`root_kind`].
    fn root_kind(&self) -> RootKind<'_> {
        root_kind(&self.stack, &self.scratch)
    }

    /// A finished node goes to its parent's children, or is the root.
    #[inline]
    fn add(&mut self, anchor: usize, node: Node<'a>) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        self.prev_end = node.end;
        if self.stack.is_empty() {
            self.root = Some(node);
        } else {
            self.scratch.push(node);
        }
    }

    /// The document, at its end event; without content its root is empty, where its last
    /// token ended.
    fn finish(self, index: usize) -> Document<'a> {
        let root = self.root.unwrap_or_else(|| empty_node(self.prev_end));
        let start = self.doc_start.unwrap_or(root.start);
        let mut doc = Document::new(index, start, root);
        if self.refers {
            doc.anchors = Some(self.anchors);
        }
        doc
    }
}

/// A node's span starts at its own text, after an anchor or a tag.
#[inline]
fn node_start(text: &str, event: &Event<'_>, start: usize) -> usize {
    match event {
        Event::Scalar(_, _, anchor, tag)
        | Event::MappingStart(anchor, tag)
        | Event::SequenceStart(anchor, tag)
            if *anchor != 0 || tag.is_some() =>
        {
            past_properties(text, start)
        }
        _ => start,
    }
}

/// What a skimmed document must still satisfy, followed event by event: no nesting deeper
/// than [`MAX_DEPTH`], no mapping key that is a collection.
struct Skim {
    /// Per open collection: whether it is a mapping, and how many children it has so far (a
    /// mapping's even children are keys).
    open: Vec<(bool, usize)>,
}

enum Bad {
    Deep,
    ComplexKey,
}

impl Skim {
    fn event(&mut self, event: &Event<'_>) -> Result<(), Bad> {
        let completes = match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.open.len() >= MAX_DEPTH {
                    return Err(Bad::Deep);
                }
                if matches!(self.open.last(), Some(&(true, n)) if n % 2 == 0) {
                    return Err(Bad::ComplexKey);
                }
                self.open
                    .push((matches!(event, Event::MappingStart(..)), 0));
                false
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.open.pop();
                true
            }
            Event::Scalar(..) | Event::Alias(_) => true,
            _ => false,
        };
        if completes {
            if let Some(parent) = self.open.last_mut() {
                parent.1 += 1;
            }
        }
        Ok(())
    }
}

/// Whether a document shortened by [`elide`] reads as the whole one would for skimming:
/// it parses as one document that [`Skim`] accepts, and at each cut the parser read a
/// block scalar whose content starts where the kept first content line's text does and
/// reaches the cut. Its indentation is then that line's, and each line left out (spaces
/// to that indentation, then content; or spaces alone) would have been read into it.
fn reads_alike(e: &Elided) -> bool {
    let chars = CharMap::new(&e.text);
    let mut parser = Parser::new_from_str(&e.text);
    let mut skim = Skim { open: Vec::new() };
    let mut cuts = e.cuts.iter().peekable();
    let mut documents = 0;
    while let Some(event) = parser.next_event() {
        let Ok((event, span)) = event else {
            return false;
        };
        match event {
            Event::DocumentStart(_) => documents += 1,
            Event::StreamEnd => break,
            Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..) => {
                if let Some(&&(first, cut)) = cuts.peek() {
                    if chars.byte(&e.text, span.start.index()) == first {
                        if chars.byte(&e.text, span.end.index()) < cut {
                            return false;
                        }
                        cuts.next();
                    }
                }
            }
            _ => {}
        }
        if skim.event(&event).is_err() {
            return false;
        }
    }
    documents == 1 && cuts.next().is_none()
}

/// Whether the reader reads `text` as exactly one document that [`Skim`] accepts, as saphyr
/// does or, where saphyr refuses, after the dialect's rewrite ([`relax`]): what
/// [`plain::valid`] promises of the documents it accepts.
#[cfg(test)]
pub(super) fn skims_as_one(text: &str) -> bool {
    saphyr_skims_as_one(text)
        || relax::relax(text, 0..text.len()).is_some_and(|r| saphyr_skims_as_one(&r.text))
}

#[cfg(test)]
fn saphyr_skims_as_one(text: &str) -> bool {
    let mut skim = Skim { open: Vec::new() };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let Ok((event, _)) = event else {
            return false;
        };
        if matches!(event, Event::DocumentStart(_)) {
            documents += 1;
        }
        if skim.event(&event).is_err() {
            return false;
        }
    }
    documents == 1
}

/// What the root mapping says of its `kind` so far, given the open collections and their
/// children, looked at after each node added: a decision can only be made when the root is
/// the one open collection, a mapping, and its last entry was just completed. The direct
/// reading ([`super::direct`]) decides with it too.
pub(super) fn root_kind<'t>(stack: &[Frame], scratch: &'t [Node<'_>]) -> RootKind<'t> {
    let [root] = stack else {
        return if stack.is_empty() {
            // The root is finished (or not a collection): nothing left to skip.
            RootKind::Undecidable
        } else {
            RootKind::Unknown
        };
    };
    if !root.is_map {
        return RootKind::Undecidable;
    }
    let children = &scratch[root.first..];
    if children.is_empty() || children.len() % 2 != 0 {
        return RootKind::Unknown;
    }
    let (key, value) = (&children[children.len() - 2], &children[children.len() - 1]);
    match key.as_str() {
        // A merge key may supply what data the checks read: build the tree.
        Some("<<") => RootKind::Undecidable,
        Some("kind") => match &value.kind {
            Kind::Scalar(s) => RootKind::Kind(&s.value),
            _ => RootKind::Undecidable,
        },
        _ => RootKind::Unknown,
    }
}

/// See [`root_kind`].
pub(super) enum RootKind<'t> {
    /// No `kind` entry yet.
    Unknown,
    /// The root's first `kind` entry, a scalar.
    Kind(&'t str),
    /// The tree is needed whatever follows.
    Undecidable,
}

/// An open collection: where its text starts, and where its children begin in the buffer
/// of the open collections' children. [`super::direct`] builds with it too.
pub(super) struct Frame {
    pub(super) start: usize,
    pub(super) flow: bool,
    /// The parser's anchor id, 0 for none.
    pub(super) anchor: usize,
    pub(super) anchored: bool,
    pub(super) is_map: bool,
    /// Where this collection's children begin in the shared buffer.
    pub(super) first: usize,
}

impl Frame {
    /// The finished node, or the offset of a mapping key that is itself a collection.
    pub(super) fn finish<'a>(
        self,
        close_end: usize,
        scratch: &mut Vec<Node<'a>>,
    ) -> Result<Node<'a>, usize> {
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
                .find(|k| !matches!(k.kind, Kind::Scalar(_) | Kind::Alias(_)))
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

/// Where a node's own text starts when it carries an anchor or a tag at `from`: past each
/// `&name` and `!tag` and the blanks, line breaks and comments after them (a block
/// collection then starts at its first key or item, as an unadorned one does).
fn past_properties(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while b.get(i).is_some_and(|c| matches!(c, b'&' | b'!')) {
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        loop {
            match b.get(i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                Some(b'#') => i = crate::yaml::source::next_line(text, i),
                _ => break,
            }
        }
    }
    i
}

/// The closing bracket at or after `from`, past blanks, commas and comments.
fn closing_bracket(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'}' | b']' => return Some(i),
            b' ' | b'\t' | b'\r' | b'\n' | b',' => i += 1,
            b'#' => i = crate::yaml::source::next_line(text, i),
            _ => return None,
        }
    }
    None
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
    let pos = crate::yaml::source::LineIndex::new(text).pos(text, at);
    let message = if crate::yaml::unrendered::looks_unrendered(text, pos.line, pos.col) {
        crate::yaml::unrendered::UNRENDERED_KEY
    } else {
        crate::yaml::unrendered::COMPLEX_KEY
    };
    Located::at(pos, message)
}

/// What a syntax error at `pos` adds when the text may be an unrendered Helm template.
fn template_hint(text: &str, pos: crate::error::Pos) -> &'static str {
    if crate::yaml::unrendered::looks_unrendered(text, pos.line, pos.col) {
        crate::yaml::unrendered::HINT
    } else {
        ""
    }
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

    /// An anchor or tag is not the node's own text: a block collection starts at its first
    /// key, past a comment after its properties, a flow one at its bracket.
    #[test]
    fn nodes_start_past_their_anchors_and_tags() {
        let text = "a: &x # c\n\n  b: 1\nc: !!map\n  d: 2\ne: &y [1]\nf:\n- &w\n  k: v\n";
        let d = docs(text);
        let at = |n: &Node<'_>| &text[n.start..];
        assert!(at(d[0].root.get("a").unwrap()).starts_with("b: 1"));
        assert!(at(d[0].root.get("c").unwrap()).starts_with("d: 2"));
        assert!(at(d[0].root.get("e").unwrap()).starts_with("[1]"));
        let item = &d[0].root.get("f").unwrap().as_seq().unwrap().items[0];
        assert!(at(item).starts_with("k: v"), "{:?}", at(item));
        assert!(item.anchored);
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
                .skimming_kinds(Box::new(|kind| kind == "Keep"))
                .map(|d| d.map(|d| d.skimmed).map_err(|e| e.message))
                .collect()
        };
        assert_eq!(
            skim("kind: A\na: 1\n---\nkind: Keep\n---\nkind: B\nb: [1, {c: d}]\n"),
            vec![Ok(true), Ok(false), Ok(true)]
        );
        for bad in [
            "a: [1\n",
            "? [a, b]\n: c\n",
            &format!("a: {}", "[".repeat(300)),
        ] {
            let text = format!("kind: Keep\n---\nkind: A\n{bad}");
            let got = skim(&text);
            assert!(matches!(got.last(), Some(Err(_))), "{bad:?}: {got:?}");
        }
        // An implicit document whose root is indented starts mid-line: its text must be read
        // from its line's start, where a key back at column 0 is outside the root.
        let outdented = skim("  kind: A\nb: 2\n---\nkind: Keep\n");
        assert!(matches!(outdented.first(), Some(Err(_))), "{outdented:?}");
        assert_eq!(
            skim("  kind: A\n  b: 2\n---\nkind: Keep\n"),
            vec![Ok(true), Ok(false)]
        );
        let complex = skim("kind: A\n---\nkind: B\n? [a, b]\n: c\n");
        assert!(
            matches!(complex.last(), Some(Err(m)) if m.contains("mapping key")),
            "{complex:?}"
        );
    }

    /// A dashboard-sized block scalar body, one JSON line per `line`.
    fn dashboard(indent: &str, lines: usize) -> String {
        (0..lines)
            .map(|i| format!("{indent}{{\"panel\": {i}, \"expr\": \"rate(x[5m]) | y\"}}\n"))
            .collect()
    }

    /// The shortened copy is taken only when the parser read a block scalar holding the kept
    /// first line and running to the cut: not for a "header" inside a quoted scalar, nor for
    /// a first line the scalar cannot hold.
    #[test]
    fn elided_documents_are_taken_only_when_they_read_alike() {
        let body = dashboard("    ", 80);
        let taken = |doc: &str| elide::elide(doc).is_some_and(|e| reads_alike(&e));
        for doc in [
            format!("kind: ConfigMap\ndata:\n  a.json: |-\n{body}  b: 1\n"),
            format!("kind: ConfigMap\ndata:\n  a.json: >+ # c\n\n{body}"),
            format!("kind: ConfigMap\ndata:\n  - |\n{body}  - x\n"),
        ] {
            assert!(taken(&doc), "{doc}");
        }
        for doc in [
            // Inside a quoted scalar: the lines left out hold an escape saphyr refuses.
            format!("a: \"text: |\n{body}    \\q\n  end\"\n"),
            // Not indented past its parent: the scalar is empty and the lines are entries.
            format!(
                "data:\n    a: |\n    b: 1\n{}",
                dashboard("    c", 80).replace("{", ": {")
            ),
            // A leading blank line indented past the first content line.
            format!("a: |\n      \n{body}"),
            // Two documents where one was expected.
            format!("a: |\n{body}---\nb: 1\n"),
        ] {
            assert!(!taken(&doc), "{doc}");
        }
    }

    /// Read with the long bodies left out or whole, a stream gives the same documents and
    /// the same errors, at the same places.
    #[test]
    fn skimming_with_bodies_left_out_agrees_with_reading_them() {
        let body = dashboard("    ", 80);
        let docs = [
            format!("kind: ConfigMap\ndata:\n  a.json: |\n{body}"),
            "kind: Pod\nspec: {containers: [{name: a}]}\n".to_owned(),
            format!(
                "kind: ConfigMap\ndata:\n  é.json: |\n{}  b: [1\n",
                body.replace("panel", "pänel")
            ),
            format!("kind: ConfigMap\ndata:\n  a.json: |\n{body}  b: 1\n  b: {{[x]: 1}}\n"),
            format!("kind: ConfigMap\ndata:\n  a.json: |\n{body}  \"bad\\q\": 1\n"),
            format!(
                "kind: ConfigMap\ndata:\n  a.json: |\n{body}  b: {}\n",
                "[".repeat(300)
            ),
        ];
        let read = |text: &str, skimming: bool| -> Vec<Result<(usize, usize, bool), String>> {
            let mut d = Documents::new(text);
            if skimming {
                d = d.skimming_kinds(Box::new(|kind| kind == "Pod"));
            }
            d.map(|d| {
                d.map(|d| (d.index, d.start, d.root.get("spec").is_some()))
                    .map_err(|e| format!("{:?} {}", e.pos, e.message))
            })
            .collect()
        };
        for bad in 2..docs.len() {
            let text = format!(
                "{}---\n{}---\n{}---\n{}",
                docs[0], docs[1], docs[0], docs[bad]
            );
            let (skimmed, whole) = (read(&text, true), read(&text, false));
            assert_eq!(skimmed.len(), 4, "{skimmed:?}");
            assert!(matches!(skimmed.last(), Some(Err(_))), "{skimmed:?}");
            assert_eq!(skimmed, whole, "document {bad}");
            assert!(matches!(skimmed[1], Ok((1, _, true))));
        }
        let good = format!("{}---\n{}---\n{}", docs[0], docs[1], docs[0]);
        assert_eq!(read(&good, true), read(&good, false));
        // The first document was read shortened: the reader started over after it.
        let mut d = Documents::new(&good).skimming_kinds(Box::new(|kind| kind == "Pod"));
        assert!(d.next().unwrap().unwrap().skimmed);
        assert_eq!(d.base, docs[0].len());
    }

    /// A run saphyr refuses but go-yaml reads is skimmed as the text would be, and its
    /// documents keep their places.
    #[test]
    fn rewritten_documents_are_skimmed_too() {
        let text = "kind: Pod\na: 1\n---\nkind: PrometheusRule\nd: 'one\n two\n'\n---\nkind: Pod\nt: \"a\n\tb\"\n---\nkind: Pod\n";
        let read = |skimming: bool| -> Vec<(usize, usize, bool)> {
            let mut d = Documents::new(text);
            if skimming {
                d = d.skimming_kinds(Box::new(|kind| kind == "Pod"));
            }
            d.map(|d| d.map(|d| (d.index, d.start, d.skimmed)).unwrap())
                .collect()
        };
        let (skimmed, whole) = (read(true), read(false));
        assert_eq!(
            skimmed.iter().map(|d| d.2).collect::<Vec<_>>(),
            [false, true, false, false]
        );
        let place = |v: &[(usize, usize, bool)]| v.iter().map(|d| (d.0, d.1)).collect::<Vec<_>>();
        assert_eq!(place(&skimmed), place(&whole));
    }

    /// After a rewritten document, reading goes on with the characters of what is left
    /// mapped to the right bytes, wide ones before and after included.
    #[test]
    fn reading_after_a_rewrite_keeps_spans_exact() {
        let text = "a: é\n---\nd: 'ö\n two\n'\n---\nb: ü\nc: x\n---\ne: 😀 y\n";
        let d = docs(text);
        assert_eq!(d.len(), 4);
        let c = d[2].root.get("c").unwrap();
        assert_eq!(&text[c.start..c.end], "x");
        let e = d[3].root.get("e").unwrap();
        assert_eq!(&text[e.start..e.end], "😀 y");
        assert_eq!(&text[d[3].start..d[3].start + 3], "---");
    }

    /// A document is skimmed from its top-level `kind` on when the kind test refuses it, and
    /// is still read to its end; a `kind` the test cannot see (after a merge key, as an
    /// alias, nested) leaves the tree built.
    #[test]
    fn documents_are_skimmed_from_their_kind() {
        let skim = |text: &str| -> Vec<Result<(bool, usize), String>> {
            Documents::new(text)
                .skimming_kinds(Box::new(|kind| kind == "Pod"))
                .map(|d| d.map(|d| (d.skimmed, d.start)).map_err(|e| e.message))
                .collect()
        };
        let text = "kind: Pod
a: 1
---
metadata: {name: Pod}
kind: ConfigMap
data: {x: [1]}
---
<<: {kind: Pod}
kind: ConfigMap
---
k: &k ConfigMap
kind: *k
---
a: {kind: ConfigMap}
";
        assert_eq!(
            skim(text),
            vec![
                Ok((false, 0)),
                Ok((true, 15)),
                Ok((false, 72)),
                Ok((false, 108)),
                Ok((false, 137)),
            ]
        );
        for bad in ["a: [1\n", "? [a, b]\n: c\n", &"[".repeat(300)] {
            let got = skim(&format!("kind: ConfigMap\n{bad}"));
            assert!(matches!(got.last(), Some(Err(_))), "{bad:?}: {got:?}");
        }
    }

    /// Documents saphyr refuses are read rewritten, each once, in order, between documents
    /// it reads itself, with spans on the author's bytes.
    #[test]
    fn go_yaml_leniencies_are_read_in_place() {
        let text = "a: 1\n---\nb: [x,\n]\nc: 2\n---\nd: 'p\nq\n'\n---\ne: [y]\n---\nf: {k: v,\n}\n";
        let d = docs(text);
        let keys: Vec<_> = d
            .iter()
            .map(|doc| {
                doc.root.as_map().unwrap().entries[0]
                    .0
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(keys, ["a", "b", "d", "e", "f"]);
        assert_eq!(
            d.iter().map(|doc| doc.index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        let b = d[1].root.get("b").unwrap();
        assert_eq!(&text[b.start..b.end], "[x,\n]");
        assert_eq!(d[1].root.get("c").unwrap().as_str(), Some("2"));
        let q = d[2].root.get("d").unwrap();
        assert_eq!(q.as_str(), Some("p q "));
        assert_eq!(&text[q.start..q.end], "'p\nq\n'");
        assert_eq!(&text[d[3].start..d[3].start + 3], "---");
        let f = d[4].root.get("f").unwrap();
        assert_eq!(&text[f.start..f.end], "{k: v,\n}");
    }

    /// What go-yaml refuses too stays an error, at the author's position.
    #[test]
    fn a_rewritten_document_that_still_fails_is_an_error() {
        let text = "a: 1\n---\nb: [x,\n]\nc: d: e\n";
        let got: Vec<_> = Documents::new(text).collect();
        assert!(got[0].is_ok());
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((5, 5)), "{e:?}");
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
