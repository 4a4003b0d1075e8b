//! Edits, after ruff's `ruff_diagnostics`: an [`Edit`] is a byte range plus new text, every
//! fix carries an [`Applicability`], and [`apply`] splices a set of edits into the original
//! text in one forward pass. The last step of the edit engine: [`crate::policy::remedy`] decides,
//! [`crate::edit::plan`] plans, [`crate::edit::render`] writes the edits this module splices.

use std::cmp::Reverse;

/// How much a fix may be trusted. Ordered, so "everything at least this safe" is `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Needs a person: pss-fix only reports it.
    Manual,
    /// Changes a value the author wrote (`privileged: true` → `false`): may change what the
    /// workload can do, so only applied with `--unsafe`.
    Unsafe,
    /// Adds a field that was absent; the workload keeps running as before unless it relied
    /// on what the field forbids. Applied by default.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Manual => "manual",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// A byte range of the original text and what replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    start: usize,
    end: usize,
    content: String,
    /// Nesting depth of the node the edit belongs to. Insertions at one offset go innermost
    /// first, so a container's new keys precede its pod's when both end on the same line.
    depth: usize,
}

impl Edit {
    pub fn insertion(content: String, at: usize, depth: usize) -> Edit {
        assert!(!content.is_empty(), "an insertion inserts something");
        Edit {
            start: at,
            end: at,
            content,
            depth,
        }
    }

    pub fn deletion(start: usize, end: usize, depth: usize) -> Edit {
        assert!(start < end, "a deletion deletes something");
        Edit {
            start,
            end,
            content: String::new(),
            depth,
        }
    }

    pub fn replacement(content: String, start: usize, end: usize, depth: usize) -> Edit {
        assert!(start <= end);
        Edit {
            start,
            end,
            content,
            depth,
        }
    }

    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn content(&self) -> &str {
        &self.content
    }
}

/// Two edits touch the same bytes: the plan is wrong, and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub at: usize,
}

/// Apply `edits` to `text`: sort, refuse overlaps, copy the original between edits.
pub fn apply(text: &str, mut edits: Vec<Edit>) -> Result<String, Overlap> {
    edits.sort_by_key(|e| (e.start, e.end, Reverse(e.depth)));
    let extra: usize = edits.iter().map(|e| e.content.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut last = 0;
    for e in &edits {
        if e.start < last {
            return Err(Overlap { at: e.start });
        }
        out.push_str(&text[last..e.start]);
        out.push_str(&e.content);
        last = e.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_inner_first() {
        let edits = vec![
            Edit::insertion("outer;".into(), 3, 1),
            Edit::insertion("inner;".into(), 3, 2),
            Edit::deletion(0, 1, 0),
        ];
        assert_eq!(apply("abcdef", edits).unwrap(), "bcinner;outer;def");
    }

    #[test]
    fn refuses_overlaps() {
        let edits = vec![Edit::deletion(0, 3, 0), Edit::insertion("x".into(), 2, 0)];
        assert_eq!(apply("abcdef", edits), Err(Overlap { at: 2 }));
    }

    #[test]
    fn applicability_orders_by_trust() {
        assert!(Applicability::Safe > Applicability::Unsafe);
        assert!(Applicability::Unsafe > Applicability::Manual);
    }
}
