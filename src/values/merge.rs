//! Merging an [`Overlay`] into a file that already holds values, losslessly: the values root
//! is found (a plain values file's root mapping, a Flux `HelmRelease`'s `spec.values`, an
//! Argo CD `Application`'s `helm.valuesObject`), each overlay key is compared with what the
//! file has, absent keys are added by the edit engine ([`crate::edit::plan`],
//! [`crate::edit::render`], [`crate::edit::apply`]) in the file's own style with their
//! comments on the line above, and an existing value is kept (reported) unless overwriting
//! is allowed. Nothing the author wrote is re-serialized.
//!
//! The result is read back before it is returned: every document but the one edited must be
//! the same data, and that one must be the input with exactly the written keys put in
//! (Helm's merge of values: mappings key by key, everything else replaced). Any doubt is an
//! [`Error`] with a position, and the caller leaves the file untouched.

use std::borrow::Cow;

use crate::edit::plan::{Planner, Refusal, Want};
use crate::edit::render;
use crate::edit::value::Value;
use crate::edit::{apply, Edit};
use crate::error::{Error, Located};
use crate::path::{Path, Seg};
use crate::values::overlay::{flow, Node as Key, Overlay, Tree};
use crate::values::tree::{self, from_node};
use crate::yaml::source::{line_start, Eol, LineIndex};
use crate::yaml::style::DocStyle;
use crate::yaml::{Document, Documents, Kind, Node};

/// What [`merge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged text; `None` when every key was already there (or kept).
    pub output: Option<String>,
    /// Which document of the file holds the values (0-based).
    pub document: usize,
    /// Where the values sit in that document (`spec.values`; empty for a values file).
    pub root: Path,
    /// The keys written, from the values root: the highest absent key of each addition, and
    /// each value replaced when overwriting is allowed.
    pub added: Vec<Path>,
    /// Overlay keys whose value differs from the file's, left as the file has them.
    pub kept: Vec<Kept>,
    /// Keys in `added` whose comment could not be written above them (inside flow
    /// collections, in JSON, or on a line the author wrote).
    pub uncommented: Vec<Path>,
}

/// An overlay key the file already sets to something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// From the values root.
    pub path: Path,
    /// 1-based position of the file's value.
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Where the values of a file sit.
struct Target {
    /// The document's index.
    index: usize,
    /// The deepest node on the way to the values that must exist as written.
    base: Path,
    /// Keys from `base` to the values root, created when absent.
    prefix: &'static [&'static str],
    /// A values file with no content to edit (no document, or only comments): the overlay
    /// is appended as a document of its own.
    empty: bool,
}

/// The plan of one merge, keys from the document root.
#[derive(Default)]
struct Plan {
    /// Absent (or null) keys and their value.
    add: Vec<(Path, Value)>,
    /// Scalars replaced (only when overwriting is allowed).
    set: Vec<(Path, Value)>,
    /// Comments to write above new keys: the key's path and the line's text.
    comments: Vec<(Path, String)>,
    /// Keys left as the file has them (paths from the document root, as in the message).
    kept: Vec<Kept>,
}

/// Merge `overlay` into the values held by `text` (file `name`, for messages), adding only
/// absent keys; with `allow_overwrite` a differing scalar is replaced too (a differing list
/// or mapping is still kept: the edit engine replaces scalars only).
pub fn merge(
    name: &str,
    text: &str,
    overlay: &Overlay,
    allow_overwrite: bool,
) -> Result<Merged, Error> {
    let lines = LineIndex::new(text);
    let at = |offset: usize, message: String| Located::at(lines.pos(text, offset), message);
    let docs: Vec<Document<'_>> = Documents::new(text)
        .collect::<Result<_, _>>()
        .map_err(|e: Located| e.in_file(name))?;
    let target =
        find_target(&docs).map_err(|(offset, message)| at(offset, message).in_file(name))?;
    let root = target.base.extend(&keys_path(target.prefix));
    if target.empty {
        return append_document(name, text, &docs, &target, overlay, root);
    }
    let doc = &docs[target.index];
    let data = doc
        .data()
        .map_err(|u| at(u.at, u.message.clone()).in_file(name))?;
    let values = values_root(data, &target, &at).map_err(|e| e.in_file(name))?;

    let mut plan = Plan::default();
    let decider = Decider {
        allow_overwrite,
        written: &doc.root,
        lines: &lines,
        text,
    };
    decider
        .decide(&overlay.entries, values, &root, &mut plan)
        .map_err(|e| e.in_file(name))?;
    let added = plan.add.iter().chain(&plan.set);
    let kept = plan.kept.iter().map(|k| Kept {
        path: relative(&root, &k.path),
        ..k.clone()
    });
    let mut merged = Merged {
        output: None,
        document: target.index,
        root: root.clone(),
        added: added.map(|(p, _)| relative(&root, p)).collect(),
        kept: kept.collect(),
        uncommented: Vec::new(),
    };
    if plan.add.is_empty() && plan.set.is_empty() {
        return Ok(merged);
    }
    let source = Source {
        name,
        text,
        lines: &lines,
        docs: &docs,
        target: &target,
        data,
    };
    let (output, uncommented) = source.write(plan)?;
    merged.uncommented = uncommented.iter().map(|p| relative(&root, p)).collect();
    merged.output = Some(output);
    Ok(merged)
}

/// `path` (from the document root) from the values root.
fn relative(root: &Path, path: &Path) -> Path {
    Path(path.segs()[root.segs().len()..].to_vec())
}

/// The file a merge edits, and where its values sit.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
    lines: &'a LineIndex,
    docs: &'a [Document<'a>],
    target: &'a Target,
    /// The target document's data.
    data: &'a Node<'a>,
}

impl Source<'_> {
    /// Apply `plan`, write its comments, and read the result back: the merged text, and the
    /// keys whose comment could not be written.
    fn write(&self, plan: Plan) -> Result<(String, Vec<Path>), Error> {
        let doc = &self.docs[self.target.index];
        let eol = Eol::of(self.text);
        let edits = self.edits(&plan, eol)?;
        let written = written_ranges(&edits);
        let first = apply(self.text, edits).map_err(|o| {
            let message = "internal: two planned edits overlap; nothing written".to_owned();
            Located::at(self.lines.pos(self.text, o.at), message).in_file(self.name)
        })?;
        let at_doc = |m| Error::new(self.name, Some(self.lines.pos(self.text, doc.start)), m);
        let (output, uncommented) =
            write_comments(&first, self.target.index, &plan.comments, &written, eol)
                .map_err(at_doc)?;
        let applied: Vec<(Path, Value)> = plan.add.into_iter().chain(plan.set).collect();
        verify(self.docs, &output, self.target.index, &applied).map_err(at_doc)?;
        Ok((output, uncommented))
    }

    /// The text edits of the plan's additions and replacements, in the document's style.
    fn edits(&self, plan: &Plan, eol: Eol) -> Result<Vec<Edit>, Error> {
        let doc = &self.docs[self.target.index];
        let base = &self.target.base;
        let refuse = |r: Refusal| r.locate(self.text, self.lines).in_file(self.name);
        let mut adds = Planner::new(&doc.root, self.data);
        for (path, value) in &plan.add {
            let keys: Vec<Cow<'static, str>> = path.segs()[base.segs().len()..]
                .iter()
                .filter_map(|s| match s {
                    Seg::Key(k) => Some(k.clone()),
                    Seg::Index(_) => None,
                })
                .collect();
            adds.ensure(base, &keys, Want::Present(value.clone()))
                .map_err(refuse)?;
        }
        let mut sets = Planner::new(&doc.root, self.data);
        for (path, value) in &plan.set {
            sets.set(path, value.clone()).map_err(refuse)?;
        }
        let style = DocStyle::of(self.text, &doc.root, eol);
        let mut edits = Vec::new();
        for change in adds.into_changes().iter().chain(&sets.into_changes()) {
            edits.extend(render::edits(self.text, &doc.root, &style, change).map_err(refuse)?);
        }
        Ok(edits)
    }
}

fn keys_path(keys: &[&'static str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::key(k)).collect()
}

/// What kind of document holds values, from its `apiVersion` and `kind`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    HelmRelease,
    Application,
}

fn holder(data: &Node<'_>) -> Option<Holder> {
    let api = data.get("apiVersion")?.as_str()?;
    let kind = data.get("kind")?.as_str()?;
    match kind {
        "HelmRelease" if api.starts_with("helm.toolkit.fluxcd.io/") => Some(Holder::HelmRelease),
        "Application" if api.starts_with("argoproj.io/") => Some(Holder::Application),
        _ => None,
    }
}

fn label(h: Holder, data: &Node<'_>) -> String {
    let name = data
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("?");
    format!("{h:?}/{name}")
}

/// Which document holds the values, and where in it; errors as (offset, reason).
fn find_target(docs: &[Document<'_>]) -> Result<Target, (usize, String)> {
    let mut holders = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let data = doc.data().map_err(|u| (u.at, u.message.clone()))?;
        if let Some(h) = holder(data) {
            holders.push((i, h, data));
        }
    }
    match holders.as_slice() {
        [] => {}
        [(i, Holder::HelmRelease, _)] => {
            return Ok(Target {
                index: *i,
                base: Path::root(),
                prefix: &["spec", "values"],
                empty: false,
            })
        }
        [(i, Holder::Application, data)] => {
            return Ok(Target {
                index: *i,
                base: application_source(&docs[*i].root, data)?,
                prefix: &["helm", "valuesObject"],
                empty: false,
            })
        }
        [_, (j, ..), ..] => {
            let names: Vec<String> = holders.iter().map(|(_, h, d)| label(*h, d)).collect();
            return Err((
                docs[*j].root.start,
                format!(
                    "{} documents hold values ({}); pss-fix merges into one: put it in a file of its own",
                    holders.len(),
                    names.join(", ")
                ),
            ));
        }
    }
    // A plain values file: its one document with content.
    let full: Vec<usize> = (0..docs.len())
        .filter(|&i| !(docs[i].root.is_null() && docs[i].root.start == docs[i].root.end))
        .collect();
    match full.as_slice() {
        [] => Ok(Target {
            index: docs.len().saturating_sub(1),
            base: Path::root(),
            prefix: &[],
            empty: true,
        }),
        [i] => {
            let root = &docs[*i].root;
            match &root.kind {
                Kind::Map(_) => {}
                // `~` or `null`: filled in place.
                _ if root.is_null() => {}
                _ => {
                    return Err((
                        root.start,
                        "the values file's root is not a mapping of keys".into(),
                    ))
                }
            }
            Ok(Target {
                index: *i,
                base: Path::root(),
                prefix: &[],
                empty: false,
            })
        }
        [_, j, ..] => Err((
            docs[*j].root.start,
            format!(
                "this file holds {} documents and none is a Flux HelmRelease or an Argo CD Application: which one holds the values?",
                full.len()
            ),
        )),
    }
}

/// The source of an Argo CD Application whose `helm.valuesObject` gets the values:
/// `spec.source`, or the one of `spec.sources` that has `helm` (or the only one).
fn application_source(root: &Node<'_>, data: &Node<'_>) -> Result<Path, (usize, String)> {
    let spec = data
        .get("spec")
        .ok_or((data.start, "this Application has no spec".to_owned()))?;
    let source = spec.get("source").filter(|s| !s.is_null());
    let sources = spec.get("sources").filter(|s| !s.is_null());
    let path = match (source, sources) {
        (Some(_), Some(s)) => {
            return Err((
                s.start,
                "this Application has both spec.source and spec.sources; Argo CD reads only spec.sources, so which source should get the values?".into(),
            ))
        }
        (Some(_), None) => Path::root().key("spec").key("source"),
        (None, Some(list)) => {
            let items = list.as_seq().map(|s| s.items.as_slice()).unwrap_or(&[]);
            let with_helm: Vec<usize> = (0..items.len())
                .filter(|&i| items[i].get("helm").is_some())
                .collect();
            let i = match (with_helm.as_slice(), items.len()) {
                ([i], _) => *i,
                ([], 1) => 0,
                ([], n) => {
                    return Err((
                        list.start,
                        format!("none of the {n} sources of this Application has helm: which one is the chart?"),
                    ))
                }
                (many, _) => {
                    return Err((
                        items[many[1]].start,
                        format!(
                            "{} sources of this Application have helm (items {}): which one should get the values?",
                            many.len(),
                            many.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            };
            Path::root().key("spec").key("sources").index(i)
        }
        (None, None) => {
            return Err((
                spec.start,
                "this Application has neither spec.source nor spec.sources".into(),
            ))
        }
    };
    let Some(written) = root.at(path.segs()) else {
        return Err((
            spec.start,
            format!("{path} is written through an alias or a merge key; pss-fix does not edit through them"),
        ));
    };
    if written.as_map().is_none() {
        return Err((written.start, format!("{path} is not a mapping")));
    }
    // `helm.values`, a string of YAML, is dropped by Argo CD once `valuesObject` is set.
    let helm = written.get("helm");
    let string = helm
        .and_then(|h| h.entry("values"))
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k);
    let object = helm
        .and_then(|h| h.get("valuesObject"))
        .filter(|v| !v.is_null());
    if let (Some(s), None) = (string, object) {
        return Err((
            s.start,
            format!(
                "{path}.helm.values holds the values as a string, which pss-fix cannot edit, and a valuesObject beside it would make Argo CD ignore it: move the values to {path}.helm.valuesObject first"
            ),
        ));
    }
    Ok(path)
}

/// The values mapping as data, or `None` when it is absent or null (everything is added).
fn values_root<'t, 'a>(
    data: &'t Node<'a>,
    target: &Target,
    at: &impl Fn(usize, String) -> Located,
) -> Result<Option<&'t Node<'a>>, Located> {
    let mut node = data
        .at(target.base.segs())
        .ok_or_else(|| at(data.start, format!("internal: no node at {}", target.base)))?;
    let mut path = target.base.clone();
    for key in target.prefix {
        if node.is_null() {
            return Ok(None);
        }
        if node.as_map().is_none() {
            return Err(at(node.start, format!("{path} is not a mapping")));
        }
        path = path.key(key);
        match node.get(key) {
            Some(n) => node = n,
            None => return Ok(None),
        }
    }
    match &node.kind {
        _ if node.is_null() => Ok(None),
        Kind::Map(_) => Ok(Some(node)),
        _ => Err(at(
            node.start,
            format!(
                "{} is not a mapping of values",
                if path.segs().is_empty() {
                    "the document".to_owned()
                } else {
                    path.to_string()
                }
            ),
        )),
    }
}

/// Decides, key by key, what the merge does.
struct Decider<'t, 'a> {
    allow_overwrite: bool,
    /// The document as written, where replaced values must be.
    written: &'t Node<'a>,
    lines: &'t LineIndex,
    text: &'t str,
}

impl Decider<'_, '_> {
    /// Compare the overlay's `keys` with the file's mapping `file` (data; `None` when
    /// absent), at `path` from the document root.
    fn decide(
        &self,
        keys: &[(String, Key)],
        file: Option<&Node<'_>>,
        path: &Path,
        plan: &mut Plan,
    ) -> Result<(), Located> {
        for (k, key) in keys {
            let here = path.join(Seg::Key(Cow::Owned(k.clone())));
            let Some(have) = file.and_then(|f| f.get(k)).filter(|h| !h.is_null()) else {
                plan.add.push((here.clone(), key.value()));
                collect_comments(key, &here, &mut plan.comments);
                continue;
            };
            match &key.tree {
                Tree::Map(inner) if have.as_map().is_some() => {
                    self.decide(inner, Some(have), &here, plan)?;
                    continue;
                }
                Tree::Leaf(v) if from_node(have).ok() == Some(tree::Tree::of_value(v)) => continue,
                _ => {}
            }
            let pos = self.lines.pos(self.text, have.start);
            let value = key.value();
            if self.allow_overwrite && matches!(have.kind, Kind::Scalar(_)) {
                if self.written.at(here.segs()).is_none() {
                    return Err(Located::at(
                        pos,
                        format!("{here} is supplied by an alias or a merge key; pss-fix does not edit through them"),
                    ));
                }
                plan.set.push((here, value));
                continue;
            }
            let why = if self.allow_overwrite {
                "pss-fix replaces single values only"
            } else {
                "an existing value is kept"
            };
            let message = format!(
                "{here} is {} in the file; the overlay's {} was not written ({why})",
                describe(have, self.text),
                flow(&value)
            );
            plan.kept.push(Kept {
                path: here,
                line: pos.line,
                col: pos.col,
                message,
            });
        }
        Ok(())
    }
}

/// The comments of `key` at `path` and of every key below it.
fn collect_comments(key: &Key, path: &Path, out: &mut Vec<(Path, String)>) {
    if let Some(c) = key.comment() {
        out.push((path.clone(), c));
    }
    if let Tree::Map(inner) = &key.tree {
        for (k, child) in inner {
            collect_comments(child, &path.join(Seg::Key(Cow::Owned(k.clone()))), out);
        }
    }
}

/// A short description of a value the file holds, for messages.
fn describe(node: &Node<'_>, text: &str) -> String {
    match &node.kind {
        Kind::Map(_) => "a mapping".into(),
        Kind::Seq(_) => "a list".into(),
        _ => {
            let written = text.get(node.start..node.end).unwrap_or("");
            let first = written.lines().next().unwrap_or("");
            if first.chars().count() > 40 || first.len() < written.len() {
                let short: String = first.chars().take(40).collect();
                format!("{short}…")
            } else {
                first.to_owned()
            }
        }
    }
}

/// The byte ranges of the output that the edits wrote, in output offsets.
fn written_ranges(edits: &[Edit]) -> Vec<(usize, usize)> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start(), e.end()));
    let mut delta = 0isize;
    let mut out = Vec::with_capacity(sorted.len());
    for e in sorted {
        let start = (e.start() as isize + delta) as usize;
        out.push((start, start + e.content().len()));
        delta += e.content().len() as isize - (e.end() - e.start()) as isize;
    }
    out
}

/// Write each comment on a line of its own above its key, where the key starts a line that
/// pss-fix wrote and sits in block style. Returns the text and the keys left uncommented.
fn write_comments(
    text: &str,
    index: usize,
    comments: &[(Path, String)],
    written: &[(usize, usize)],
    eol: Eol,
) -> Result<(String, Vec<Path>), String> {
    if comments.is_empty() {
        return Ok((text.to_owned(), Vec::new()));
    }
    let doc = read_document(text, index)?;
    let json = DocStyle::of(text, &doc.root, eol).json;
    let mut edits = Vec::new();
    let mut uncommented = Vec::new();
    for (path, comment) in comments {
        match key_line(text, &doc.root, path) {
            Some(line) if !json && written.iter().any(|&(s, e)| s <= line.0 && line.1 < e) => {
                let indent = &text[line.0..line.1];
                edits.push(Edit::insertion(
                    format!("{indent}# {comment}{}", eol.as_str()),
                    line.0,
                    0,
                ));
            }
            _ => uncommented.push(path.clone()),
        }
    }
    let out = apply(text, edits).map_err(|_| "internal: two comments at one place".to_owned())?;
    Ok((out, uncommented))
}

/// The start of the line holding the key at `path` and the key's own start, when the key is
/// the first thing on its line and no collection on the way is in flow style.
fn key_line(text: &str, root: &Node<'_>, path: &Path) -> Option<(usize, usize)> {
    let (last, parents) = path.segs().split_last()?;
    let mut node = root;
    for seg in parents {
        if node.is_flow() {
            return None;
        }
        node = node.child(seg)?;
    }
    if node.is_flow() {
        return None;
    }
    let Seg::Key(k) = last else { return None };
    let (key, _) = node.entry(k)?;
    let start = line_start(text, key.start);
    text[start..key.start]
        .bytes()
        .all(|b| b == b' ')
        .then_some((start, key.start))
}

fn read_document<'a>(text: &'a str, index: usize) -> Result<Document<'a>, String> {
    Documents::new(text)
        .nth(index)
        .ok_or_else(|| "internal: the merged text lost a document; nothing written".to_owned())?
        .map_err(|e| {
            format!(
                "internal: the merged text does not read back ({}); nothing written",
                e.message
            )
        })
}

/// The output must read back as the input with `applied` put in at the document `index`,
/// every other document the same data.
fn verify(
    docs: &[Document<'_>],
    output: &str,
    index: usize,
    applied: &[(Path, Value)],
) -> Result<(), String> {
    let fail = |what: &str| format!("internal: {what}; nothing written");
    let out: Vec<Document<'_>> = Documents::new(output)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            fail(&format!(
                "the merged text does not read back ({})",
                e.message
            ))
        })?;
    let before = docs.len().max(index + 1);
    if out.len() != before {
        return Err(fail(&format!(
            "the merged text reads back as {} documents where {before} were expected",
            out.len()
        )));
    }
    let as_data = |d: &Document<'_>| -> Result<tree::Tree, String> {
        let node = d.data().map_err(|u| {
            fail(&format!(
                "the merged text does not read back ({})",
                u.message
            ))
        })?;
        from_node(node).map_err(fail)
    };
    for (i, doc) in out.iter().enumerate() {
        let mut expected = match docs.get(i) {
            Some(d) => as_data(d)?,
            None => tree::Tree::Null,
        };
        if i == index {
            for (path, value) in applied {
                if !expected.put(path.segs(), tree::Tree::of_value(value)) {
                    return Err(fail(&format!("{path} has no place in the input")));
                }
            }
        }
        if as_data(doc)? != expected {
            return Err(fail(&format!(
                "document {} of the merged text does not read back as the input with the overlay's keys",
                i + 1
            )));
        }
    }
    Ok(())
}

/// A values file with nothing in it yet (no document, only comments, `---`): the overlay is
/// appended, as its own text, after what is there.
fn append_document(
    name: &str,
    text: &str,
    docs: &[Document<'_>],
    target: &Target,
    overlay: &Overlay,
    root: Path,
) -> Result<Merged, Error> {
    let added: Vec<Path> = overlay
        .entries
        .iter()
        .map(|(k, _)| Path(vec![Seg::Key(Cow::Owned(k.clone()))]))
        .collect();
    let mut merged = Merged {
        output: None,
        document: target.index,
        root,
        added,
        kept: Vec::new(),
        uncommented: Vec::new(),
    };
    if overlay.is_empty() {
        return Ok(merged);
    }
    let eol = Eol::of(text);
    let body = overlay.to_yaml().replace('\n', eol.as_str());
    let mut output = text.to_owned();
    if !output.is_empty() && !output.ends_with('\n') {
        output.push_str(eol.as_str());
    }
    output.push_str(&body);
    let applied: Vec<(Path, Value)> = overlay
        .entries
        .iter()
        .map(|(k, n)| (Path(vec![Seg::Key(Cow::Owned(k.clone()))]), n.value()))
        .collect();
    verify(docs, &output, target.index, &applied).map_err(|m| Error::new(name, None, m))?;
    merged.output = Some(output);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &str) -> Vec<String> {
        p.split('.').map(str::to_owned).collect()
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned().into())
    }

    /// The overlay a helm-create chart needs.
    fn overlay() -> Overlay {
        let mut o = Overlay::new();
        o.insert(
            &keys("podSecurityContext.runAsNonRoot"),
            Value::Bool(true),
            "Deployment/web: runAsNonRoot".into(),
        );
        o.insert(
            &keys("securityContext.seccompProfile.type"),
            s("RuntimeDefault"),
            "Deployment/web: seccompProfile".into(),
        );
        o
    }

    fn run(text: &str, o: &Overlay) -> Merged {
        merge("values.yaml", text, o, false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn out(text: &str, o: &Overlay) -> String {
        run(text, o).output.expect("a change")
    }

    fn error(text: &str, o: &Overlay) -> String {
        merge("f.yaml", text, o, false).unwrap_err().to_string()
    }

    #[test]
    fn absent_keys_are_added_with_their_comments() {
        let text = "replicaCount: 1\nsecurityContext: {}\n";
        let m = run(text, &overlay());
        assert_eq!(
            m.output.as_deref(),
            Some(
                "replicaCount: 1\nsecurityContext:\n  seccompProfile:\n    # Deployment/web: seccompProfile\n    type: RuntimeDefault\n\
                 podSecurityContext:\n  # Deployment/web: runAsNonRoot\n  runAsNonRoot: true\n"
            )
        );
        let shown: Vec<String> = m.added.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["podSecurityContext", "securityContext.seccompProfile"]
        );
        assert!(m.kept.is_empty() && m.uncommented.is_empty());
    }

    #[test]
    fn equal_values_change_nothing_and_different_ones_are_kept() {
        let text = "podSecurityContext:\n  runAsNonRoot: true\nsecurityContext:\n  seccompProfile:\n    type: RuntimeDefault\n";
        let m = run(text, &overlay());
        assert_eq!(m.output, None);
        assert!(m.added.is_empty() && m.kept.is_empty());

        let text = "podSecurityContext:\n  runAsNonRoot: false # on purpose\n";
        let m = run(text, &overlay());
        assert_eq!(m.kept.len(), 1);
        let k = &m.kept[0];
        assert_eq!((k.line, k.col), (2, 17));
        assert_eq!(k.path.to_string(), "podSecurityContext.runAsNonRoot");
        assert!(k.message.contains("is false in the file"), "{}", k.message);
        assert_eq!(
            m.output.as_deref(),
            Some("podSecurityContext:\n  runAsNonRoot: false # on purpose\nsecurityContext:\n  seccompProfile:\n    # Deployment/web: seccompProfile\n    type: RuntimeDefault\n")
        );
    }

    #[test]
    fn overwriting_replaces_scalars_only() {
        let text = "podSecurityContext:\n  runAsNonRoot: \"no\"\nsecurityContext: [x]\n";
        let m = merge("v.yaml", text, &overlay(), true).unwrap();
        assert_eq!(
            m.output.as_deref(),
            Some("podSecurityContext:\n  runAsNonRoot: true\nsecurityContext: [x]\n")
        );
        assert_eq!(m.added.len(), 1);
        assert_eq!(m.uncommented.len(), 0, "a replaced value has no new key");
        assert_eq!(m.kept.len(), 1);
        assert!(m.kept[0].message.contains("single values only"));
    }

    #[test]
    fn a_list_is_never_merged_into() {
        let mut o = Overlay::new();
        o.insert(&keys("drop"), Value::Seq(vec![s("ALL")]), String::new());
        let m = run("drop: [NET_RAW]\n", &o);
        assert_eq!(m.output, None);
        assert!(m.kept[0].message.contains("is a list"));
        assert_eq!(run("drop: [ALL]\n", &o).kept, Vec::new());
        let m = merge("v", "drop: [NET_RAW]\n", &o, true).unwrap();
        assert_eq!((m.output, m.kept.len()), (None, 1));
    }

    #[test]
    fn nulls_are_filled_and_empty_files_get_the_overlay() {
        assert_eq!(
            out("podSecurityContext:\nsecurityContext: ~\n", &overlay()),
            "podSecurityContext:\n  # Deployment/web: runAsNonRoot\n  runAsNonRoot: true\nsecurityContext:\n  seccompProfile:\n    # Deployment/web: seccompProfile\n    type: RuntimeDefault\n"
        );
        let yaml = overlay().to_yaml();
        assert_eq!(out("", &overlay()), yaml);
        assert_eq!(out("# values\n", &overlay()), format!("# values\n{yaml}"));
        assert_eq!(out("---", &overlay()), format!("---\n{yaml}"));
        assert_eq!(
            out("# a\r\n", &overlay()),
            format!("# a\r\n{}", yaml.replace('\n', "\r\n"))
        );
        assert_eq!(
            out("~\n", &overlay()),
            "{podSecurityContext: {runAsNonRoot: true}, securityContext: {seccompProfile: {type: RuntimeDefault}}}\n"
        );
        assert!(error("- a\n", &overlay())
            .starts_with("f.yaml:1:1: the values file's root is not a mapping"));
    }

    #[test]
    fn json_stays_json_without_comments() {
        let m = run("{\"replicaCount\": 1}\n", &overlay());
        assert_eq!(
            m.output.as_deref(),
            Some("{\"replicaCount\": 1, \"podSecurityContext\": {\"runAsNonRoot\": true}, \"securityContext\": {\"seccompProfile\": {\"type\": \"RuntimeDefault\"}}}\n")
        );
        assert_eq!(m.uncommented.len(), 2);
    }

    #[test]
    fn a_helm_release_gets_spec_values() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  interval: 5m\n";
        let m = run(hr, &overlay());
        assert_eq!(m.root.to_string(), "spec.values");
        assert_eq!(
            m.output.as_deref().unwrap().strip_prefix(hr),
            Some("  values:\n    podSecurityContext:\n      # Deployment/web: runAsNonRoot\n      runAsNonRoot: true\n    securityContext:\n      seccompProfile:\n        # Deployment/web: seccompProfile\n        type: RuntimeDefault\n")
        );
        let with = format!("{hr}  values:\n    podSecurityContext:\n      fsGroup: 2000\n      runAsNonRoot: false\n");
        let m = run(&with, &overlay());
        assert_eq!(
            m.kept[0].path.to_string(),
            "podSecurityContext.runAsNonRoot"
        );
        assert!(m.kept[0]
            .message
            .starts_with("spec.values.podSecurityContext.runAsNonRoot is false"));
        let with = format!("{hr}  values:\n    podSecurityContext:\n      fsGroup: 2000\n");
        let m = run(&with, &overlay());
        assert!(m.output.unwrap().contains(
            "      fsGroup: 2000\n      # Deployment/web: runAsNonRoot\n      runAsNonRoot: true\n"
        ));
    }

    #[test]
    fn an_application_gets_helm_values_object() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  source:\n    chart: web\n";
        let m = run(app, &overlay());
        assert_eq!(m.root.to_string(), "spec.source.helm.valuesObject");
        assert!(m
            .output
            .unwrap()
            .starts_with(&format!("{app}    helm:\n      valuesObject:\n")));

        let two = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  sources:\n  - repoURL: a\n  - chart: web\n    helm:\n      releaseName: x\n";
        let m = run(two, &overlay());
        assert_eq!(m.root.to_string(), "spec.sources[1].helm.valuesObject");
        let none = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  sources:\n  - repoURL: a\n  - chart: web\n";
        assert!(
            error(none, &overlay()).contains("none of the 2 sources"),
            "{}",
            error(none, &overlay())
        );
        let both = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  sources:\n  - helm: {}\n  - helm: {}\n";
        assert_eq!(
            error(both, &overlay()),
            "f.yaml:6:5: 2 sources of this Application have helm (items 0, 1): which one should get the values?"
        );
        let string = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: |\n        a: 1\n";
        let e = error(string, &overlay());
        assert!(
            e.starts_with("f.yaml:6:7: spec.source.helm.values holds the values as a string"),
            "{e}"
        );
    }

    #[test]
    fn several_documents_need_one_holder() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  values: {}\n";
        let text = format!("apiVersion: v1\nkind: Namespace\n---\n{hr}");
        let m = run(&text, &overlay());
        assert_eq!(m.document, 1);
        assert!(m
            .output
            .unwrap()
            .starts_with("apiVersion: v1\nkind: Namespace\n---\n"));
        assert!(error(&format!("{hr}---\n{hr}"), &overlay())
            .starts_with("f.yaml:8:1: 2 documents hold values (HelmRelease/web, HelmRelease/web)"));
        assert!(error("a: 1\n---\nb: 2\n", &overlay())
            .starts_with("f.yaml:3:1: this file holds 2 documents"));
    }

    #[test]
    fn shared_nodes_are_refused_with_a_position() {
        let text = "base: &b\n  runAsNonRoot: false\npodSecurityContext: *b\n";
        let m = merge("v.yaml", text, &overlay(), false).unwrap();
        assert_eq!(m.kept.len(), 1, "the alias's value differs: kept");
        let e = merge("v.yaml", text, &overlay(), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("v.yaml:2:17: podSecurityContext.runAsNonRoot is supplied by an alias"),
            "{e}"
        );
        let text = "podSecurityContext: *b\n";
        assert!(merge("v.yaml", text, &overlay(), false).is_err());
        let text = "d: &d {fsGroup: 1}\npodSecurityContext:\n  <<: *d\n  fsGroup: 2\n";
        let mut o = Overlay::new();
        o.insert(
            &keys("podSecurityContext.fsGroup"),
            Value::Int(2),
            String::new(),
        );
        assert_eq!(run(text, &o).output, None);
        let text = "d: &d {runAsNonRoot: false}\npodSecurityContext:\n  <<: *d\n  fsGroup: 2\n";
        assert_eq!(run(text, &overlay()).kept.len(), 1);
        // A key the merge does not supply is added beside it.
        let text = "d: &d {fsGroup: 1}\npodSecurityContext:\n  <<: *d\n";
        assert!(out(text, &overlay())
            .contains("  <<: *d\n  # Deployment/web: runAsNonRoot\n  runAsNonRoot: true\n"));
        // A key it supplies cannot be replaced without editing the shared mapping.
        let text = "d: &d {runAsNonRoot: false}\npodSecurityContext:\n  <<: *d\n";
        let e = merge("v.yaml", text, &overlay(), true)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("v.yaml:1:22: podSecurityContext.runAsNonRoot is supplied by an alias or a merge key"), "{e}");
    }

    #[test]
    fn verification_refuses_what_is_not_the_input_plus_the_keys() {
        let text = "a: 1\n---\nb: 1\n";
        let docs: Vec<Document<'_>> = Documents::new(text).map(Result::unwrap).collect();
        let added = [(Path::root().key("c"), Value::Int(2))];
        assert_eq!(verify(&docs, "a: 1\nc: 2\n---\nb: 1\n", 0, &added), Ok(()));
        for wrong in [
            "a: 1\nc: 3\n---\nb: 1\n",
            "a: 2\nc: 2\n---\nb: 1\n",
            "a: 1\nc: 2\n---\nb: 2\n",
            "a: 1\nc: 2\n",
            "a: 1\nc: [2\n---\nb: 1\n",
        ] {
            let e = verify(&docs, wrong, 0, &added).unwrap_err();
            assert!(
                e.starts_with("internal: ") && e.ends_with("; nothing written"),
                "{e}"
            );
        }
    }
}
