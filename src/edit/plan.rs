//! Planning changes as data: "make sure `securityContext.runAsNonRoot` exists under this pod
//! spec" becomes one [`Change`] per node that must grow: entries added to an existing mapping,
//! items appended to an existing sequence, or a null value filled. Several wishes for the
//! same node are merged, so each node is edited once.
//!
//! Planning refuses, with a position and a reason, to edit through what it cannot edit
//! safely: aliases, anchored nodes (other places would change too), keys a merge key (`<<`)
//! supplies, duplicate keys, and values of the wrong type. It walks the document as written
//! and looks at the resolved data ([`crate::yaml::Document::data`]) only to learn whether a
//! key it would add is already supplied by a merge.

use std::borrow::Cow;

use crate::edit::value::Value;
use crate::error::Located;
use crate::path::{Path, Seg};
use crate::yaml::{Kind, Node};

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The node that grows, from the document root.
    pub path: Path,
    pub op: Op,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Append entries to the mapping at `path`.
    AddEntries(Vec<(Cow<'static, str>, Value)>),
    /// Append items to the sequence at `path`.
    AppendItems(Vec<Value>),
    /// Replace the null at `path` with a mapping or sequence.
    FillNull(Value),
    /// Replace the scalar at `path` (an unsafe fix: the author wrote it).
    SetScalar(Value),
    /// Remove these keys from the mapping at `path` (an unsafe fix).
    RemoveKeys(Vec<Cow<'static, str>>),
    /// Remove the items with these string values from the sequence at `path` (an unsafe fix).
    RemoveItems(Vec<String>),
}

impl Op {
    /// Ops that change or remove what the author wrote; a round applies these alone.
    pub fn is_unsafe(&self) -> bool {
        matches!(
            self,
            Op::SetScalar(_) | Op::RemoveKeys(_) | Op::RemoveItems(_)
        )
    }
}

/// What must hold at the end of a key path.
#[derive(Clone, Debug)]
pub enum Want {
    /// The key exists; when absent (or null) it gets this value.
    Present(Value),
    /// The key holds a sequence containing this item.
    Contains(Value),
}

/// A planning failure: the byte offset to blame and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: usize,
    pub message: String,
}

impl Refusal {
    fn new(at: usize, message: impl Into<String>) -> Self {
        Refusal {
            at,
            message: message.into(),
        }
    }

    pub fn locate(self, text: &str, lines: &crate::yaml::source::LineIndex) -> Located {
        Located::at(lines.pos(text, self.at), self.message)
    }
}

/// Collects the changes of one document.
pub struct Planner<'t, 'a> {
    /// The document as written: what edits are placed in.
    root: &'t Node<'a>,
    /// The same document as data, aliases and merge keys resolved.
    data: &'t Node<'a>,
    changes: Vec<Change>,
}

impl<'t, 'a> Planner<'t, 'a> {
    pub fn new(root: &'t Node<'a>, data: &'t Node<'a>) -> Self {
        Planner {
            root,
            data,
            changes: Vec::new(),
        }
    }

    /// How much is planned so far, for [`Planner::rollback`].
    pub fn mark(&self) -> usize {
        self.changes.len()
    }

    /// Forget what was planned since `mark`. Each workload's paths are its own, so what it
    /// planned never merged into an earlier workload's changes.
    pub fn rollback(&mut self, mark: usize) {
        self.changes.truncate(mark);
    }

    /// The planned changes. When any change is unsafe only those are returned: a round
    /// either changes values or adds fields, never both, so no node is edited twice.
    pub fn into_changes(self) -> Vec<Change> {
        if self.changes.iter().any(|c| c.op.is_unsafe()) {
            self.changes
                .into_iter()
                .filter(|c| c.op.is_unsafe())
                .collect()
        } else {
            self.changes
        }
    }

    /// Make `keys` (below the mapping at `base`) satisfy `want`, adding only what is absent.
    /// Returns whether anything had to be planned. Keys are the checks' fixed names or, for a
    /// values overlay, owned strings.
    pub fn ensure<K>(&mut self, base: &Path, keys: &[K], want: Want) -> Result<bool, Refusal>
    where
        K: AsRef<str> + Clone + Into<Cow<'static, str>>,
    {
        let mut node = self
            .root
            .at(base.segs())
            .ok_or_else(|| Refusal::new(self.root.start, format!("internal: no node at {base}")))?;
        let mut path = base.clone();
        let mut data = self.data.at(base.segs());
        for (i, key) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            let seg = || Seg::Key(key.clone().into());
            let key = key.as_ref();
            if node.is_null() {
                let value = build(&keys[i..], want);
                return self.fill_null(node, path, value);
            }
            let map = editable_map(node, &path)?;
            data = data.and_then(|d| d.get(key));
            match map.entries.iter().find(|(k, _)| k.as_str() == Some(key)) {
                Some((_, v)) => {
                    path = path.join(seg());
                    if last {
                        return self.settle(v, path, want);
                    }
                    if let Kind::Alias(_) = v.kind {
                        return Err(alias_refusal(v, &path));
                    }
                    node = v;
                }
                None if data.is_some() => {
                    // Absent as written, present as data: a merge key supplies it, and the
                    // edit would have to go inside the merged mapping.
                    let merge = map
                        .entries
                        .iter()
                        .find(|(k, _)| crate::yaml::expand::is_merge_key(k))
                        .map_or(node.start, |(k, _)| k.start);
                    return Err(Refusal::new(
                        merge,
                        format!(
                            "{} comes from this merge key (<<): the fix would have to be written inside the merged mapping, which every mapping merging it shares; refusing to edit it",
                            path.join(seg())
                        ),
                    ));
                }
                None => {
                    let value = build(&keys[i + 1..], want);
                    return self.push(path, Op::AddEntries(vec![(keys[i].clone().into(), value)]));
                }
            }
        }
        Ok(false)
    }

    /// Fill the null `node` with `value`, unless an anchor shares it with aliases elsewhere.
    fn fill_null(&mut self, node: &Node<'a>, path: Path, value: Value) -> Result<bool, Refusal> {
        if node.anchored {
            return Err(Refusal::new(
                node.start,
                format!("{path} carries an anchor or a tag; refusing to edit it (an anchor's aliases would change too)"),
            ));
        }
        self.push(path, Op::FillNull(value))
    }

    /// The key exists: add what `want` still lacks.
    fn settle(&mut self, v: &Node<'a>, path: Path, want: Want) -> Result<bool, Refusal> {
        match want {
            Want::Present(value) => {
                if v.is_null() {
                    self.fill_null(v, path, value)
                } else {
                    Ok(false)
                }
            }
            Want::Contains(item) => {
                if v.is_null() {
                    return self.fill_null(v, path, Value::Seq(vec![item]));
                }
                let Kind::Seq(seq) = &v.kind else {
                    return Err(Refusal::new(
                        v.start,
                        format!("{path} is not a list; cannot add to it"),
                    ));
                };
                if v.anchored {
                    return Err(Refusal::new(
                        v.start,
                        format!(
                            "{path} carries an anchor or a tag; refusing to edit it (an anchor's aliases would change too)"
                        ),
                    ));
                }
                let Value::Str(want) = &item else {
                    return Ok(false);
                };
                if seq.items.iter().any(|i| i.as_str() == Some(want)) {
                    return Ok(false);
                }
                self.push(path, Op::AppendItems(vec![item]))
            }
        }
    }

    /// Replace the scalar at `path` with `value` (unsafe).
    pub fn set(&mut self, path: &Path, value: Value) -> Result<bool, Refusal> {
        let node = self.node(path)?;
        if !matches!(node.kind, Kind::Scalar(_)) || node.anchored {
            return Err(Refusal::new(
                node.start,
                format!("{path} is not a plain value pss-fix can change"),
            ));
        }
        self.push(path.clone(), Op::SetScalar(value))
    }

    /// Remove `key` from the mapping at `path` (unsafe); nothing when absent.
    pub fn remove_key(&mut self, path: &Path, key: &'static str) -> Result<bool, Refusal> {
        let node = self.node(path)?;
        let map = editable_map(node, path)?;
        if !map.entries.iter().any(|(k, _)| k.as_str() == Some(key)) {
            return Ok(false);
        }
        // Removing a written key would let a merged value of it show through.
        if let Some((k, _)) = map
            .entries
            .iter()
            .find(|(k, _)| crate::yaml::expand::is_merge_key(k))
        {
            return Err(Refusal::new(
                k.start,
                format!("{path} has a merge key (<<): removing {key} could let a merged value show through; refusing to edit it"),
            ));
        }
        self.push(path.clone(), Op::RemoveKeys(vec![Cow::Borrowed(key)]))
    }

    /// Remove the items equal to `values` from the sequence at `path` (unsafe).
    pub fn remove_items(&mut self, path: &Path, values: Vec<String>) -> Result<bool, Refusal> {
        let node = self.node(path)?;
        if !matches!(node.kind, Kind::Seq(_)) || node.anchored {
            return Err(Refusal::new(
                node.start,
                format!("{path} is not a list pss-fix can change"),
            ));
        }
        self.push(path.clone(), Op::RemoveItems(values))
    }

    fn node(&self, path: &Path) -> Result<&'t Node<'a>, Refusal> {
        self.root
            .at(path.segs())
            .ok_or_else(|| Refusal::new(self.root.start, format!("internal: no node at {path}")))
    }

    fn push(&mut self, path: Path, op: Op) -> Result<bool, Refusal> {
        let same_kind = |a: &Op, b: &Op| std::mem::discriminant(a) == std::mem::discriminant(b);
        if let Some(existing) = self
            .changes
            .iter_mut()
            .find(|c| c.path == path && same_kind(&c.op, &op))
        {
            merge_op(&mut existing.op, op);
        } else {
            self.changes.push(Change { path, op });
        }
        Ok(true)
    }
}

/// An edit that would have to be written inside the node an alias names.
fn alias_refusal(alias: &Node<'_>, path: &Path) -> Refusal {
    Refusal::new(
        alias.start,
        format!(
            "{path} is an alias: the fix would have to be written inside the anchored node it names, which every alias of it shares; refusing to edit it (write the fix at the anchor, or expand the alias)"
        ),
    )
}

/// The mapping at `path`, if it may be edited.
fn editable_map<'t, 'a>(
    node: &'t Node<'a>,
    path: &Path,
) -> Result<&'t crate::yaml::Map<'a>, Refusal> {
    match &node.kind {
        Kind::Map(m) => {
            if node.anchored {
                return Err(Refusal::new(
                    node.start,
                    format!("{path} carries an anchor or a tag; refusing to edit it (an anchor's aliases would change too)"),
                ));
            }
            for (i, (k, _)) in m.entries.iter().enumerate() {
                if let Some(name) = k.as_str() {
                    if m.entries[..i].iter().any(|(p, _)| p.as_str() == Some(name)) {
                        return Err(Refusal::new(
                            k.start,
                            format!("duplicate key {name:?} in {path}; refusing to edit it"),
                        ));
                    }
                }
            }
            Ok(m)
        }
        Kind::Alias(_) => Err(alias_refusal(node, path)),
        _ => Err(Refusal::new(
            node.start,
            format!("{path} is not a mapping; cannot add keys to it"),
        )),
    }
}

fn build<K: Clone + Into<Cow<'static, str>>>(keys: &[K], want: Want) -> Value {
    let leaf = match want {
        Want::Present(v) => v,
        Want::Contains(item) => Value::Seq(vec![item]),
    };
    keys.iter()
        .rev()
        .fold(leaf, |v, k| Value::Map(vec![(k.clone().into(), v)]))
}

fn merge_op(into: &mut Op, op: Op) {
    match (into, op) {
        (Op::AddEntries(a), Op::AddEntries(b)) => {
            for (k, v) in b {
                match a.iter_mut().find(|(ak, _)| *ak == k) {
                    Some((_, av)) => merge_value(av, v),
                    None => a.push((k, v)),
                }
            }
        }
        (Op::AppendItems(a), Op::AppendItems(b)) => {
            extend_unique(a, b);
        }
        (Op::FillNull(a), Op::FillNull(b)) => merge_value(a, b),
        (Op::SetScalar(a), Op::SetScalar(b)) => *a = b,
        (Op::RemoveKeys(a), Op::RemoveKeys(b)) => {
            extend_unique(a, b);
        }
        (Op::RemoveItems(a), Op::RemoveItems(b)) => {
            extend_unique(a, b);
        }
        // Two wishes for one node always have the same shape: the node decides the op.
        _ => {}
    }
}

/// Append the items of `b` that `a` lacks, in order.
fn extend_unique<T: PartialEq>(a: &mut Vec<T>, b: Vec<T>) {
    for v in b {
        if !a.contains(&v) {
            a.push(v);
        }
    }
}

fn merge_value(into: &mut Value, v: Value) {
    match (into, v) {
        (Value::Map(a), Value::Map(b)) => {
            for (k, v) in b {
                match a.iter_mut().find(|(ak, _)| *ak == k) {
                    Some((_, av)) => merge_value(av, v),
                    None => a.push((k, v)),
                }
            }
        }
        (Value::Seq(a), Value::Seq(b)) => {
            extend_unique(a, b);
        }
        _ => {}
    }
}
