//! The check before an overlay is shown: render with it, and compare with the plain render
//! as data. Each object must be its plain self plus exactly the fields the overlay claims;
//! every other difference is reported with the object and path where it shows.

use std::collections::BTreeMap;

use super::probe::{Loc, ObjectId};
use super::tree::{Step, Tree};

/// A field the overlay claims to set.
#[derive(Clone, Debug)]
pub struct Claim {
    pub loc: Loc,
    pub field: Vec<String>,
    pub value: Tree,
}

/// A difference nobody claimed.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub object: Option<ObjectId>,
    pub path: Vec<Step>,
}

impl Difference {
    pub fn describe(&self) -> String {
        let obj = self
            .object
            .as_ref()
            .map_or_else(|| "a document".to_string(), ObjectId::label);
        if self.path.is_empty() {
            return format!("{obj} appears or disappears");
        }
        format!("{obj} changes at {}", show(&self.path))
    }
}

/// `spec.template.spec.containers[0].image`, for messages.
pub fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The path of `loc`'s securityContext in its object.
pub fn context_path(doc: &Tree, loc: &Loc) -> Option<Vec<Step>> {
    let mut path = loc.pod.clone();
    if let Some((list, name)) = &loc.container {
        path.push(Step::Key(list.clone()));
        let Some(Tree::Seq(items)) = doc.at(&path) else {
            return None;
        };
        let i = items
            .iter()
            .position(|c| c.get("name").and_then(Tree::scalar_text).as_deref() == Some(name))?;
        path.push(Step::Index(i));
    }
    path.push(Step::Key("securityContext".into()));
    Some(path)
}

/// What differs between `after` and `base` with `claims` applied; `open` are places where an
/// added field is expected beyond the claims (a disabled securityContext the overlay enables
/// brings the chart's own defaults).
pub fn differences(
    base: &[Tree],
    after: &[Tree],
    claims: &[Claim],
    open: &[Loc],
) -> Vec<Difference> {
    let key = |i: usize, d: &Tree| ObjectId::of(d).ok_or(i);
    let before: BTreeMap<_, &Tree> = base
        .iter()
        .enumerate()
        .map(|(i, d)| (key(i, d), d))
        .collect();
    let now: BTreeMap<_, &Tree> = after
        .iter()
        .enumerate()
        .map(|(i, d)| (key(i, d), d))
        .collect();
    let mut out = Vec::new();
    for k in before.keys().filter(|k| !now.contains_key(*k)) {
        out.push(Difference {
            object: k.clone().ok(),
            path: Vec::new(),
        });
    }
    for (k, doc) in &now {
        let Some(old) = before.get(k) else {
            out.push(Difference {
                object: k.clone().ok(),
                path: Vec::new(),
            });
            continue;
        };
        let object = k.clone().ok();
        let mut expected = (*old).clone();
        let mut tolerated = Vec::new();
        for c in claims
            .iter()
            .filter(|c| Some(&c.loc.object) == object.as_ref())
        {
            let Some(mut path) = context_path(old, &c.loc) else {
                continue;
            };
            path.extend(Step::keys(&c.field));
            put(&mut expected, &path, c.value.clone());
        }
        for loc in open.iter().filter(|l| Some(&l.object) == object.as_ref()) {
            if let Some(p) = context_path(old, loc) {
                tolerated.push(p);
            }
        }
        let mut path = Vec::new();
        diff(&expected, doc, &mut path, &mut |p: &[Step], had: bool| {
            let open = !had && tolerated.iter().any(|t| p.starts_with(t));
            if !open {
                out.push(Difference {
                    object: object.clone(),
                    path: p.to_vec(),
                });
            }
        });
    }
    out
}

/// Set (or, for `Null`, remove) the value at `path`, making mappings on the way.
fn put(t: &mut Tree, path: &[Step], value: Tree) {
    let Some((Step::Key(last), parent)) = path.split_last() else {
        return;
    };
    let mut node = t;
    for step in parent {
        if let Step::Key(k) = step {
            if node.get(k).is_none() {
                if matches!(value, Tree::Null) {
                    return;
                }
                node.set(k, Tree::empty_map());
            }
        }
        let Some(next) = node.at_mut(std::slice::from_ref(step)) else {
            return;
        };
        node = next;
    }
    match value {
        Tree::Null => {
            if let Tree::Map(m) = node {
                m.retain(|(k, _)| k != last);
            }
        }
        v => node.set(last, v),
    }
}

/// Report each path where `a` and `b` differ (`had`: `a` has something there).
fn diff(a: &Tree, b: &Tree, path: &mut Vec<Step>, report: &mut dyn FnMut(&[Step], bool)) {
    match (a, b) {
        (Tree::Map(x), Tree::Map(y)) => {
            for (k, v) in x {
                path.push(Step::Key(k.clone()));
                match b.get(k) {
                    Some(w) => diff(v, w, path, report),
                    None => report(path, true),
                }
                path.pop();
            }
            for (k, _) in y {
                if a.get(k).is_none() {
                    path.push(Step::Key(k.clone()));
                    report(path, false);
                    path.pop();
                }
            }
        }
        (Tree::Seq(x), Tree::Seq(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                path.push(Step::Index(i));
                diff(v, w, path, report);
                path.pop();
            }
        }
        (x, y) if x == y => {}
        _ => report(path, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::tree::parse_stream;

    const BASE: &str =
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n";

    fn loc() -> Loc {
        Loc {
            object: ObjectId::of(&parse_stream("b", BASE).unwrap()[0]).unwrap(),
            pod: vec![Step::Key("spec".into())],
            container: Some(("containers".into(), "a".into())),
        }
    }

    #[test]
    fn claimed_fields_are_no_difference_and_others_are() {
        let base = parse_stream("b", BASE).unwrap();
        let after = parse_stream(
            "a",
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: y\n    securityContext: {privileged: false}\n",
        )
        .unwrap();
        let claims = [Claim {
            loc: loc(),
            field: vec!["privileged".into()],
            value: Tree::Bool(false),
        }];
        let d = differences(&base, &after, &claims, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].describe(), "Pod/p changes at spec.containers[0].image");
    }

    #[test]
    fn an_enabled_context_may_bring_its_defaults() {
        let base = parse_stream("b", BASE).unwrap();
        let after = parse_stream(
            "a",
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {privileged: false, runAsUser: 1001}\n",
        )
        .unwrap();
        let claims = [Claim {
            loc: loc(),
            field: vec!["privileged".into()],
            value: Tree::Bool(false),
        }];
        assert_eq!(differences(&base, &after, &claims, &[]).len(), 1);
        assert!(differences(&base, &after, &claims, &[loc()]).is_empty());
    }
}
