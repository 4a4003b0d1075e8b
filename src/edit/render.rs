//! Turns planned [`Change`]s into byte [`Edit`]s written in the style of their surroundings:
//! new keys at their siblings' column, nested levels at the document's own step, sequences
//! with the document's dash offset, the file's line ending, flow syntax inside flow
//! collections and JSON syntax inside JSON.
//!
//! Comments keep their owner: new entries of a block mapping go after the comment lines that
//! are indented deeper than its keys (they belong to its last value) and before comments at
//! its own indentation or shallower (they belong to what follows).

use std::borrow::Cow;

use crate::edit::plan::{Change, Op, Refusal};
use crate::edit::value::Value;
use crate::edit::Edit;
use crate::path::{Path, Seg};
use crate::yaml::scalar::{double_quoted, plain_safe};
use crate::yaml::source::{column, line_end, line_start, next_line};
use crate::yaml::style::{dash_of, DocStyle};
use crate::yaml::{Kind, Node, ScalarStyle};

/// Where a change's target sits.
struct Target<'t, 'a> {
    node: &'t Node<'a>,
    /// The collection holding the target (absent for the root).
    parent: Option<&'t Node<'a>>,
    /// The key whose value the target is, when it is a mapping value.
    key: Option<&'t Node<'a>>,
    /// Inside a flow collection (then everything new is written in flow style).
    in_flow: bool,
}

fn locate<'t, 'a>(root: &'t Node<'a>, segs: &[Seg]) -> Option<Target<'t, 'a>> {
    let mut t = Target {
        node: root,
        parent: None,
        key: None,
        in_flow: false,
    };
    for seg in segs {
        let parent_flow = t.node.is_flow();
        t.parent = Some(t.node);
        match seg {
            Seg::Key(k) => {
                let (key, value) = t.node.entry(k)?;
                t.key = Some(key);
                t.node = value;
            }
            Seg::Index(i) => {
                t.node = t.node.as_seq()?.items.get(*i)?;
                t.key = None;
            }
        }
        t.in_flow |= parent_flow;
    }
    Some(t)
}

/// The edits that carry out `change` in `text`.
pub fn edits(
    text: &str,
    root: &Node<'_>,
    style: &DocStyle,
    change: &Change,
) -> Result<Vec<Edit>, Refusal> {
    let path = &change.path;
    let t = locate(root, path.segs()).ok_or_else(|| Refusal {
        at: root.start,
        message: format!("internal: no node at {path}"),
    })?;
    // New lines copy their nearest neighbours: the mapping being edited, then its parent.
    let near: Vec<&Node<'_>> = [Some(t.node), t.parent].into_iter().flatten().collect();
    let local = style.near(text, &near);
    let r = Renderer {
        text,
        style: &local,
        depth: path.segs().len(),
    };
    match &change.op {
        Op::AddEntries(entries) => r.add_entries(&t, path, entries),
        Op::AppendItems(items) => r.append_items(&t, path, items),
        Op::FillNull(value) => {
            if t.in_flow || t.node.is_flow() || r.style.json || t.key.is_none() {
                Ok(vec![r.replace_flow(t.node, value)])
            } else {
                r.fill_block(&t, value)
            }
        }
        Op::SetScalar(value) => Ok(vec![r.set_scalar(t.node, value)]),
        Op::RemoveKeys(keys) => r.remove_keys(&t, path, keys),
        Op::RemoveItems(values) => r.remove_items(&t, path, values),
    }
}

struct Renderer<'s> {
    text: &'s str,
    style: &'s DocStyle,
    depth: usize,
}

impl Renderer<'_> {
    fn add_entries(
        &self,
        t: &Target<'_, '_>,
        path: &Path,
        entries: &[(Cow<'static, str>, Value)],
    ) -> Result<Vec<Edit>, Refusal> {
        match &t.node.kind {
            Kind::Map(m) if !m.flow && m.entries.is_empty() => Err(Refusal {
                at: t.node.start,
                message: format!("{path} is an empty mapping pss-fix cannot place keys in"),
            }),
            Kind::Map(m) if !m.flow => Ok(vec![self.append_block(
                t.node,
                m.entries[0].0.start,
                |col, out| self.block_entries(entries, col, out),
            )]),
            Kind::Map(m) if m.entries.is_empty() => {
                let value = Value::Map(entries.to_vec());
                if t.in_flow || self.style.json || t.key.is_none() || self.has_comment(t.node) {
                    Ok(vec![self.replace_flow(t.node, &value)])
                } else {
                    self.fill_block(t, &value)
                }
            }
            Kind::Map(m) => {
                let (last_key, last_value) = m.entries.last().expect("non-empty");
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k), self.flow(v)))
                    .collect();
                Ok(self.append_flow(t.node, last_key.start, last_value.end, &parts))
            }
            _ => Err(Refusal {
                at: t.node.start,
                message: format!("{path} is not a mapping; cannot add keys to it"),
            }),
        }
    }

    fn append_items(
        &self,
        t: &Target<'_, '_>,
        path: &Path,
        items: &[Value],
    ) -> Result<Vec<Edit>, Refusal> {
        match &t.node.kind {
            Kind::Seq(s) if !s.flow => {
                let last = s.items.last().ok_or_else(|| Refusal {
                    at: t.node.start,
                    message: format!("{path} is an empty list pss-fix cannot add to"),
                })?;
                let dash = dash_of(self.text, last.start).ok_or_else(|| Refusal {
                    at: last.start,
                    message: format!("cannot find the dash of the last item of {path}"),
                })?;
                Ok(vec![self.append_block(t.node, dash, |col, out| {
                    self.block_items(items, col, out)
                })])
            }
            Kind::Seq(s) if s.items.is_empty() => {
                Ok(vec![self.replace_flow(t.node, &Value::Seq(items.to_vec()))])
            }
            Kind::Seq(s) => {
                let last = s.items.last().expect("non-empty");
                let parts: Vec<String> = items.iter().map(|v| self.flow(v)).collect();
                Ok(self.append_flow(t.node, last.start, last.end, &parts))
            }
            _ => Err(Refusal {
                at: t.node.start,
                message: format!("{path} is not a list; cannot add to it"),
            }),
        }
    }

    fn remove_keys(
        &self,
        t: &Target<'_, '_>,
        path: &Path,
        keys: &[Cow<'static, str>],
    ) -> Result<Vec<Edit>, Refusal> {
        let Kind::Map(m) = &t.node.kind else {
            return Err(Refusal {
                at: t.node.start,
                message: format!("{path} is not a mapping"),
            });
        };
        let removed: Vec<bool> = m
            .entries
            .iter()
            .map(|(k, _)| k.as_str().is_some_and(|k| keys.iter().any(|r| r == k)))
            .collect();
        let spans: Vec<(usize, usize)> = m.entries.iter().map(|(k, v)| (k.start, v.end)).collect();
        self.remove(t, m.flow, &spans, &removed, "{}")
    }

    fn remove_items(
        &self,
        t: &Target<'_, '_>,
        path: &Path,
        values: &[String],
    ) -> Result<Vec<Edit>, Refusal> {
        let Kind::Seq(s) = &t.node.kind else {
            return Err(Refusal {
                at: t.node.start,
                message: format!("{path} is not a list"),
            });
        };
        let removed: Vec<bool> = s
            .items
            .iter()
            .map(|i| i.as_str().is_some_and(|v| values.iter().any(|r| r == v)))
            .collect();
        let mut spans = Vec::with_capacity(s.items.len());
        for item in &s.items {
            let start = if s.flow {
                item.start
            } else {
                dash_of(self.text, item.start).ok_or_else(|| Refusal {
                    at: item.start,
                    message: format!("cannot find the dash of an item of {path}"),
                })?
            };
            spans.push((start, item.end));
        }
        self.remove(t, s.flow, &spans, &removed, "[]")
    }

    fn eol(&self) -> &'static str {
        self.style.eol.as_str()
    }

    /// Append lines to the block collection `node`, whose entries start at column `col`
    /// (`anchor` is a byte offset in that column: a first key or a dash).
    fn append_block(
        &self,
        node: &Node<'_>,
        anchor: usize,
        render: impl Fn(usize, &mut String),
    ) -> Edit {
        let col = column(self.text, anchor);
        let at = insertion_point(self.text, node.end, col);
        let mut content = String::new();
        render(col, &mut content);
        if at == self.text.len() && !self.text.ends_with('\n') {
            // Keep a missing final newline missing: the break moves before the new lines.
            let body = content
                .strip_suffix(self.eol())
                .unwrap_or(&content)
                .to_owned();
            content = format!("{}{}", self.eol(), body);
        }
        Edit::insertion(content, at, self.depth)
    }

    /// A null or `{}` value of a block mapping key becomes a block collection.
    fn fill_block(&self, t: &Target<'_, '_>, value: &Value) -> Result<Vec<Edit>, Refusal> {
        let key = t.key.expect("fill_block needs a key");
        let node = t.node;
        let empty = node.start == node.end;
        if !matches!(value, Value::Map(_) | Value::Seq(_)) {
            // `runAsNonRoot:` (or `~`) becomes `runAsNonRoot: true`, on its own line.
            let text = self.scalar(value);
            return Ok(vec![if empty {
                let colon = self.colon_after(key, line_end(self.text, key.end))?;
                Edit::insertion(format!(" {text}"), colon, self.depth)
            } else {
                Edit::replacement(text, node.start, node.end, self.depth)
            }]);
        }
        let own_line = !empty && line_start(self.text, node.start) > key.start;
        if own_line {
            // `{}` or `~` alone on the line below its key (Helm's toYaml): the new collection
            // takes its place, at its column.
            let col = column(self.text, node.start);
            let mut content = String::new();
            self.render_nested(value, col, &mut content);
            let content = content.trim_start_matches(' ');
            let content = content.strip_suffix(self.eol()).unwrap_or(content);
            return Ok(vec![Edit::replacement(
                content.to_owned(),
                node.start,
                node.end,
                self.depth,
            )]);
        }
        let key_col = column(self.text, key.start);
        let col = match value {
            Value::Seq(_) => key_col + self.style.seq_offset,
            _ => key_col + self.style.step,
        };
        let mut content = String::from(self.eol());
        self.render_nested(value, col, &mut content);
        content.truncate(content.len() - self.eol().len());
        let mut edits = Vec::new();
        let line_break = line_end(self.text, if empty { key.end } else { node.end });
        if !empty {
            let colon = self.colon_after(key, node.start)?;
            edits.push(Edit::deletion(colon, node.end, self.depth));
        }
        edits.push(Edit::insertion(content, line_break, self.depth));
        Ok(edits)
    }

    /// Replace a flow `{}` / `[]` or a null with the value in flow syntax.
    fn replace_flow(&self, node: &Node<'_>, value: &Value) -> Edit {
        let text = self.flow(value);
        if node.start == node.end {
            Edit::insertion(format!(" {text}"), node.start, self.depth)
        } else if self.has_comment(node) {
            // `[` … `# comment` … `]`: the entries go in after the bracket; the comment stays.
            let inner = &text[1..text.len() - 1];
            Edit::insertion(inner.to_owned(), node.start + 1, self.depth)
        } else {
            Edit::replacement(text, node.start, node.end, self.depth)
        }
    }

    /// An empty flow collection written over several lines with a comment inside.
    fn has_comment(&self, node: &Node<'_>) -> bool {
        node.is_flow() && self.text[node.start..node.end].contains('#')
    }

    /// Add `parts` after the last entry of a non-empty flow collection. When that entry ends
    /// its line (JSON and other multi-line flow), each part goes on a line of its own at the
    /// last entry's column, after any comment ending that line.
    fn append_flow(
        &self,
        node: &Node<'_>,
        last_start: usize,
        last_end: usize,
        parts: &[String],
    ) -> Vec<Edit> {
        let eol_at = line_end(self.text, last_end);
        let rest = &self.text[last_end..eol_at];
        let rest_trimmed = rest.trim_start_matches([' ', '\t', ',']);
        let ends_line = rest_trimmed.is_empty() || rest_trimmed.starts_with('#');
        let multi_line = ends_line && line_start(self.text, last_start) > node.start;
        if !multi_line {
            // After an empty value (`{a: 1, command:}`) a blank keeps `:,` out of the text,
            // which YAML 1.1 readers (go-yaml, libyaml) refuse.
            let pad = if self.text[..last_end].ends_with(':') {
                " "
            } else {
                ""
            };
            let content: String = parts.iter().map(|p| format!(", {p}")).collect();
            return vec![Edit::insertion(
                format!("{pad}{content}"),
                last_end,
                self.depth,
            )];
        }
        let indent = " ".repeat(column(self.text, last_start));
        let mut content = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                content.push(',');
            }
            content.push_str(self.eol());
            content.push_str(&indent);
            content.push_str(p);
        }
        let trailing_comma = rest.trim_start().starts_with(',');
        if trailing_comma {
            // `a: 1,` already has its comma: the new parts come after it, and keep one.
            content.push(',');
            vec![Edit::insertion(content, eol_at, self.depth)]
        } else {
            vec![
                Edit::insertion(",".into(), last_end, self.depth),
                Edit::insertion(content, eol_at, self.depth),
            ]
        }
    }

    /// The scalar's new value, quoted as the author quoted the old one.
    fn set_scalar(&self, node: &Node<'_>, value: &Value) -> Edit {
        let text = match (value, node.as_scalar()) {
            (Value::Str(s), Some(old)) => self.string(s, old.style),
            _ => self.scalar(value),
        };
        Edit::replacement(text, node.start, node.end, self.depth)
    }

    /// Remove the entries (or items) flagged in `removed`; `spans` run from each one's first
    /// character (key, or dash of a block item) to the end of its value. Removing them all
    /// leaves `empty` (`{}` or `[]`) so the collection stays a collection.
    fn remove(
        &self,
        t: &Target<'_, '_>,
        flow: bool,
        spans: &[(usize, usize)],
        removed: &[bool],
        empty: &str,
    ) -> Result<Vec<Edit>, Refusal> {
        let node = t.node;
        if removed.iter().all(|&r| r) {
            if flow {
                return Ok(vec![Edit::replacement(
                    empty.into(),
                    node.start,
                    node.end,
                    self.depth,
                )]);
            }
            let key = t.key.ok_or_else(|| Refusal {
                at: node.start,
                message: "cannot empty a collection that is not a mapping value".into(),
            })?;
            let colon = self.colon_after(key, node.start)?;
            return Ok(vec![Edit::replacement(
                format!(" {empty}"),
                colon,
                node.end,
                self.depth,
            )]);
        }
        let mut edits = Vec::new();
        for (i, &(start, end)) in spans.iter().enumerate() {
            if !removed[i] {
                continue;
            }
            let later_kept = removed[i + 1..].iter().any(|&r| !r);
            let (from, to) = if flow {
                if later_kept {
                    (start, spans[i + 1].0)
                } else {
                    (spans[i - 1].1, end)
                }
            } else {
                let line = line_start(self.text, start);
                if self.text[line..start].bytes().all(|b| b == b' ') {
                    (line, next_line(self.text, end))
                } else if let Some(next) = spans.get(i + 1) {
                    // The first entry of a `- key: value` item: the next entry moves up
                    // onto the dash line.
                    (start, next.0)
                } else {
                    return Err(Refusal {
                        at: start,
                        message: "cannot remove this entry without re-indenting its item".into(),
                    });
                }
            };
            edits.push(Edit::deletion(from, to, self.depth));
        }
        Ok(edits)
    }

    /// Just past the `:` that follows `key` (before `limit`).
    fn colon_after(&self, key: &Node<'_>, limit: usize) -> Result<usize, Refusal> {
        self.text[key.end..limit]
            .find(':')
            .map(|i| key.end + i + 1)
            .ok_or_else(|| Refusal {
                at: key.start,
                message: "cannot find the ':' after this key".into(),
            })
    }

    /// Render a mapping or sequence value as block lines at `col`.
    fn render_nested(&self, value: &Value, col: usize, out: &mut String) {
        match value {
            Value::Map(entries) => self.block_entries(entries, col, out),
            Value::Seq(items) => self.block_items(items, col, out),
            scalar => {
                out.push_str(&" ".repeat(col));
                out.push_str(&self.scalar(scalar));
                out.push_str(self.eol());
            }
        }
    }

    fn block_entries(&self, entries: &[(Cow<'static, str>, Value)], col: usize, out: &mut String) {
        for (k, v) in entries {
            out.push_str(&" ".repeat(col));
            self.block_entry_body(k, v, col, out);
        }
    }

    /// `key: value` (or `key:` and nested lines), the key already indented.
    fn block_entry_body(&self, k: &str, v: &Value, col: usize, out: &mut String) {
        out.push_str(&self.key(k));
        out.push(':');
        match v {
            Value::Map(entries) if !entries.is_empty() => {
                out.push_str(self.eol());
                self.block_entries(entries, col + self.style.step, out);
            }
            Value::Seq(items) if !items.is_empty() => {
                out.push_str(self.eol());
                self.block_items(items, col + self.style.seq_offset, out);
            }
            other => {
                out.push(' ');
                out.push_str(&self.flow(other));
                out.push_str(self.eol());
            }
        }
    }

    fn block_items(&self, items: &[Value], dash_col: usize, out: &mut String) {
        for item in items {
            out.push_str(&" ".repeat(dash_col));
            out.push_str("- ");
            match item {
                Value::Map(entries) if !entries.is_empty() => {
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push_str(&" ".repeat(dash_col + 2));
                        }
                        self.block_entry_body(k, v, dash_col + 2, out);
                    }
                }
                other => {
                    out.push_str(&self.flow(other));
                    out.push_str(self.eol());
                }
            }
        }
    }

    /// A value in flow syntax on one line (JSON syntax in a JSON document).
    fn flow(&self, v: &Value) -> String {
        match v {
            Value::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k), self.flow(v)))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Value::Seq(items) => {
                let inner: Vec<String> = items.iter().map(|v| self.flow(v)).collect();
                format!("[{}]", inner.join(", "))
            }
            scalar => self.scalar(scalar),
        }
    }

    /// A scalar: strings quoted as the nearest string values are, booleans and numbers
    /// always plain (quoted, they would read back as strings).
    fn scalar(&self, v: &Value) -> String {
        match v {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) => self.string(s, self.style.value_quote),
            Value::Map(_) | Value::Seq(_) => self.flow(v),
        }
    }

    fn key(&self, k: &str) -> String {
        self.string(k, self.style.key_quote)
    }

    /// A string in the `quote` style its neighbours use, where that reads back as the same
    /// string; else plain where YAML would read it back as the same string, else
    /// double-quoted. JSON is always double-quoted.
    fn string(&self, s: &str, quote: ScalarStyle) -> String {
        let single_safe = !s.contains('\'') && !s.chars().any(char::is_control);
        match quote {
            ScalarStyle::SingleQuoted if !self.style.json && single_safe => format!("'{s}'"),
            ScalarStyle::Plain | ScalarStyle::Literal | ScalarStyle::Folded
                if !self.style.json && plain_safe(s) =>
            {
                s.to_owned()
            }
            _ => double_quoted(s),
        }
    }
}

/// Where new lines of a block collection whose items sit at column `col` and whose text ends
/// at `end` go: the start of the line after `end`, moved past blank lines and comments that
/// are indented deeper than `col` (they belong to the last item), and no further.
fn insertion_point(text: &str, end: usize, col: usize) -> usize {
    let b = text.as_bytes();
    let mut at = next_line(text, end);
    let mut pos = at;
    while pos < b.len() {
        let indent = b[pos..].iter().take_while(|&&c| c == b' ').count();
        let first = b.get(pos + indent).copied();
        match first {
            None | Some(b'\n') | Some(b'\r') => {}
            Some(b'#') if indent > col => at = next_line(text, pos),
            _ => break,
        }
        pos = next_line(text, pos);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply;
    use crate::path::Path;
    use crate::yaml::source::Eol;
    use crate::yaml::Documents;

    /// `text` with `op` carried out on the node at `path`.
    fn render(text: &str, path: Path, op: Op) -> String {
        let doc = Documents::new(text).next().unwrap().unwrap();
        let style = DocStyle::of(text, &doc.root, Eol::of(text));
        let edits = edits(text, &doc.root, &style, &Change { path, op }).unwrap();
        apply(text, edits).unwrap()
    }

    fn drop_all(text: &str, path: Path) -> String {
        render(text, path, Op::AppendItems(vec![Value::str("ALL")]))
    }

    #[test]
    fn new_items_are_quoted_like_the_items_beside_them() {
        let caps = Path::root().key("drop");
        assert_eq!(
            drop_all("drop: [\"NET_RAW\", \"SYS_ADMIN\"]\n", caps.clone()),
            "drop: [\"NET_RAW\", \"SYS_ADMIN\", \"ALL\"]\n"
        );
        assert_eq!(
            drop_all("drop:\n- 'NET_RAW'\n", caps.clone()),
            "drop:\n- 'NET_RAW'\n- 'ALL'\n"
        );
        // Plain neighbours, or neighbours that disagree, give plain text.
        assert_eq!(
            drop_all("drop: [NET_RAW]\n", caps.clone()),
            "drop: [NET_RAW, ALL]\n"
        );
        assert_eq!(
            drop_all("drop: [\"NET_RAW\", 'SYS_ADMIN']\n", caps),
            "drop: [\"NET_RAW\", 'SYS_ADMIN', ALL]\n"
        );
    }

    #[test]
    fn new_keys_copy_their_siblings_and_booleans_stay_plain() {
        let text = "sc:\n  'name': 'app'\n";
        let entries = vec![
            ("runAsNonRoot".into(), Value::Bool(true)),
            ("runAsUser".into(), Value::Int(1000)),
            ("type".into(), Value::str("RuntimeDefault")),
        ];
        assert_eq!(
            render(text, Path::root().key("sc"), Op::AddEntries(entries)),
            "sc:\n  'name': 'app'\n  'runAsNonRoot': true\n  'runAsUser': 1000\n  'type': 'RuntimeDefault'\n"
        );
    }

    #[test]
    fn a_new_mapping_quotes_as_its_parent_does() {
        // The `{}` shows nothing of its own: the keys and string values around it decide.
        let text = "\"name\": \"app\"\n\"securityContext\": {}\n";
        let entries = vec![(
            "seccompProfile".into(),
            Value::entry("type", Value::str("RuntimeDefault")),
        )];
        assert_eq!(
            render(text, Path::root().key("securityContext"), Op::AddEntries(entries)),
            "\"name\": \"app\"\n\"securityContext\":\n  \"seccompProfile\":\n    \"type\": \"RuntimeDefault\"\n"
        );
    }

    #[test]
    fn only_string_values_decide_how_strings_are_quoted() {
        // A quoted key beside plain keys, and a boolean beside no string at all: plain.
        let text = "\"a\": 1\nb: 2\nc: true\n";
        let entries = vec![("d".into(), Value::str("RuntimeDefault"))];
        assert_eq!(
            render(text, Path::root(), Op::AddEntries(entries)),
            "\"a\": 1\nb: 2\nc: true\nd: RuntimeDefault\n"
        );
    }

    #[test]
    fn insertion_point_respects_comment_owners() {
        let t = "a:\n  b: 1\n    # deep\n\n  # same\nc: 2\n";
        // Items of `a` sit at column 2: the deeper comment is b's, the one at column 2 is not.
        assert_eq!(&t[..insertion_point(t, 8, 2)], "a:\n  b: 1\n    # deep\n");
    }
}
