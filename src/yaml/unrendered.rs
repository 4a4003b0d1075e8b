//! Telling an unrendered Helm template from rendered YAML that merely contains braces, for
//! the hint a parse error carries ("render it first").
//!
//! The hint is right only where a template action breaks YAML's structure: `{{` at the start
//! of a plain value, of a key or of a line, where YAML reads a flow mapping. Braces inside a
//! quoted scalar, a block scalar, a comment or the middle of a plain scalar are text:
//! Prometheus alert descriptions, Argo Workflows parameters, `docker --format {{.Names}}`
//! arguments, all common in rendered manifests. Their file may well fail to parse for another
//! reason, and then telling the user to render it is wrong. So the document holding the error
//! is scanned, up to the end of the error's line, by the light lexer of [`crate::yaml::relax`],
//! which knows just enough YAML to tell those places apart; it runs only when a parse has
//! already failed.
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
    let mut from = crate::yaml::source::line_start(text, at);
    while from > 0 && !crate::yaml::source::is_document_marker(text, from) {
        from = crate::yaml::source::line_start(text, from - 1);
    }
    let to = crate::yaml::source::next_line(text, at);
    crate::yaml::relax::template_action(text, from..to)
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
    let line_end = crate::yaml::source::line_end(text, start);
    text[start..line_end]
        .char_indices()
        .nth(pos.col.saturating_sub(1))
        .map_or(line_end, |(b, _)| start + b)
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
