//! Fields the API does not know, and values of the wrong type, inside a pod template.
//!
//! A misspelled key (`runAsNonroot: true`) is dropped or rejected by the API server, so the
//! pod still fails admission however the document looks; a value of the wrong type
//! (`runAsNonRoot: "yes"`) is rejected outright. Both are reported here with their path, so a
//! fix is never inserted beside its misspelled twin without a word.
//!
//! The field names and types come from k8s-openapi: the JSON schema its `schemars` feature
//! generates for `PodSpec` and `ObjectMeta`, walked into a compact [`Table`]. The walk runs
//! in a test, not at run time (it cost some 8% of the instructions of a 100 KB post-render):
//! its result is checked in as static data (`table.rs`), and the test fails when that file
//! no longer matches the k8s-openapi in `Cargo.lock`. The span tree is checked against the
//! table without building anything per node. Nothing here writes a typed struct back.
//!
//! Scalars are resolved as Kubernetes reads YAML ([`resolve`]: plain `yes` is a boolean,
//! quoted `"yes"` a string); a null is accepted everywhere (it means absent). Maps with
//! free-form keys (labels, annotations, `nodeSelector`, resource limits…) have only their
//! values checked. Aliases and merge keys are left alone: they are refused elsewhere.

use std::borrow::Cow;
use std::fmt;

use crate::path::{Path, Seg};
use crate::yaml::scalar::{resolve, Resolved};
use crate::yaml::{Kind, Node, ScalarStyle};

use table::TABLE;

#[cfg(test)]
mod generate;
#[cfg(test)]
mod manifests_tests;
// Generated, one line per field; `cargo fmt` would reflow it and the freshness test would
// then fail.
#[rustfmt::skip]
mod table;

/// A field the API does not know, or a value of the wrong type, inside a pod template.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// From the document root: the unknown key itself (`…securityContext.runAsNonroot`), or
    /// the value of the wrong type.
    pub path: Path,
    /// Byte offset of the unknown key, or of the value of the wrong type.
    pub at: usize,
    pub kind: IssueKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum IssueKind {
    UnknownField {
        field: String,
        /// The known sibling field it most likely misspells.
        suggestion: Option<String>,
    },
    WrongType {
        /// `boolean`, `integer`, `number`, `string`, `integer or string`, `number or
        /// string`, `object` or `array`.
        expected: &'static str,
        /// `boolean`, `integer`, `number`, `string`, `object` or `array`.
        found: &'static str,
        /// The scalar's text, for messages (`None` for a collection).
        value: Option<String>,
    },
}

impl Issue {
    /// One line, without position: the caller adds file, line and column.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The mapping the issue sits in (the unknown key's parent), or the value's own path.
    pub fn parent(&self) -> Path {
        match self.kind {
            IssueKind::UnknownField { .. } => {
                Path(self.path.0[..self.path.0.len().saturating_sub(1)].to_vec())
            }
            IssueKind::WrongType { .. } => self.path.clone(),
        }
    }

    /// For a misspelled field with a suggestion, the path of the field it stands in for
    /// (`…securityContext.runAsNonRoot`): a fix inserting there would sit beside its
    /// misspelled twin, and must say so.
    #[cfg(test)]
    pub fn twin(&self) -> Option<Path> {
        match &self.kind {
            IssueKind::UnknownField {
                suggestion: Some(s),
                ..
            } => Some(self.parent().join(Seg::Key(Cow::Owned(s.clone())))),
            _ => None,
        }
    }
}

/// The misspelled twin of a field a fix would write at `inserted`: an unknown field whose
/// suggestion is `inserted` or one of the mappings above it (`securityContex` when a fix
/// writes `…securityContext.runAsNonRoot`). A fix that finds one must say so.
pub fn twin_of<'i>(issues: &'i [Issue], inserted: &Path) -> Option<&'i Issue> {
    issues.iter().find(|i| {
        let IssueKind::UnknownField {
            suggestion: Some(s),
            ..
        } = &i.kind
        else {
            return false;
        };
        let Some((_, parent)) = i.path.0.split_last() else {
            return false;
        };
        inserted.0.len() > parent.len()
            && inserted.0.starts_with(parent)
            && matches!(&inserted.0[parent.len()], Seg::Key(k) if k == s)
    })
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IssueKind::UnknownField { field, suggestion } => {
                let parent = self.parent();
                write!(f, "unknown field {field:?} in ")?;
                if parent.0.is_empty() {
                    f.write_str("the document root")?;
                } else {
                    write!(f, "{parent}")?;
                }
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s:?}?)")?;
                }
                Ok(())
            }
            IssueKind::WrongType {
                expected,
                found,
                value,
            } => {
                write!(
                    f,
                    "{}: expected {} {expected}, found {} {found}",
                    self.path,
                    article(expected),
                    article(found)
                )?;
                match value {
                    Some(v) if *found == "string" => write!(f, " ({v:?})"),
                    Some(v) => write!(f, " ({v})"),
                    None => Ok(()),
                }
            }
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Every issue in the pod template whose `metadata` and `spec` nodes are at `meta`/`spec`
/// below `root`. An absent or null node has none.
pub fn inspect(root: &Node<'_>, meta: &Path, spec: &Path) -> Vec<Issue> {
    let table = &TABLE;
    let mut out = Vec::new();
    for (path, ty) in [(meta, table.object_meta), (spec, table.pod_spec)] {
        if let Some(node) = root.at(path.segs()) {
            let frame = Frame {
                parent: None,
                seg: Step::Base(path),
            };
            check(table, node, &Ty::Struct(ty), &frame, &mut out);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The walk.

/// The path to the node being checked, kept on the stack and only turned into a [`Path`]
/// when there is something to report.
struct Frame<'p> {
    parent: Option<&'p Frame<'p>>,
    seg: Step<'p>,
}

enum Step<'p> {
    Base(&'p Path),
    Key(&'p str),
    Index(usize),
}

impl Frame<'_> {
    fn path(&self) -> Path {
        let mut rev = Vec::new();
        let mut frame = Some(self);
        let mut base = Path::root();
        while let Some(f) = frame {
            match f.seg {
                Step::Base(p) => base = p.clone(),
                Step::Key(k) => rev.push(Seg::Key(Cow::Owned(k.to_owned()))),
                Step::Index(i) => rev.push(Seg::Index(i)),
            }
            frame = f.parent;
        }
        base.0.extend(rev.into_iter().rev());
        base
    }
}

fn check(table: &Table, node: &Node<'_>, ty: &Ty, at: &Frame<'_>, out: &mut Vec<Issue>) {
    let found = match &node.kind {
        Kind::Alias(_) => return,
        Kind::Scalar(s) => {
            let found = match resolve(s) {
                Resolved::Null => return,
                Resolved::Bool(_) => Found::Boolean,
                Resolved::Int(_) => Found::Integer,
                Resolved::Float(_) => Found::Number,
                Resolved::Str(_) => Found::String,
            };
            if ty.accepts(found) {
                return;
            }
            found
        }
        Kind::Seq(seq) => {
            let Ty::Array(item) = ty else {
                if !ty.accepts(Found::Array) {
                    out.push(wrong_type(node, ty, Found::Array, at));
                }
                return;
            };
            for (i, n) in seq.items.iter().enumerate() {
                let frame = Frame {
                    parent: Some(at),
                    seg: Step::Index(i),
                };
                check(table, n, item, &frame, out);
            }
            return;
        }
        Kind::Map(map) => {
            match ty {
                Ty::Struct(i) => {
                    let st = &table.structs[*i];
                    for (k, v) in &map.entries {
                        let Some(key) = k.as_scalar() else { continue };
                        let key = key.value.as_ref();
                        if is_directive(k, key) {
                            continue;
                        }
                        let frame = Frame {
                            parent: Some(at),
                            seg: Step::Key(key),
                        };
                        match st.field(key) {
                            Some(fty) => check(table, v, fty, &frame, out),
                            None => out.push(Issue {
                                path: frame.path(),
                                at: k.start,
                                kind: IssueKind::UnknownField {
                                    field: key.to_owned(),
                                    suggestion: st.suggest(key).map(str::to_owned),
                                },
                            }),
                        }
                    }
                }
                Ty::Map(value) => {
                    for (k, v) in &map.entries {
                        let Some(key) = k.as_scalar() else { continue };
                        let frame = Frame {
                            parent: Some(at),
                            seg: Step::Key(key.value.as_ref()),
                        };
                        check(table, v, value, &frame, out);
                    }
                }
                _ if ty.accepts(Found::Object) => {}
                _ => out.push(wrong_type(node, ty, Found::Object, at)),
            }
            return;
        }
    };
    out.push(wrong_type(node, ty, found, at));
}

/// A key that is no field: a merge key (refused elsewhere) or a strategic-merge-patch
/// directive (`$patch`, `$setElementOrder/containers`) of a kustomize patch.
fn is_directive(k: &Node<'_>, key: &str) -> bool {
    key.starts_with('$')
        || (key == "<<" && k.as_scalar().is_some_and(|s| s.style == ScalarStyle::Plain))
}

fn wrong_type(node: &Node<'_>, ty: &Ty, found: Found, at: &Frame<'_>) -> Issue {
    Issue {
        path: at.path(),
        at: node.start,
        kind: IssueKind::WrongType {
            expected: ty.name(),
            found: found.name(),
            value: node.as_scalar().map(|s| shorten(&s.value)),
        },
    }
}

fn shorten(v: &str) -> String {
    const MAX: usize = 40;
    match v.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// The field table.

/// What a value turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Boolean,
    Integer,
    Number,
    String,
    Object,
    Array,
}

impl Found {
    fn name(self) -> &'static str {
        match self {
            Found::Boolean => "boolean",
            Found::Integer => "integer",
            Found::Number => "number",
            Found::String => "string",
            Found::Object => "object",
            Found::Array => "array",
        }
    }
}

/// A field's type, as the schema states it.
///
/// The checked-in table has no `Number` and no `Any` (no such field under `PodSpec` or
/// `ObjectMeta` today); they stay so that a k8s-openapi upgrade that brings one only means
/// regenerating the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Boolean,
    Integer,
    #[cfg_attr(not(test), allow(dead_code))]
    Number,
    String,
    /// `x-kubernetes-int-or-string` (`IntOrString`: a port number or name).
    IntOrString,
    /// `Quantity`, also `x-kubernetes-int-or-string`, but any JSON number is accepted.
    Quantity,
    /// An object with known properties: an index into [`Table::structs`].
    Struct(usize),
    /// `additionalProperties`: free-form keys, values of one type.
    Map(&'static Ty),
    /// An object the schema says nothing more about (`FieldsV1`).
    Object,
    Array(&'static Ty),
    /// A schema this table does not understand: anything goes.
    #[cfg_attr(not(test), allow(dead_code))]
    Any,
}

impl Ty {
    fn accepts(&self, found: Found) -> bool {
        match self {
            Ty::Any => true,
            Ty::Boolean => found == Found::Boolean,
            Ty::Integer => found == Found::Integer,
            Ty::Number => matches!(found, Found::Integer | Found::Number),
            Ty::String => found == Found::String,
            Ty::IntOrString => matches!(found, Found::Integer | Found::String),
            Ty::Quantity => matches!(found, Found::Integer | Found::Number | Found::String),
            Ty::Struct(_) | Ty::Map(_) | Ty::Object => found == Found::Object,
            Ty::Array(_) => found == Found::Array,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Ty::Boolean => "boolean",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::String => "string",
            Ty::IntOrString => "integer or string",
            Ty::Quantity => "number or string",
            Ty::Struct(_) | Ty::Map(_) | Ty::Object => "object",
            Ty::Array(_) => "array",
            Ty::Any => "any value",
        }
    }
}

/// One object type: its fields, sorted by name.
#[derive(Debug, PartialEq, Eq)]
struct Struct {
    fields: &'static [(&'static str, Ty)],
}

impl Struct {
    fn field(&self, name: &str) -> Option<&Ty> {
        self.fields
            .binary_search_by(|(f, _)| (*f).cmp(name))
            .ok()
            .map(|i| &self.fields[i].1)
    }

    /// The known field `unknown` most likely misspells: a case-insensitive match first, then
    /// the closest by Damerau-Levenshtein distance (ignoring case), within 2 edits or a third
    /// of the name's length. Ties go to the first field in name order.
    fn suggest(&self, unknown: &str) -> Option<&str> {
        if let Some((f, _)) = self
            .fields
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(unknown))
        {
            return Some(f);
        }
        let lower = unknown.to_lowercase();
        let limit = (lower.chars().count() / 3).max(2);
        self.fields
            .iter()
            .map(|(f, _)| (strsim::damerau_levenshtein(&lower, &f.to_lowercase()), f))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, _)| *d)
            .map(|(_, f)| *f)
    }
}

/// Every object type reachable from `PodSpec` and `ObjectMeta`.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    structs: &'static [Struct],
    pod_spec: usize,
    object_meta: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'t>(t: &'t Table, st: usize, name: &str) -> &'t Ty {
        t.structs[st]
            .field(name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    fn strukt(ty: &Ty) -> usize {
        match ty {
            Ty::Struct(i) => *i,
            other => panic!("not a struct: {other:?}"),
        }
    }

    #[test]
    fn table_knows_the_pod_spec() {
        let t = &TABLE;
        let sc = strukt(field(t, t.pod_spec, "securityContext"));
        assert!(matches!(field(t, sc, "runAsNonRoot"), Ty::Boolean));
        assert!(
            matches!(field(t, t.pod_spec, "nodeSelector"), Ty::Map(v) if matches!(v, Ty::String))
        );
        let Ty::Array(c) = field(t, t.pod_spec, "containers") else {
            panic!("containers is not an array")
        };
        let c = strukt(c);
        let res = strukt(field(t, c, "resources"));
        assert!(matches!(field(t, res, "limits"), Ty::Map(v) if matches!(v, Ty::Quantity)));
        let probe = strukt(field(t, c, "livenessProbe"));
        let http = strukt(field(t, probe, "httpGet"));
        assert!(matches!(field(t, http, "port"), Ty::IntOrString));
        assert!(matches!(field(t, t.object_meta, "labels"), Ty::Map(_)));
        assert!(matches!(
            field(t, t.object_meta, "creationTimestamp"),
            Ty::String
        ));
        assert!(t.structs[t.pod_spec].field("runAsNonRoot").is_none());
    }

    #[test]
    fn suggestions() {
        let t = &TABLE;
        let sc = &t.structs[strukt(field(t, t.pod_spec, "securityContext"))];
        assert_eq!(sc.suggest("runAsNonroot"), Some("runAsNonRoot"));
        assert_eq!(sc.suggest("runasnonroot"), Some("runAsNonRoot"));
        assert_eq!(sc.suggest("runAsNonRot"), Some("runAsNonRoot"));
        assert_eq!(sc.suggest("image"), None);
        let spec = &t.structs[t.pod_spec];
        assert_eq!(spec.suggest("contianers"), Some("containers"));
        assert_eq!(spec.suggest("hostnetwork"), Some("hostNetwork"));
    }

    #[test]
    fn messages() {
        let base = Path::root().key("spec").key("securityContext");
        let unknown = Issue {
            path: base.key("runAsNonroot"),
            at: 0,
            kind: IssueKind::UnknownField {
                field: "runAsNonroot".into(),
                suggestion: Some("runAsNonRoot".into()),
            },
        };
        assert_eq!(
            unknown.message(),
            "unknown field \"runAsNonroot\" in spec.securityContext (did you mean \"runAsNonRoot\"?)"
        );
        assert_eq!(unknown.twin(), Some(base.key("runAsNonRoot")));
        let wrong = Issue {
            path: base.key("runAsNonRoot"),
            at: 0,
            kind: IssueKind::WrongType {
                expected: "boolean",
                found: "string",
                value: Some("yes".into()),
            },
        };
        assert_eq!(
            wrong.message(),
            "spec.securityContext.runAsNonRoot: expected a boolean, found a string (\"yes\")"
        );
        assert_eq!(wrong.twin(), None);
    }
}
