//! Probe values: which values keys reach which securityContext, learned from a render rather
//! than from the templates. Every mapping of the values tree gets a marker entry
//! (`pssFixProbe<N>: true`: a key of its own, so a template merging two mappings shows both), every scalar whose key names a securityContext field gets a marker
//! value (`pssfix-l<N>`); where a marker shows up in the probe render says where that key
//! lands. Pure: building the probe values and reading the render; the renders are the
//! caller's.

use std::collections::HashMap;

use super::tree::{Step, Tree};

/// The key of a mapping marker, before its number.
pub const MARK_KEY: &str = "pssFixProbe";
const LEAF_PREFIX: &str = "pssfix-l";

/// The securityContext fields (pod and container) a single-field template may pick.
const FIELDS: &[&str] = &[
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "allowPrivilegeEscalation",
    "privileged",
    "readOnlyRootFilesystem",
    "procMount",
    "fsGroup",
    "fsGroupChangePolicy",
    "supplementalGroups",
    "supplementalGroupsPolicy",
];

/// One probed place of the values tree.
#[derive(Clone, Debug)]
pub struct Mark {
    /// Where it is in the values tree.
    pub path: Vec<Step>,
    pub kind: MarkKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A mapping; `enable`: it has `enabled: false` beside securityContext fields (Bitnami's
    /// `podSecurityContext.enabled`), so the probe, and an overlay using it, sets
    /// `enabled: true`.
    Map { enable: bool },
    /// A scalar under a securityContext field's name.
    Leaf,
}

impl Mark {
    /// The values path as keys, when it does not go through a list.
    pub fn keys(&self) -> Option<Vec<String>> {
        self.path
            .iter()
            .map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .collect()
    }

    /// How many steps lead to the first list on the way, if any.
    pub fn list_at(&self) -> Option<usize> {
        self.path.iter().position(|s| matches!(s, Step::Index(_)))
    }
}

/// Every place of `values` worth probing, in a fixed order (the marker numbers).
pub fn marks(values: &Tree) -> Vec<Mark> {
    let mut out = Vec::new();
    walk(values, &mut Vec::new(), None, &mut out);
    out
}

fn walk(t: &Tree, path: &mut Vec<Step>, key: Option<&str>, out: &mut Vec<Mark>) {
    match t {
        Tree::Map(m) => {
            out.push(Mark {
                path: path.clone(),
                kind: MarkKind::Map {
                    enable: looks_disabled_context(key, m),
                },
            });
            for (k, v) in m {
                path.push(Step::Key(k.clone()));
                let leaf =
                    FIELDS.contains(&k.as_str()) || (k == "type" && key == Some("seccompProfile"));
                match v {
                    Tree::Map(_) | Tree::Seq(_) => walk(v, path, Some(k), out),
                    _ if leaf => out.push(Mark {
                        path: path.clone(),
                        kind: MarkKind::Leaf,
                    }),
                    _ => {}
                }
                path.pop();
            }
        }
        Tree::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if matches!(item, Tree::Map(_)) {
                    path.push(Step::Index(i));
                    walk(item, path, None, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// `enabled: false` beside what looks like a securityContext: a key named so, or siblings
/// that are securityContext fields.
fn looks_disabled_context(key: Option<&str>, m: &[(String, Tree)]) -> bool {
    let disabled = m
        .iter()
        .any(|(k, v)| k == "enabled" && matches!(v, Tree::Bool(false)));
    let named = key.is_some_and(|k| k.to_ascii_lowercase().ends_with("securitycontext"));
    let fields = m.iter().any(|(k, _)| {
        FIELDS.contains(&k.as_str()) || matches!(k.as_str(), "seccompProfile" | "capabilities")
    });
    disabled && (named || fields)
}

/// The probe values for the marks chosen by `ids` (indexes into `marks`): only the edits,
/// except that a list holding a marked mapping is restated whole (Helm replaces lists).
pub fn values_for(values: &Tree, marks: &[Mark], ids: &[usize]) -> Tree {
    let mut edits = Tree::empty_map();
    for &id in ids {
        let mark = &marks[id];
        match mark.kind {
            MarkKind::Map { enable } => {
                let Some(node) = edit_at(&mut edits, values, &mark.path) else {
                    continue;
                };
                node.set(&format!("{MARK_KEY}{id}"), Tree::Bool(true));
                if enable {
                    node.set("enabled", Tree::Bool(true));
                }
            }
            MarkKind::Leaf => {
                let Some((Step::Key(last), parent)) = mark.path.split_last() else {
                    continue;
                };
                if let Some(node) = edit_at(&mut edits, values, parent) {
                    node.set(last, Tree::Str(format!("{LEAF_PREFIX}{id}")));
                }
            }
        }
    }
    edits
}

/// The mapping at `path` inside the edits tree, made on the way; a list met on the way is
/// copied whole from `values` first.
fn edit_at<'e>(edits: &'e mut Tree, values: &Tree, path: &[Step]) -> Option<&'e mut Tree> {
    let mut node = edits;
    for (i, step) in path.iter().enumerate() {
        node = match step {
            Step::Key(k) => {
                if node.get(k).is_none() {
                    let fresh = match path.get(i + 1) {
                        Some(Step::Index(_)) => values.at(&path[..=i])?.clone(),
                        _ => Tree::empty_map(),
                    };
                    node.set(k, fresh);
                }
                node.at_mut(std::slice::from_ref(step))?
            }
            Step::Index(_) => node.at_mut(std::slice::from_ref(step))?,
        };
    }
    matches!(node, Tree::Map(_)).then_some(node)
}

/// A rendered object, as the renders name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    pub fn of(doc: &Tree) -> Option<ObjectId> {
        let s = |t: Option<&Tree>| t.and_then(Tree::as_str).unwrap_or_default().to_string();
        let meta = doc.get("metadata");
        Some(ObjectId {
            api_version: s(doc.get("apiVersion")),
            kind: doc.get("kind")?.as_str()?.to_string(),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
            name: s(meta.and_then(|m| m.get("name"))),
        })
    }

    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// A pod's or a container's securityContext in one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    pub object: ObjectId,
    /// The pod spec's path in the object.
    pub pod: Vec<Step>,
    /// `(containers|initContainers|ephemeralContainers, name)`; `None` for the pod.
    pub container: Option<(String, String)>,
}

/// Where a marker was seen.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// Inside a securityContext, at this path below it.
    Context { loc: Loc, rel: Vec<String> },
    /// As a container itself (a container given whole in the values).
    Container { loc: Loc },
    /// Anywhere else.
    Elsewhere { object: Option<ObjectId> },
}

/// Every sighting of every marker in a probe render's documents, by mark id.
pub fn locate(docs: &[Tree]) -> HashMap<usize, Vec<Seen>> {
    let mut out: HashMap<usize, Vec<Seen>> = HashMap::new();
    for doc in docs {
        let object = ObjectId::of(doc);
        let mut path = Vec::new();
        find(doc, &mut path, &mut |id, at: &[Step]| {
            let seen = object
                .as_ref()
                .and_then(|o| classify(doc, o, at))
                .unwrap_or(Seen::Elsewhere {
                    object: object.clone(),
                });
            out.entry(id).or_default().push(seen);
        });
    }
    out
}

fn find(t: &Tree, path: &mut Vec<Step>, hit: &mut dyn FnMut(usize, &[Step])) {
    match t {
        Tree::Map(m) => {
            for (k, v) in m {
                if let Some(Ok(id)) = k.strip_prefix(MARK_KEY).map(str::parse) {
                    hit(id, path);
                    continue;
                }
                path.push(Step::Key(k.clone()));
                find(v, path, hit);
                path.pop();
            }
        }
        Tree::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                find(v, path, hit);
                path.pop();
            }
        }
        Tree::Str(s) => {
            if let Some(Ok(id)) = s.strip_prefix(LEAF_PREFIX).map(str::parse) {
                hit(id, path);
            }
        }
        _ => {}
    }
}

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Place a path of an object relative to the pod spec around it.
fn classify(doc: &Tree, object: &ObjectId, at: &[Step]) -> Option<Seen> {
    // The innermost pod spec (a mapping with a `containers` list) on the path.
    let pod_len = (0..=at.len()).rev().find(|&n| {
        matches!(
            doc.at(&at[..n]).and_then(|t| t.get("containers")),
            Some(Tree::Seq(_))
        )
    })?;
    let (pod, rest) = at.split_at(pod_len);
    let loc = |container| Loc {
        object: object.clone(),
        pod: pod.to_vec(),
        container,
    };
    let keys = |steps: &[Step]| -> Option<Vec<String>> {
        steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .collect()
    };
    match rest {
        [Step::Key(sc), rel @ ..] if sc == "securityContext" => Some(Seen::Context {
            loc: loc(None),
            rel: keys(rel)?,
        }),
        [Step::Key(list), Step::Index(_), tail @ ..]
            if CONTAINER_LISTS.contains(&list.as_str()) =>
        {
            let name = doc
                .at(&at[..pod_len + 2])
                .and_then(|c| c.get("name"))
                .and_then(Tree::scalar_text)
                .unwrap_or_default();
            let l = loc(Some((list.clone(), name)));
            match tail {
                [] => Some(Seen::Container { loc: l }),
                [Step::Key(sc), rel @ ..] if sc == "securityContext" => Some(Seen::Context {
                    loc: l,
                    rel: keys(rel)?,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::tree::{parse_stream, parse_values, to_yaml};

    #[test]
    fn probe_values_mark_maps_leaves_and_lists() {
        let v = parse_values(
            "v",
            "sc: {}\npod:\n  enabled: false\n  runAsUser: 1001\nside:\n- name: s\n  image: x\n",
        )
        .unwrap();
        let marks = marks(&v);
        let all: Vec<usize> = (0..marks.len()).collect();
        let probe = values_for(&v, &marks, &all);
        assert_eq!(
            to_yaml(&probe),
            "pssFixProbe0: true\nsc:\n  pssFixProbe1: true\npod:\n  pssFixProbe2: true\n  enabled: true\n  runAsUser: pssfix-l3\nside:\n- name: s\n  image: x\n  pssFixProbe4: true\n"
        );
    }

    #[test]
    fn sightings_are_placed_by_pod_and_container() {
        let docs = parse_stream(
            "r",
            "kind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      securityContext: {pssFixProbe1: true}\n      containers:\n      - name: app\n        securityContext: {runAsUser: pssfix-l3}\n      - name: s\n        pssFixProbe4: true\n",
        )
        .unwrap();
        let seen = locate(&docs);
        assert!(
            matches!(&seen[&1][0], Seen::Context { loc, rel } if loc.container.is_none() && rel.is_empty())
        );
        assert!(
            matches!(&seen[&3][0], Seen::Context { loc, rel } if loc.container.as_ref().unwrap().1 == "app" && rel == &["runAsUser"])
        );
        assert!(
            matches!(&seen[&4][0], Seen::Container { loc } if loc.container.as_ref().unwrap().1 == "s")
        );
    }
}
