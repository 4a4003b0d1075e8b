//! The formatting habits of one document, read off its own text so that inserted lines look
//! like their neighbours: indentation step, where a block sequence's dashes sit relative to
//! its key, how the nearest keys and string values are quoted, the line ending, and whether
//! the document is JSON.

use super::scalar::{resolve, Resolved};
use super::{Kind, Node, ScalarStyle};
use crate::yaml::source::{column, Eol};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocStyle {
    /// Columns between a key and the keys of its nested block mapping.
    pub step: usize,
    /// Columns between a key and the dashes of its block sequence (0 = indentless).
    pub seq_offset: usize,
    pub eol: Eol,
    /// A JSON document: flow collections with double-quoted keys.
    pub json: bool,
    /// How new keys are quoted: `Plain` unless the nearest keys agree on a quote.
    pub key_quote: ScalarStyle,
    /// How new string values are quoted, read off the nearest string values the same way.
    /// Never applied to booleans or numbers: a quoted `"true"` is a string.
    pub value_quote: ScalarStyle,
}

/// Observations beyond this many add nothing: a document is consistent or it is not.
const SAMPLES: usize = 16;

impl DocStyle {
    pub fn of(text: &str, root: &Node<'_>, eol: Eol) -> DocStyle {
        let mut steps = Vec::new();
        let mut seq_offsets = Vec::new();
        observe(text, root, &mut steps, &mut seq_offsets);
        let json = matches!(&root.kind, Kind::Map(m) if m.flow
        && m.entries.first().is_some_and(|(k, _)| {
            matches!(&k.kind, Kind::Scalar(s) if s.style == ScalarStyle::DoubleQuoted)
        }));
        DocStyle {
            step: most_common(&steps).unwrap_or(2),
            seq_offset: most_common(&seq_offsets).unwrap_or(0),
            eol,
            json,
            key_quote: ScalarStyle::Plain,
            value_quote: ScalarStyle::Plain,
        }
    }
}

fn observe(text: &str, node: &Node<'_>, steps: &mut Vec<usize>, seqs: &mut Vec<usize>) {
    // Enough of both, or enough looking (a document with few sequences is not walked whole).
    if steps.len() >= SAMPLES && seqs.len() >= SAMPLES || steps.len() + seqs.len() >= 4 * SAMPLES {
        return;
    }
    match &node.kind {
        Kind::Map(m) => {
            observe_entries(text, node, steps, seqs);
            for (_, v) in &m.entries {
                observe(text, v, steps, seqs);
            }
        }
        Kind::Seq(s) => {
            for item in &s.items {
                observe(text, item, steps, seqs);
            }
        }
        _ => {}
    }
}

/// The indentation habits visible in one block mapping's own entries.
fn observe_entries(text: &str, node: &Node<'_>, steps: &mut Vec<usize>, seqs: &mut Vec<usize>) {
    let Kind::Map(m) = &node.kind else { return };
    if m.flow {
        return;
    }
    for (k, v) in &m.entries {
        let key_col = column(text, k.start);
        match &v.kind {
            Kind::Map(inner) if !inner.flow => {
                if let Some((ik, _)) = inner.entries.first() {
                    let c = column(text, ik.start);
                    if c > key_col {
                        steps.push(c - key_col);
                    }
                }
            }
            Kind::Seq(inner) if !inner.flow => {
                if let Some(dash) = inner.items.first().and_then(|i| dash_of(text, i.start)) {
                    let c = column(text, dash);
                    if c >= key_col {
                        seqs.push(c - key_col);
                    }
                }
            }
            _ => {}
        }
    }
}

impl DocStyle {
    /// This style, with the step, dash offset and quoting the nearest neighbours show: the
    /// first of `near` (the collection being edited, then its parent) that shows one decides,
    /// so a new mapping with no siblings of its own quotes as its parent's entries do.
    pub fn near(&self, text: &str, near: &[&Node<'_>]) -> DocStyle {
        let mut style = *self;
        let (mut step, mut seq) = (None, None);
        let (mut key_quote, mut value_quote) = (None, None);
        for node in near {
            let (mut steps, mut seqs) = (Vec::new(), Vec::new());
            observe_entries(text, node, &mut steps, &mut seqs);
            step = step.or(steps.first().copied());
            seq = seq.or(seqs.first().copied());
            key_quote = key_quote.or_else(|| keys_quote(node));
            value_quote = value_quote.or_else(|| values_quote(node));
        }
        style.step = step.unwrap_or(style.step);
        style.seq_offset = seq.unwrap_or(style.seq_offset);
        style.key_quote = key_quote.unwrap_or(style.key_quote);
        style.value_quote = value_quote.unwrap_or(style.value_quote);
        style
    }
}

/// The quote every key of a mapping is written with (`Plain` when they differ); `None` when
/// there is no mapping key to look at.
fn keys_quote(node: &Node<'_>) -> Option<ScalarStyle> {
    let keys = node.as_map()?.entries.iter().map(|(k, _)| k);
    agreed_quote(keys.filter_map(|k| k.as_scalar()).map(|s| s.style))
}

/// The quote every string-valued scalar among a mapping's values or a sequence's items is
/// written with (`Plain` when they differ); `None` when there is no string to look at.
/// Booleans, numbers and nulls say nothing: they are never quoted.
fn values_quote(node: &Node<'_>) -> Option<ScalarStyle> {
    let values = node
        .as_map()
        .into_iter()
        .flat_map(|m| m.entries.iter().map(|(_, v)| v));
    let items = node.as_seq().into_iter().flat_map(|s| s.items.iter());
    agreed_quote(
        values
            .chain(items)
            .filter_map(|v| v.as_scalar())
            .filter(|s| matches!(resolve(s), Resolved::Str(_)))
            .map(|s| s.style),
    )
}

fn agreed_quote(mut styles: impl Iterator<Item = ScalarStyle>) -> Option<ScalarStyle> {
    let first = styles.next()?;
    let quoted = matches!(first, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    Some(if quoted && styles.all(|s| s == first) {
        first
    } else {
        ScalarStyle::Plain
    })
}

/// The `-` of the block sequence item whose text starts at `item_start`.
pub fn dash_of(text: &str, item_start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = item_start;
    while i > 0 {
        i -= 1;
        match b[i] {
            b' ' => {}
            b'-' => return Some(i),
            _ => return None,
        }
    }
    None
}

fn most_common(v: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for &x in v {
        let n = v.iter().filter(|&&y| y == x).count();
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((x, n));
        }
    }
    best.map(|(x, _)| x)
}
