//! Documents in a plain subset of block YAML, recognised line by line as valid without a
//! parser: for a document that is only checked for being valid YAML
//! ([`super::Documents::skimming_kinds`]), and, told node by node to a [`Sink`], for the trees
//! [`super::direct`] builds without saphyr.
//!
//! saphyr builds every scalar's value a character at a time: on a chart render the documents
//! that hold no pod (PrometheusRules, ServiceMonitors, RBAC, CRDs) are most of the parsing.
//! Yet chart templates, and go-yaml's emitter, write in a narrow style: block collections,
//! one entry per line, single-line scalars and short flow lists, block scalars. Such a
//! document's validity follows from each line's shape and its indentation against the open
//! collections, which a line scan decides at memory speed.
//!
//! The subset is what the scan can prove, nothing more: anything else (flow collections
//! over more than one line, or holding anything but name-like plain scalars, quoted ones
//! and each other four deep; anchors, aliases, tags, `?` keys, multi-line plain or double-quoted
//! scalars, tabs, carriage returns, control characters, indentation indicators, a line more
//! indented than its place allows) answers "not known", and the document is parsed as before.
//! So this module may only ever say yes to a document the reader takes as exactly one
//! document, with no key that is a collection and no deep nesting: saphyr, or saphyr behind
//! the dialect's rewrite ([`super::relax`]) for the one leniency the subset holds, a
//! single-quoted scalar's closing quote left of its owner's column (Helm 4 writes it at
//! column 0). The tests hold it to that over every document of the shared corpus and
//! fixtures and over mutations of them.

use super::source::{clean_blocks, BLOCK};

/// Deeper than this is left to the parser, which knows the real limit.
const MAX_OPEN: usize = 64;

/// A simple key longer than this is refused by YAML (1024 characters); left to the parser.
const MAX_KEY: usize = 1000;

/// Whether `doc`, a whole document's text (from its `---` line, if any, to the next one or
/// the end of the stream), is in the subset, hence valid.
pub(crate) fn valid(doc: &str) -> bool {
    printable(doc.as_bytes()) && Scan::new(Check).run(doc).is_some()
}

/// Scan `doc` (as for [`valid`]) and tell `sink` each node as the scan meets it; `None` when
/// the document is outside the subset or the sink refused a node.
pub(crate) fn scan<'a, S: Sink<'a>>(doc: &'a str, sink: S) -> Option<S> {
    if !printable(doc.as_bytes()) {
        return None;
    }
    let mut scan = Scan::new(sink);
    scan.run(doc)?;
    Some(scan.sink)
}

/// What the scan tells of a document's nodes, in document order, each as the slice of the
/// document where it starts. A method's `None` stops the scan: the sink cannot take the node
/// (the validity the scan proves is not affected).
pub(crate) trait Sink<'a> {
    /// A block collection whose first entry starts at `at`; `indentless`: a sequence at its
    /// key's column.
    fn open(&mut self, at: &'a str, seq: bool, indentless: bool);
    /// A flow collection whose bracket starts `at`.
    fn open_flow(&mut self, at: &'a str, map: bool);
    /// The innermost open collection ends; for a flow one, `after` follows its bracket.
    fn close(&mut self, after: &'a str) -> Option<()>;
    /// A one-line scalar: exactly its text, quotes included.
    fn scalar(&mut self, text: &'a str) -> Option<()>;
    /// A value left empty; `after` follows its key's colon or its item's dash.
    fn empty(&mut self, after: &'a str);
    /// A block scalar: `header` starts at its indicator, `body` runs from the line after the
    /// header through its last line and that line's break, when it has one (leading empty
    /// lines included; empty when the scalar has no line of content).
    fn block(&mut self, header: &'a str, body: &'a str) -> Option<()>;
    /// A single-quoted scalar that runs on past its first line, starting at its quote.
    fn multi_line(&mut self, at: &'a str) -> Option<()>;
}

/// The sink of [`valid`]: the scan alone decides.
struct Check;

impl<'a> Sink<'a> for Check {
    fn open(&mut self, _: &'a str, _: bool, _: bool) {}
    fn open_flow(&mut self, _: &'a str, _: bool) {}
    fn close(&mut self, _: &'a str) -> Option<()> {
        Some(())
    }
    fn scalar(&mut self, _: &'a str) -> Option<()> {
        Some(())
    }
    fn empty(&mut self, _: &'a str) {}
    fn block(&mut self, _: &'a str, _: &'a str) -> Option<()> {
        Some(())
    }
    fn multi_line(&mut self, _: &'a str) -> Option<()> {
        Some(())
    }
}

/// No byte saphyr or go-yaml may read differently from a plain character: controls (tab and
/// carriage return included), DEL, C1 controls and NEL, the byte order mark, the Unicode line
/// and paragraph separators, and the non-characters U+FFFE and U+FFFF (see [`byte_ok`]).
///
/// Blocks of text with no byte that needs a second look are passed whole
/// ([`clean_blocks`]); a block holding one is looked at byte by byte. The
/// eight-bytes-in-a-word version this replaced cost about three instructions a byte, a sixth
/// of `post-render`'s.
fn printable(b: &[u8]) -> bool {
    let mut at = 0;
    loop {
        at += clean_blocks(&b[at..], suspect);
        let end = (at + BLOCK).min(b.len());
        if !(at..end).all(|i| byte_ok(b, i)) {
            return false;
        }
        if end == b.len() {
            return true;
        }
        at = end;
    }
}

/// Whether `c` is not printable ASCII or a line break: a control, DEL, or any byte of a
/// multi-byte character.
fn suspect(c: u8) -> bool {
    c.wrapping_sub(0x20) > 0x7e - 0x20 && c != b'\n'
}

/// Whether the byte at `i` may be read as (part of) a plain character, looking ahead where a
/// multi-byte character is one of those refused.
fn byte_ok(b: &[u8], i: usize) -> bool {
    match b[i] {
        b'\n' | 0x20..=0x7e => true,
        0x00..=0x1f | 0x7f => false,
        0xc2 => !matches!(b.get(i + 1), Some(0x80..=0x9f)),
        0xe2 => !(b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9))),
        0xef => !matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
        ),
        _ => true,
    }
}

/// An open block collection: the column of its entries, and whether it is a sequence.
#[derive(Clone, Copy)]
struct Open {
    indent: usize,
    seq: bool,
}

/// An entry whose value was left empty on its line: a collection may follow, indented past
/// its owner (a key or a dash at column `indent`), or for a key a sequence at its column.
/// `after` follows the key's colon or the dash.
#[derive(Clone, Copy)]
struct Pending<'a> {
    indent: usize,
    key: bool,
    after: &'a str,
}

/// A block scalar whose body may follow: indented past `owner`, its header at `header`.
#[derive(Clone, Copy)]
struct Block<'a> {
    owner: usize,
    header: &'a str,
}

struct Scan<'a, S> {
    open: Vec<Open>,
    pending: Option<Pending<'a>>,
    block: Option<Block<'a>>,
    /// A single-quoted scalar runs on: its lines must be indented past this column.
    quoted: Option<usize>,
    sink: S,
}

impl<'a, S: Sink<'a>> Scan<'a, S> {
    fn new(sink: S) -> Self {
        Scan {
            open: Vec::new(),
            pending: None,
            block: None,
            quoted: None,
            sink,
        }
    }

    fn run(&mut self, doc: &'a str) -> Option<()> {
        let mut lines = super::source::lines(doc).peekable();
        if doc.starts_with("---") {
            let marker = lines.next()?;
            if !blank_or_comment(&marker[3..]) {
                return None;
            }
        }
        while let Some(line) = lines.next() {
            if let Some(owner) = self.quoted {
                self.quoted_line(owner, line)?;
                continue;
            }
            if let Some(block) = self.block.take() {
                if line.bytes().all(|c| c == b' ') {
                    // A leading blank line with more spaces than the first content line is
                    // an error; an empty one never is.
                    if !line.is_empty() {
                        return None;
                    }
                    self.block = Some(block);
                    continue;
                }
                let indent = spaces(line);
                let body = after_line(doc, block.header);
                if indent > block.owner {
                    // The body: every line indented as far as its first, or of spaces only.
                    let mut last = line;
                    while let Some(next) = lines.peek() {
                        if spaces(next) >= indent || next.bytes().all(|c| c == b' ') {
                            last = lines.next()?;
                        } else {
                            break;
                        }
                    }
                    // With the last line's break, when it has one.
                    let end = offset(body, last) + last.len();
                    let body = &body[..(end + 1).min(body.len())];
                    self.sink.block(block.header, body)?;
                    continue;
                }
                self.sink.block(block.header, &body[..0])?;
            }
            let indent = spaces(line);
            let rest = &line[indent..];
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            self.line(indent, rest)?;
        }
        // A quoted scalar must close; a document must hold a collection.
        if self.quoted.is_some() || self.open.is_empty() {
            return None;
        }
        if let Some(block) = self.block.take() {
            let body = after_line(doc, block.header);
            self.sink.block(block.header, &body[..0])?;
        }
        if let Some(p) = self.pending.take() {
            self.sink.empty(p.after);
        }
        let end = &doc[doc.len()..];
        for _ in 0..self.open.len() {
            self.sink.close(end)?;
        }
        Some(())
    }

    /// A content line at column `n`.
    fn line(&mut self, n: usize, rest: &'a str) -> Option<()> {
        if let Some(p) = self.pending.take() {
            if n > p.indent {
                // A flow collection on the next line (Helm's `toYaml` of an empty value).
                if rest.starts_with(['[', '{']) {
                    let tail = self.flow(rest, FLOW_DEPTH)?;
                    return blank_or_comment(tail).then_some(());
                }
                return self.collection(n, rest, false);
            }
            if n == p.indent && p.key && dash(rest) {
                return self.collection(n, rest, true);
            }
            self.sink.empty(p.after);
        }
        let Some(root) = self.open.first() else {
            return self.collection(n, rest, false);
        };
        if n < root.indent {
            return None;
        }
        while self.open.last().is_some_and(|o| o.indent > n) {
            self.open.pop();
            self.sink.close(rest)?;
        }
        let top = *self.open.last()?;
        if top.indent != n {
            // Past the column of every open collection and no value pending: a plain
            // scalar's next line, or an error.
            return None;
        }
        match (top.seq, dash(rest)) {
            (true, true) => self.dash_entry(n, rest),
            (false, false) => self.key_entry(n, rest),
            (true, false) => {
                // A sequence at its key's column ends where the mapping goes on.
                let len = self.open.len();
                let below = self.open.get(len.checked_sub(2)?)?;
                if below.seq || below.indent != n {
                    return None;
                }
                self.open.pop();
                self.sink.close(rest)?;
                self.key_entry(n, rest)
            }
            (false, true) => None,
        }
    }

    /// A new collection whose first entry starts at column `n` (the root, a pending value, or
    /// the rest of a dash's line); `indentless`: a sequence at its key's column.
    fn collection(&mut self, n: usize, rest: &'a str, indentless: bool) -> Option<()> {
        if self.open.len() >= MAX_OPEN {
            return None;
        }
        let seq = dash(rest);
        if !seq && key(rest).is_none() {
            return None;
        }
        self.open.push(Open { indent: n, seq });
        self.sink.open(rest, seq, indentless);
        if seq {
            self.dash_entry(n, rest)
        } else {
            self.key_entry(n, rest)
        }
    }

    /// `- ...` at column `n`.
    fn dash_entry(&mut self, n: usize, rest: &'a str) -> Option<()> {
        let after = &rest[1..];
        let gap = spaces(after);
        let item = &after[gap..];
        if blank_or_comment(after) {
            self.pending = Some(Pending {
                indent: n,
                key: false,
                after,
            });
            return Some(());
        }
        let col = n + 1 + gap;
        if dash(item) || key(item).is_some() {
            self.collection(col, item, false)
        } else {
            self.value(n, item)
        }
    }

    /// `key: ...` at column `n`.
    fn key_entry(&mut self, n: usize, rest: &'a str) -> Option<()> {
        let after = key(rest)?;
        // The key's text ends before its colon.
        self.sink.scalar(&rest[..rest.len() - after.len() - 1])?;
        if blank_or_comment(after) {
            self.pending = Some(Pending {
                indent: n,
                key: true,
                after,
            });
            return Some(());
        }
        self.value(n, &after[spaces(after)..])
    }

    /// A scalar or flow collection on its owner's line; `owner` is the column the owner's
    /// collection is at.
    fn value(&mut self, owner: usize, v: &'a str) -> Option<()> {
        let b = v.as_bytes();
        let tail = match b[0] {
            b'|' | b'>' => {
                let mut at = 1;
                if matches!(b.get(1), Some(b'-' | b'+')) {
                    at = 2;
                }
                self.block = Some(Block { owner, header: v });
                &v[at..]
            }
            b'\'' => match single_quoted(&v[1..]) {
                Some(tail) => {
                    self.sink.scalar(&v[..v.len() - tail.len()])?;
                    tail
                }
                None => {
                    // It runs on to later lines.
                    self.sink.multi_line(v)?;
                    self.quoted = Some(owner);
                    return Some(());
                }
            },
            b'"' => {
                let tail = double_quoted(&v[1..])?;
                self.sink.scalar(&v[..v.len() - tail.len()])?;
                tail
            }
            b'[' | b'{' => self.flow(v, FLOW_DEPTH)?,
            _ => return self.sink.scalar(plain(v)?),
        };
        blank_or_comment(tail).then_some(())
    }

    /// The text after a flow collection that closes on this line (`s` starts at its bracket):
    /// a sequence of items, or a mapping of `key: item` entries, each item a quoted scalar, a
    /// plain one of name-like characters, or such a collection. No empty entry, trailing
    /// comma, comment or line break inside.
    fn flow(&mut self, s: &'a str, depth: usize) -> Option<&'a str> {
        let depth = depth.checked_sub(1)?;
        let map = s.starts_with('{');
        let close = if map { '}' } else { ']' };
        self.sink.open_flow(s, map);
        let mut rest = s[1..].trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            self.sink.close(after)?;
            return Some(after);
        }
        loop {
            if map {
                rest = self.flow_scalar(rest)?;
                rest = rest.strip_prefix(": ")?.trim_start_matches(' ');
            }
            rest = match rest.as_bytes().first()? {
                b'[' | b'{' => self.flow(rest, depth)?,
                _ => self.flow_scalar(rest)?,
            };
            rest = rest.trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(close) {
                self.sink.close(after)?;
                return Some(after);
            }
            rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        }
    }

    /// [`flow_scalar`], told to the sink.
    fn flow_scalar(&mut self, s: &'a str) -> Option<&'a str> {
        let rest = flow_scalar(s)?;
        self.sink.scalar(&s[..s.len() - rest.len()])?;
        Some(rest)
    }

    /// A line of a single-quoted scalar that began on an earlier line.
    fn quoted_line(&mut self, owner: usize, line: &str) -> Option<()> {
        let indent = spaces(line);
        if indent == line.len() {
            return Some(());
        }
        // Kubernetes' reader takes a closing quote at any column (Helm 4 writes it at column
        // 0); other lines must be indented past the scalar's owner.
        if indent <= owner && !line[indent..].starts_with('\'') {
            return None;
        }
        if let Some(tail) = single_quoted(&line[indent..]) {
            self.quoted = None;
            return blank_or_comment(tail).then_some(());
        }
        Some(())
    }
}

/// The count of leading spaces.
fn spaces(s: &str) -> usize {
    s.bytes().take_while(|&c| c == b' ').count()
}

/// Whether `s` is nothing, spaces, or a comment after at least one space.
fn blank_or_comment(s: &str) -> bool {
    let n = spaces(s);
    let rest = &s[n..];
    rest.is_empty() || (rest.starts_with('#') && n > 0)
}

/// A sequence entry's dash.
fn dash(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.first() == Some(&b'-') && matches!(b.get(1), None | Some(b' '))
}

/// The text after `key:` when `rest` starts with a simple key (plain of name-like
/// characters, or quoted on one line) and its colon; what follows the colon is a space or
/// nothing.
fn key(rest: &str) -> Option<&str> {
    let b = rest.as_bytes();
    let end = rest.len() - flow_scalar(rest)?.len();
    if end > MAX_KEY || b.get(end) != Some(&b':') || !matches!(b.get(end + 1), None | Some(b' ')) {
        return None;
    }
    Some(&rest[end + 1..])
}

/// The text after a single-quoted scalar's closing quote on this line (`s` starts after the
/// opening one, or at a continuation line's text); `None` when it does not close here.
fn single_quoted(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\'', &b[i..]) {
        i += k;
        if b.get(i + 1) == Some(&b'\'') {
            i += 2;
        } else {
            return Some(&s[i + 1..]);
        }
    }
    None
}

/// The text after a double-quoted scalar that closes on this line with valid escapes.
fn double_quoted(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        i += memchr::memchr2(b'"', b'\\', &b[i..])?;
        if b[i] == b'"' {
            return Some(&s[i + 1..]);
        }
        let (_, len) = escape(&s[i + 1..])?;
        i += 1 + len;
    }
}

/// What a double-quoted scalar's escape stands for, and how many bytes it takes after its
/// backslash (`s` starts there); `None` for one the reader refuses. The scan validates with
/// it and [`super::direct`] decodes with it.
pub(super) fn escape(s: &str) -> Option<(char, usize)> {
    let c = match *s.as_bytes().first()? {
        b'0' => '\0',
        b'a' => '\u{7}',
        b'b' => '\u{8}',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\u{b}',
        b'f' => '\u{c}',
        b'r' => '\r',
        b'e' => '\u{1b}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return code_point(s, 2),
        b'u' => return code_point(s, 4),
        b'U' => return code_point(s, 8),
        _ => return None,
    };
    Some((c, 1))
}

/// A `\x`, `\u` or `\U` escape's character, from the `digits` hex digits after its letter.
fn code_point(s: &str, digits: usize) -> Option<(char, usize)> {
    let hex = s.get(1..1 + digits)?;
    // `from_str_radix` would take a sign too: the digits are checked first.
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((c, 1 + digits))
}

/// Flow collections nest at most this deep (`{capabilities: {add: [NET_RAW]}}` is three), or
/// are left to the parser.
const FLOW_DEPTH: usize = 4;

/// The characters of a plain key or flow scalar: ASCII letters and digits, `_ . / -`.
const NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-');
        c += 1;
    }
    table
};

/// The text after a scalar inside a flow collection: quoted on one line, or plain of the
/// characters a key may hold.
fn flow_scalar(s: &str) -> Option<&str> {
    match s.as_bytes().first()? {
        b'\'' => single_quoted(&s[1..]),
        b'"' => double_quoted(&s[1..]),
        &c if NAME[usize::from(c)] && c != b'-' => {
            let end = s
                .bytes()
                .position(|c| !NAME[usize::from(c)])
                .unwrap_or(s.len());
            Some(&s[end..])
        }
        _ => None,
    }
}

/// The text of `v`'s plain scalar, when it is one that ends on its line (where a comment may
/// follow).
fn plain(v: &str) -> Option<&str> {
    let b = v.as_bytes();
    let first_ok = match b[0] {
        c if c.is_ascii_alphanumeric() => true,
        // An indicator may start a plain scalar only followed by a character that is not a
        // space; only `-` and `:` are common (negative numbers, `--flag` arguments,
        // Prometheus recording rules' `:name:sum`).
        b'-' => b
            .get(1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')),
        b':' => b
            .get(1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_'),
        b'?' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
        | b'\'' | b'"' | b'%' | b'@' | b'`' => false,
        _ => true,
    };
    if !first_ok {
        return None;
    }
    // The text ends where a comment starts; a `: ` before that makes the line a mapping's.
    let mut end = v.len();
    for at in memchr::memchr_iter(b' ', b) {
        if b.get(at + 1) == Some(&b'#') {
            end = at;
            break;
        }
        if at > 0 && b[at - 1] == b':' {
            return None;
        }
    }
    let text = v[..end].trim_end_matches(' ');
    (!text.ends_with(':')).then_some(text)
}

/// Where `inner`, a slice of `outer`, starts in it.
pub(super) fn offset(outer: &str, inner: &str) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// The rest of `doc` from the line after the one `at` (a slice of it) is on.
fn after_line<'a>(doc: &'a str, at: &str) -> &'a str {
    &doc[super::source::next_line(doc, offset(doc, at))..]
}

#[cfg(test)]
#[path = "plain_tests.rs"]
pub(super) mod tests;
