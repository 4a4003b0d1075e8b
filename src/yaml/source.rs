//! A file's text and everything about positions in it: the gate that turns bytes into text
//! (UTF-8 only, with a clear refusal for UTF-16 and binary data), the one place where the
//! parser's character indices become byte offsets, line/column lookup for messages, and the
//! line-ending convention new lines must follow.

use crate::error::{Located, Pos};

/// Decode file bytes as UTF-8 text, refusing what pss-fix cannot edit without damage.
pub fn decode(bytes: Vec<u8>) -> Result<String, Located> {
    gate(&bytes)?;
    // SAFETY: `gate` accepts only UTF-8.
    Ok(unsafe { String::from_utf8_unchecked(bytes) })
}

/// [`decode`] for bytes held elsewhere (a mapped file): the same refusals, the same text.
pub fn decode_slice(bytes: &[u8]) -> Result<&str, Located> {
    gate(bytes)?;
    // SAFETY: `gate` accepts only UTF-8.
    Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Every refusal, in this order: UTF-16, binary data (a NUL byte anywhere), bytes that are
/// not UTF-8.
///
/// A manifest is ASCII but for a few characters, so the blocks of ASCII without a NUL at
/// the start are passed in one pass ([`clean_blocks`]), and only the rest is searched for a
/// NUL and checked as UTF-8: ASCII is UTF-8, and a block boundary after an ASCII byte is a
/// character boundary. A NUL search and a UTF-8 check of the whole were two passes, the
/// first over bytes not yet in any cache: 125–215 µs of a 670 KB chart render's
/// `post-render` before any work started, where the one pass takes 40–70.
fn gate(bytes: &[u8]) -> Result<(), Located> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Located::nowhere(
            "file is UTF-16; pss-fix edits UTF-8 only (convert it with `iconv -f UTF-16 -t UTF-8`)",
        ));
    }
    // A NUL or a byte of a multi-byte character.
    let clean = clean_blocks(bytes, |c| c.wrapping_sub(1) > 0x7e);
    let rest = &bytes[clean..];
    if let Some(at) = memchr::memchr(0, rest) {
        let pos = pos_of_prefix(&bytes[..clean + at]);
        return Err(Located::at(
            pos,
            "binary data (a NUL byte): not a YAML or JSON manifest",
        ));
    }
    std::str::from_utf8(rest).map_err(|e| invalid_utf8(bytes, clean + e.valid_up_to()))?;
    Ok(())
}

/// Bytes are tested in blocks of this many by [`clean_blocks`].
pub(crate) const BLOCK: usize = 64;

/// How many bytes of `b` come before the first block of [`BLOCK`] bytes that holds a byte
/// `flagged` is true of: a multiple of [`BLOCK`], at most `b.len()` rounded down to one.
///
/// `flagged` is applied to every byte of a block and the answers are combined without a
/// branch, so that it compiles to vector compares: text is mostly ASCII, most blocks hold
/// no byte worth a second look, and each costs a few instructions.
#[inline]
pub(crate) fn clean_blocks(b: &[u8], flagged: impl Fn(u8) -> bool) -> usize {
    let mut at = 0;
    for block in b.chunks_exact(BLOCK) {
        if block.iter().fold(0u8, |any, &c| any | u8::from(flagged(c))) != 0 {
            break;
        }
        at += BLOCK;
    }
    at
}

fn invalid_utf8(bytes: &[u8], valid: usize) -> Located {
    let pos = pos_of_prefix(&bytes[..valid]);
    Located::at(pos, "invalid UTF-8; pss-fix edits UTF-8 text only")
}

fn pos_of_prefix(valid_prefix: &[u8]) -> Pos {
    // The prefix is valid UTF-8 up to here by construction (or arbitrary bytes before a NUL,
    // where a lossy count is good enough for a message).
    let text = String::from_utf8_lossy(valid_prefix);
    let line = text.matches('\n').count() + 1;
    let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line, col }
}

/// The parser counts characters; edits need bytes. This is the only conversion.
///
/// A manifest is ASCII but for a few characters (a name in a comment, a description), so the
/// map lists those: a byte offset is the character index plus the extra bytes of the wide
/// characters before it. A text with many of them (more than one in [`WIDE_SPARSE`] bytes)
/// is walked instead, from the last answer or a checkpoint every 64 characters.
pub struct CharMap {
    how: How,
}

enum How {
    Ascii,
    /// Per wide character, in order: its character index, and the extra bytes of all wide
    /// characters up to and including it; and how many of them lie before the last answer
    /// (the parser asks in nearly increasing order, so the next answer is a step or two away).
    Wide(Vec<(usize, usize)>, std::cell::Cell<usize>),
    Walk {
        /// Byte offsets of every 64th character, recorded as the cursor passes them.
        checkpoints: std::cell::RefCell<Vec<usize>>,
        /// The furthest conversion so far: the parser asks in nearly increasing order, so
        /// most answers are a short walk forward from here.
        last: std::cell::Cell<(usize, usize)>,
    },
}

const CHECKPOINT_EVERY: usize = 64;

/// A listed wide character per this many bytes at most; denser text is walked.
const WIDE_SPARSE: usize = 64;

impl CharMap {
    pub fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharMap { how: How::Ascii };
        }
        let limit = text.len() / WIDE_SPARSE + 16;
        let bytes = text.as_bytes();
        let mut wide = Vec::new();
        let mut extra = 0;
        let mut b = 0;
        while b < bytes.len() {
            let block = (b + 64).min(bytes.len());
            if bytes[b..block].is_ascii() {
                b = block;
                continue;
            }
            let len = text[b..].chars().next().map_or(1, char::len_utf8);
            if len > 1 {
                extra += len - 1;
                wide.push((b + len - 1 - extra, extra));
                if wide.len() > limit {
                    return CharMap {
                        how: How::Walk {
                            checkpoints: std::cell::RefCell::new(vec![0]),
                            last: std::cell::Cell::new((0, 0)),
                        },
                    };
                }
            }
            b += len;
        }
        CharMap {
            how: How::Wide(wide, std::cell::Cell::new(0)),
        }
    }

    /// The map of `text[from..]`, where this one maps `text` and `from` is a character
    /// boundary: for a parser that starts over there. `None` for text dense in wide
    /// characters, which would have to be walked again.
    pub fn tail(&self, text: &str, from: usize) -> Option<CharMap> {
        match &self.how {
            How::Ascii => Some(CharMap { how: How::Ascii }),
            How::Wide(wide, _) => {
                // The wide characters before `from`: those whose byte offset (their character
                // index plus the extra bytes before them) is below it.
                let k = wide.partition_point(|&(ci, extra)| ci + extra < from);
                let (skip_ci, skip_extra) = match k.checked_sub(1).map(|k| wide[k]) {
                    Some((_, extra)) => (from - extra, extra),
                    None => (from, 0),
                };
                let rest: Vec<(usize, usize)> = wide[k..]
                    .iter()
                    .map(|&(ci, extra)| (ci - skip_ci, extra - skip_extra))
                    .collect();
                debug_assert!(text.is_char_boundary(from));
                Some(CharMap {
                    how: if rest.is_empty() {
                        How::Ascii
                    } else {
                        How::Wide(rest, std::cell::Cell::new(0))
                    },
                })
            }
            How::Walk { .. } => None,
        }
    }

    /// Byte offset of character index `ci` (the text length when `ci` is past the end).
    pub fn byte(&self, text: &str, ci: usize) -> usize {
        match &self.how {
            How::Ascii => ci.min(text.len()),
            How::Wide(wide, cursor) => {
                let mut before = cursor.get();
                while before < wide.len() && wide[before].0 < ci {
                    before += 1;
                }
                while before > 0 && wide[before - 1].0 >= ci {
                    before -= 1;
                }
                cursor.set(before);
                let extra = before.checked_sub(1).map_or(0, |k| wide[k].1);
                (ci + extra).min(text.len())
            }
            How::Walk { checkpoints, last } => walk(text, ci, checkpoints, last),
        }
    }
}

fn walk(
    text: &str,
    ci: usize,
    checkpoints: &std::cell::RefCell<Vec<usize>>,
    last: &std::cell::Cell<(usize, usize)>,
) -> usize {
    let (last_ci, last_b) = last.get();
    if ci < last_ci {
        // Backwards: from the checkpoint below, which the cursor has already passed.
        let base = ci / CHECKPOINT_EVERY;
        let from_b = checkpoints.borrow()[base];
        return text[from_b..]
            .char_indices()
            .nth(ci - base * CHECKPOINT_EVERY)
            .map_or(text.len(), |(b, _)| from_b + b);
    }
    let mut cps = checkpoints.borrow_mut();
    let (mut at_ci, mut at_b) = (last_ci, last_b);
    let bytes = text.as_bytes();
    while at_ci < ci {
        let checkpoint = (at_ci / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY;
        let step = checkpoint.min(ci) - at_ci;
        match bytes.get(at_b..at_b + step) {
            // Most of a manifest is ASCII: a whole step at once.
            Some(run) if run.is_ascii() => at_b += step,
            _ => {
                let mut chars = text[at_b..].chars();
                for _ in 0..step {
                    match chars.next() {
                        Some(c) => at_b += c.len_utf8(),
                        None => return text.len(),
                    }
                }
            }
        }
        at_ci += step;
        if at_ci == checkpoint && cps.len() == checkpoint / CHECKPOINT_EVERY {
            cps.push(at_b);
        }
    }
    last.set((ci, at_b));
    at_b
}

/// Turns byte offsets into 1-based line/column positions.
///
/// Queries come nearly in order (reports go through a file front to back), so it counts line
/// breaks onward from the last answer and keeps the line count at every [`LINE_BLOCK`]th byte
/// it passes, from which an earlier offset is a short count too. Nothing proportional to the
/// number of lines is stored, and nothing is counted that no position needs.
pub struct LineIndex {
    /// Line breaks before byte `k * LINE_BLOCK`, for every such byte passed so far.
    blocks: std::cell::RefCell<Vec<usize>>,
    /// The last answer: a byte offset and the line breaks before it.
    last: std::cell::Cell<(usize, usize)>,
}

const LINE_BLOCK: usize = 4096;

impl LineIndex {
    pub fn new(_text: &str) -> Self {
        LineIndex {
            blocks: std::cell::RefCell::new(vec![0]),
            last: std::cell::Cell::new((0, 0)),
        }
    }

    pub fn pos(&self, text: &str, byte: usize) -> Pos {
        let bytes = text.as_bytes();
        let byte = byte.min(bytes.len());
        let (mut at, mut line) = self.last.get();
        let mut blocks = self.blocks.borrow_mut();
        if byte < at {
            let k = byte / LINE_BLOCK;
            (at, line) = (k * LINE_BLOCK, blocks[k]);
        }
        while at < byte {
            let block_end = (at / LINE_BLOCK + 1) * LINE_BLOCK;
            let to = block_end.min(byte);
            line += count_newlines(&bytes[at..to]);
            at = to;
            if at == block_end && blocks.len() == block_end / LINE_BLOCK {
                blocks.push(line);
            }
        }
        self.last.set((byte, line));
        let start = line_start(text, byte);
        let col = text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count())
            + 1;
        Pos {
            line: line + 1,
            col,
        }
    }
}

/// The line ending a file uses: the first one found wins; a file without one gets `\n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eol {
    Lf,
    CrLf,
}

impl Eol {
    pub fn of(text: &str) -> Eol {
        match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => Eol::CrLf,
            _ => Eol::Lf,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
        }
    }
}

/// Whether some line of `text` starts with one of `prefixes`.
pub fn has_line_starting(text: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| text.starts_with(p) || find_line_starting(text, 0, p).is_some())
}

/// The start of the first line at or after byte `from` (`from` itself only when a line
/// break precedes it) that begins with `prefix`. A search for the prefix after a line break
/// with `memchr`'s vectorised `memmem`, not a walk over the lines: every stream is searched
/// this way several times (for `---`, `...` and `%` lines), and std's `str::find` runs
/// several times slower on such short needles.
pub fn find_line_starting(text: &str, from: usize, prefix: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let from = from.min(bytes.len());
    let search = |needle: &[u8]| memchr::memmem::find(&bytes[from.saturating_sub(1)..], needle);
    let found = match prefix.as_bytes() {
        // The needle carries the line break: `\n` plus up to 7 bytes, on the stack.
        p if p.len() < 8 => {
            let mut needle = [b'\n'; 8];
            needle[1..=p.len()].copy_from_slice(p);
            search(&needle[..=p.len()])
        }
        p => search(&[b"\n".as_slice(), p].concat()),
    };
    found.map(|i| from.saturating_sub(1) + i + 1)
}

/// The line breaks (`\n`) in `bytes`. Counted in blocks of 255 into byte-wide lanes, which
/// the compiler turns into vector compares: the plain `filter().count()` was measured at
/// about four instructions a byte, and every stream is counted through once or twice (runs,
/// positions).
pub fn count_newlines(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut blocks = bytes.chunks_exact(255);
    for block in &mut blocks {
        n += block.iter().fold(0u8, |acc, &b| acc + u8::from(b == b'\n')) as usize;
    }
    n + blocks.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// Documents are marked by `---` lines alone, so each can be read on its own: no `%`
/// directive binds one to what precedes it, no `...` line lets one start without `---`.
/// A `...` line that only closes a document before the next `---` line (past blank and
/// comment lines), as some charts' templates write it (istio's Kiali addon), marks nothing new.
pub fn independent_documents(text: &str) -> bool {
    !has_line_starting(text, &["%"]) && ends_lead_to_starts(text)
}

/// Every line starting with `...` is followed, past blank and comment lines, by a `---`
/// line or the end of the text.
fn ends_lead_to_starts(text: &str) -> bool {
    let mut from = 0;
    loop {
        let end = if from == 0 && text.starts_with("...") {
            0
        } else {
            match find_line_starting(text, from + 1, "...") {
                Some(at) => at,
                None => return true,
            }
        };
        let mut line = next_line(text, end);
        while line < text.len() && blank_or_comment(&text[line..line_end(text, line)]) {
            line = next_line(text, line);
        }
        if line < text.len() && !is_document_marker(text, line) {
            return false;
        }
        from = end + 1;
    }
}

/// Whether `line` holds nothing but blanks, or a comment after them.
pub fn blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// A `---` document marker starts at byte `at` (which must start a line).
pub fn is_document_marker(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    b.get(at..).is_some_and(|rest| rest.starts_with(b"---"))
        && matches!(b.get(at + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

/// The start of the first `---` line after the line holding `from`, or the text's end.
pub fn next_document_marker(text: &str, from: usize) -> usize {
    let mut at = from;
    while let Some(found) = find_line_starting(text, at + 1, "---") {
        at = found;
        if is_document_marker(text, at) {
            return at;
        }
    }
    text.len()
}

/// The byte range of the document around `at`, from the `---` line that starts it (or the
/// text's start) to the next one (or the text's end); meaningful when
/// [`independent_documents`] holds.
pub fn document_around(text: &str, at: usize) -> std::ops::Range<usize> {
    let mut start = line_start(text, at);
    while start > 0 && !is_document_marker(text, start) {
        start = line_start(text, start - 1);
    }
    start..next_document_marker(text, at)
}

/// Start of the line holding byte offset `at`.
pub fn line_start(text: &str, at: usize) -> usize {
    memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |i| i + 1)
}

/// Offset of the line break ending the line that holds `at` (its `\r` for CRLF), or the text
/// length on the last line.
pub fn line_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let nl = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |i| at + i);
    if nl > at && nl < text.len() && bytes[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Offset just after the line break ending the line that holds `at` (the text length when
/// that line has no break).
pub fn next_line(text: &str, at: usize) -> usize {
    memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |i| at + i + 1)
}

/// The pieces of `text` between its `\n` line breaks, as `text.split('\n')` gives them (the
/// last one after the last break, empty when the text ends in one), found with `memchr`'s
/// vectorised search. std's `split` searches for a char byte by byte up to a word boundary
/// on every line, and the reader splits every document into its (short) lines: that search
/// was an eighth of `post-render`'s instructions.
pub fn lines(text: &str) -> Lines<'_> {
    Lines {
        text,
        at: Some(0),
        breaks: memchr::memchr_iter(b'\n', text.as_bytes()),
    }
}

/// See [`lines`].
pub struct Lines<'a> {
    text: &'a str,
    /// Where the next piece starts; `None` once the last one is given.
    at: Option<usize>,
    breaks: memchr::Memchr<'a>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let at = self.at?;
        match self.breaks.next() {
            Some(nl) => {
                self.at = Some(nl + 1);
                Some(&self.text[at..nl])
            }
            None => {
                self.at = None;
                Some(&self.text[at..])
            }
        }
    }
}

/// Column of byte offset `at`, in characters from the start of its line (0-based).
pub fn column(text: &str, at: usize) -> usize {
    text[line_start(text, at)..at].chars().count()
}

#[cfg(test)]
mod tests {
    /// `lines` splits as `split('\n')` does, at the ends too.
    #[test]
    fn lines_split_as_std_does() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\r\nb\n",
            "é\n\nß",
            "  x: 1\n  y\n",
        ] {
            let ours: Vec<&str> = super::lines(text).collect();
            assert_eq!(ours, text.split('\n').collect::<Vec<_>>(), "{text:?}");
        }
        let long = "key: value\n".repeat(40) + "tail";
        assert!(super::lines(&long).eq(long.split('\n')));
    }

    /// `...` closing a document before the next `---` (istio's Kiali chart) keeps documents
    /// independent; one a document follows without `---`, or a directive, does not.
    #[test]
    fn end_markers_before_start_markers_keep_documents_independent() {
        for (text, independent) in [
            ("a: 1\n---\nb: 2\n", true),
            ("a: 1\n...\n---\nb: 2\n...\n", true),
            ("...\n---\na: 1\n...\n\n# next\n  \n--- \nb: 2\n", true),
            ("a: 1\n...\r\n---\r\nb: 2\r\n", true),
            ("a: 1\n...\nb: 2\n", false),
            ("a: 1\n...\n# c\nb: 2\n---\n", false),
            ("a: 1\n...\n...\n---\nb: 2\n", false),
            ("a: 1\n...\n---\n%YAML 1.1\n---\nb: 2\n", false),
            ("%YAML 1.1\n---\na: 1\n", false),
        ] {
            assert_eq!(independent_documents(text), independent, "{text:?}");
        }
    }

    #[test]
    fn newlines_are_counted_across_blocks() {
        for len in [0, 1, 254, 255, 256, 1000] {
            let text: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { b'\n' } else { b'a' })
                .collect();
            let plain = text.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(&text), plain, "{len}");
        }
        assert_eq!(count_newlines(&[b'\n'; 600]), 600);
    }
    use super::*;

    #[test]
    fn char_map_handles_multibyte_text() {
        // Dense (walked), sparse (listed) and 4-byte characters, at the very start and end.
        let sparse = format!("😀{}ü: x\n{}é", "a: b\n".repeat(300), "c: d\n".repeat(200));
        assert!(matches!(CharMap::new(&sparse).how, How::Wide(..)));
        assert!(matches!(
            CharMap::new(&"é".repeat(99)).how,
            How::Walk { .. }
        ));
        for text in ["é: ü\n".repeat(100), sparse] {
            char_map_agrees(&text);
        }
    }

    /// The map of a text's tail agrees with a map made for the tail, from every boundary.
    #[test]
    fn char_map_tails_agree() {
        let sparse = format!("😀{}ü: x\n{}é", "a: b\n".repeat(300), "c: d\n".repeat(200));
        let map = CharMap::new(&sparse);
        for (from, _) in sparse
            .char_indices()
            .step_by(3)
            .chain([(sparse.len(), ' ')])
        {
            let tail = &sparse[from..];
            let cut = map.tail(&sparse, from).unwrap();
            for (ci, (b, _)) in tail.char_indices().enumerate() {
                assert_eq!(cut.byte(tail, ci), b, "from {from}");
            }
            assert_eq!(cut.byte(tail, tail.chars().count()), tail.len());
        }
        assert!(matches!(
            CharMap::new("a: b").tail("a: b", 2).unwrap().how,
            How::Ascii
        ));
        assert!(CharMap::new(&"é".repeat(99)).tail("", 0).is_none());
    }

    fn char_map_agrees(text: &str) {
        let text = text.to_owned();
        let map = CharMap::new(&text);
        for (ci, (b, _)) in text.char_indices().enumerate() {
            assert_eq!(map.byte(&text, ci), b);
        }
        assert_eq!(map.byte(&text, text.chars().count()), text.len());
        // Backwards, as the parser sometimes asks, and forward again in jumps.
        let all: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        for ci in (0..all.len()).rev().step_by(7) {
            assert_eq!(map.byte(&text, ci), all[ci]);
        }
        let fresh = CharMap::new(&text);
        for ci in (0..all.len()).step_by(97) {
            assert_eq!(fresh.byte(&text, ci), all[ci]);
        }
    }

    #[test]
    fn gate_refuses_utf16_binary_and_bad_utf8() {
        assert!(decode(vec![0xFF, 0xFE, b'a', 0])
            .unwrap_err()
            .message
            .contains("UTF-16"));
        assert!(decode(b"a: 1\n\0".to_vec())
            .unwrap_err()
            .message
            .contains("binary"));
        let err = decode(b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 2, col: 4 }));
    }

    /// The one-pass gate refuses what a NUL search and a UTF-8 check of the whole refuse, at
    /// the same place: bad bytes before, in and after the first blocks, around their
    /// boundaries, after a wide character, and a character cut off at the end.
    #[test]
    fn gate_agrees_with_two_whole_passes() {
        let whole = |b: &[u8]| -> Result<(), Option<Pos>> {
            if let Some(at) = memchr::memchr(0, b) {
                return Err(Some(pos_of_prefix(&b[..at])));
            }
            std::str::from_utf8(b)
                .map(drop)
                .map_err(|e| Some(pos_of_prefix(&b[..e.valid_up_to()])))
        };
        let base = "kind: Pod\n# ünïcode 😀 here\nmetadata: {name: x}\n".repeat(12);
        let ascii = "kind: ConfigMap\ndata:\n  k: v\n".repeat(12);
        for text in [base.as_str(), ascii.as_str()] {
            for at in (0..text.len()).filter(|i| i % BLOCK < 3 || i % BLOCK > BLOCK - 4) {
                for bad in [&[0x00][..], &[0xFF], &[0x80], &[0xE2, 0x82], &[0xC3]] {
                    let mut bytes = text.as_bytes().to_vec();
                    bytes.splice(at..at, bad.iter().copied());
                    let got = gate(&bytes).map_err(|e| e.pos);
                    assert_eq!(got, whole(&bytes), "{bad:x?} at {at}");
                }
            }
            let mut cut = text.as_bytes().to_vec();
            cut.extend_from_slice(&[0xF0, 0x9F]);
            assert_eq!(gate(&cut).map_err(|e| e.pos), whole(&cut));
            assert_eq!(decode(text.as_bytes().to_vec()).unwrap(), text);
            assert_eq!(decode_slice(text.as_bytes()).unwrap(), text);
        }
    }

    #[test]
    fn line_index_answers_in_any_order() {
        let text: String = (0..3000)
            .map(|i| format!("line {i} é{}\n", "x".repeat(i % 17)))
            .collect();
        let expect = |byte: usize| {
            let before = &text[..byte];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
            Pos { line, col }
        };
        let offsets: Vec<usize> = text.char_indices().map(|(b, _)| b).step_by(13).collect();
        let index = LineIndex::new(&text);
        for &b in &offsets {
            assert_eq!(index.pos(&text, b), expect(b));
        }
        for &b in offsets.iter().rev().step_by(5) {
            assert_eq!(index.pos(&text, b), expect(b));
        }
        let fresh = LineIndex::new(&text);
        for &b in offsets
            .iter()
            .step_by(101)
            .chain(offsets.iter().rev().step_by(37))
        {
            assert_eq!(fresh.pos(&text, b), expect(b));
        }
        assert_eq!(fresh.pos(&text, text.len() + 5), expect(text.len()));
    }

    #[test]
    fn line_helpers() {
        let t = "ab\r\ncd";
        assert_eq!(Eol::of(t), Eol::CrLf);
        assert_eq!(line_end(t, 1), 2);
        assert_eq!(next_line(t, 1), 4);
        assert_eq!(line_end(t, 4), 6);
        assert_eq!(LineIndex::new(t).pos(t, 5), Pos { line: 2, col: 2 });
    }

    /// Line searches agree with a walk over the lines, from any byte, for short and long
    /// prefixes; a match at `from` counts only when a line starts there.
    #[test]
    fn line_searches_agree_with_a_walk() {
        let t = "--- a\n----\nx: ---\n---\n...\n%YAML 1.2\nkey: long-prefix\n--";
        for prefix in ["---", "...", "%", "key: long-prefix", "--", "-"] {
            for from in 0..=t.len() {
                let walk = (from.max(1)..t.len())
                    .find(|&at| t.as_bytes()[at - 1] == b'\n' && t[at..].starts_with(prefix));
                assert_eq!(
                    find_line_starting(t, from, prefix),
                    walk,
                    "{prefix:?} from {from}"
                );
            }
        }
        assert_eq!(next_document_marker(t, 0), t.find("\n---\n").unwrap() + 1);
        assert!(has_line_starting(t, &["%"]) && has_line_starting(t, &["--- a"]));
        assert!(!has_line_starting(t, &["x: -- "]));
    }
}
