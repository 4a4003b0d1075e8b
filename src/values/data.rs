//! Documents and values as plain data, for verifying a merge: the merged file must read back
//! as the input with exactly the written overlay keys put in. Scalars are resolved as
//! Kubernetes' and Helm's reader (go-yaml) resolves them; styles and comments do not count.
//! Mapping keys keep their text, which is what the edit engine matches keys by.

use crate::edit::value::Value;
use crate::path::Seg;
use crate::yaml::scalar::{resolve, Resolved};
use crate::yaml::{Kind, Node};

/// Deeper data than this is not compared (aliases can nest a document deeper than its text).
const MAX_DEPTH: usize = 1024;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    Null,
    Bool(bool),
    Int(i128),
    /// The float's bits (every NaN the same), so data compares with `==`.
    Float(u64),
    Str(String),
    Map(Vec<Entry>),
    Seq(Vec<Data>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The key as written (without quotes): what keys are matched by.
    pub text: String,
    pub key: Data,
    pub value: Data,
}

impl Data {
    /// `node` (a document's data, aliases resolved) as data.
    pub fn of(node: &Node<'_>) -> Result<Data, &'static str> {
        of_node(node, 0)
    }

    pub fn of_value(v: &Value) -> Data {
        match v {
            Value::Bool(b) => Data::Bool(*b),
            Value::Int(i) => Data::Int(i128::from(*i)),
            Value::Str(s) => Data::Str(s.to_string()),
            Value::Seq(items) => Data::Seq(items.iter().map(Data::of_value).collect()),
            Value::Map(entries) => Data::Map(
                entries
                    .iter()
                    .map(|(k, v)| Entry::new(k, Data::of_value(v)))
                    .collect(),
            ),
        }
    }

    /// Put `value` at `path` below this node, as a merge of the overlay writes it: absent or
    /// null mappings on the way are created, the last step is replaced. Returns false when the
    /// path runs through something else (a scalar, a missing list item).
    pub fn put(&mut self, path: &[Seg], value: Data) -> bool {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return true;
        };
        match first {
            Seg::Key(k) => {
                if *self == Data::Null {
                    *self = Data::Map(Vec::new());
                }
                let Data::Map(entries) = self else {
                    return false;
                };
                let at = match entries.iter().position(|e| e.text == k.as_ref()) {
                    Some(i) => i,
                    None => {
                        entries.push(Entry::new(k, Data::Null));
                        entries.len() - 1
                    }
                };
                entries[at].value.put(rest, value)
            }
            Seg::Index(i) => match self {
                Data::Seq(items) => items.get_mut(*i).is_some_and(|item| item.put(rest, value)),
                _ => false,
            },
        }
    }
}

impl Entry {
    /// An entry whose key is the string `key` (as every key pss-fix writes reads back).
    pub fn new(key: &str, value: Data) -> Entry {
        Entry {
            text: key.to_owned(),
            key: Data::Str(key.to_owned()),
            value,
        }
    }
}

fn of_node(node: &Node<'_>, depth: usize) -> Result<Data, &'static str> {
    if depth > MAX_DEPTH {
        return Err("the values nest too deeply to be compared");
    }
    Ok(match &node.kind {
        Kind::Scalar(s) => match resolve(s) {
            Resolved::Null => Data::Null,
            Resolved::Bool(b) => Data::Bool(b),
            Resolved::Int(i) => Data::Int(i),
            Resolved::Float(f) => Data::Float(if f.is_nan() { u64::MAX } else { f.to_bits() }),
            Resolved::Str(s) => Data::Str(s.into_owned()),
        },
        Kind::Alias(_) => return Err("an alias could not be resolved"),
        Kind::Map(m) => {
            let mut entries = Vec::with_capacity(m.entries.len());
            for (k, v) in &m.entries {
                entries.push(Entry {
                    text: k.as_str().unwrap_or_default().to_owned(),
                    key: of_node(k, depth + 1)?,
                    value: of_node(v, depth + 1)?,
                });
            }
            Data::Map(entries)
        }
        Kind::Seq(s) => Data::Seq(
            s.items
                .iter()
                .map(|i| of_node(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Documents;

    fn data(text: &str) -> Data {
        let doc = Documents::new(text).next().unwrap().unwrap();
        Data::of(doc.data().unwrap()).unwrap()
    }

    #[test]
    fn scalars_resolve_as_go_yaml_reads_them() {
        let d = data("a: on\nb: '1'\nc: 1\nd: ~\ne: .nan\n");
        let Data::Map(e) = d else { panic!() };
        let values: Vec<&Data> = e.iter().map(|e| &e.value).collect();
        assert_eq!(
            values,
            [
                &Data::Bool(true),
                &Data::Str("1".into()),
                &Data::Int(1),
                &Data::Null,
                &Data::Float(u64::MAX)
            ]
        );
    }

    #[test]
    fn put_creates_mappings_through_nulls_and_refuses_scalars() {
        let mut d = data("a:\nb: 1\n");
        let path = [Seg::key("a"), Seg::key("x")];
        assert!(d.put(&path, Data::Int(2)));
        assert_eq!(d, data("a: {x: 2}\nb: 1\n"));
        assert!(!d.put(&[Seg::key("b"), Seg::key("y")], Data::Int(3)));
    }
}
