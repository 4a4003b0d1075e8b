//! Telling an unrendered Helm template from rendered YAML that merely contains braces, for
//! the hint a parse error carries ("render it first").
//!
//! The hint is right only where a template action breaks YAML's structure: `{{` at the start
//! of a plain value, of a key or of a line, where YAML reads a flow mapping. Braces inside a
//! quoted scalar, a block scalar, a comment or the middle of a plain scalar are text:
//! Prometheus alert descriptions, Argo Workflows parameters, `docker --format {{.Names}}`
//! arguments, all common in rendered manifests. Their file may well fail to parse for another
//! reason, and then telling the user to render it is wrong. So the document holding the error
//! is scanned, up to the end of the error's line, by a light lexer that knows just enough YAML
//! to tell those places apart; it runs only when a parse has already failed.
//!
//! The parser ([`crate::yaml`]) asks [`looks_unrendered`] and takes its texts from here; a
//! caller whose input is rendered by definition (`post-render`, `krm`) takes the hint out
//! again with [`without_hint`].

use std::borrow::Cow;

use crate::error::Pos;

/// Appended to an invalid-YAML message when an unrendered template is the likely cause.
pub const HINT: &str =
    " (the file contains `{{ … }}`: if it is a Helm template, render it first with `helm template`)";

/// The whole message for a mapping key that is a collection because it is a template action.
pub const UNRENDERED_KEY: &str = "this looks like an unrendered Helm template (`{{ … }}`), not rendered YAML: render it first (`helm template … | pss-fix fix -`, or use the post-renderer)";

/// The same error said without guessing at templates.
pub const COMPLEX_KEY: &str =
    "a mapping key that is itself a mapping or list: not a Kubernetes manifest";

/// `message` without the unrendered-template hint, for input known to be rendered.
pub fn without_hint(message: &str) -> Cow<'_, str> {
    if message.contains(HINT) {
        Cow::Owned(message.replace(HINT, ""))
    } else if message.contains(UNRENDERED_KEY) {
        Cow::Owned(message.replace(UNRENDERED_KEY, COMPLEX_KEY))
    } else {
        Cow::Borrowed(message)
    }
}

/// Whether `{{` stands where YAML structure is expected (see the module docs) in the document
/// holding the 1-based `line` and `col`, from its start to the end of that line: a parse
/// error there is then most likely an unrendered template.
pub fn looks_unrendered(text: &str, line: usize, col: usize) -> bool {
    if !text.contains("{{") {
        return false;
    }
    let at = offset(text, Pos { line, col });
    let mut from = crate::source::line_start(text, at);
    while from > 0 && !crate::source::is_document_marker(text, from) {
        from = crate::source::line_start(text, from - 1);
    }
    let to = crate::source::next_line(text, at);
    let mut lexer = Lexer::default();
    text[from..to].lines().any(|line| lexer.line(line))
}

/// The byte offset of a 1-based line and column (clamped to the text and to the line).
fn offset(text: &str, pos: Pos) -> usize {
    let mut start = 0;
    for _ in 1..pos.line {
        match text[start..].find('\n') {
            Some(nl) => start += nl + 1,
            None => break,
        }
    }
    let line_end = crate::source::line_end(text, start);
    text[start..line_end]
        .char_indices()
        .nth(pos.col.saturating_sub(1))
        .map_or(line_end, |(b, _)| start + b)
}

/// What the lexer is inside of at a line break.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Inside {
    #[default]
    Structure,
    SingleQuoted,
    DoubleQuoted,
    /// A block scalar whose owner (key or `-`) sits at this column: its text is every deeper
    /// (or blank) line.
    BlockScalar(usize),
    /// A plain scalar in block context that may go on, on lines deeper than its owner.
    PlainScalar(usize),
}

#[derive(Default)]
struct Lexer {
    inside: Inside,
    /// Open flow collections (`[`, `{`).
    flow: usize,
    /// In flow context: the next token starts a value (after `[`, `{`, `,`, `:`).
    flow_value_start: bool,
}

impl Lexer {
    /// Read one line (without its break); `true` when it holds a `{{` where structure is.
    fn line(&mut self, line: &str) -> bool {
        let b = line.trim_end_matches('\r').as_bytes();
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        if b[indent..].iter().all(|c| c.is_ascii_whitespace()) {
            return false;
        }
        match self.inside {
            Inside::BlockScalar(owner) | Inside::PlainScalar(owner) if indent > owner => {
                return false;
            }
            Inside::BlockScalar(_) | Inside::PlainScalar(_) => self.inside = Inside::Structure,
            _ => {}
        }
        let mut i = indent;
        // The column of the key or `-` that owns what follows on this line.
        let mut owner = indent;
        let mut value_start = self.flow == 0 || self.flow_value_start;
        if crate::source::is_document_marker(line, 0) {
            i = 3;
        }
        while i < b.len() {
            match self.inside {
                Inside::SingleQuoted => match b[i..].iter().position(|&c| c == b'\'') {
                    None => return false,
                    Some(q) if b.get(i + q + 1) == Some(&b'\'') => i += q + 2,
                    Some(q) => {
                        i += q + 1;
                        self.inside = Inside::Structure;
                        value_start = false;
                    }
                },
                Inside::DoubleQuoted => {
                    match b[i..].iter().position(|&c| c == b'"' || c == b'\\') {
                        None => return false,
                        Some(q) if b[i + q] == b'\\' => i += q + 2,
                        Some(q) => {
                            i += q + 1;
                            self.inside = Inside::Structure;
                            value_start = false;
                        }
                    }
                }
                _ => {
                    let c = b[i];
                    let spaced = |k: usize| b.get(k).is_none_or(|c| matches!(c, b' ' | b'\t'));
                    if c == b' ' || c == b'\t' {
                        i += 1;
                    } else if c == b'#' && (i == 0 || spaced(i - 1)) {
                        break;
                    } else if value_start {
                        if b[i..].starts_with(b"{{") {
                            return true;
                        }
                        match c {
                            b'\'' => self.inside = Inside::SingleQuoted,
                            b'"' => self.inside = Inside::DoubleQuoted,
                            b'-' | b'?' | b':' if spaced(i + 1) => owner = i,
                            b'[' | b'{' => self.flow += 1,
                            b']' | b'}' => {
                                self.flow = self.flow.saturating_sub(1);
                                value_start = false;
                            }
                            b',' => {}
                            b'|' | b'>' if self.flow == 0 => {
                                self.inside = Inside::BlockScalar(owner);
                                break;
                            }
                            b'&' | b'!' | b'*' => {
                                i += b[i..].iter().take_while(|&&c| c != b' ').count();
                                value_start = c != b'*';
                                continue;
                            }
                            _ => {
                                let start = i;
                                // A stray indicator is one character of text.
                                i = self.plain_end(b, i).max(i + 1);
                                if i < b.len() && b[i] == b':' {
                                    owner = start;
                                    value_start = true;
                                    i += 1;
                                } else {
                                    value_start = false;
                                    if i >= b.len() && self.flow == 0 {
                                        self.inside = Inside::PlainScalar(owner);
                                    }
                                }
                                continue;
                            }
                        }
                        i += 1;
                    } else {
                        match c {
                            b':' | b',' => value_start = true,
                            b']' | b'}' => self.flow = self.flow.saturating_sub(1),
                            _ => {}
                        }
                        i += 1;
                    }
                }
            }
        }
        self.flow_value_start = value_start;
        false
    }

    /// Where a plain scalar starting at `i` ends: before `: ` (a key), ` #` (a comment), the
    /// line's end, and in flow context before `,`, `]`, `}`.
    fn plain_end(&self, b: &[u8], mut i: usize) -> usize {
        while i < b.len() {
            let next = b.get(i + 1).copied();
            match b[i] {
                b':' if next.is_none_or(|c| c == b' ' || c == b'\t') => return i,
                b':' if self.flow > 0 && matches!(next, Some(b',' | b']' | b'}')) => return i,
                b' ' | b'\t' if next == Some(b'#') => return i,
                b',' | b']' | b'}' if self.flow > 0 => return i,
                _ => i += 1,
            }
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a parse error on the last line of `text` would get the hint.
    fn hinted(text: &str) -> bool {
        let line = text.lines().count();
        looks_unrendered(text, line, 1)
    }

    #[test]
    fn template_actions_where_structure_is_get_the_hint() {
        for text in [
            "metadata:\n  name: {{ include \"x\" . }}\n",
            "{{- if .Values.enabled }}\napiVersion: v1\n",
            "spec:\n  template:\n    {{- toYaml .Values.pod | nindent 4 }}\n",
            "containers:\n- {{ .Values.container }}\n",
            "args: [\n  {{ .Values.args }}\n]\n",
            "{{ .Values.key }}: value\n",
            "a: 1\n---\nkind: Pod\nspec: {{ .Values.spec }}\n",
        ] {
            assert!(hinted(text), "{text:?}");
        }
    }

    #[test]
    fn braces_that_are_text_get_no_hint() {
        for text in [
            // Helm 4's PrometheusRule descriptions: multi-line, quote closed at column 0.
            "annotations:\n  description: '{{ $labels.job }} down\n\n    {{ $value }} more\n'\nbad: [\n",
            "msg: \"{{ a }} \\\" {{ b }}\"\nbad: [\n",
            "script: |\n  echo {{ x }}\n  {{ y }}\nbad: [\n",
            "- >-\n  {{ x }}\nbad: [\n",
            "# {{ x }}\nbad: [\n",
            "a: b # {{ x }}\nbad: [\n",
            "args: --format={{.Names}}\nbad: [\n",
            "- docker ps --format {{.Names}}\nbad: [\n",
            "description: some\n  {{ x }} more\nbad: [\n",
            "k: 'it''s {{ x }}'\nbad: [\n",
            // The template sits in another document.
            "a: {{ x }}\n---\nbad: [\n",
        ] {
            assert!(!hinted(text), "{text:?}");
        }
    }

    #[test]
    fn the_lexer_stops_at_the_errors_line() {
        let text = "bad: [\n---\nname: {{ x }}\n";
        assert!(!looks_unrendered(text, 1, 6));
        assert!(looks_unrendered(text, 3, 7));
        // Past the end of the text: its last line.
        assert!(looks_unrendered(text, 9, 99));
    }

    #[test]
    fn post_render_takes_the_hint_out() {
        let scan = format!("invalid YAML: x{HINT}");
        assert_eq!(without_hint(&scan), "invalid YAML: x");
        assert_eq!(without_hint(UNRENDERED_KEY), COMPLEX_KEY);
        assert!(matches!(without_hint("duplicate key"), Cow::Borrowed(_)));
    }
}
