//! Reading: bytes to text ([`source`]), text to span trees, and Kubernetes' YAML dialect.
//!
//! A light span tree over saphyr-parser events: every node knows the exact byte range of its
//! text, so edits can be placed beside it without re-rendering anything the author wrote.
//! Documents saphyr refuses but go-yaml reads are read again through [`relax`]; aliases and
//! merge keys are resolved for reading by [`expand`]; [`unrendered`] recognises a Helm
//! template that was never rendered.
//!
//! The tree is read-only and built one document at a time ([`Documents`]), so a large stream
//! never has to be held as trees all at once. Scalars borrow their text from the input where
//! the parser allows it.

mod build;
pub mod canon;
mod direct;
mod elide;
pub(crate) mod expand;
mod plain;
pub(crate) mod relax;
pub mod scalar;
pub mod source;
pub(crate) mod style;
pub(crate) mod unrendered;

pub use build::{Document, Documents};

use std::borrow::Cow;

use crate::path::Seg;
pub use saphyr_parser::ScalarStyle;

/// One node. `start..end` are byte offsets: `start` is the first character of the node's own
/// text (for a block sequence, its first item; for a block mapping, its first key) and `end`
/// is just past its last character on its last line, trailing comments and line break
/// excluded. For a `|+` block scalar the kept trailing blank lines count as its text.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub start: usize,
    pub end: usize,
    /// Carries an anchor (aliases elsewhere share it) or, for a collection, a tag: pss-fix
    /// does not edit it.
    pub anchored: bool,
    pub kind: Kind<'a>,
}

#[derive(Debug, Clone)]
pub enum Kind<'a> {
    Scalar(Scalar<'a>),
    Map(Map<'a>),
    Seq(Seq<'a>),
    /// `*name`: the parser's id of the anchor it names (see [`expand`]).
    Alias(usize),
}

#[derive(Debug, Clone)]
pub struct Scalar<'a> {
    pub value: Cow<'a, str>,
    pub style: ScalarStyle,
    /// The tag's suffix when one was written (`!!str` → `str`).
    pub tag: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub struct Map<'a> {
    pub entries: Vec<(Node<'a>, Node<'a>)>,
    pub flow: bool,
}

#[derive(Debug, Clone)]
pub struct Seq<'a> {
    pub items: Vec<Node<'a>>,
    pub flow: bool,
}

impl<'a> Node<'a> {
    pub fn as_map(&self) -> Option<&Map<'a>> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Seq<'a>> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar<'a>> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a plain or quoted scalar (what a string-typed field would read).
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.value.as_ref())
    }

    /// A null value: an empty node, `~`, `null` (plain, untagged).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.tag.is_none() && scalar::is_null(s))
    }

    /// The value under `key` in a mapping node (the first entry, when keys repeat).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value nodes of `key` in a mapping node.
    pub fn entry(&self, key: &str) -> Option<&(Node<'a>, Node<'a>)> {
        self.as_map()?
            .entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
    }

    /// The child one path step below this node.
    pub fn child(&self, seg: &Seg) -> Option<&Node<'a>> {
        match seg {
            Seg::Key(k) => self.get(k),
            Seg::Index(i) => self.as_seq()?.items.get(*i),
        }
    }

    /// The node at `path` below this one.
    pub fn at(&self, path: &[Seg]) -> Option<&Node<'a>> {
        path.iter().try_fold(self, |node, seg| node.child(seg))
    }

    /// The same node, owning its scalars' text (for a tree read from a rewrite of the
    /// author's text, which does not outlive the reading).
    pub fn into_owned(self) -> Node<'static> {
        let kind = match self.kind {
            Kind::Scalar(s) => Kind::Scalar(Scalar {
                value: Cow::Owned(s.value.into_owned()),
                style: s.style,
                tag: s.tag,
            }),
            Kind::Map(m) => Kind::Map(Map {
                entries: m
                    .entries
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
                flow: m.flow,
            }),
            Kind::Seq(s) => Kind::Seq(Seq {
                items: s.items.into_iter().map(Node::into_owned).collect(),
                flow: s.flow,
            }),
            Kind::Alias(id) => Kind::Alias(id),
        };
        Node {
            start: self.start,
            end: self.end,
            anchored: self.anchored,
            kind,
        }
    }

    pub fn is_flow(&self) -> bool {
        match &self.kind {
            Kind::Map(m) => m.flow,
            Kind::Seq(s) => s.flow,
            _ => false,
        }
    }
}
