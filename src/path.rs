//! Typed paths into a document (`[Key("spec"), Key("containers"), Index(0)]`). Paths are built
//! from segments and compared as data; nothing ever parses a path back out of a string.

use std::borrow::Cow;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(Cow<'static, str>),
    Index(usize),
}

impl Seg {
    pub const fn key(k: &'static str) -> Seg {
        Seg::Key(Cow::Borrowed(k))
    }
}

/// A path from a document's root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    pub fn join(&self, seg: Seg) -> Path {
        let mut v = self.0.clone();
        v.push(seg);
        Path(v)
    }

    pub fn key(&self, k: &'static str) -> Path {
        self.join(Seg::key(k))
    }

    pub fn index(&self, i: usize) -> Path {
        self.join(Seg::Index(i))
    }

    pub fn extend(&self, segs: &[Seg]) -> Path {
        let mut v = self.0.clone();
        v.extend_from_slice(segs);
        Path(v)
    }

    pub fn segs(&self) -> &[Seg] {
        &self.0
    }
}

impl fmt::Display for Path {
    /// `spec.containers[0].securityContext`, for messages only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}
