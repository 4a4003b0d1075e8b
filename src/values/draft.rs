//! A values overlay as `pss-fix values` prints it: nested keys, each leaf with a comment
//! saying what it fixes. The shape of `values::Overlay` (`insert`, `to_yaml`), kept apart so
//! the command can move to that type unchanged.

use super::tree::{quote, write_value, Tree};

/// Keys in insertion order, each leaf with its comment lines.
#[derive(Debug, Default)]
pub struct Overlay {
    entries: Vec<(String, Entry)>,
}

#[derive(Debug)]
enum Entry {
    Leaf { value: Tree, comment: String },
    Nested(Overlay),
}

impl Overlay {
    /// Put `value` at `path` (mappings made on the way), with `comment` above it.
    pub fn insert(&mut self, path: &[String], value: Tree, comment: String) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let at = match self.entries.iter().position(|(k, _)| k == first) {
            Some(i) => i,
            None => {
                let fresh = if rest.is_empty() {
                    Entry::Leaf {
                        value: Tree::Null,
                        comment: String::new(),
                    }
                } else {
                    Entry::Nested(Overlay::default())
                };
                self.entries.push((first.clone(), fresh));
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[at].1;
        if rest.is_empty() {
            *entry = Entry::Leaf { value, comment };
            return;
        }
        if !matches!(entry, Entry::Nested(_)) {
            *entry = Entry::Nested(Overlay::default());
        }
        if let Entry::Nested(o) = entry {
            o.insert(rest, value, comment);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The overlay as data.
    pub fn to_tree(&self) -> Tree {
        Tree::Map(
            self.entries
                .iter()
                .map(|(k, e)| {
                    let v = match e {
                        Entry::Leaf { value, .. } => value.clone(),
                        Entry::Nested(o) => o.to_tree(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }

    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        self.write(0, &mut out);
        out
    }

    fn write(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        for (k, e) in &self.entries {
            match e {
                Entry::Leaf { value, comment } => {
                    for line in comment.lines() {
                        out.push_str(&format!("{pad}# {line}\n"));
                    }
                    out.push_str(&format!("{pad}{}:", quote(k)));
                    write_value(value, indent, out);
                }
                Entry::Nested(o) => {
                    out.push_str(&format!("{pad}{}:\n", quote(k)));
                    o.write(indent + 2, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_with_comments() {
        let mut o = Overlay::default();
        let k = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        o.insert(&k("a.b"), Tree::Bool(true), "fixes X".into());
        o.insert(
            &k("a.c"),
            Tree::Seq(vec![Tree::Str("ALL".into())]),
            "fixes Y\nand Z".into(),
        );
        assert_eq!(
            o.to_yaml(),
            "a:\n  # fixes X\n  b: true\n  # fixes Y\n  # and Z\n  c:\n  - ALL\n"
        );
    }
}
