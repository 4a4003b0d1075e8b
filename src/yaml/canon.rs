//! Fingerprints of documents as data, for verification: the output must re-parse to the input
//! plus exactly the planned changes. Styles (flow or block, quoting, comments) do not count;
//! resolved scalar values, key order and structure do.

use std::hash::Hasher;

use super::scalar::{resolve, Resolved};
use super::{Kind, Map, Node, Scalar, Seq};
use crate::edit::plan::{Change, Op};
use crate::edit::value::Value;
use crate::path::Seg;

const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const STR: u8 = 4;
const ALIAS: u8 = 5;
const MAP: u8 = 6;
const SEQ: u8 = 7;

/// A fast, well-mixed 64-bit hash with a fixed seed (the same in every run, so the two
/// sides of a comparison agree). Not a defence against crafted collisions: it checks pss-fix's
/// own edits, which an input cannot choose.
fn hasher() -> impl Hasher {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x5053_535f_4649_5821).build_hasher()
}

/// Fingerprint of `root` as it is.
pub fn fingerprint(root: &Node<'_>) -> u64 {
    let mut h = hasher();
    feed(root, 0, &[], &mut h);
    h.finish()
}

/// Fingerprint of `root` with `changes` (paths from the root) applied.
pub fn fingerprint_with(root: &Node<'_>, changes: &[Change]) -> u64 {
    let mut h = hasher();
    let all: Vec<&Change> = changes.iter().collect();
    feed(root, 0, &all, &mut h);
    h.finish()
}

fn is_removed_key(op: Option<&Op>, key: &Node<'_>) -> bool {
    matches!(op, Some(Op::RemoveKeys(keys)) if key.as_str().is_some_and(|k| keys.iter().any(|r| r == k)))
}

fn is_removed_item(op: Option<&Op>, item: &Node<'_>) -> bool {
    matches!(op, Some(Op::RemoveItems(values)) if item.as_str().is_some_and(|v| values.iter().any(|r| r == v)))
}

/// The changes that lie below the child reached by `seg`, among those below this node.
fn below<'c>(changes: &[&'c Change], depth: usize, seg: impl Fn(&Seg) -> bool) -> Vec<&'c Change> {
    changes
        .iter()
        .filter(|c| c.path.segs().get(depth).is_some_and(&seg))
        .copied()
        .collect()
}

/// Hash `node` at `depth`; `changes` are those whose path runs through it (usually none,
/// and then nothing is allocated).
fn feed(node: &Node<'_>, depth: usize, changes: &[&Change], h: &mut impl Hasher) {
    let op = changes
        .iter()
        .find(|c| c.path.segs().len() == depth)
        .map(|c| &c.op);
    if let Some(Op::FillNull(v) | Op::SetScalar(v)) = op {
        return feed_value(v, h);
    }
    match &node.kind {
        Kind::Scalar(s) => feed_scalar(s, h),
        Kind::Alias(_) => h.write_u8(ALIAS),
        Kind::Map(m) => feed_map(m, depth, changes, op, h),
        Kind::Seq(s) => feed_seq(s, depth, changes, op, h),
    }
}

#[inline]
fn feed_scalar(s: &Scalar<'_>, h: &mut impl Hasher) {
    match resolve(s) {
        Resolved::Null => h.write_u8(NULL),
        Resolved::Bool(b) => {
            h.write_u8(BOOL);
            h.write_u8(u8::from(b));
        }
        Resolved::Int(i) => {
            h.write_u8(INT);
            h.write_i128(i);
        }
        Resolved::Float(f) => {
            h.write_u8(FLOAT);
            h.write_u64(if f.is_nan() { u64::MAX } else { f.to_bits() });
        }
        Resolved::Str(s) => feed_str(&s, h),
    }
}

/// A mapping's entries, less the keys `op` removes, plus those it adds.
#[inline]
fn feed_map(m: &Map<'_>, depth: usize, changes: &[&Change], op: Option<&Op>, h: &mut impl Hasher) {
    let extra = match op {
        Some(Op::AddEntries(e)) => e.as_slice(),
        _ => &[],
    };
    let removed = m
        .entries
        .iter()
        .filter(|(k, _)| is_removed_key(op, k))
        .count();
    h.write_u8(MAP);
    h.write_usize(m.entries.len() - removed + extra.len());
    for (k, v) in &m.entries {
        if removed > 0 && is_removed_key(op, k) {
            continue;
        }
        feed(k, 0, &[], h);
        if changes.is_empty() {
            feed(v, depth + 1, &[], h);
        } else {
            let key = k.as_str();
            let inner = below(
                changes,
                depth,
                |s| matches!(s, Seg::Key(sk) if Some(sk.as_ref()) == key),
            );
            feed(v, depth + 1, &inner, h);
        }
    }
    for (k, v) in extra {
        feed_str(k, h);
        feed_value(v, h);
    }
}

/// A sequence's items, less those `op` removes, plus those it appends.
#[inline]
fn feed_seq(s: &Seq<'_>, depth: usize, changes: &[&Change], op: Option<&Op>, h: &mut impl Hasher) {
    let extra = match op {
        Some(Op::AppendItems(e)) => e.as_slice(),
        _ => &[],
    };
    let removed = s.items.iter().filter(|i| is_removed_item(op, i)).count();
    h.write_u8(SEQ);
    h.write_usize(s.items.len() - removed + extra.len());
    for (i, item) in s.items.iter().enumerate() {
        if removed > 0 && is_removed_item(op, item) {
            continue;
        }
        if changes.is_empty() {
            feed(item, depth + 1, &[], h);
        } else {
            let inner = below(changes, depth, |s| *s == Seg::Index(i));
            feed(item, depth + 1, &inner, h);
        }
    }
    for v in extra {
        feed_value(v, h);
    }
}

fn feed_str(s: &str, h: &mut impl Hasher) {
    h.write_u8(STR);
    h.write_usize(s.len());
    h.write(s.as_bytes());
}

fn feed_value(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Bool(b) => {
            h.write_u8(BOOL);
            h.write_u8(u8::from(*b));
        }
        Value::Int(i) => {
            h.write_u8(INT);
            h.write_i128(i128::from(*i));
        }
        Value::Str(s) => feed_str(s, h),
        Value::Map(entries) => {
            h.write_u8(MAP);
            h.write_usize(entries.len());
            for (k, v) in entries {
                feed_str(k, h);
                feed_value(v, h);
            }
        }
        Value::Seq(items) => {
            h.write_u8(SEQ);
            h.write_usize(items.len());
            for v in items {
                feed_value(v, h);
            }
        }
    }
}
