//! The fixes as JSON Patch (RFC 6902) operations, for kustomize's `patches:` and Flux's
//! HelmRelease post-renderers: a way to fix at the source when the manifests themselves are
//! not the user's to edit (a rendered chart, a vendored base).
//!
//! Operations come from comparing each input document's data with the fixed document's data
//! read back ([`diff`]), not from the engine's plan: whatever the engine did, the patch
//! reproduces its effect on the data, and nothing else. Values are typed as Kubernetes reads
//! them (go-yaml v2: `yes` is a bool, `0x1F` an int; see [`crate::yaml::scalar`]).
//! [`patches`] pairs a file's documents with its [`FileReport`] and names each patch's
//! kustomize target; [`render`] writes them as a kustomization's `patches:` list or a Flux
//! `postRenderers:` entry.

mod render;

pub use render::{render, Output};

use std::borrow::Cow;

use crate::engine::FileReport;
use crate::error::{Error, Pos};
use crate::path::{Path, Seg};
use crate::yaml::scalar::{resolve, Resolved};
use crate::yaml::source::LineIndex;
use crate::yaml::{Documents, Kind, Node};

/// A value as JSON sees it: what a patch operation carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Json>),
    /// Entries in written order.
    Map(Vec<(String, Json)>),
}

impl Json {
    /// The data of `node` (aliases already resolved: read from [`crate::yaml::Document::data`]).
    pub fn of(node: &Node<'_>) -> Json {
        match &node.kind {
            Kind::Scalar(s) => match resolve(s) {
                Resolved::Null => Json::Null,
                Resolved::Bool(b) => Json::Bool(b),
                Resolved::Int(i) => Json::Int(i),
                Resolved::Float(f) => Json::Float(f),
                Resolved::Str(s) => Json::Str(s.into_owned()),
            },
            Kind::Map(m) => Json::Map(
                m.entries
                    .iter()
                    .map(|(k, v)| (key_text(k).into_owned(), Json::of(v)))
                    .collect(),
            ),
            Kind::Seq(s) => Json::Seq(s.items.iter().map(Json::of).collect()),
            // Resolved trees hold no aliases; one left over is unreadable data either way.
            Kind::Alias(_) => Json::Null,
        }
    }
}

/// A mapping key as JSON names it: Kubernetes' keys are strings, so a key's text.
fn key_text<'n>(k: &'n Node<'_>) -> Cow<'n, str> {
    match k.as_scalar() {
        Some(s) => Cow::Borrowed(s.value.as_ref()),
        None => Cow::Borrowed(""),
    }
}

/// The three operations a fix needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Remove => "remove",
        }
    }
}

/// One JSON Patch operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Path,
    /// The path ends in `-`: append to the sequence at `path`.
    pub append: bool,
    /// `None` for `remove`.
    pub value: Option<Json>,
}

impl Operation {
    /// The path as a JSON Pointer (RFC 6901): `~` written `~0`, `/` written `~1`.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for seg in self.path.segs() {
            out.push('/');
            match seg {
                Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => out.push_str(&i.to_string()),
            }
        }
        if self.append {
            out.push_str("/-");
        }
        out
    }
}

/// The operations that turn `before` into `after` (both as data). A key added is added at the
/// highest level where it is absent, whole (`add` fails when the parent is missing); a
/// sequence grown at its end gains its new items one `add …/-` each; sequences of the same
/// length are compared item by item; any other sequence change, and any change of type,
/// replaces the node.
pub fn diff(before: &Node<'_>, after: &Node<'_>) -> Vec<Operation> {
    let mut ops = Vec::new();
    diff_at(before, after, &mut Path::root(), &mut ops);
    ops
}

fn diff_at(before: &Node<'_>, after: &Node<'_>, at: &mut Path, ops: &mut Vec<Operation>) {
    match (&before.kind, &after.kind) {
        (Kind::Map(b), Kind::Map(a)) => {
            // Removals first: a later `add` of the same key (never made by a diff, but cheap
            // to keep right) would otherwise be undone.
            for (k, _) in &b.entries {
                let key = key_text(k);
                if !a.entries.iter().any(|(ak, _)| key_text(ak) == key) {
                    ops.push(Operation {
                        op: Op::Remove,
                        path: at.join(Seg::Key(Cow::Owned(key.into_owned()))),
                        append: false,
                        value: None,
                    });
                }
            }
            for (k, av) in &a.entries {
                let key = key_text(k);
                let seg = Seg::Key(Cow::Owned(key.clone().into_owned()));
                match b.entries.iter().find(|(bk, _)| key_text(bk) == key) {
                    Some((_, bv)) => {
                        at.0.push(seg);
                        diff_at(bv, av, at, ops);
                        at.0.pop();
                    }
                    None => ops.push(Operation {
                        op: Op::Add,
                        path: at.join(seg),
                        append: false,
                        value: Some(Json::of(av)),
                    }),
                }
            }
        }
        (Kind::Seq(b), Kind::Seq(a)) if b.items.len() == a.items.len() => {
            for (i, (bi, ai)) in b.items.iter().zip(&a.items).enumerate() {
                at.0.push(Seg::Index(i));
                diff_at(bi, ai, at, ops);
                at.0.pop();
            }
        }
        (Kind::Seq(b), Kind::Seq(a))
            if a.items.len() > b.items.len()
                && b.items
                    .iter()
                    .zip(&a.items)
                    .all(|(x, y)| Json::of(x) == Json::of(y)) =>
        {
            for item in &a.items[b.items.len()..] {
                ops.push(Operation {
                    op: Op::Add,
                    path: at.clone(),
                    append: true,
                    value: Some(Json::of(item)),
                });
            }
        }
        _ => {
            let (b, a) = (Json::of(before), Json::of(after));
            if b != a {
                ops.push(Operation {
                    op: Op::Replace,
                    path: at.clone(),
                    append: false,
                    value: Some(a),
                });
            }
        }
    }
}

/// What a kustomize patch selects: the object's group, version, kind, name and namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `None` for the core group (`apiVersion: v1`).
    pub group: Option<String>,
    pub version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// The operations for one object.
#[derive(Clone, Debug)]
pub struct Patch {
    pub target: Target,
    pub operations: Vec<Operation>,
    /// The checks the fixes resolve, in the engine's order, once each.
    pub checks: Vec<&'static str>,
    /// The file and where the object starts, for the comment above the patch.
    pub file: String,
    pub pos: Pos,
}

/// An object the fixes change but a patch cannot select.
#[derive(Clone, Debug)]
pub struct Unpatchable {
    pub file: String,
    pub pos: Pos,
    pub reason: String,
}

impl std::fmt::Display for Unpatchable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.pos.line, self.pos.col, self.reason
        )
    }
}

/// The patches that turn `input` (the text [`crate::process`] read as `file`) into
/// `report.output`, one per changed object, and the changed objects no patch can select.
pub fn patches(
    file: &str,
    input: &str,
    report: &FileReport,
) -> Result<(Vec<Patch>, Vec<Unpatchable>), Error> {
    let Some(output) = &report.output else {
        return Ok((Vec::new(), Vec::new()));
    };
    let lines = LineIndex::new(input);
    let mut found = Vec::new();
    let mut refused = Vec::new();
    let read_err = |e: crate::error::Located| e.in_file(file);
    let mut fixed = Documents::new(output);
    for (index, doc) in Documents::new(input).enumerate() {
        let doc = doc.map_err(read_err)?;
        let Some(out) = fixed.next() else {
            return Err(Error::new(
                file,
                None,
                "the fixed text has fewer documents than the input",
            ));
        };
        let out = out.map_err(|e| {
            Error::new(
                file,
                None,
                format!("the fixed text does not read back: {}", e.message),
            )
        })?;
        let unresolved =
            |at: usize, m: &str| Error::new(file, Some(lines.pos(input, at)), m.to_owned());
        let before = doc.data().map_err(|u| unresolved(u.at, &u.message))?;
        let after = out.data().map_err(|u| unresolved(u.at, &u.message))?;
        let operations = diff(before, after);
        if operations.is_empty() {
            continue;
        }
        let pos = lines.pos(input, before.start);
        match target(before) {
            Ok(target) => {
                let mut checks: Vec<&'static str> = Vec::new();
                for w in report.workloads.iter().filter(|w| w.document == index) {
                    for a in &w.added {
                        if !checks.contains(&a.check) {
                            checks.push(a.check);
                        }
                    }
                }
                found.push(Patch {
                    target,
                    operations,
                    checks,
                    file: file.to_owned(),
                    pos,
                });
            }
            Err(reason) => refused.push(Unpatchable {
                file: file.to_owned(),
                pos,
                reason,
            }),
        }
    }
    Ok((found, refused))
}

/// The kustomize target of an object, or why it has none.
fn target(root: &Node<'_>) -> Result<Target, String> {
    let text = |n: Option<&Node<'_>>| n.and_then(Node::as_str).map(str::to_owned);
    let kind = text(root.get("kind")).unwrap_or_default();
    let what = || {
        if kind.is_empty() {
            "the object".to_owned()
        } else {
            format!("this {kind}")
        }
    };
    if kind == "List" || kind.ends_with("List") && root.get("items").is_some() {
        return Err(format!(
            "the fixes change items of a `kind: {kind}`, which a kustomize patch cannot select; \
             split the list into documents, or use `pss-fix fix`"
        ));
    }
    if kind.is_empty() {
        return Err("the object has no `kind`, which a kustomize patch needs".into());
    }
    let Some(api_version) = text(root.get("apiVersion")).filter(|v| !v.is_empty()) else {
        return Err(format!(
            "{} has no `apiVersion`, which a kustomize patch needs",
            what()
        ));
    };
    let metadata = root.get("metadata");
    let Some(name) = text(metadata.and_then(|m| m.get("name"))).filter(|n| !n.is_empty()) else {
        let generated = metadata.and_then(|m| m.get("generateName")).is_some();
        return Err(format!(
            "{} has no `metadata.name`{}, and a kustomize patch selects objects by name; use \
             `pss-fix fix`",
            what(),
            if generated {
                " (only `generateName`)"
            } else {
                ""
            }
        ));
    };
    let namespace = text(metadata.and_then(|m| m.get("namespace"))).filter(|n| !n.is_empty());
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (Some(g.to_owned()), v.to_owned()),
        None => (None, api_version),
    };
    Ok(Target {
        group,
        version,
        kind,
        name,
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(before: &str, after: &str) -> Vec<(Op, String, Option<Json>)> {
        let b = Documents::new(before).next().unwrap().unwrap();
        let a = Documents::new(after).next().unwrap().unwrap();
        diff(b.data().unwrap(), a.data().unwrap())
            .into_iter()
            .map(|o| (o.op, o.pointer(), o.value))
            .collect()
    }

    #[test]
    fn a_missing_parent_is_added_whole() {
        let got = ops("spec: {}\n", "spec:\n  sc:\n    a: true\n    b: 1\n");
        assert_eq!(
            got,
            vec![(
                Op::Add,
                "/spec/sc".into(),
                Some(Json::Map(vec![
                    ("a".into(), Json::Bool(true)),
                    ("b".into(), Json::Int(1))
                ]))
            )]
        );
    }

    #[test]
    fn scalars_are_typed_as_kubernetes_reads_them() {
        let got = ops("a: yes\nb: '1'\n", "a: no\nb: 0x10\n");
        assert_eq!(
            got,
            vec![
                (Op::Replace, "/a".into(), Some(Json::Bool(false))),
                (Op::Replace, "/b".into(), Some(Json::Int(16))),
            ]
        );
        // The same data written differently is no change.
        assert!(ops("a: 'x'\nb: {c: 1}\n", "a: x\nb:\n  c: 0x1\n").is_empty());
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let got = ops(
            "metadata: {annotations: {}}\n",
            "metadata: {annotations: {a.b/c~d: x}}\n",
        );
        assert_eq!(got[0].1, "/metadata/annotations/a.b~1c~0d");
    }

    #[test]
    fn sequences_grow_at_the_end_or_are_replaced() {
        let got = ops("drop: [NET_RAW]\n", "drop: [NET_RAW, ALL]\n");
        assert_eq!(
            got,
            vec![(Op::Add, "/drop/-".into(), Some(Json::Str("ALL".into())))]
        );
        let got = ops("add: [NET_ADMIN, CHOWN]\n", "add: [CHOWN]\n");
        assert_eq!(
            got,
            vec![(
                Op::Replace,
                "/add".into(),
                Some(Json::Seq(vec![Json::Str("CHOWN".into())]))
            )]
        );
        // Same length: item by item, so containers are patched in place.
        let got = ops("c: [{n: a}, {n: b}]\n", "c: [{n: a}, {n: b, x: 1}]\n");
        assert_eq!(got, vec![(Op::Add, "/c/1/x".into(), Some(Json::Int(1)))]);
    }

    #[test]
    fn removed_keys_and_type_changes() {
        let got = ops("sc: {privileged: true, a: 1}\n", "sc: {a: 1}\n");
        assert_eq!(got, vec![(Op::Remove, "/sc/privileged".into(), None)]);
        let got = ops("sc:\n", "sc: {a: 1}\n");
        assert_eq!(
            got,
            vec![(
                Op::Replace,
                "/sc".into(),
                Some(Json::Map(vec![("a".into(), Json::Int(1))]))
            )]
        );
    }

    #[test]
    fn targets_need_a_name_and_no_list() {
        let doc = |t: &str| {
            let d = Documents::new(t).next().unwrap().unwrap();
            target(&d.root)
        };
        let t = doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w, namespace: n}\n")
            .unwrap();
        assert_eq!(t.group.as_deref(), Some("apps"));
        assert_eq!(t.version, "v1");
        assert_eq!(t.namespace.as_deref(), Some("n"));
        let t = doc("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n").unwrap();
        assert_eq!((t.group, t.namespace), (None, None));
        let e = doc("apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: j-}\n").unwrap_err();
        assert!(e.contains("generateName"), "{e}");
        let e = doc("apiVersion: v1\nkind: List\nitems: []\n").unwrap_err();
        assert!(e.contains("kind: List"), "{e}");
    }
}
