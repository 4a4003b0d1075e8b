//! Values and rendered objects as plain data: the tree `pss-fix values` reads a chart's
//! `values.yaml`, a user's `-f` files and Helm's output into, merges as Helm does, compares,
//! and writes back out as YAML; and what a merge into a values file is verified with (the
//! merged file must read back as the input with exactly the overlay's keys put in).
//!
//! Reading goes through the crate's own reader ([`crate::yaml::Documents`]), so scalars
//! resolve by the go-yaml rules Helm itself reads with (`yes` is a boolean, `0x1F` an
//! integer), keys included: Helm's reader turns a key `on` into `true`, so a key written
//! `on` and one written `"on"` are different keys here too. Mappings keep their order, for
//! output that follows the chart's; comparison ignores it, as Helm's maps do.

use crate::edit::value::Value;
use crate::error::Error;
use crate::path::Seg;
use crate::yaml::scalar::{self, resolve, Resolved};
use crate::yaml::{Documents, Kind, Node};

/// Deeper data than this is not read (aliases can nest a document deeper than its text).
const MAX_DEPTH: usize = 1024;

/// A YAML value as data.
#[derive(Clone, Debug)]
pub enum Tree {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl PartialEq for Tree {
    /// Equal as data: mappings compare as sets of entries, whatever their order.
    fn eq(&self, other: &Tree) -> bool {
        match (self, other) {
            (Tree::Null, Tree::Null) => true,
            (Tree::Bool(a), Tree::Bool(b)) => a == b,
            (Tree::Int(a), Tree::Int(b)) => a == b,
            (Tree::Float(a), Tree::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Tree::Int(a), Tree::Float(b)) | (Tree::Float(b), Tree::Int(a)) => *a as f64 == *b,
            (Tree::Str(a), Tree::Str(b)) => a == b,
            (Tree::Seq(a), Tree::Seq(b)) => a == b,
            (Tree::Map(a), Tree::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| other_get(b, k) == Some(v))
            }
            _ => false,
        }
    }
}

fn other_get<'t>(entries: &'t [(String, Tree)], key: &str) -> Option<&'t Tree> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// One step into a tree: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl Step {
    /// The steps of a key path, the form plans and overlays name keys in.
    pub fn keys(keys: &[String]) -> Vec<Step> {
        keys.iter().cloned().map(Step::Key).collect()
    }
}

impl Tree {
    pub fn empty_map() -> Tree {
        Tree::Map(Vec::new())
    }

    pub fn as_map(&self) -> Option<&[(String, Tree)]> {
        match self {
            Tree::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Tree::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Tree> {
        self.as_map().and_then(|m| other_get(m, key))
    }

    /// The node at `path`, if there is one.
    pub fn at(&self, path: &[Step]) -> Option<&Tree> {
        let mut t = self;
        for step in path {
            t = match (step, t) {
                (Step::Key(k), Tree::Map(m)) => other_get(m, k)?,
                (Step::Index(i), Tree::Seq(s)) => s.get(*i)?,
                _ => return None,
            };
        }
        Some(t)
    }

    /// Set `key` in a mapping (appended when new); a non-mapping becomes an empty one first.
    pub fn set(&mut self, key: &str, value: Tree) {
        if !matches!(self, Tree::Map(_)) {
            *self = Tree::empty_map();
        }
        if let Tree::Map(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    /// Set the value at a path of keys, making mappings on the way.
    pub fn set_path(&mut self, path: &[String], value: Tree) {
        match path {
            [] => *self = value,
            [key] => self.set(key, value),
            [key, rest @ ..] => {
                if !matches!(self.get(key), Some(Tree::Map(_))) {
                    self.set(key, Tree::empty_map());
                }
                if let Tree::Map(m) = self {
                    if let Some((_, child)) = m.iter_mut().find(|(k, _)| k == key) {
                        child.set_path(rest, value);
                    }
                }
            }
        }
    }

    /// The node at `path`, mutable.
    pub fn at_mut(&mut self, path: &[Step]) -> Option<&mut Tree> {
        let mut t = self;
        for step in path {
            t = match (step, t) {
                (Step::Key(k), Tree::Map(m)) => {
                    m.iter_mut().find(|(mk, _)| mk == k).map(|(_, v)| v)?
                }
                (Step::Index(i), Tree::Seq(s)) => s.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(t)
    }

    /// Helm's coalescing of values: `over` onto `self`, mappings merged key by key, anything
    /// else replaced; a `null` in `over` deletes the key.
    pub fn merge(&mut self, over: &Tree) {
        match (self, over) {
            (Tree::Map(base), Tree::Map(over)) => {
                for (k, v) in over {
                    if matches!(v, Tree::Null) {
                        base.retain(|(bk, _)| bk != k);
                        continue;
                    }
                    match base.iter_mut().find(|(bk, _)| bk == k) {
                        Some((_, bv)) if matches!((&*bv, v), (Tree::Map(_), Tree::Map(_))) => {
                            bv.merge(v)
                        }
                        Some((_, bv)) => *bv = v.clone(),
                        None => base.push((k.clone(), v.clone())),
                    }
                }
            }
            (this, over) => *this = over.clone(),
        }
    }

    /// An inserted value as data.
    pub fn of_value(v: &Value) -> Tree {
        match v {
            Value::Bool(b) => Tree::Bool(*b),
            Value::Int(i) => Tree::Int(i128::from(*i)),
            Value::Str(s) => Tree::Str(s.to_string()),
            Value::Seq(items) => Tree::Seq(items.iter().map(Tree::of_value).collect()),
            Value::Map(entries) => Tree::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), Tree::of_value(v)))
                    .collect(),
            ),
        }
    }

    /// The data as a value pss-fix can write, if it is one: a null (which deletes a key in
    /// Helm's merge) and floats are not, nor are integers beyond 64 bits.
    pub fn to_value(&self) -> Option<Value> {
        Some(match self {
            Tree::Null | Tree::Float(_) => return None,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Int(i) => Value::Int(i64::try_from(*i).ok()?),
            Tree::Str(s) => Value::Str(s.clone().into()),
            Tree::Seq(items) => {
                Value::Seq(items.iter().map(Tree::to_value).collect::<Option<_>>()?)
            }
            Tree::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.clone().into(), v.to_value()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Put `value` at `path` below this node, as a merge into a file writes it: absent or
    /// null mappings on the way are created, the last step is replaced. Returns false when the
    /// path runs through something else (a scalar, a missing list item).
    pub fn put(&mut self, path: &[Seg], value: Tree) -> bool {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return true;
        };
        match first {
            Seg::Key(k) => {
                if *self == Tree::Null {
                    *self = Tree::empty_map();
                }
                let Tree::Map(entries) = self else {
                    return false;
                };
                let at = match entries.iter().position(|(key, _)| key == k.as_ref()) {
                    Some(i) => i,
                    None => {
                        entries.push((k.to_string(), Tree::Null));
                        entries.len() - 1
                    }
                };
                entries[at].1.put(rest, value)
            }
            Seg::Index(i) => match self {
                Tree::Seq(items) => items.get_mut(*i).is_some_and(|item| item.put(rest, value)),
                _ => false,
            },
        }
    }

    /// The value as a scalar's text, for messages.
    pub fn scalar_text(&self) -> Option<String> {
        Some(match self {
            Tree::Null => "null".into(),
            Tree::Bool(b) => b.to_string(),
            Tree::Int(i) => i.to_string(),
            Tree::Float(f) => f.to_string(),
            Tree::Str(s) => s.clone(),
            _ => return None,
        })
    }
}

/// A span tree (a document's data, aliases resolved) as data.
pub fn from_node(node: &Node<'_>) -> Result<Tree, &'static str> {
    of_node(node, 0)
}

fn of_node(node: &Node<'_>, depth: usize) -> Result<Tree, &'static str> {
    if depth > MAX_DEPTH {
        return Err("the values nest too deeply to be read");
    }
    Ok(match &node.kind {
        Kind::Scalar(s) => scalar(s),
        Kind::Map(m) => {
            let mut entries = Vec::with_capacity(m.entries.len());
            for (k, v) in &m.entries {
                // A key as Helm's reader sees it: `on` is the boolean `true`, keyed "true".
                let key = of_node(k, depth + 1)?;
                let key = key.scalar_text().unwrap_or_default();
                entries.push((key, of_node(v, depth + 1)?));
            }
            Tree::Map(entries)
        }
        Kind::Seq(s) => Tree::Seq(
            s.items
                .iter()
                .map(|i| of_node(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Alias(_) => return Err("an alias could not be resolved"),
    })
}

fn scalar(s: &crate::yaml::Scalar<'_>) -> Tree {
    match resolve(s) {
        Resolved::Null => Tree::Null,
        Resolved::Bool(b) => Tree::Bool(b),
        Resolved::Int(i) => Tree::Int(i),
        Resolved::Float(f) => Tree::Float(f),
        Resolved::Str(s) => Tree::Str(s.into_owned()),
    }
}

/// Every document of a stream as data; `name` is used in messages (`file:line:col: reason`).
pub fn parse_stream(name: &str, text: &str) -> Result<Vec<Tree>, Error> {
    let mut out = Vec::new();
    for doc in Documents::new(text) {
        let doc = doc.map_err(|e| e.in_file(name))?;
        let data = doc.data().map_err(|e| {
            let pos = crate::yaml::source::LineIndex::new(text).pos(text, e.at);
            Error::new(name, Some(pos), e.message.clone())
        })?;
        out.push(from_node(data).map_err(|m| Error::new(name, None, m))?);
    }
    Ok(out)
}

/// A values file: one mapping (an empty file is an empty mapping).
pub fn parse_values(name: &str, text: &str) -> Result<Tree, Error> {
    let docs = parse_stream(name, text)?;
    let mut values = Tree::empty_map();
    for doc in docs {
        match doc {
            Tree::Null => {}
            // The first mapping as it is (its nulls are values to pass on); later ones merged.
            Tree::Map(_) if values == Tree::empty_map() => values = doc,
            Tree::Map(_) => values.merge(&doc),
            _ => {
                return Err(Error::new(
                    name,
                    None,
                    "a values file must be a mapping of keys to values",
                ))
            }
        }
    }
    Ok(values)
}

/// YAML text of a tree: block style, two-space indent, strings quoted when a plain scalar
/// would read back as something else.
pub fn to_yaml(tree: &Tree) -> String {
    let mut out = String::new();
    match tree {
        Tree::Map(m) if !m.is_empty() => write_map(m, 0, &mut out),
        Tree::Seq(s) if !s.is_empty() => write_seq(s, 0, &mut out),
        other => {
            out.push_str(&scalar_yaml(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(m: &[(String, Tree)], indent: usize, out: &mut String) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar::string(k));
        out.push(':');
        write_value(v, indent, out);
    }
}

fn write_seq(s: &[Tree], indent: usize, out: &mut String) {
    for item in s {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Tree::Map(m) if !m.is_empty() => {
                // The first entry on the dash's line, the rest under it.
                let mut inner = String::new();
                write_map(m, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            other => write_value(other, indent, out),
        }
    }
}

/// After `key:` or `-`: a scalar on the same line, a collection on the next ones.
pub(crate) fn write_value(v: &Tree, indent: usize, out: &mut String) {
    match v {
        Tree::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_map(m, indent + 2, out);
        }
        Tree::Seq(s) if !s.is_empty() => {
            out.push('\n');
            write_seq(s, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar_yaml(other));
            out.push('\n');
        }
    }
}

fn scalar_yaml(t: &Tree) -> String {
    match t {
        Tree::Null => "null".into(),
        Tree::Bool(b) => b.to_string(),
        Tree::Int(i) => i.to_string(),
        Tree::Float(f) if f.is_finite() => {
            let s = f.to_string();
            if s.contains('.') || s.contains('e') {
                s
            } else {
                format!("{s}.0")
            }
        }
        Tree::Float(f) if f.is_nan() => ".nan".into(),
        Tree::Float(f) if *f > 0.0 => ".inf".into(),
        Tree::Float(_) => "-.inf".into(),
        Tree::Str(s) => scalar::string(s),
        Tree::Map(_) => "{}".into(),
        Tree::Seq(_) => "[]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> Tree {
        let doc = Documents::new(text).next().unwrap().unwrap();
        from_node(doc.data().unwrap()).unwrap()
    }

    #[test]
    fn scalars_and_keys_resolve_as_go_yaml_reads_them() {
        let d = data("a: on\nb: '1'\nc: 1\nd: ~\ne: .nan\non: 1\n'on': 2\n");
        let Tree::Map(e) = d else { panic!() };
        assert_eq!(
            e,
            [
                ("a".into(), Tree::Bool(true)),
                ("b".into(), Tree::Str("1".into())),
                ("c".into(), Tree::Int(1)),
                ("d".into(), Tree::Null),
                ("e".into(), Tree::Float(f64::NAN)),
                ("true".into(), Tree::Int(1)),
                ("on".into(), Tree::Int(2)),
            ]
        );
    }

    #[test]
    fn put_creates_mappings_through_nulls_and_refuses_scalars() {
        let mut d = data("a:\nb: 1\n");
        let path = [Seg::key("a"), Seg::key("x")];
        assert!(d.put(&path, Tree::Int(2)));
        assert_eq!(d, data("a: {x: 2}\nb: 1\n"));
        assert!(!d.put(&[Seg::key("b"), Seg::key("y")], Tree::Int(3)));
    }

    #[test]
    fn values_convert_both_ways_but_nulls_and_floats_do_not_write() {
        let t = data("a: {b: [x, 1, true]}\n");
        assert_eq!(Tree::of_value(&t.to_value().unwrap()), t);
        assert_eq!(data("a: null\n").to_value(), None);
        assert_eq!(data("a: [0.5]\n").to_value(), None);
    }

    #[test]
    fn merge_is_helms() {
        let mut base = parse_values("a", "a: {b: 1, c: [1, 2]}\nd: x\n").unwrap();
        let over = parse_values("b", "a: {c: [3], e: true}\nd: null\n").unwrap();
        base.merge(&over);
        assert_eq!(to_yaml(&base), "a:\n  b: 1\n  c:\n  - 3\n  e: true\n");
    }

    #[test]
    fn strings_that_read_as_other_types_are_quoted() {
        let t = parse_values("a", "a: 'yes'\nb: '1'\nc: RuntimeDefault\nd: ''\n").unwrap();
        assert_eq!(
            to_yaml(&t),
            "a: \"yes\"\nb: \"1\"\nc: RuntimeDefault\nd: \"\"\n"
        );
    }

    #[test]
    fn maps_compare_whatever_their_order() {
        let a = parse_values("a", "x: 1\ny: [a]\n").unwrap();
        let b = parse_values("b", "y: [a]\nx: 1.0\n").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn lists_of_maps_are_written_compactly() {
        let t = parse_values("a", "l:\n- name: a\n  x: {z: 1}\n- 2\n").unwrap();
        assert_eq!(to_yaml(&t), "l:\n- name: a\n  x:\n    z: 1\n- 2\n");
    }
}
