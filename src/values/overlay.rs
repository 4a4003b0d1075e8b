//! The overlay: an ordered tree of values keys whose leaves are [`Value`]s, each key able to
//! carry a comment (which workloads and checks it fixes). Mappings are always trees of keys,
//! never leaf values, so an overlay merges as Helm merges values files: mappings key by key,
//! everything else replaced.

use crate::edit::value::Value;
use crate::yaml::scalar;

/// A values overlay, built key by key with [`Overlay::insert`] and printed with
/// [`Overlay::to_yaml`] or merged into a file with [`crate::values::merge`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    pub(crate) entries: Vec<(String, Node)>,
}

/// One key of the overlay.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// Why the key is there, one line each, in the order inserted.
    pub comments: Vec<String>,
    pub tree: Tree,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree {
    /// Keys below (an empty one is an explicit `{}`).
    Map(Vec<(String, Node)>),
    /// A leaf: never a [`Value::Map`] (mappings become [`Tree::Map`]).
    Leaf(Value),
}

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// Whether the overlay has no key at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Put `value` at `path` (keys from the values root), with `comment` on the key. Later
    /// inserts win as a later values file does in Helm: mappings are merged key by key,
    /// anything else is replaced, and a key inserted twice keeps both comments (once each).
    /// An empty path merges a mapping `value` into the root; any other value has no place
    /// there and is ignored.
    pub fn insert(&mut self, path: &[String], value: Value, comment: String) {
        let comment = one_line(&comment);
        let Some((last, parents)) = path.split_last() else {
            if let Value::Map(entries) = value {
                for (k, v) in entries {
                    put(&mut self.entries, &k, v, Some(comment.clone()));
                }
            }
            return;
        };
        let mut entries = &mut self.entries;
        for key in parents {
            let node = child(entries, key);
            if !matches!(node.tree, Tree::Map(_)) {
                node.tree = Tree::Map(Vec::new());
            }
            let Tree::Map(inner) = &mut node.tree else {
                unreachable!("made a mapping just above")
            };
            entries = inner;
        }
        put(entries, last, value, Some(comment));
    }

    /// The overlay as a YAML document of its own: block style, two-space indentation, keys
    /// and strings quoted only where YAML would read them as something else, each key's
    /// comment on the line above it.
    pub fn to_yaml(&self) -> String {
        if self.entries.is_empty() {
            return "{}\n".to_owned();
        }
        let mut out = String::new();
        write_entries(&self.entries, 0, &mut out);
        out
    }
}

/// The node under `key`, created (as an empty mapping) when absent.
fn child<'e>(entries: &'e mut Vec<(String, Node)>, key: &str) -> &'e mut Node {
    let at = match entries.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            entries.push((
                key.to_owned(),
                Node {
                    comments: Vec::new(),
                    tree: Tree::Map(Vec::new()),
                },
            ));
            entries.len() - 1
        }
    };
    &mut entries[at].1
}

/// Merge `value` into the key `key` of `entries`.
fn put(entries: &mut Vec<(String, Node)>, key: &str, value: Value, comment: Option<String>) {
    let node = child(entries, key);
    if let Some(c) = comment.filter(|c| !c.is_empty()) {
        if !node.comments.contains(&c) {
            node.comments.push(c);
        }
    }
    match value {
        Value::Map(inner) => {
            if !matches!(node.tree, Tree::Map(_)) {
                node.tree = Tree::Map(Vec::new());
            }
            let Tree::Map(children) = &mut node.tree else {
                unreachable!("made a mapping just above")
            };
            for (k, v) in inner {
                put(children, &k, v, None);
            }
        }
        leaf => node.tree = Tree::Leaf(leaf),
    }
}

/// A comment fits on one line.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Node {
    /// The key's value as a [`Value`] (mappings included).
    pub fn value(&self) -> Value {
        match &self.tree {
            Tree::Leaf(v) => v.clone(),
            Tree::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, n)| (k.clone().into(), n.value()))
                    .collect(),
            ),
        }
    }

    /// The comment line's text (without `# `), when the key has one.
    pub fn comment(&self) -> Option<String> {
        (!self.comments.is_empty()).then(|| self.comments.join("; "))
    }
}

fn indent(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_entries(entries: &[(String, Node)], col: usize, out: &mut String) {
    for (k, node) in entries {
        if let Some(c) = node.comment() {
            indent(col, out);
            out.push_str("# ");
            out.push_str(&c);
            out.push('\n');
        }
        indent(col, out);
        out.push_str(&scalar::string(k));
        out.push(':');
        match &node.tree {
            Tree::Map(children) if children.is_empty() => out.push_str(" {}\n"),
            Tree::Map(children) => {
                out.push('\n');
                write_entries(children, col + 2, out);
            }
            Tree::Leaf(v) => write_after_key(v, col, out),
        }
    }
}

/// A value after `key:`: on the same line when it is a scalar or empty, else as block lines
/// indented one step deeper than the key at `col`.
fn write_after_key(v: &Value, col: usize, out: &mut String) {
    match v {
        Value::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_value_entries(entries, col + 2, false, out);
        }
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_items(items, col + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&flow(other));
            out.push('\n');
        }
    }
}

/// Entries of a mapping at `col`; after a list item's dash (`after_dash`) the first one
/// follows the dash on its line.
fn write_value_entries(
    entries: &[(std::borrow::Cow<'static, str>, Value)],
    col: usize,
    after_dash: bool,
    out: &mut String,
) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !after_dash {
            indent(col, out);
        }
        out.push_str(&scalar::string(k));
        out.push(':');
        write_after_key(v, col, out);
    }
}

fn write_items(items: &[Value], dash_col: usize, out: &mut String) {
    for item in items {
        indent(dash_col, out);
        out.push_str("- ");
        match item {
            Value::Map(entries) if !entries.is_empty() => {
                write_value_entries(entries, dash_col + 2, true, out);
            }
            other => {
                out.push_str(&flow(other));
                out.push('\n');
            }
        }
    }
}

/// A value on one line: scalars, `{}`, `[]`, and lists inside lists in flow syntax.
pub(crate) fn flow(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => scalar::string(s),
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar::string(k), flow(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::tree::{self, from_node};
    use crate::yaml::Documents;

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned().into())
    }

    /// The overlay as data, built without YAML: what its rendering must read back as.
    fn data_of(entries: &[(String, Node)]) -> tree::Tree {
        tree::Tree::Map(
            entries
                .iter()
                .map(|(k, n)| (k.clone(), tree::Tree::of_value(&n.value())))
                .collect(),
        )
    }

    fn reads_back(o: &Overlay) -> String {
        let text = o.to_yaml();
        let docs: Vec<_> = Documents::new(&text).map(Result::unwrap).collect();
        assert_eq!(docs.len(), 1, "one document:\n{text}");
        assert_eq!(
            from_node(docs[0].data().unwrap()).unwrap(),
            data_of(&o.entries),
            "{text}"
        );
        drop(docs);
        text
    }

    #[test]
    fn renders_block_style_with_comments_above_keys() {
        let mut o = Overlay::new();
        o.insert(
            &path(&["podSecurityContext", "runAsNonRoot"]),
            Value::Bool(true),
            "Deployment/web: runAsNonRoot".into(),
        );
        o.insert(
            &path(&["securityContext", "capabilities"]),
            Value::Map(vec![("drop".into(), Value::Seq(vec![s("ALL")]))]),
            "Deployment/web: capabilities".into(),
        );
        o.insert(
            &path(&["securityContext", "seccompProfile", "type"]),
            s("RuntimeDefault"),
            "Deployment/web: seccompProfile".into(),
        );
        assert_eq!(
            reads_back(&o),
            "podSecurityContext:\n  # Deployment/web: runAsNonRoot\n  runAsNonRoot: true\n\
             securityContext:\n  # Deployment/web: capabilities\n  capabilities:\n    drop:\n      - ALL\n\
             \x20 seccompProfile:\n    # Deployment/web: seccompProfile\n    type: RuntimeDefault\n"
        );
    }

    #[test]
    fn keys_yaml_would_misread_are_quoted_and_read_back() {
        let mut o = Overlay::new();
        for key in [
            "on",
            "yes",
            "1",
            "a: b",
            "#x",
            "",
            "ключ",
            "null",
            "~",
            "- x",
            "<<",
            "a #b",
            "0x1F",
            "true",
            "1.5",
            "'",
            "\"",
            "tab\there",
            "line\nbreak",
            "plain-key_1/a.b",
        ] {
            o.insert(&path(&[key]), s(key), format!("key {key:?}"));
        }
        o.insert(&path(&["n"]), Value::Int(-3), String::new());
        o.insert(&path(&["e"]), Value::Map(Vec::new()), String::new());
        o.insert(&path(&["l"]), Value::Seq(Vec::new()), String::new());
        let text = reads_back(&o);
        assert!(text.contains("\n\"on\": \"on\"\n"), "{text}");
        assert!(text.contains("\n\"\": \"\"\n"), "{text}");
        assert!(
            text.contains("\nplain-key_1/a.b: plain-key_1/a.b\n"),
            "{text}"
        );
        assert!(text.contains("\n# key \"line\\nbreak\"\n"), "{text}");
    }

    #[test]
    fn lists_of_mappings_and_nested_lists_read_back() {
        let mut o = Overlay::new();
        let item = Value::Map(vec![
            ("name".into(), s("app")),
            (
                "securityContext".into(),
                Value::Map(vec![("runAsNonRoot".into(), Value::Bool(true))]),
            ),
            ("args".into(), Value::Seq(vec![s("a b"), Value::Int(1)])),
        ]);
        o.insert(
            &path(&["containers"]),
            Value::Seq(vec![
                item,
                Value::Seq(vec![s("x"), Value::Seq(Vec::new())]),
                Value::Map(Vec::new()),
            ]),
            "raw containers".into(),
        );
        let text = reads_back(&o);
        assert!(
            text.contains("  - name: app\n    securityContext:\n"),
            "{text}"
        );
    }

    #[test]
    fn later_inserts_merge_mappings_replace_leaves_and_keep_both_comments() {
        let mut o = Overlay::new();
        o.insert(&path(&["a", "b"]), Value::Int(1), "one".into());
        o.insert(&path(&["a", "b"]), Value::Int(2), "two".into());
        o.insert(&path(&["a", "b"]), Value::Int(2), "two".into());
        o.insert(
            &path(&["a"]),
            Value::Map(vec![("c".into(), Value::Bool(false))]),
            "three".into(),
        );
        o.insert(&path(&["x"]), Value::Int(1), "scalar".into());
        // `y` is a boolean to go-yaml, Helm's reader: quoted.
        o.insert(&path(&["x", "y"]), Value::Int(1), "mapping".into());
        assert_eq!(
            reads_back(&o),
            "# three\na:\n  # one; two\n  b: 2\n  c: false\n# scalar\nx:\n  # mapping\n  \"y\": 1\n"
        );
    }

    #[test]
    fn an_empty_overlay_is_an_empty_mapping() {
        assert_eq!(reads_back(&Overlay::new()), "{}\n");
        let mut o = Overlay::new();
        o.insert(&[], Value::Int(1), "ignored".into());
        assert!(o.is_empty());
        o.insert(
            &[],
            Value::Map(vec![("k".into(), Value::Int(1))]),
            "root".into(),
        );
        assert_eq!(reads_back(&o), "# root\nk: 1\n");
    }
}
