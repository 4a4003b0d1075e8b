//! Aliases and merge keys, resolved for reading: the tree the checks, the typed view and the
//! guard read is the data Kubernetes reads, with every `*alias` replaced by a copy of its
//! anchored node and every `<<` merge key applied.
//!
//! Merge keys follow go-yaml v2, the reader behind `sigs.k8s.io/yaml`: a mapping's entries
//! are taken in written order, a `<<` entry sets the merged mapping's keys over those set
//! before it, a key written after it overrides, and in a list of merged mappings an earlier
//! one wins over a later one.
//!
//! Editing never goes through this tree: the planner walks the tree as written and refuses an
//! edit that would land inside an alias, an anchored node or a merged entry
//! ([`crate::edit::plan`]). Expansion is bounded ([`MAX_NODES`]) so a "billion laughs" document is
//! refused, not expanded.

use super::build::MAX_DEPTH;
use super::{Kind, Map, Node, ScalarStyle};

/// At most this many nodes are produced by expanding one document's aliases: far more than
/// any Kubernetes object holds, far less than an alias bomb asks for.
pub const MAX_NODES: usize = 250_000;

/// Why a document's aliases could not be resolved: the byte offset of the alias or merge
/// key, and the reason.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub at: usize,
    pub message: String,
}

/// A mapping key that merges (`<<`, plain, or tagged `!!merge`).
pub fn is_merge_key(key: &Node<'_>) -> bool {
    matches!(&key.kind, Kind::Scalar(s) if s.value == "<<"
        && (s.style == ScalarStyle::Plain && s.tag.is_none() || s.tag.as_deref() == Some("merge")))
}

/// `root` with its aliases and merge keys resolved; `anchors` holds every anchored node of
/// the document by the parser's anchor id, as written.
pub fn expand<'a>(root: &Node<'a>, anchors: &[(usize, Node<'a>)]) -> Result<Node<'a>, Unresolved> {
    let mut x = Expander {
        anchors,
        produced: 0,
    };
    x.node(root, 0)
}

struct Expander<'t, 'a> {
    anchors: &'t [(usize, Node<'a>)],
    produced: usize,
}

impl<'t, 'a> Expander<'t, 'a> {
    fn count(&mut self, at: usize, depth: usize) -> Result<(), Unresolved> {
        self.produced += 1;
        if self.produced > MAX_NODES {
            return Err(Unresolved {
                at,
                message: format!(
                    "aliases expand to more than {MAX_NODES} nodes (an alias bomb?); refusing to read this document"
                ),
            });
        }
        if depth > MAX_DEPTH {
            return Err(Unresolved {
                at,
                message: format!(
                    "aliases nest deeper than {MAX_DEPTH} levels; refusing to read this document"
                ),
            });
        }
        Ok(())
    }

    fn anchored(&self, id: usize, at: usize) -> Result<&'t Node<'a>, Unresolved> {
        self.anchors
            .iter()
            .rev()
            .find(|(a, _)| *a == id)
            .map(|(_, n)| n)
            .ok_or_else(|| Unresolved {
                at,
                message: "an alias to an anchor not defined before it".into(),
            })
    }

    fn node(&mut self, node: &Node<'a>, depth: usize) -> Result<Node<'a>, Unresolved> {
        self.count(node.start, depth)?;
        let kind = match &node.kind {
            Kind::Scalar(_) => return Ok(node.clone()),
            Kind::Alias(id) => {
                // The copy reads as its anchor's text; a failure inside it is the outermost
                // alias's to answer for, the one the author wrote in this place.
                let target = self.anchored(*id, node.start)?;
                return self.node(target, depth).map_err(|mut e| {
                    e.at = node.start;
                    e
                });
            }
            Kind::Seq(seq) => {
                let items = seq
                    .items
                    .iter()
                    .map(|i| self.node(i, depth + 1))
                    .collect::<Result<_, _>>()?;
                Kind::Seq(super::Seq {
                    items,
                    flow: seq.flow,
                })
            }
            Kind::Map(map) => Kind::Map(self.map(map, depth)?),
        };
        Ok(Node {
            start: node.start,
            end: node.end,
            anchored: node.anchored,
            kind,
        })
    }

    fn map(&mut self, map: &Map<'a>, depth: usize) -> Result<Map<'a>, Unresolved> {
        let mut entries = Entries::default();
        for (k, v) in &map.entries {
            if !is_merge_key(k) {
                let k = self.node(k, depth + 1)?;
                let v = self.node(v, depth + 1)?;
                entries.set(k, v, false);
                continue;
            }
            let merged = self.node(v, depth + 1)?;
            let sources: Vec<Node<'a>> = match merged.kind {
                Kind::Map(_) => vec![merged],
                // Earlier mappings in the list win: apply them last.
                Kind::Seq(seq) => seq.items.into_iter().rev().collect(),
                _ => Vec::new(),
            };
            for source in sources {
                let Kind::Map(m) = source.kind else {
                    return Err(Unresolved {
                        at: v.start,
                        message: "a merge key (<<) takes a mapping or a list of mappings".into(),
                    });
                };
                for (mk, mv) in m.entries {
                    entries.set(mk, mv, true);
                }
            }
            if !matches!(v.kind, Kind::Map(_) | Kind::Seq(_) | Kind::Alias(_)) {
                return Err(Unresolved {
                    at: v.start,
                    message: "a merge key (<<) takes a mapping or a list of mappings".into(),
                });
            }
        }
        Ok(Map {
            entries: entries.list,
            flow: map.flow,
        })
    }
}

/// A mapping's entries as they are set, in go-yaml v2's order of precedence.
#[derive(Default)]
struct Entries<'a> {
    list: Vec<(Node<'a>, Node<'a>)>,
    /// Per entry: whether a merge key set it.
    merged: Vec<bool>,
    /// Whether any entry so far came from a merge key.
    any_merged: bool,
}

impl<'a> Entries<'a> {
    /// A merged key replaces any entry with the same key; a written key replaces one a
    /// merge set. A written key that repeats a written key stays a duplicate, which readers
    /// refuse as they always did.
    fn set(&mut self, key: Node<'a>, value: Node<'a>, merged: bool) {
        // Without a merge so far a written key is simply the next entry: no search.
        self.any_merged |= merged;
        if let Some(name) = key.as_str().filter(|_| self.any_merged) {
            let same = self
                .list
                .iter()
                .zip(&self.merged)
                .position(|((k, _), &m)| k.as_str() == Some(name) && (merged || m));
            if let Some(i) = same {
                self.list[i] = (key, value);
                self.merged[i] = merged;
                return;
            }
        }
        self.list.push((key, value));
        self.merged.push(merged);
    }
}
